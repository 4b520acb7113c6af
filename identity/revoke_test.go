package identity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// Revoking a key: the store refuses it from then on and lists the
// revocation, every replica stops serving it, the replica that made it
// stops signing with it, and verifiers stop accepting its tokens.

func TestMemoryKeyStoreRevokeKeys(t *testing.T) {
	c := newClock()
	m := &MemoryKeyStore{now: c.Now}
	ctx := t.Context()
	for _, kid := range []string{"a", "b"} {
		if err := m.AddKey(ctx, StoredKey{Key: JWK{Kid: kid}, Created: c.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.RevokeKeys(ctx, []string{"a", "never-added"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeKeys(ctx, nil, time.Time{}); err != nil {
		t.Errorf("RevokeKeys(nil) = %v; want nil", err)
	}
	keys, err := m.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []StoredKey{
		{Key: JWK{Kid: "b"}, Created: c.Now()},
		{Key: JWK{Kid: "a"}, Expires: c.Now().Add(RevocationPeriod), Revoked: true},
		{Key: JWK{Kid: "never-added"}, Expires: c.Now().Add(RevocationPeriod), Revoked: true},
	}
	if !slices.Equal(keys, want) {
		t.Errorf("after revoking a: ListKeys = %+v; want %+v", keys, want)
	}
	for _, kid := range []string{"a", "never-added"} {
		if err := m.AddKey(ctx, StoredKey{Key: JWK{Kid: kid}, Created: c.Now()}); errcode.CodeOf(err) != errcode.Conflict {
			t.Errorf("AddKey(%s) after its revocation = %v; want Conflict", kid, err)
		}
	}
	if got := storeKids(t, m); !slices.Equal(got, []string{"a", "b", "never-added"}) {
		t.Errorf("a refused AddKey changed the store: %v", got)
	}
	if err := m.AddKey(ctx, StoredKey{Key: JWK{Kid: "c"}, Revoked: true}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("AddKey of a revocation = %v; want InvalidArgument", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.RevokeKeys(done, []string{"b"}, time.Time{}); errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("RevokeKeys on a cancelled context = %v; want Canceled", err)
	}

	// The revocation ends after RevocationPeriod: it is no longer listed,
	// and the kid may be added again.
	c.Advance(RevocationPeriod)
	if got := storeKids(t, m); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after RevocationPeriod: ListKeys = %v; want [b]", got)
	}
	if err := m.AddKey(ctx, StoredKey{Key: JWK{Kid: "a"}, Created: c.Now()}); err != nil {
		t.Errorf("AddKey(a) after its revocation ended = %v", err)
	}
	if n := len(m.revoked); n != 0 {
		t.Errorf("%d ended revocations kept", n)
	}
}

// Two replicas share a store; b revokes a's signing key. a's JWKS and b's
// stop listing it at once (a reads the revocation from the store), a makes
// a new key for its next token, and a verifier that holds the key drops it
// at its next fetch, at the latest JWKSMaxAge after the last one.
func TestRevokeAcrossReplicas(t *testing.T) {
	c := newClock()
	st := &MemoryKeyStore{now: c.Now}
	a := replica(t, c, st, time.Hour, "")
	b := replica(t, c, st, time.Hour, "")
	third := replica(t, c, st, time.Hour, "")
	old := issueAs(t, a, "user:default/alice")
	ka := headerKid(t, old)
	kb := headerKid(t, issueAs(t, b, "user:default/bob"))
	if got := jwksKids(t, third); !slices.Contains(got, ka) { // known to third from now on
		t.Fatalf("third's JWKS = %v; want a's key", got)
	}

	srv := httptest.NewServer(b.JWKSHandler())
	t.Cleanup(srv.Close)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), old); err != nil {
		t.Fatalf("before the revocation: %v", err)
	}

	if err := b.Revoke(t.Context(), ka); err != nil {
		t.Fatal(err)
	}
	for name, is := range map[string]*Issuer{"a": a, "b": b, "third": third} {
		if got := jwksKids(t, is); slices.Contains(got, ka) {
			t.Errorf("%s's JWKS after the revocation = %v; lists the revoked key", name, got)
		}
	}
	if got := jwksKids(t, b); !slices.Contains(got, kb) {
		t.Errorf("b's JWKS = %v; lost b's own key %s", got, kb)
	}
	if k := headerKid(t, issueAs(t, a, "user:default/carol")); k == ka {
		t.Errorf("a signs with its revoked key after reading the revocation")
	}

	// The verifier fetched before the revocation: its token cache and key
	// set still hold the key until it fetches again.
	c.Advance(10 * time.Minute)
	if _, err := v.Verify(t.Context(), old); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("a token of the revoked key, JWKSMaxAge after the last fetch: %v; want Unauthorized", err)
	}
}

// The replica that made a key, busy issuing and never answering a JWKS
// request, learns of the revocation when it writes the key again (once a
// minute): the store refuses it, and it makes a new key.
func TestRevokedSigningKeyReplacedAtRepublish(t *testing.T) {
	c := newClock()
	st := &MemoryKeyStore{now: c.Now}
	a := replica(t, c, st, time.Hour, "")
	b := replica(t, c, st, time.Hour, "")
	ka := headerKid(t, issueAs(t, a, "user:default/alice"))
	if err := b.Revoke(t.Context(), ka); err != nil {
		t.Fatal(err)
	}
	c.Advance(republishEvery)
	if k := headerKid(t, issueAs(t, a, "user:default/alice")); k == ka {
		t.Fatalf("a minute after the revocation, a still signs with the revoked key")
	}
	if got := storeKids(t, st); len(got) != 2 || !slices.Contains(got, ka) {
		t.Errorf("store = %v; want the revocation of %s and a's new key", got, ka)
	}
	keys, _ := st.ListKeys(t.Context())
	for _, k := range keys {
		if k.Key.Kid == ka && !k.Revoked {
			t.Errorf("the revoked key was written back: %+v", k)
		}
	}
}

// An Issuer revoking its own signing key makes a new one at its next
// Issue; a listing of the store read before the revocation (a shared
// store's listing is reused for a second) does not bring the key back.
func TestRevokeOwnKeyWithReusedListing(t *testing.T) {
	c := newClock()
	st := newCountingStore()
	st.KeyStore = &MemoryKeyStore{now: c.Now}
	a := replica(t, c, st, time.Hour, "")
	ka := headerKid(t, issueAs(t, a, "user:default/alice"))
	jwksKids(t, a) // the listing, reused for a second
	if err := a.Revoke(t.Context(), ka); err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, a); len(got) != 0 {
		t.Errorf("JWKS right after revoking the only key = %v; want none", got)
	}
	if k := headerKid(t, issueAs(t, a, "user:default/alice")); k == ka {
		t.Errorf("the next Issue signs with the revoked key")
	}
	c.Advance(time.Second)
	if got := jwksKids(t, a); slices.Contains(got, ka) || len(got) != 1 {
		t.Errorf("JWKS a second later = %v; want only the new key", got)
	}
}

// A revocation the store cannot take is an error, and the Issuer forgets
// nothing: the key signs and is served as before.
func TestRevokeStoreDown(t *testing.T) {
	c := newClock()
	st := &failingRevokes{KeyStore: &MemoryKeyStore{now: c.Now}}
	a := replica(t, c, st, time.Hour, "")
	ka := headerKid(t, issueAs(t, a, "user:default/alice"))
	st.fail.Store(true)
	err := a.Revoke(t.Context(), ka)
	if errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("Revoke with the store down = %v; want Unavailable", err)
	}
	if got := jwksKids(t, a); !slices.Equal(got, []string{ka}) {
		t.Errorf("JWKS after a failed revocation = %v; want [%s]", got, ka)
	}
	for _, kids := range [][]string{nil, {""}, {ka, ""}} {
		if err := a.Revoke(t.Context(), kids...); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("Revoke(%q) = %v; want InvalidArgument", kids, err)
		}
	}
}

