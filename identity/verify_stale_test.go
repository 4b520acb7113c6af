package identity

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// flakyJWKS serves is's JWKS, or 404 (not retried) while down, and counts
// requests.
type flakyJWKS struct {
	is   *Issuer
	down atomic.Bool
	n    atomic.Int64
}

func (f *flakyJWKS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.n.Add(1)
	if f.down.Load() {
		http.Error(w, "gone", http.StatusNotFound)
		return
	}
	f.is.JWKSHandler().ServeHTTP(w, r)
}

// The keys of a JWKS that cannot be fetched any more verify for
// JWKSMaxStale (3 × JWKSMaxAge by default) after the last successful
// fetch, then every token is Unavailable with a RetryAt, with no fetch per
// verification; the first fetch that succeeds makes them verify again. A
// key revoked at the issuer stops verifying at the bound although every
// fetch since the revocation failed (before, it verified for as long as
// the fetches failed).
func TestVerifierJWKSMaxStale(t *testing.T) {
	for _, cache := range []int{0, -1} { // a token cached as verified is bounded too
		c := newClock()
		is := replica(t, c, NewMemoryKeyStore(), 2*time.Hour, "")
		tok := issueAs(t, is, "user:default/alice")
		f := &flakyJWKS{is: is}
		srv := httptest.NewServer(f)
		v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, CacheSize: cache})
		if err != nil {
			t.Fatal(err)
		}
		if v.opts.JWKSMaxStale != 30*time.Minute {
			t.Errorf("default JWKSMaxStale %v; want 30m", v.opts.JWKSMaxStale)
		}
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
		// The key is revoked, and from then on the verifier's fetches fail
		// (an outage, or an attacker blocking them).
		if err := is.Revoke(t.Context(), headerKid(t, tok)); err != nil {
			t.Fatal(err)
		}
		f.down.Store(true)
		// An outage shorter than the bound: the keys of the last fetch
		// verify (the refetches at 10 and 20 minutes fail).
		for range 29 {
			c.Advance(time.Minute)
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Fatalf("cache %d, %v into the outage: %v", cache, c.Now().Sub(newClock().Now()), err)
			}
		}
		if got := f.n.Load(); got != 3 {
			t.Errorf("cache %d: %d fetches in 29 minutes; want 3 (the first, at 10 and at 20 minutes)", cache, got)
		}
		// Past the bound: refused, many times at once, with a RetryAt,
		// for one fetch.
		c.Advance(time.Minute)
		before := f.n.Load()
		var wg sync.WaitGroup
		var refused atomic.Int64
		for range 20 {
			wg.Go(func() {
				_, err := v.Verify(t.Context(), tok)
				var e *errcode.Error
				if errors.As(err, &e) && e.Code == errcode.Unavailable && e.RetryAt.After(c.Now()) {
					refused.Add(1)
					return
				}
				t.Errorf("cache %d, 30 minutes into the outage: %v; want Unavailable with RetryAt", cache, err)
			})
		}
		wg.Wait()
		if refused.Load() != 20 {
			t.Errorf("cache %d: %d of 20 refused", cache, refused.Load())
		}
		if got := f.n.Load() - before; got != 1 {
			t.Errorf("cache %d: %d fetches for 20 verifications past the bound; want 1", cache, got)
		}
		// The revoked key stays refused while fetches fail; they are tried
		// 1 s, 2 s, 4 s, … up to 30 s apart, not at every verification.
		before = f.n.Load()
		for range 300 {
			c.Advance(time.Second)
			if _, err := v.Verify(t.Context(), tok); errcode.CodeOf(err) != errcode.Unavailable {
				t.Fatalf("cache %d: the revoked key's token past the bound: %v; want Unavailable", cache, err)
			}
		}
		if got := f.n.Load() - before; got < 5 || got > 16 {
			t.Errorf("cache %d: %d fetches in 5 minutes past the bound; want the back-off's 5 to 16", cache, got)
		}
		// Recovery: the JWKS answers again, without the revoked key.
		f.down.Store(false)
		c.Advance(30 * time.Second)
		if _, err := v.Verify(t.Context(), tok); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Errorf("cache %d: the revoked key's token once the JWKS answers: %v; want Unauthorized", cache, err)
		}
		c.Advance(time.Second) // not within a second of that fetch (a new key's token would wait for the rest of it)
		if _, err := v.Verify(t.Context(), issueAs(t, is, "user:default/alice")); err != nil {
			t.Errorf("cache %d: a new key's token once the JWKS answers: %v", cache, err)
		}
		srv.Close()
	}
}

