package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/testsvc/testclock"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// discoveryOP serves an OpenID Provider's discovery document, and nothing
// else a test here needs: status is what GET .../openid-configuration
// answers (200 serves the document), gate (when not nil) holds each
// request until it is closed or the request is cancelled, and n counts
// the requests.
type discoveryOP struct {
	*httptest.Server
	status atomic.Int64
	n      atomic.Int64
	gate   chan struct{}
}

func newDiscoveryOP(t *testing.T, status int, gate chan struct{}) *discoveryOP {
	t.Helper()
	op := &discoveryOP{gate: gate}
	op.status.Store(int64(status))
	op.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		op.n.Add(1)
		if op.gate != nil {
			select {
			case <-op.gate:
			case <-r.Context().Done():
				return
			}
		}
		if s := int(op.status.Load()); s != http.StatusOK {
			http.Error(w, "down", s)
			return
		}
		u := op.URL
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"jwks_uri": u + "/keys", "userinfo_endpoint": u + "/userinfo", "revocation_endpoint": u + "/revoke",
			"device_authorization_endpoint": u + "/device", "code_challenge_methods_supported": []string{"S256"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	}))
	t.Cleanup(op.Close)
	return op
}

var startReq = auth.AuthRequest{State: "s", RedirectURI: "http://localhost/cb", CodeChallenge: "c", Nonce: "n"}

