package bitbucketcloudscm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	bitbucket "github.com/ktrysmt/go-bitbucket"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// ctxTransport injects ctx into every request go-bitbucket sends: its
// requests are built without a context (go-peers.md §4.3), so without this
// a deadline or cancellation would not reach the wire. It also notes the
// rate-limit facts of the last answer, which go-bitbucket drops with the
// headers (its UnexpectedResponseStatusError keeps status and body only).
// One ctxTransport serves one driver call.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper

	mu   sync.Mutex
	last answerInfo
}

// answerInfo is what ctxTransport remembers of an answer.
type answerInfo struct {
	status  int
	limited bool      // httpx.RateLimitInfo identified a rate limit
	retryAt time.Time // when the limit ends, zero if the answer does not say
}

func (t *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req.WithContext(t.ctx))
	if resp != nil {
		info := answerInfo{status: resp.StatusCode}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			// Reads at most 8 KiB of a 403 or 429 body and puts them back.
			info.retryAt, info.limited = httpx.RateLimitInfo(resp, time.Now())
		}
		t.mu.Lock()
		t.last = info
		t.mu.Unlock()
	}
	if resp != nil && resp.Body != nil {
		// go-bitbucket reads whole bodies: cap them.
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxJSONBody), Closer: resp.Body}
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
	tr := &ctxTransport{ctx: ctx, base: rt}
	c.HttpClient = &http.Client{Transport: tr, CheckRedirect: hc.CheckRedirect, Jar: hc.Jar, Timeout: hc.Timeout}
	return &bbClient{Client: c, tr: tr}, nil
}

// error turns a go-bitbucket error into the driver's: *APIError for an
// HTTP answer (go-bitbucket keeps the status and body, not the headers:
// whether it was a rate limit, and until when, comes from the transport),
// the transport's own error otherwise.
func (c *bbClient) error(ctx context.Context, method, path string, err error) error {
	var ue *bitbucket.UnexpectedResponseStatusError
	if errors.As(err, &ue) {
		e := &APIError{Method: method, Path: path, Status: ue.StatusCode}
		e.Message, e.Detail = errorBody(ue.Body)
		if last := c.tr.lastAnswer(); last.status == ue.StatusCode && last.limited {
			e.RateLimited, e.RetryAt = true, last.retryAt
		}
		return e
	}
	var ce *errcode.Error
	if errors.As(err, &ce) {
		return ce
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}

// mainBranch reads the repository's main branch (go-bitbucket
// Repository.Get).
func (d *Driver) mainBranch(ctx context.Context, hc *http.Client, repo driver.Repo) (string, error) {
	c, err := d.bb(ctx, hc)
	if err != nil {
		return "", err
	}
	ro := &bitbucket.RepositoryOptions{Owner: Slug(repo.Owner), RepoSlug: Slug(repo.Name)}
	r, err := c.Repositories.Repository.Get(ro.WithContext(ctx))
	if err != nil {
		return "", c.error(ctx, http.MethodGet, d.repoPath(repo), err)
	}
	if r.Mainbranch.Name == "" {
		return "", &checkError{code: errcode.NotFound, msg: "the repository has no main branch (it is empty)"}
	}
	return r.Mainbranch.Name, nil
}

// findPull returns the open pull request from branch to base, or nil
// (go-bitbucket PullRequests.List, one page).
func (d *Driver) findPull(ctx context.Context, hc *http.Client, repo driver.Repo, branch, base string) (*pullJSON, error) {
	c, err := d.bb(ctx, hc)
	if err != nil {
		return nil, err
	}
	c.Pagelen, c.LimitPages = 50, 1
	po := &bitbucket.PullRequestsOptions{Owner: Slug(repo.Owner), RepoSlug: Slug(repo.Name), States: []string{"OPEN"},
		Query: "source.branch.name = " + bbqlString(branch) + " AND destination.branch.name = " + bbqlString(base)}
	res, err := c.Repositories.PullRequests.List(po.WithContext(ctx))
	if err != nil {
		return nil, c.error(ctx, http.MethodGet, d.repoPath(repo)+"/pullrequests", err)
	}
	var page struct {
		Values []pullJSON `json:"values"`
	}
	if err := remarshal(res, &page); err != nil {
		return nil, fmt.Errorf("decoding the pull requests: %w", err)
	}
	for i := range page.Values {
		p := &page.Values[i]
		if p.Source.Branch.Name == branch && p.Destination.Branch.Name == base {
			return p, nil
		}
	}
	return nil, nil
}

// createPull opens the pull request (go-bitbucket PullRequests.Create). If
// Bitbucket reports an open one for the same branches (opened since the
// lookup), that one is returned with Existing set.
func (d *Driver) createPull(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest, base string) (*driver.PullRequest, error) {
	c, err := d.bb(ctx, hc)
	if err != nil {
		return nil, err
	}
	po := &bitbucket.PullRequestsOptions{Owner: Slug(r.Repo.Owner), RepoSlug: Slug(r.Repo.Name), Title: r.Title,
		Description: r.Body, SourceBranch: r.Branch, DestinationBranch: base, Draft: r.Draft}
	res, err := c.Repositories.PullRequests.Create(po.WithContext(ctx))
	if err != nil {
		err = c.error(ctx, http.MethodPost, d.repoPath(r.Repo)+"/pullrequests", err)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ae.says("already an open pull request") {
			if base == "" {
				if base, err = d.mainBranch(ctx, hc, r.Repo); err != nil {
					return nil, err
				}
			}
			if p, ferr := d.findPull(ctx, hc, r.Repo, r.Branch, base); ferr == nil && p != nil {
				return d.pullRequest(p, base, r.Branch, true), nil
			}
		}
		return nil, err
	}
	var p pullJSON
	if err := remarshal(res, &p); err != nil || p.ID == 0 {
		return nil, fmt.Errorf("decoding the new pull request: %v", err)
	}
	return d.pullRequest(&p, base, r.Branch, false), nil
}

// ---- multipart form of POST /src ----

// formWriter writes the multipart/form-data body of POST /src: Bitbucket
// takes each file part's field name as the repository path and reads
// x-attributes="executable" from its Content-Disposition.
type formWriter struct {
	buf      *bytes.Buffer
	boundary string
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

func (w *formWriter) field(name, value string) {
	fmt.Fprintf(w.buf, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", w.boundary, quoteEscaper.Replace(name), value)
}

func (w *formWriter) file(p string, content []byte, exec bool) {
	base := p[strings.LastIndexByte(p, '/')+1:]
	attrs := ""
	if exec {
		attrs = `; x-attributes="executable"`
	}
	fmt.Fprintf(w.buf, "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"%s\r\nContent-Type: application/octet-stream\r\n\r\n",
		w.boundary, quoteEscaper.Replace(p), quoteEscaper.Replace(base), attrs)
	w.buf.Write(content)
	w.buf.WriteString("\r\n")
}

func (w *formWriter) close() { fmt.Fprintf(w.buf, "--%s--\r\n", w.boundary) }

// multipartBoundary returns a random boundary that occurs in no content.
func multipartBoundary(changes []driver.Change) string {
	for {
		var b [16]byte
		rand.Read(b[:]) //nolint:errcheck // crypto/rand never fails
		boundary := "scmkit-" + hex.EncodeToString(b[:])
		clash := false
		for _, ch := range changes {
			if bytes.Contains(ch.Content, []byte(boundary)) {
				clash = true
				break
			}
		}
		if !clash {
			return boundary
		}
	}
}