// After an outage longer than the bound, tokens of a key still published
// verify again at the first fetch that succeeds.
func TestVerifierJWKSMaxStaleRecovery(t *testing.T) {
	c := newClock()
	is := replica(t, c, NewMemoryKeyStore(), 24*time.Hour, "")
	tok := issueAs(t, is, "user:default/alice")
	f := &flakyJWKS{is: is}
	srv := httptest.NewServer(f)
	defer srv.Close()
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, JWKSMaxAge: time.Minute, JWKSMaxStale: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	f.down.Store(true)
	c.Advance(4 * time.Minute)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Errorf("within JWKSMaxStale: %v", err)
	}
	c.Advance(2 * time.Minute)
	_, err = v.Verify(t.Context(), tok)
	var e *errcode.Error
	if !errors.As(err, &e) || e.Code != errcode.Unavailable || e.RetryAt.IsZero() {
		t.Fatalf("past JWKSMaxStale: %v; want Unavailable with RetryAt", err)
	}
	f.down.Store(false)
	c.Advance(e.RetryAt.Sub(c.Now()))
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Errorf("at RetryAt, the JWKS up again: %v", err)
	}
	// Trusted for JWKSMaxStale again from that fetch.
	f.down.Store(true)
	c.Advance(4 * time.Minute)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Errorf("4 minutes after the recovery: %v", err)
	}
}

// Static keys (VerifierOptions.Keys) are not the JWKS's: they verify past
// the bound; a negative JWKSMaxStale keeps the old behaviour (the keys of
// the last fetch verify for as long as fetches fail), and so does a
// negative JWKSMaxAge unless JWKSMaxStale is set.
func TestVerifierJWKSMaxStaleOptions(t *testing.T) {
	c := newClock()
	is := replica(t, c, NewMemoryKeyStore(), 24*time.Hour, "")
	tok := issueAs(t, is, "user:default/alice")
	set, err := is.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyJWKS{is: is}
	srv := httptest.NewServer(f)
	defer srv.Close()
	for _, tc := range []struct {
		name         string
		opts         VerifierOptions
		wantMaxStale time.Duration
		verifies     bool
	}{
		{"static keys", VerifierOptions{Keys: &set}, 30 * time.Minute, true},
		{"no bound", VerifierOptions{JWKSMaxStale: -1}, -1, true},
		{"only unknown kids refetch", VerifierOptions{JWKSMaxAge: -1}, -1, true},
		{"less than JWKSMaxAge", VerifierOptions{JWKSMaxAge: time.Hour, JWKSMaxStale: time.Minute}, time.Hour, false},
		{"a bound without refetches for age", VerifierOptions{JWKSMaxAge: -1, JWKSMaxStale: time.Hour}, time.Hour, false},
	} {
		f.down.Store(false)
		o := tc.opts
		o.JWKSURL, o.Now = srv.URL, c.Now
		v, err := NewVerifier(&o)
		if err != nil {
			t.Fatal(err)
		}
		if v.opts.JWKSMaxStale != tc.wantMaxStale {
			t.Errorf("%s: JWKSMaxStale %v; want %v", tc.name, v.opts.JWKSMaxStale, tc.wantMaxStale)
		}
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
		if tc.opts.Keys != nil && f.n.Load() != 0 {
			t.Errorf("%s: fetched the JWKS for a static key's token", tc.name)
		}
		f.down.Store(true)
		c.Advance(3 * time.Hour)
		_, err = v.Verify(t.Context(), tok)
		if tc.verifies && err != nil {
			t.Errorf("%s: 3 hours into the outage: %v", tc.name, err)
		}
		if !tc.verifies && errcode.CodeOf(err) != errcode.Unavailable {
			t.Errorf("%s: 3 hours into the outage: %v; want Unavailable", tc.name, err)
		}
	}
}