func newDiscoveringOIDC(t *testing.T, issuer string, o auth.OIDCOptions) *auth.OIDC {
	t.Helper()
	o.ClientID, o.ClientSecret, o.MetadataURL = "portal", integrations.NewSecret("s"), issuer
	p, err := auth.NewOIDC(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// While the provider's discovery endpoint hangs, a caller whose context
// ends returns then, not when the discovery another caller started ends:
// discovery used to run under the provider's mutex, which a waiting
// caller could not leave (it returned after 2.9 s with a 200 ms context;
// up to ProviderTimeout, 10 s, in production).
func TestOIDCDiscoveryHangDoesNotHoldOtherCallersPastTheirContext(t *testing.T) {
	gate := make(chan struct{})
	op := newDiscoveryOP(t, http.StatusServiceUnavailable, gate)
	defer close(gate) // before op.Close, which waits for the held request
	p := newDiscoveringOIDC(t, op.URL, auth.OIDCOptions{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, _ = p.AuthCodeURL(ctx, startReq)
	}()
	for op.n.Load() == 0 { // the first caller's discovery is under way
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.AuthCodeURL(ctx, startReq)
	took := time.Since(start)
	if errcode.CodeOf(err) != errcode.DeadlineExceeded {
		t.Errorf("second caller: %v, want DeadlineExceeded", err)
	}
	if took > time.Second {
		t.Errorf("a caller whose context ended after 200ms returned after %v: it waited for another caller's discovery", took)
	}
	if n := op.n.Load(); n != 1 {
		t.Errorf("the second caller sent a discovery request of its own (%d in all): it should join the one under way", n)
	}
}

// While the provider's discovery document answers 503, sign-in starts do
// not each fetch it again (with the retry policy's retries: three starts
// cost 12 requests and 8 s): the failure is remembered for a back-off.
func TestOIDCDiscoveryFailureIsRemembered(t *testing.T) {
	op := newDiscoveryOP(t, http.StatusServiceUnavailable, nil)
	p := newDiscoveringOIDC(t, op.URL, auth.OIDCOptions{})
	const starts = 3
	for i := range starts {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := p.AuthCodeURL(ctx, startReq)
		cancel()
		if errcode.CodeOf(err) != errcode.Unavailable {
			t.Fatalf("start %d against a 503: %v, want Unavailable", i, err)
		}
		if _, ok := errcode.RetryAt(err); !ok {
			t.Errorf("start %d: %v carries no RetryAt", i, err)
		}
	}
	// One discovery: its request and the one retry the discovery's
	// client makes after a 5xx.
	if n := op.n.Load(); n != 2 {
		t.Errorf("%d sign-in starts during a discovery outage sent %d requests to the provider; want 2 (one discovery, one retry)", starts, n)
	}
}

// A failed discovery is not tried again for 1 s, doubled for every further
// failure up to 30 s; meanwhile every call is Unavailable with RetryAt and
// sends nothing. Once the provider answers, the document is kept.
func TestOIDCDiscoveryBackoffDoublesToItsCapAndEndsOnSuccess(t *testing.T) {
	op := newDiscoveryOP(t, http.StatusNotFound, nil) // a 4xx: not retried by the client, so one request per discovery
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := newDiscoveringOIDC(t, op.URL, auth.OIDCOptions{Now: clk.Now})
	ctx := context.Background()
	for i, want := range []time.Duration{1, 2, 4, 8, 16, 30, 30} {
		want *= time.Second
		before := op.n.Load()
		_, err := p.AuthCodeURL(ctx, startReq)
		at, ok := errcode.RetryAt(err)
		if errcode.CodeOf(err) != errcode.Unavailable || !ok || !at.Equal(clk.Now().Add(want)) {
			t.Fatalf("failure %d: %v (RetryAt %v), want Unavailable with RetryAt in %v", i+1, err, at, want)
		}
		if op.n.Load() != before+1 {
			t.Fatalf("failure %d sent %d requests, want 1", i+1, op.n.Load()-before)
		}
		clk.Advance(want - time.Millisecond)
		_, err = p.AuthCodeURL(ctx, startReq)
		if at2, _ := errcode.RetryAt(err); errcode.CodeOf(err) != errcode.Unavailable || !at2.Equal(at) || op.n.Load() != before+1 {
			t.Fatalf("during back-off %d: %v (RetryAt %v), %d requests in all; want Unavailable until %v and no request", i+1, err, at2, op.n.Load(), at)
		}
		clk.Advance(time.Millisecond)
	}
	op.status.Store(http.StatusOK)
	before := op.n.Load()
	for range 3 {
		if _, err := p.AuthCodeURL(ctx, startReq); err != nil {
			t.Fatalf("after the provider recovered: %v", err)
		}
	}
	if n := op.n.Load() - before; n != 1 {
		t.Errorf("three starts after the provider recovered sent %d discovery requests, want 1", n)
	}
	op.status.Store(http.StatusServiceUnavailable)
	clk.Advance(time.Hour)
	if _, err := p.AuthCodeURL(ctx, startReq); err != nil {
		t.Errorf("a discovery document read once is kept: %v", err)
	}
}

// Every call that needs the discovery document (start, callback, refresh,
// re-check, logout's revocation, the device flow) answers from the
// remembered failure, without a request.
func TestOIDCDiscoveryBackoffOnEveryPath(t *testing.T) {
	op := newDiscoveryOP(t, http.StatusNotFound, nil)
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := newDiscoveringOIDC(t, op.URL, auth.OIDCOptions{Now: clk.Now})
	ctx := context.Background()
	if _, err := p.AuthCodeURL(ctx, startReq); errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("first discovery against a 404: %v", err)
	}
	tok := auth.Tokens{AccessToken: "a", RefreshToken: "r"}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"start", func() error { _, err := p.AuthCodeURL(ctx, startReq); return err }},
		{"callback", func() error {
			_, err := p.Exchange(ctx, auth.Callback{Code: "c", RedirectURI: "http://localhost/cb", CodeVerifier: "v", Nonce: "n"})
			return err
		}},
		{"refresh", func() error { _, err := p.Refresh(ctx, tok); return err }},
		{"recheck", func() error { _, err := p.Recheck(ctx, auth.Identity{Subject: "u"}, tok); return err }},
		{"revoke", func() error { return p.Revoke(ctx, tok) }},
		{"device auth", func() error { _, err := p.DeviceAuth(ctx, nil); return err }},
		{"device sign-in", func() error { _, err := p.DeviceSignIn(ctx, &auth.DeviceCode{UserCode: "u"}); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := op.n.Load()
			err := tc.call()
			if _, ok := errcode.RetryAt(err); errcode.CodeOf(err) != errcode.Unavailable || !ok {
				t.Errorf("%v, want Unavailable with RetryAt", err)
			}
			if n := op.n.Load() - before; n != 0 {
				t.Errorf("sent %d discovery requests during the back-off", n)
			}
		})
	}
}

// Callers arriving together share one discovery, and a caller that
// leaves (its context ended) does not cut it short for the others: the
// document it fetches serves every later call.
func TestOIDCDiscoverySharedAndOutlivesItsFirstCaller(t *testing.T) {
	gate := make(chan struct{})
	op := newDiscoveryOP(t, http.StatusOK, gate)
	p := newDiscoveringOIDC(t, op.URL, auth.OIDCOptions{})
	first, cancelFirst := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { _, err := p.AuthCodeURL(first, startReq); firstErr <- err }()
	for op.n.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := p.AuthCodeURL(ctx, startReq)
			errs <- err
		})
	}
	cancelFirst()
	if err := <-firstErr; errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("the first caller, cancelled: %v, want Canceled", err)
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a caller waiting for the shared discovery: %v", err)
		}
	}
	if _, err := p.AuthCodeURL(context.Background(), startReq); err != nil {
		t.Errorf("after the discovery: %v", err)
	}
	if n := op.n.Load(); n != 1 {
		t.Errorf("%d callers sent %d discovery requests, want 1", callers+2, n)
	}
}

