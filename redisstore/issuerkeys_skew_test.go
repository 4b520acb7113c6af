package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// Regression (second review): two replicas whose clocks differ by 2 s. The
// one ahead drops an ended revocation from Redis; the one behind, which
// still holds it for 2 s, wrote it back for a whole new RevocationPeriod.
// Now it writes it back with its end, at most: it ends as it would have.
func TestClockSkewDoesNotRenewRevocation(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	clk := newClock()
	ahead := func() time.Time { return clk.Now().Add(2 * time.Second) }
	sa := openStore(t, r, &redisstore.Options{Prefix: "skewrv:", Now: clk.Now})
	sc := openStore(t, r, &redisstore.Options{Prefix: "skewrv:", Now: ahead})
	a, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: portalIssuer, Now: clk.Now, KeyStore: sa.IssuerKeys()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: portalIssuer, Now: ahead, KeyStore: sc.IssuerKeys()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := a.Revoke(ctx, "leaked-kid"); err != nil {
		t.Fatal(err)
	}
	before, _ := raw.HGet(ctx, "skewrv:issuerkeys", "leaked-kid").Result()
	if _, err := a.JWKS(ctx); err != nil { // a learns the store's end
		t.Fatal(err)
	}
	clk.Advance(identity.RevocationPeriod - 1500*time.Millisecond) // c is 0.5 s past the end, a 1.5 s before it
	if _, err := c.JWKS(ctx); err != nil {                         // c drops it from Redis
		t.Fatal(err)
	}
	if _, err := a.JWKS(ctx); err != nil { // a reads the store: "lost", writes it back
		t.Fatal(err)
	}
	after, err := raw.HGet(ctx, "skewrv:issuerkeys", "leaked-kid").Result()
	if err == nil && strings.HasSuffix(after, "|R") && after != before {
		t.Errorf("a revocation that ended (mark %q) was written back with another end by the replica whose clock is 2 s behind: %q", before, after)
	}
}
