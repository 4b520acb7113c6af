package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// Replicas sharing a KeyStore: what a store that loses its keys, replicas
// with other settings and a verifier that fetched moments before a new
// key do to the tokens (regression tests of a review of the KeyStore).

func replica(t *testing.T, c interface{ Now() time.Time }, st KeyStore, lifetime time.Duration, alg string) *Issuer {
	t.Helper()
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, KeyStore: st, Lifetime: lifetime, Algorithm: alg})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func verifierOf(t *testing.T, c interface{ Now() time.Time }, is *Issuer, algs ...string) *Verifier {
	t.Helper()
	srv := httptest.NewServer(is.JWKSHandler())
	t.Cleanup(srv.Close)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, Algorithms: algs})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func flushStore(t *testing.T, st KeyStore) {
	t.Helper()
	keys, err := st.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.Key.Kid)
	}
	if err := st.RemoveKeys(t.Context(), kids); err != nil {
		t.Fatal(err)
	}
}

// A store that loses its keys (Redis FLUSHALL, a failover to a replica that
// had not received the HSET yet, the hash's TTL) does not lose an
// Issuer's previous signing key: it keeps every key of its own until it
// expires, and its JWKS lists them and writes them back. A token signed by
// the previous key a minute before rotation still verifies.
func TestFlushedStoreKeepsRotatedKey(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	a := replica(t, c, st, time.Hour, "")
	if _, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"}); err != nil { // key 1 made
		t.Fatal(err)
	}
	c.Advance(59 * time.Minute)
	old, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"}) // signed by key 1, valid until +1h59m
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Minute)
	if _, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/bob"}); err != nil { // key 2 made
		t.Fatal(err)
	}
	flushStore(t, st)
	v := verifierOf(t, c, a)
	if _, err := v.Verify(t.Context(), old.Token); err != nil {
		t.Errorf("an unexpired token signed by the Issuer's previous key does not verify against its own JWKS after the store lost its keys: %v", err)
	}
}

