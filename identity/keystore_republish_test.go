package identity

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// waitForKid waits (real time, up to 5 s) until st lists kid.
func waitForKid(t *testing.T, st KeyStore, kid string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(storeKids(t, st), kid) {
		if time.Now().After(deadline) {
			t.Fatalf("the store did not get key %s back within 5 s", kid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Redis loses the issuer keys (FLUSHALL, failover to an empty replica,
// restart without persistence), then a replica starts (rolling deploy,
// scale-up) and the JWKS URL the verifiers use is served by it. Replica A
// is alive, its key unexpired and its tokens still valid, but it is idle
// (no sign-in or refresh reached it): nothing wrote its key back, and the
// new replica's JWKS did not list it, so every backend verifying through
// that JWKS refused A's users' tokens until A happened to issue again.
// With StartRepublishing, A writes its keys back by itself. (Regression
// test of an operations review.)
func TestFlushedStoreIdleReplicaRepublishes(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	a := replica(t, c, st, time.Hour, "")
	a.StartRepublishing(t.Context(), 10*time.Millisecond)
	t.Cleanup(func() { a.Close() })
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(5 * time.Minute)
	flushStore(t, st) // Redis restarted empty
	c.Advance(5 * time.Minute)
	waitForKid(t, st, headerKid(t, tok.Token)) // A's ticker: within one interval
	b := replica(t, c, st, time.Hour, "")      // a replica started after the flush
	if _, err := b.Issue(t.Context(), IssueRequest{Subject: "user:default/bob"}); err != nil {
		t.Fatal(err)
	}
	c.Advance(5 * time.Minute) // A stays idle; its token is 15 minutes old, valid for 45 more
	v := verifierOf(t, c, b)
	if _, err := v.Verify(t.Context(), tok.Token); err != nil {
		t.Errorf("replica A's unexpired token, issued before the store lost its keys, does not verify through a replica started after: %v", err)
	}
}

// Republish writes back every unexpired key of the Issuer the store lost
// (the previous signing key too, whose tokens are still valid), not the
// expired ones, and nothing when the store has them; without
// StartRepublishing no goroutine does it, and after Close it stops.
func TestRepublish(t *testing.T) {
	c := newClock()
	st := newCountingStore()
	const life = MinLifetime
	a := replica(t, c, st, life, "")
	var kids []string
	for range 4 { // keys made at 0, 1, 2, 3 lifetimes
		tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, headerKid(t, tok.Token))
		c.Advance(life)
	}
	c.Advance(-life / 2) // 3.5 lifetimes: the first key expired, three live
	live := slices.Sorted(slices.Values(kids[1:]))
	flushStore(t, st)
	time.Sleep(30 * time.Millisecond)
	if got := storeKids(t, st); len(got) != 0 {
		t.Fatalf("without StartRepublishing, the store got %v back", got)
	}
	adds := st.adds.Load()
	if err := a.Republish(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := storeKids(t, st); !slices.Equal(got, live) {
		t.Errorf("after Republish the store lists %v; want the unexpired keys %v", got, live)
	}
	if n := st.adds.Load() - adds; n != 3 {
		t.Errorf("Republish wrote %d keys; want 3", n)
	}
	adds, lists := st.adds.Load(), st.lists.Load()
	if err := a.Republish(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st.adds.Load() != adds || st.lists.Load() != lists+1 {
		t.Errorf("Republish with nothing lost: %d writes, %d reads; want 0 and 1 (a fresh read, not the reused one)", st.adds.Load()-adds, st.lists.Load()-lists)
	}
	st.failList.Store(true)
	if err := a.Republish(t.Context()); err == nil {
		t.Error("Republish with the store down: no error")
	}
	st.failList.Store(false)

	// The ticker, then Close.
	a.StartRepublishing(t.Context(), 5*time.Millisecond)
	a.StartRepublishing(t.Context(), 5*time.Millisecond) // no second goroutine
	flushStore(t, st)
	waitForKid(t, st, kids[3])
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	flushStore(t, st)
	time.Sleep(30 * time.Millisecond)
	if got := storeKids(t, st); len(got) != 0 {
		t.Errorf("after Close, the store got %v back", got)
	}
	if err := a.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

// A shared store's listing is reused for a second: JWKS answers within it
// read the store once, a key this Issuer has just made is listed at once
// (and not written again), an expired key is removed once, another
// replica's new key is listed after the second.
func TestJWKSReusesListingForASecond(t *testing.T) {
	c := newClock()
	st := newCountingStore()
	const life = MinLifetime
	a := replica(t, c, st, life, "")
	b := replica(t, c, st, life, "")
	kidOf := func(is *Issuer) string {
		tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
		if err != nil {
			t.Fatal(err)
		}
		return headerKid(t, tok.Token)
	}
	old := kidOf(a)
	c.Advance(3*life - time.Millisecond)
	kb := kidOf(b)
	lists := st.lists.Load()
	if got := jwksKids(t, a); !slices.Equal(got, slices.Sorted(slices.Values([]string{old, kb}))) {
		t.Fatalf("JWKS = %v", got)
	}
	c.Advance(time.Millisecond) // a's first key expires
	ka := kidOf(a)              // a's new key
	adds, removes := st.adds.Load(), st.removes.Load()
	for range 100 {
		if got := jwksKids(t, a); !slices.Equal(got, slices.Sorted(slices.Values([]string{ka, kb}))) {
			t.Fatalf("JWKS = %v; want a's new key (at once) and b's", got)
		}
	}
	if n := st.lists.Load() - lists; n != 1 {
		t.Errorf("101 JWKS answers within a second read the store %d times; want 1", n)
	}
	if n := st.adds.Load() - adds; n != 0 {
		t.Errorf("JWKS answers wrote %d keys; want 0 (a's new key is in the store)", n)
	}
	if n := st.removes.Load() - removes; n != 1 {
		t.Errorf("JWKS answers removed expired keys %d times; want once", n)
	}
	c.Advance(life)
	jwksKids(t, a)  // reads the store
	kb2 := kidOf(b) // b rotates just after
	lists = st.lists.Load()
	c.Advance(500 * time.Millisecond)
	jwksKids(t, a)
	if n := st.lists.Load() - lists; n != 0 {
		t.Errorf("a JWKS answer half a second after a read read the store %d times; want 0", n)
	}
	c.Advance(500 * time.Millisecond)
	if got := jwksKids(t, a); !slices.Contains(got, kb2) {
		t.Errorf("a second after the read, JWKS = %v; want b's new key %s", got, kb2)
	}
}

// jwksKids returns the sorted kids of is's JWKS.
func jwksKids(t *testing.T, is *Issuer) []string {
	t.Helper()
	var kids []string
	for _, k := range jwksOf(t, is).Keys {
		kids = append(kids, k.Kid)
	}
	slices.Sort(kids)
	return kids
}

// An Issuer on a shared store answers its JWKS from a listing up to a
// second old; a verifier whose last fetch is older than a second and that
// gets the first token of another replica's new key, published just after
// that listing was read, fetches a JWKS without the key. It fetches once
// more, a second later, and accepts the token instead of refusing it.
func TestNewKeyMissingFromReusedListing(t *testing.T) {
	c := newClock()
	st := newCountingStore()
	a := replica(t, c, st, time.Hour, "")
	ta, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	h := a.JWKSHandler()
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		c.Advance(500 * time.Millisecond) // a request takes its time
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), ta.Token); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Second)
	jwksKids(t, a) // another verifier's request: a reads the store
	b := replica(t, c, st, time.Hour, "")
	tb, err := b.Issue(t.Context(), IssueRequest{Subject: "user:default/bob"}) // b's new key, just after
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tb.Token); err != nil {
		t.Errorf("b's first token, verified through a's JWKS: %v", err)
	}
	if n := fetches.Load(); n != 3 {
		t.Errorf("%d JWKS fetches; want 3 (a's token, then b's twice)", n)
	}
}