// A discovery that hangs is bounded by OIDCOptions.Timeout, not by its
// first caller's context, and its failure is remembered.
func TestOIDCDiscoveryThatHangsIsBoundedByTimeout(t *testing.T) {
	gate := make(chan struct{})
	op := newDiscoveryOP(t, http.StatusOK, gate)
	defer close(gate)
	p := newDiscoveringOIDC(t, op.URL, auth.OIDCOptions{Timeout: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := p.AuthCodeURL(ctx, startReq)
	if _, ok := errcode.RetryAt(err); errcode.CodeOf(err) != errcode.Unavailable || !ok {
		t.Fatalf("a discovery that hangs past Timeout: %v, want Unavailable with RetryAt", err)
	}
	n := op.n.Load()
	if _, err := p.AuthCodeURL(ctx, startReq); errcode.CodeOf(err) != errcode.Unavailable || op.n.Load() != n {
		t.Errorf("right after: %v, %d requests in all (was %d); want the failure remembered", err, op.n.Load(), n)
	}
}

// A sign-in start while the provider's discovery backs off answers 503
// with Retry-After, the time until the handler asks the provider again,
// not a bare 502 the browser would retry at once.
func TestStartDuringDiscoveryBackoffAnswersRetryAfter(t *testing.T) {
	op := newDiscoveryOP(t, http.StatusNotFound, nil)
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	h, err := auth.New(&auth.Options{BaseURL: "https://portal.example.com/api/auth", Secret: integrations.NewSecret(testSecret),
		Environment: "development", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register("oidc", "development", newDiscoveringOIDC(t, op.URL, auth.OIDCOptions{Now: clk.Now})); err != nil {
		t.Fatal(err)
	}
	start := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "https://portal.example.com/api/auth/oidc/start?env=development&flow=redirect", nil))
		return rec
	}
	for i, want := range []string{"1", "1"} { // the failed discovery itself, then within its back-off
		rec := start()
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != want {
			t.Errorf("start %d: %d, Retry-After %q; want 503, %s", i+1, rec.Code, rec.Header().Get("Retry-After"), want)
		}
		clk.Advance(10 * time.Millisecond)
	}
	clk.Advance(time.Second)
	if rec := start(); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("second failure: %d, Retry-After %q; want 503, 2", rec.Code, rec.Header().Get("Retry-After"))
	}
	op.status.Store(http.StatusOK)
	clk.Advance(2 * time.Second)
	if rec := start(); rec.Code != http.StatusFound || rec.Header().Get("Retry-After") != "" {
		t.Errorf("after recovery: %d, Retry-After %q; want 302 without it", rec.Code, rec.Header().Get("Retry-After"))
	}
}
