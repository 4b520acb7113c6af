package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// BenchmarkVerifyForgedKids sends a verifier forged tokens, one a second
// on the fake clock, each naming a new random kid, as anyone can without
// a key: with an old iat, and with a fresh one (the iat is read before the
// token is verified, to let a new replica's key verify within a second).
// requests/op is the JWKS fetches per forged token; RefetchInterval (30 s)
// documents at most one fetch per 30 tokens (0.033).
func BenchmarkVerifyForgedKids(b *testing.B) {
	for _, bc := range []struct {
		name string
		iat  time.Duration // relative to the fake now
	}{{"old-iat", -time.Hour}, {"fresh-iat", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			c := newClock()
			is := newIssuer(b, c)
			tok, err := is.Issue(b.Context(), IssueRequest{Subject: "user:default/alice"})
			if err != nil {
				b.Fatal(err)
			}
			srv, n := jwksServer(b, is)
			v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := v.Verify(b.Context(), tok.Token); err != nil { // the first fetch
				b.Fatal(err)
			}
			before, i := n.Load(), 0
			for b.Loop() {
				c.Advance(time.Second)
				i++
				now := c.Now()
				forged := backstageToken(b, priv, "forged-"+strconv.Itoa(i), map[string]any{"sub": "user:default/admin",
					"aud": "backstage", "iat": now.Add(bc.iat).Unix(), "exp": now.Add(time.Hour).Unix()}, nil)
				if _, err := v.Verify(b.Context(), forged); errcode.CodeOf(err) != errcode.Unauthorized {
					b.Fatalf("forged token %d: %v, want Unauthorized", i, err)
				}
			}
			b.ReportMetric(float64(n.Load()-before)/float64(b.N), "requests/op")
		})
	}
}

// verifierOfOneReplica returns a fleet of one replica (its clock and key
// store) and a verifier of its JWKS that has verified one of its tokens,
// with the count of JWKS requests.
func verifierOfOneReplica(t *testing.T) (*testclock.Clock, *MemoryKeyStore, *Verifier, *atomic.Int64) {
	t.Helper()
	c := newClock()
	store := NewMemoryKeyStore()
	a := replica(t, c, store, time.Hour, "")
	ta, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/a"})
	if err != nil {
		t.Fatal(err)
	}
	srv, n := jwksServer(t, a)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), ta.Token); err != nil {
		t.Fatal(err)
	}
	return c, store, v, n
}

// TestForgedFreshKidsSpacedByRefetchInterval: forged tokens naming new
// kids with a fresh iat, one a second for 40 s, made the verifier fetch
// the JWKS twice per token (a fetch, then a second one after a wait of a
// second): 80 fetches where RefetchInterval allows 2, each request held a
// second. Now each fetch that does not find the kid doubles the wait
// before the next (1, 2, 4, … 30 s): at most 8 fetches, only the first
// request waits. A new replica's key still verifies, at the latest
// RefetchInterval after the last fetch, and once one is found the next
// new key verifies within a second again.
func TestForgedFreshKidsSpacedByRefetchInterval(t *testing.T) {
	c, store, v, n := verifierOfOneReplica(t)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	start, before := time.Now(), n.Load()
	for i := range 40 {
		c.Advance(time.Second)
		now := c.Now().Unix()
		forged := backstageToken(t, priv, "forged-"+strconv.Itoa(i), map[string]any{"sub": "user:default/admin", "aud": "backstage",
			"iat": now, "exp": now + 3600}, nil)
		if _, err := v.Verify(t.Context(), forged); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("forged token %d: %v, want Unauthorized", i, err)
		}
	}
	if got := n.Load() - before; got > 8 {
		t.Errorf("40 forged tokens, one a second, fetched the JWKS %d times; want at most 8", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("40 forged tokens took %v; only the first should wait", d)
	}
	// A replica starts: its key verifies by RefetchInterval after the
	// last fetch.
	c.Advance(30 * time.Second)
	b := replica(t, c, store, time.Hour, "")
	tb, err := b.Issue(t.Context(), IssueRequest{Subject: "user:default/b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tb.Token); err != nil {
		t.Fatalf("a new replica's token after the forged ones: %v", err)
	}
	// Found: the next new key verifies within a second again.
	c.Advance(300 * time.Millisecond)
	d := replica(t, c, store, time.Hour, "")
	td, err := d.Issue(t.Context(), IssueRequest{Subject: "user:default/d"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), td.Token); err != nil {
		t.Fatalf("the next replica's token, 300 ms after: %v", err)
	}
}

// TestForgedOldKidsKeepFastRefetch: forged tokens with an old iat are
// spaced by RefetchInterval as before, and do not slow the refetch for a
// token made after the last fetch: a new replica's key, 300 ms after a
// fetch made for a forged token, verifies.
func TestForgedOldKidsKeepFastRefetch(t *testing.T) {
	c, store, v, n := verifierOfOneReplica(t)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	before := n.Load()
	for i := range 30 {
		c.Advance(time.Second)
		now := c.Now().Unix()
		forged := backstageToken(t, priv, "forged-"+strconv.Itoa(i), map[string]any{"sub": "user:default/admin", "aud": "backstage",
			"iat": now - 3600, "exp": now + 3600}, nil)
		if _, err := v.Verify(t.Context(), forged); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("forged token %d: %v, want Unauthorized", i, err)
		}
	}
	if got := n.Load() - before; got != 1 {
		t.Errorf("30 forged tokens with an old iat, one a second, fetched the JWKS %d times; want 1 (RefetchInterval)", got)
	}
	c.Advance(300 * time.Millisecond)
	b := replica(t, c, store, time.Hour, "")
	tb, err := b.Issue(t.Context(), IssueRequest{Subject: "user:default/b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tb.Token); err != nil {
		t.Errorf("a new replica's token 300 ms after a fetch for a forged one: %v", err)
	}
}