// After the store loses its keys, replica B's JWKS still lists replica A's
// key if B had read it before (it keeps the keys it read until they
// expire); a replica that had not learns it within republishEvery, when A
// writes its signing key again on an Issue.
func TestFlushedStoreKeepsOtherReplicasKey(t *testing.T) {
	for _, readBefore := range []bool{true, false} {
		c := newClock()
		st := NewMemoryKeyStore()
		a := replica(t, c, st, time.Hour, "")
		b := replica(t, c, st, time.Hour, "")
		if _, err := b.Issue(t.Context(), IssueRequest{Subject: "user:default/bob"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"}); err != nil {
			t.Fatal(err)
		}
		if readBefore {
			if _, err := b.JWKS(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		flushStore(t, st)
		if !readBefore {
			c.Advance(republishEvery)
		}
		tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
		if err != nil {
			t.Fatal(err)
		}
		v := verifierOf(t, c, b)
		if _, err := v.Verify(t.Context(), tok.Token); err != nil {
			t.Errorf("B read the JWKS before the flush: %v; replica A's token does not verify through B: %v", readBefore, err)
		}
	}
}

// Replicas configured with different lifetimes (a rolling change of
// auth.backstageTokenExpiration) keep each other's keys: a key expires at
// the time its maker stored (3 × its own lifetime), so B (10 min) neither
// hides nor removes A's key (1 h) at 30 min.
func TestLifetimeMismatchKeepsKeys(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	a := replica(t, c, st, time.Hour, "")
	b := replica(t, c, st, 10*time.Minute, "")
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(31 * time.Minute)
	v := verifierOf(t, c, b)
	if _, err := v.Verify(t.Context(), tok.Token); err != nil {
		t.Errorf("a 31-minute-old token of replica A (lifetime 1h) does not verify through replica B (lifetime 10m): %v", err)
	}
	if got := storeKids(t, st); len(got) == 0 {
		t.Errorf("replica B's JWKS deleted replica A's live key from the shared store")
	}
}

// Replicas with different Algorithm settings (a rolling change of
// auth.identityTokenAlgorithm) serve each other's keys, so a verifier
// configured for both accepts both replicas' tokens.
func TestAlgorithmMismatchServesKeys(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	a := replica(t, c, st, time.Hour, "ES256")
	b := replica(t, c, st, time.Hour, "ES384")
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	v := verifierOf(t, c, b, "ES256", "ES384")
	if _, err := v.Verify(t.Context(), tok.Token); err != nil {
		t.Errorf("an ES256 token of replica A does not verify through replica B (ES384), with a verifier accepting both: %v", err)
	}
}

// A verifier that fetched the JWKS moments before a replica made a new key
// (a rolling deploy starts replicas seconds apart) fetches again for a
// token made after its fetch, at most once per newKeyRefetch, instead of
// refusing that replica's tokens for RefetchInterval (30 s).
func TestNewReplicaKeyVerifiesAtOnce(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	a := replica(t, c, st, time.Hour, "")
	b := replica(t, c, st, time.Hour, "")
	v := verifierOf(t, c, a)
	ta, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), ta.Token); err != nil {
		t.Fatal(err)
	}
	c.Advance(10 * time.Second) // replica B starts 10 s later (rolling deploy)
	tb, err := b.Issue(t.Context(), IssueRequest{Subject: "user:default/bob"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tb.Token); err != nil {
		t.Errorf("replica B's first token, its key already in the shared store, is refused: %v", err)
	}
}

// Tokens with unknown kids and a fresh (even future) iat, which anyone can
// forge, make the verifier fetch the JWKS at most once per newKeyRefetch,
// and are refused.
// TestNewReplicaKeyWithinASecond: a replica that starts (or rotates)
// publishes its new key and signs a token moments after the verifier
// fetched the JWKS for another replica's token: that token is not
// refused; its verification waits until a fetch is allowed again
// (newKeyRefetch) and fetches once.
func TestNewReplicaKeyWithinASecond(t *testing.T) {
	c := newClock()
	store := NewMemoryKeyStore()
	a := replica(t, c, store, time.Hour, "")
	ta, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/a"})
	if err != nil {
		t.Fatal(err)
	}
	srv, n := jwksServer(t, a) // every replica publishes the store's keys
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), ta.Token); err != nil {
		t.Fatal(err)
	}
	c.Advance(300 * time.Millisecond)
	b := replica(t, c, store, time.Hour, "")
	tb, err := b.Issue(t.Context(), IssueRequest{Subject: "user:default/b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tb.Token); err != nil {
		t.Fatalf("replica b's first token, 300 ms after the fetch for a's: %v", err)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times, want 2", got)
	}
}

func TestForgedFreshTokensRefetchBounded(t *testing.T) {
	c := newClock()
	is := replica(t, c, NewMemoryKeyStore(), time.Hour, "")
	if _, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/a"}); err != nil {
		t.Fatal(err)
	}
	srv, n := jwksServer(t, is)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := c.Now().Unix()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 100 {
		forged := backstageToken(t, priv, "forged-"+strconv.Itoa(i), map[string]any{"sub": "user:default/admin", "aud": "backstage",
			"iat": now + 3600, "exp": now + 7200}, nil)
		wg.Go(func() {
			if _, err := v.Verify(t.Context(), forged); errcode.CodeOf(err) != errcode.Unauthorized {
				t.Errorf("forged token %d: %v, want Unauthorized", i, err)
			}
		})
		if i == 0 {
			wg.Wait() // the first fetch, then 99 at once
		}
	}
	wg.Wait()
	if got := n.Load(); got > 2 {
		t.Errorf("100 forged tokens at once fetched the JWKS %d times; want at most 2 (the first, one newKeyRefetch later)", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("100 forged tokens at once took %v; each waits newKeyRefetch at most", d)
	}
}
