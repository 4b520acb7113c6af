package redisstore_test

import (
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// Regression (review of the revocation): RemoveKeys of a revoked kid
// deleted its revocation on Redis (an HDEL of the field holding it), and
// AddKey of the kid then succeeded; both stores now keep a revocation
// until it ends.
func TestRemoveKeysKeepsRevocation(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	st := openStore(t, r, &redisstore.Options{Prefix: "rmrv:", Now: clk.Now})
	ctx := t.Context()
	k := identity.StoredKey{Key: identity.JWK{Kid: "k1", Kty: "EC"}, Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}
	mem := identity.NewMemoryKeyStore()
	for name, ks := range map[string]identity.KeyStore{"redis": st.IssuerKeys(), "memory": mem} {
		if err := ks.AddKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := ks.RevokeKeys(ctx, []string{"k1"}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := ks.RemoveKeys(ctx, []string{"k1"}); err != nil { // an operator cleaning up, or the old procedure
			t.Fatal(err)
		}
		if err := ks.AddKey(ctx, k); errcode.CodeOf(err) != errcode.Conflict {
			t.Errorf("%s: AddKey of a revoked kid after RemoveKeys = %v; want Conflict", name, err)
		}
	}
}

// Regression (review of the revocation): FLUSHALL (or a failover to a
// replica that missed the HSET) erased the revocation, and the replica
// that made the key wrote it back. Now a replica that knows of the
// revocation writes it back at its next read, and no replica serves the
// key.
func TestRedisFlushKeepsRevocation(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	st := openStore(t, r, &redisstore.Options{Prefix: "flrv:", Now: clk.Now})
	mk := func() *identity.Issuer {
		is, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: clk.Now, KeyStore: st.IssuerKeys(), Lifetime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	a, b := mk(), mk()
	if _, err := a.Issue(t.Context(), identity.IssueRequest{Subject: "user:default/alice"}); err != nil {
		t.Fatal(err)
	}
	set, err := a.JWKS(t.Context())
	if err != nil || len(set.Keys) != 1 {
		t.Fatal(set, err)
	}
	ka := set.Keys[0].Kid
	if err := b.Revoke(t.Context(), ka); err != nil {
		t.Fatal(err)
	}
	if err := rawClient(t, r).FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	if err := a.Republish(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Republish(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := mk()
	got, err := c.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range got.Keys {
		if k.Kid == ka {
			t.Errorf("after FLUSHALL, a replica's JWKS lists the key revoked before it (b, which revoked it, runs)")
		}
	}
	clk.Advance(time.Minute) // a writes its signing key again: refused
	tok, err := a.Issue(t.Context(), identity.IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	if tokenKid(t, tok.Token) == ka {
		t.Errorf("a minute after the revocation was written back, the key's replica still signs with it")
	}
}