type failingRevokes struct {
	KeyStore
	fail atomic.Bool
}

func (f *failingRevokes) RevokeKeys(ctx context.Context, kids []string, until time.Time) error {
	if f.fail.Load() {
		return errcode.New(errcode.Unavailable, "test", "store down")
	}
	return f.KeyStore.RevokeKeys(ctx, kids, until)
}

// A verifier fetches the JWKS again when its last fetch is JWKSMaxAge old
// (once for concurrent verifications), keeps its keys when that fetch
// fails, and never refetches for age when JWKSMaxAge is negative.
func TestVerifierJWKSMaxAge(t *testing.T) {
	for _, tc := range []struct {
		maxAge   time.Duration
		advance  time.Duration
		fetches  int64
		failNext bool
	}{
		{0, 9 * time.Minute, 1, false},                 // default 10 min: no refetch yet
		{0, 10 * time.Minute, 2, false},                // refetched once
		{time.Second, 29 * time.Second, 1, false},      // below RefetchInterval means RefetchInterval
		{time.Second, 30 * time.Second, 2, false},      //
		{-1, 50 * time.Minute, 1, false},               // never for age
		{5 * time.Minute, 5 * time.Minute, 2, true},    // a failed refetch keeps the keys
		{5 * time.Minute, 5*time.Minute + 1, 2, false}, //
	} {
		c := newClock()
		is := replica(t, c, NewMemoryKeyStore(), time.Hour, "")
		tok := issueAs(t, is, "user:default/alice")
		var fetches atomic.Int64
		var down atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fetches.Add(1)
			if down.Load() {
				http.Error(w, "gone", http.StatusNotFound) // not retried
				return
			}
			is.JWKSHandler().ServeHTTP(w, r)
		}))
		v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, JWKSMaxAge: tc.maxAge, CacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
		down.Store(tc.failNext)
		c.Advance(tc.advance)
		for range 3 {
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Errorf("JWKSMaxAge %v, %v later: %v", tc.maxAge, tc.advance, err)
			}
		}
		if got := fetches.Load(); got != tc.fetches {
			t.Errorf("JWKSMaxAge %v, %v later: %d fetches; want %d", tc.maxAge, tc.advance, got, tc.fetches)
		}
		if tc.failNext {
			// Tried again JWKSMaxAge after the failed fetch, not before.
			down.Store(false)
			c.Advance(time.Minute)
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Error(err)
			}
			if got := fetches.Load(); got != tc.fetches {
				t.Errorf("a minute after a failed refetch: %d fetches; want %d", got, tc.fetches)
			}
			c.Advance(tc.maxAge)
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Error(err)
			}
			if got := fetches.Load(); got != tc.fetches+1 {
				t.Errorf("JWKSMaxAge after a failed refetch: %d fetches; want %d", got, tc.fetches+1)
			}
		}
		srv.Close()
	}
}

