package identity

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// A backend plugin starts with the auth backend (a rolling deploy of the
// whole backend, a node restart): its first Verify finds the JWKS URL not
// answering yet (503). A second later the auth backend is up; the
// verifier must fetch again soon, not refuse every token Unavailable for
// the whole RefetchInterval (30 s) as it did: the first fetch's failure
// spaced fetches as a success does. (Regression test of an operations
// review; real time, as the reviewer ran it.)
func TestVerifierRetriesSoonAfterFailedFirstFetch(t *testing.T) {
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		is.JWKSHandler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok.Token); err == nil {
		t.Fatal("verified while the JWKS URL answered 503")
	}
	up.Store(true) // the auth backend is up
	time.Sleep(2 * time.Second)
	if _, err := v.Verify(t.Context(), tok.Token); err != nil {
		t.Errorf("2 s after the JWKS URL came up, a valid token is still refused: %v", err)
	}
}

// Until a first fetch succeeds, failed fetches are retried 1 s after the
// last, then 2 s, 4 s, … up to RefetchInterval; in between, tokens are
// refused Unavailable without a request, with RetryAt saying when. Once a
// key set is fetched, unknown kids are spaced by RefetchInterval again.
func TestVerifierFirstFetchBackoff(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	var up atomic.Bool
	var hits atomic.Int64
	h := is.JWKSHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !up.Load() {
			http.NotFound(w, r) // not retried within a fetch: one request per fetch
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	// A token of a key the JWKS never lists, made long before the fetches
	// (so not taken for a replica's new key).
	forged, err := newIssuer(t, c).Issue(t.Context(), IssueRequest{Subject: "user:default/mallory"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, RefetchInterval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// at: seconds after the first Verify; fetch: whether that Verify
	// asks the JWKS URL (failures so far: gaps 1, 2, 4, then 5 = the
	// interval).
	steps := []struct {
		at    float64
		fetch bool
	}{
		{0, true}, {0.5, false}, {1, true}, {2.5, false}, {3, true}, {6.9, false}, {7, true},
		{11.9, false}, {12, true}, {16.9, false}, {17, true},
	}
	start := c.Now()
	for _, s := range steps {
		c.Advance(start.Add(time.Duration(s.at * float64(time.Second))).Sub(c.Now()))
		before := hits.Load()
		_, err := v.Verify(t.Context(), tok.Token)
		if errcode.CodeOf(err) != errcode.Unavailable {
			t.Fatalf("at %vs, with the JWKS URL down: %v; want Unavailable", s.at, err)
		}
		if got := hits.Load() > before; got != s.fetch {
			t.Errorf("at %vs: fetched = %v; want %v", s.at, got, s.fetch)
		}
		var e *errcode.Error
		if !s.fetch && (!errors.As(err, &e) || !e.RetryAt.After(c.Now())) {
			t.Errorf("at %vs: %v; want a RetryAt in the future", s.at, err)
		}
	}
	up.Store(true)
	c.Advance(5 * time.Second)
	if _, err := v.Verify(t.Context(), tok.Token); err != nil {
		t.Fatalf("once the JWKS URL is up: %v", err)
	}
	// Fetched once: a forged kid is now spaced by RefetchInterval.
	before := hits.Load()
	c.Advance(6 * time.Second)
	for range 3 {
		c.Advance(time.Second)
		if _, err := v.Verify(t.Context(), forged.Token); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("a token of an unknown key: %v; want Unauthorized", err)
		}
	}
	if n := hits.Load() - before; n != 1 {
		t.Errorf("3 tokens of an unknown key within RefetchInterval fetched %d times; want 1", n)
	}
}

// A plugin whose discovery fails while it starts (its backend deploys
// with this one) is asked about again 1 s after the failure, 2 s after the
// next, …, up to RefetchInterval, and its tokens verify as soon as it is
// found.
func TestPluginDiscoveryRetriesSoonAfterFailure(t *testing.T) {
	c := newClock()
	users, err := NewVerifier(&VerifierOptions{Keys: unrelatedKeys(t), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	b := newPluginBackend(t, "catalog")
	var calls atomic.Int32
	var up atomic.Bool
	pv, err := NewPluginVerifier(&PluginVerifierOptions{PluginID: "permission", AllowedPlugins: []string{"catalog"}, Users: users, Now: c.Now,
		BaseURL: func(ctx context.Context, id string) (string, error) {
			calls.Add(1)
			if !up.Load() {
				return "", errors.New("discovery does not know the plugin yet")
			}
			return b.baseURL(ctx, id)
		}})
	if err != nil {
		t.Fatal(err)
	}
	start := c.Now()
	token := func() string {
		now := c.Now().Unix()
		return b.token(t, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": now, "exp": now + 600})
	}
	for _, s := range []struct {
		at    time.Duration
		calls int32
	}{{0, 1}, {500 * time.Millisecond, 1}, {time.Second, 2}, {2500 * time.Millisecond, 2}, {3 * time.Second, 3}, {6 * time.Second, 3}, {7 * time.Second, 4}} {
		c.Advance(start.Add(s.at).Sub(c.Now()))
		if _, err := pv.Verify(t.Context(), token()); errcode.CodeOf(err) != errcode.Unavailable {
			t.Fatalf("at %v, discovery down: %v; want Unavailable", s.at, err)
		}
		if n := calls.Load(); n != s.calls {
			t.Errorf("at %v: discovery asked %d times in all; want %d", s.at, n, s.calls)
		}
	}
	up.Store(true)
	c.Advance(8 * time.Second)
	if _, err := pv.Verify(t.Context(), token()); err != nil {
		t.Fatalf("once discovery knows the plugin: %v", err)
	}
	if _, err := pv.Verify(t.Context(), token()); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 5 {
		t.Errorf("discovery asked %d times in all; want 5 (found once, then remembered)", n)
	}
}
