package redisstore_test

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// TestIssuerKeysIdleReplicaRepublishesAfterFlush: Redis is flushed while
// replica A is idle (its token still valid); with StartRepublishing, A
// writes its key back by itself, and a replica started after the flush
// lists it, so a backend verifying through that replica's JWKS accepts
// A's token.
func TestIssuerKeysIdleReplicaRepublishesAfterFlush(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	clk := newClock()
	a := replicaIssuer(t, openStore(t, r, &redisstore.Options{Prefix: "repub:"}), clk, 0)
	a.StartRepublishing(t.Context(), 20*time.Millisecond)
	t.Cleanup(func() { a.Close() })
	tok := issue(t, a)
	kid := tokenKid(t, tok)
	if err := raw.FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fields, err := raw.HKeys(t.Context(), "repub:issuerkeys").Result()
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(fields, kid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replica A did not write its key back within 5 s of the flush")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b := replicaIssuer(t, openStore(t, r, &redisstore.Options{Prefix: "repub:"}), clk, 0) // started after the flush
	issue(t, b)
	srv := httptest.NewServer(b.JWKSHandler())
	defer srv.Close()
	v, err := identity.NewVerifier(&identity.VerifierOptions{JWKSURL: srv.URL, Now: clk.Now, Issuer: portalIssuer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Errorf("idle replica A's token through a replica started after the flush: %v", err)
	}
}