func issueAs(t *testing.T, is *Issuer, sub string) string {
	t.Helper()
	tok, err := is.Issue(t.Context(), IssueRequest{Subject: sub})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// A listing that does not show the revocation yet (read before it and
// answered after, or from a store replica that lags) does not bring the
// revoked key back into the revoking Issuer's JWKS.
func TestRevokeOutlivesStaleListing(t *testing.T) {
	c := newClock()
	mem := &MemoryKeyStore{now: c.Now}
	st := &staleLists{KeyStore: mem}
	a := replica(t, c, st, time.Hour, "")
	b := replica(t, c, st, time.Hour, "")
	ka := headerKid(t, issueAs(t, a, "user:default/alice"))
	before, err := mem.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Revoke(t.Context(), ka); err != nil {
		t.Fatal(err)
	}
	st.stale = before
	c.Advance(time.Second)
	if got := jwksKids(t, b); slices.Contains(got, ka) {
		t.Errorf("b's JWKS from a listing older than its revocation = %v; lists the revoked key", got)
	}
}

// staleLists answers ListKeys with stale, when set, once.
type staleLists struct {
	KeyStore
	stale []StoredKey
}

func (s *staleLists) ListKeys(ctx context.Context) ([]StoredKey, error) {
	if s.stale != nil {
		l := s.stale
		s.stale = nil
		return l, nil
	}
	return s.KeyStore.ListKeys(ctx)
}

// BenchmarkVerifyAnHourOfTraffic verifies one token once a second for an
// hour on the fake clock (3,600 verifications per op), 8 at a time: the
// JWKS is fetched again only when the last fetch is JWKSMaxAge (10 min)
// old, once for concurrent verifications: 6 fetches per hour, not one per
// verification.
func BenchmarkVerifyAnHourOfTraffic(b *testing.B) {
	var fetches int64
	for b.Loop() {
		c := newClock()
		is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, Lifetime: 2 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		tok, err := is.Issue(b.Context(), IssueRequest{Subject: "user:default/alice"})
		if err != nil {
			b.Fatal(err)
		}
		srv, n := jwksServer(b, is)
		v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
		if err != nil {
			b.Fatal(err)
		}
		before := n.Load()
		for range 3600 {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if _, err := v.Verify(b.Context(), tok.Token); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			c.Advance(time.Second)
		}
		fetches += n.Load() - before
		srv.Close()
	}
	b.ReportMetric(float64(fetches)/float64(b.N), "requests/op")
}
