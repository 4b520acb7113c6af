package credentials

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// consumerResolver is a Resolver for one Bitbucket Cloud entry with an OAuth
// consumer whose token endpoint is f.
func consumerResolver(t testing.TB, f *fakeOAuth, clk *testclock.Clock, opts *ResolverOptions) *Resolver {
	t.Helper()
	if opts == nil {
		opts = &ResolverOptions{}
	}
	if clk != nil {
		opts.Now = clk.Now
	}
	if opts.MinWait == 0 {
		opts.MinWait, opts.MaxWait = time.Millisecond, 2*time.Millisecond
	}
	cfg := integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
		ClientID: "consumer-key", ClientSecret: secret("consumer-secret"), TokenURL: f.URL + "/site/oauth2/access_token",
	}}}
	r, err := newResolver(testIntegrations(cfg), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBitbucketConsumer(t *testing.T) {
	f := newFakeOAuth(t, "consumer-key", "consumer-secret")
	clk := newClock()
	r := consumerResolver(t, f, clk, &ResolverOptions{Margin: 10 * time.Minute})
	req := Request{Host: "bitbucket.org", Owner: "acme"}
	c, err := r.Resolve(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindApp || c.Token != "bbat-consumer-1" || c.Username != "" || c.Source != "integrations.bitbucketCloud[0] oauth consumer" {
		t.Errorf("Resolve = %#v; want the consumer's access token, Bearer", c)
	}
	if want := clk.Now().Add(2 * time.Hour); !c.Expiry.Equal(want) {
		t.Errorf("Expiry = %v; want %v", c.Expiry, want)
	}
	// Client id and secret in a Basic header (AuthStyleInHeader), grant in the body.
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("consumer-key:consumer-secret")); f.lastAuth != want {
		t.Errorf("Authorization = %q; want %q", f.lastAuth, want)
	}
	if f.lastForm != "grant_type=client_credentials" {
		t.Errorf("form = %q; want grant_type=client_credentials only", f.lastForm)
	}
	// Cached until the margin.
	clk.Advance(110*time.Minute - time.Second)
	if again, _ := r.Resolve(t.Context(), req); again != c {
		t.Errorf("consumer token renewed early")
	}
	clk.Advance(time.Second)
	if again, _ := r.Resolve(t.Context(), req); again == c || again.Token != "bbat-consumer-2" {
		t.Errorf("consumer token not renewed at the margin: %v", again)
	}
	if f.Requests() != 2 {
		t.Errorf("token requests = %d; want 2", f.Requests())
	}
}

func TestBitbucketConsumerConcurrentColdCallers(t *testing.T) {
	f := newFakeOAuth(t, "consumer-key", "consumer-secret")
	r := consumerResolver(t, f, nil, nil)
	const n = 1000
	var wg sync.WaitGroup
	toks := make([]*Credential, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			toks[i], errs[i] = r.Resolve(t.Context(), Request{Host: "bitbucket.org", Owner: "acme"})
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || toks[i] != toks[0] {
			t.Fatalf("caller %d: %v, %v", i, toks[i], errs[i])
		}
	}
	if got := f.Requests(); got != 1 {
		t.Errorf("token requests = %d; want exactly 1", got)
	}
}

func TestBitbucketConsumerFaults(t *testing.T) {
	tests := []struct {
		name      string
		id        string // the consumer the fake knows; "consumer-key" matches
		fault     func(w http.ResponseWriter, r *http.Request) bool
		timeout   time.Duration
		wantCode  errcode.Code
		wantInMsg string
		wantReqs  int
	}{
		{name: "wrong client secret", id: "other-key", wantCode: errcode.Unauthorized,
			wantInMsg: "rejected the OAuth consumer integrations.bitbucketCloud[0] (clientId consumer-key) (HTTP 401, invalid_client: Invalid OAuth client credentials): check the client id and secret", wantReqs: 1},
		{name: "endpoint down", id: "consumer-key", fault: func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}, wantCode: errcode.Unavailable, wantInMsg: "HTTP 503", wantReqs: 4},
		{name: "endpoint slow", id: "consumer-key", fault: func(w http.ResponseWriter, r *http.Request) bool {
			<-r.Context().Done()
			return true
		}, timeout: 100 * time.Millisecond, wantCode: errcode.DeadlineExceeded, wantInMsg: "did not answer"},
		{name: "garbage", id: "consumer-key", fault: func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`<html>`))
			return true
		}, wantCode: errcode.Unavailable, wantInMsg: "not an OAuth token response; check the token URL", wantReqs: 1},
		{name: "no access token", id: "consumer-key", fault: func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"token_type":"bearer"}`))
			return true
		}, wantCode: errcode.Unavailable, wantInMsg: "not an OAuth token response", wantReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOAuth(t, tt.id, "consumer-secret")
			f.setFault(tt.fault)
			r := consumerResolver(t, f, nil, nil)
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			_, err := r.Resolve(ctx, Request{Host: "bitbucket.org", Owner: "acme"})
			if tt.timeout > 0 && time.Since(start) > tt.timeout+time.Second {
				t.Errorf("Resolve took %v; want it bounded by the context", time.Since(start))
			}
			if errcode.CodeOf(err) != tt.wantCode || !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("Resolve = %v; want %v containing %q", err, tt.wantCode, tt.wantInMsg)
			}
			mustNotContain(t, "error", err.Error(), "consumer-secret", "bbat-")
			if tt.wantReqs > 0 && f.Requests() != tt.wantReqs {
				t.Errorf("token requests = %d; want %d", f.Requests(), tt.wantReqs)
			}
		})
	}
}
