package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// Regression tests of a review of key publishing: a hung key-store read,
// StartRepublishing after its context ended, and the revocation procedure.

// StartRepublishing with a context that ends (a request's, a component's
// that restarts) stops its goroutine; a later StartRepublishing must start
// another, not take the ended one for running.
func TestStartRepublishingAfterItsContextEnded(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	a := replica(t, c, st, time.Hour, "")
	ctx1, cancel1 := context.WithCancel(t.Context())
	a.StartRepublishing(ctx1, 10*time.Millisecond)
	cancel1()
	time.Sleep(50 * time.Millisecond) // its goroutine has ended
	a.StartRepublishing(t.Context(), 10*time.Millisecond)
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
		if err := a.Close(); err != nil { // twice is fine
			t.Error(err)
		}
	})
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	kid := headerKid(t, tok.Token)
	flushStore(t, st)
	deadline := time.Now().Add(2 * time.Second)
	for !slices.Contains(storeKids(t, st), kid) {
		if time.Now().After(deadline) {
			t.Fatalf("StartRepublishing after an earlier one's context ended: key %s not republished within 2 s (interval 10 ms)", kid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Close after the context of StartRepublishing ended, and Close twice,
// return at once.
func TestCloseAfterRepublishingContextEnded(t *testing.T) {
	a := replica(t, newClock(), NewMemoryKeyStore(), time.Hour, "")
	ctx, cancel := context.WithCancel(t.Context())
	a.StartRepublishing(ctx, 10*time.Millisecond)
	cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Close()
		a.Close()
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close after the context ended did not return")
	}
}

// hangOnce is a KeyStore as the interface describes one (it returns the
// context's error; it has no timeout of its own): its first ListKeys hangs
// until its context ends (a connection that went silent), later ones
// answer at once.
type hangOnce struct {
	*MemoryKeyStore
	calls chan struct{}
}

func (h *hangOnce) ListKeys(ctx context.Context) ([]StoredKey, error) {
	select {
	case h.calls <- struct{}{}: // the first call only
		<-ctx.Done()
		return nil, ctx.Err()
	default:
	}
	return h.MemoryKeyStore.ListKeys(ctx)
}

func newHangOnce() *hangOnce {
	return &hangOnce{MemoryKeyStore: NewMemoryKeyStore(), calls: make(chan struct{}, 1)}
}

// One hung shared listing (the first caller gave up) must not be joined
// by every later JWKS and Republish: once it is older than listingStuck,
// later callers read the store again, and it ends at listTimeout.
func TestHungListingDoesNotStopJWKS(t *testing.T) {
	c := newClock()
	st := newHangOnce()
	a := replica(t, c, st, time.Hour, "")
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	kid := headerKid(t, tok.Token)
	ctx1, cancel1 := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel1()
	if _, err := a.JWKS(ctx1); err == nil { // the request that met the hung connection
		t.Fatal("JWKS on a hung store answered before its context ended")
	}
	for i := 0; i < 3; i++ {
		c.Advance(time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		set, err := a.JWKS(ctx)
		rerr := a.Republish(ctx)
		cancel()
		if err != nil || rerr != nil {
			t.Fatalf("minute %d: the store answers at once, yet JWKS: %v; Republish: %v", i+1, err, rerr)
		}
		if len(set.Keys) != 1 || set.Keys[0].Kid != kid {
			t.Errorf("minute %d: JWKS = %v, want the key %s", i+1, set.Keys, kid)
		}
	}
}

// The JWKS endpoint waits for a hung store jwksWait at most, then serves
// the keys the Issuer holds in memory (cacheable for 5 s), or 503 when it
// holds none.
func TestHungListingHandler(t *testing.T) {
	for _, tc := range []struct {
		name      string
		issue     bool
		wantCode  int
		wantCache string
	}{
		{"keys in memory", true, http.StatusOK, "public, max-age=5"},
		{"no key", false, http.StatusServiceUnavailable, "no-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			st := newHangOnce()
			a := replica(t, c, st, time.Hour, "")
			var kid string
			if tc.issue {
				tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
				if err != nil {
					t.Fatal(err)
				}
				kid = headerKid(t, tok.Token)
			}
			srv := httptest.NewServer(a.JWKSHandler())
			defer srv.Close()
			hc := &http.Client{Timeout: time.Second}
			for i := 0; i < 2; i++ { // the first meets the hung read, the second joins it
				resp, err := hc.Get(srv.URL)
				if err != nil {
					t.Fatalf("request %d: %v (neither keys from memory nor 503 within a second)", i, err)
				}
				var set JWKS
				derr := json.NewDecoder(resp.Body).Decode(&set)
				resp.Body.Close()
				if resp.StatusCode != tc.wantCode || resp.Header.Get("Cache-Control") != tc.wantCache {
					t.Fatalf("request %d: %d, Cache-Control %q; want %d, %q", i, resp.StatusCode, resp.Header.Get("Cache-Control"), tc.wantCode, tc.wantCache)
				}
				if tc.issue && (derr != nil || len(set.Keys) != 1 || set.Keys[0].Kid != kid) {
					t.Errorf("request %d: keys %v (%v), want the key %s from memory", i, set.Keys, derr, kid)
				}
			}
		})
	}
}

// The documented revocation, done as rolling restarts: restart every
// replica (the private half lives only in the memory of the replica that
// made it, so this ends the key: no replica signs with it or writes it
// back), then delete the public key from the store, then restart every
// replica again (the others serve what they read before from memory until
// it expires). Meanwhile no replica writes the key back, and afterwards no
// replica's JWKS lists it: its tokens stop verifying.
func TestRevokeKeyByRollingRestarts(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	a := replica(t, c, st, time.Hour, "")
	b := replica(t, c, st, time.Hour, "")
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	kid := headerKid(t, tok.Token)
	if _, err := b.JWKS(t.Context()); err != nil { // b knows a's key
		t.Fatal(err)
	}

	// 1. Restart every replica, one by one: a, b → a2, b2. They read the
	// key, still in the store, and hold no private half of it.
	a2 := replica(t, c, st, time.Hour, "")
	b2 := replica(t, c, st, time.Hour, "")
	for _, is := range []*Issuer{a2, b2} {
		if _, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/bob"}); err != nil {
			t.Fatal(err)
		}
		if _, err := is.JWKS(t.Context()); err != nil {
			t.Fatal(err)
		}
	}

	// 2. Delete the key from the store. No replica still running writes
	// it back: not a republishing tick, not a JWKS answer, not an Issue.
	if err := st.RemoveKeys(t.Context(), []string{kid}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		c.Advance(time.Minute)
		for _, is := range []*Issuer{a2, b2} {
			if err := is.Republish(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := is.JWKS(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/bob"}); err != nil {
				t.Fatal(err)
			}
		}
		if slices.Contains(storeKids(t, st), kid) {
			t.Fatalf("minute %d: a replica restarted before the deletion wrote the deleted key %s back", i+1, kid)
		}
	}

	// 3. Restart every replica again: a3, b3 never read the key.
	a3 := replica(t, c, st, time.Hour, "")
	b3 := replica(t, c, st, time.Hour, "")
	for _, is := range []*Issuer{a3, b3} {
		set, err := is.JWKS(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(set.Keys, func(k JWK) bool { return k.Kid == kid }) {
			t.Errorf("a replica started after the deletion lists the revoked key %s", kid)
		}
		if _, err := verifierOf(t, c, is).Verify(t.Context(), tok.Token); err == nil {
			t.Errorf("a token signed by the revoked key %s still verifies", kid)
		}
	}
}

// Why the order matters (the documentation says so): a key deleted from
// the store while the replica that made it runs is written back by that
// replica (its republishing tick or a JWKS answer), as after Redis lost
// its data, so deleting it first revokes nothing.
func TestDeletedKeyOfRunningReplicaIsWrittenBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after func(*Issuer) error
	}{
		{"Republish", func(is *Issuer) error { return is.Republish(context.Background()) }},
		{"JWKS", func(is *Issuer) error { _, err := is.JWKS(context.Background()); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			st := NewMemoryKeyStore()
			a := replica(t, c, st, time.Hour, "")
			tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
			if err != nil {
				t.Fatal(err)
			}
			kid := headerKid(t, tok.Token)
			if err := st.RemoveKeys(t.Context(), []string{kid}); err != nil {
				t.Fatal(err)
			}
			if err := tc.after(a); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(storeKids(t, st), kid) {
				t.Errorf("the running replica did not write its deleted key %s back", kid)
			}
		})
	}
}
