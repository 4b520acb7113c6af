package redisstore_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// TestIssuerKeysJWKSServedFromMemoryWhileRedisDown: Redis goes down; the
// replica's Issuer keeps issuing tokens with its warm key (by design), but
// its JWKS answered 503 although it holds that public key in memory. A
// backend that (re)starts during the outage (a rolling deploy, a crash
// loop, an autoscaled pod) refused every user token Unavailable until
// Redis was back: the fleet signed tokens nobody new could verify. The
// JWKS endpoint now serves the keys the replica holds: its own, and the
// other replicas' it read before the outage. (Regression test of an
// operations review.)
func TestIssuerKeysJWKSServedFromMemoryWhileRedisDown(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	opts := &redisstore.Options{Prefix: "opsdown:", Timeout: 300 * time.Millisecond, RetryAfter: time.Millisecond}
	a := replicaIssuer(t, openStore(t, r, opts), clk, 0)
	b := replicaIssuer(t, openStore(t, r, opts), clk, 0)
	issue(t, a)
	tb := issue(t, b)
	jwksKids(t, a) // a reads b's key
	srv := httptest.NewServer(a.JWKSHandler())
	defer srv.Close()

	r.Stop()
	tok := issue(t, a) // issued during the outage, accepted by design
	// A backend started now.
	v, err := identity.NewVerifier(&identity.VerifierOptions{JWKSURL: srv.URL, Now: clk.Now, Issuer: portalIssuer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Errorf("a token the replica issued during the Redis outage cannot be verified through the replica's own JWKS: %v", err)
	}
	if _, err := v.Verify(t.Context(), tb); err != nil {
		t.Errorf("another replica's token, whose key the replica read before the outage: %v", err)
	}
}
