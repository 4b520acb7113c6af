package bitbucketcloudscm

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	bitbucket "github.com/ktrysmt/go-bitbucket"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

// ctxTransport injects ctx into every request go-bitbucket sends: its
// requests are built without a context (go-peers.md §4.3), so without this
// a deadline or cancellation would not reach the wire. It also notes the
// rate-limit facts of the last answer, which go-bitbucket drops with the
// headers (its UnexpectedResponseStatusError keeps status and body only).
// It refuses, as bbapi.Send does, a URL with a dot segment
// (bbapi.CheckPath). One ctxTransport serves one driver call.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
	now  func() time.Time // Options.Now

	mu   sync.Mutex
	last answerInfo
}

// answerInfo is what ctxTransport remembers of an answer.
type answerInfo struct {
	status  int
	limited bool      // httpx.Classify identified a rate limit
	retryAt time.Time // when the limit ends, zero if the answer does not say
	hint    string    // what the answer asks of the caller (httpx.Class.Hint)
}

func (t *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := bbapi.CheckPath(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(req.WithContext(t.ctx))
	if resp != nil {
		info := answerInfo{status: resp.StatusCode}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			// Reads at most 8 KiB of a 403 or 429 body and puts them back.
			info = classifyAnswer(resp, t.now())
		}
		t.mu.Lock()
		t.last = info
		t.mu.Unlock()
	}
	if resp != nil && resp.Body != nil {
		// go-bitbucket reads whole bodies: cap them.
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, bbapi.MaxJSONBody), Closer: resp.Body}
	}
	return resp, err
}

// lastAnswer returns what the last answer said.
func (t *ctxTransport) lastAnswer() answerInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// bbClient is a go-bitbucket client for one call and its transport.
type bbClient struct {
	*bitbucket.Client
	tr *ctxTransport
}

// bb returns a go-bitbucket client for one call: no credential of its own
// (hc's transport attaches it), hc's transport with ctx injected.
func (d *Driver) bb(ctx context.Context, hc *http.Client) (*bbClient, error) {
	c, err := bitbucket.NewOAuthbearerTokenWithBaseUrlStr("", d.api)
	if err != nil {
		return nil, errcode.Newf(errcode.InvalidArgument, "", "go-bitbucket refused the API base URL: %v", err)
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	tr := &ctxTransport{ctx: ctx, base: rt, now: d.now}
	c.HttpClient = &http.Client{Transport: tr, CheckRedirect: hc.CheckRedirect, Jar: hc.Jar, Timeout: hc.Timeout}
	return &bbClient{Client: c, tr: tr}, nil
}
