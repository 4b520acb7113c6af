package redisstore_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// TestIssuerKeysRevoke: on Redis, RevokeKeys replaces the key by its
// revocation in one round trip; AddKey of the kid is refused, atomically,
// and changes nothing; ListKeys lists the revocation until it ends.
func TestIssuerKeysRevoke(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	st := openStore(t, r, &redisstore.Options{Prefix: "rv:", Now: clk.Now})
	ks := st.IssuerKeys()
	ctx := t.Context()
	k := identity.StoredKey{Key: identity.JWK{Kid: "k1", Kty: "EC"}, Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}
	if err := ks.AddKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := ks.RevokeKeys(ctx, []string{"k1", "k2"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := ks.RevokeKeys(ctx, nil, time.Time{}); err != nil {
		t.Errorf("RevokeKeys(nil) = %v", err)
	}
	list := func() []identity.StoredKey {
		t.Helper()
		keys, err := ks.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(keys, func(a, b identity.StoredKey) int { return strings.Compare(a.Key.Kid, b.Key.Kid) })
		return keys
	}
	end := clk.Now().Add(identity.RevocationPeriod)
	want := []identity.StoredKey{
		{Key: identity.JWK{Kid: "k1"}, Expires: end, Revoked: true},
		{Key: identity.JWK{Kid: "k2"}, Expires: end, Revoked: true},
	}
	if got := list(); !slices.Equal(got, want) {
		t.Errorf("ListKeys after RevokeKeys = %+v; want %+v", got, want)
	}
	if err := ks.AddKey(ctx, k); errcode.CodeOf(err) != errcode.Conflict {
		t.Errorf("AddKey of a revoked kid = %v; want Conflict", err)
	}
	if got := list(); !slices.Equal(got, want) {
		t.Errorf("a refused AddKey changed the store: %+v", got)
	}
	revoked := k
	revoked.Revoked = true
	if err := ks.AddKey(ctx, revoked); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("AddKey of a revocation = %v; want InvalidArgument", err)
	}
	// The hash lives as long as the revocations in it, and no longer,
	// even when it held no key before.
	empty := openStore(t, r, &redisstore.Options{Prefix: "rv-empty:", Now: clk.Now})
	if err := empty.IssuerKeys().RevokeKeys(ctx, []string{"k3"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"rv:issuerkeys", "rv-empty:issuerkeys"} {
		if ttl := rawClient(t, r).PTTL(ctx, h).Val(); ttl < identity.RevocationPeriod-time.Minute || ttl > identity.RevocationPeriod {
			t.Errorf("%s expires in %v; want the revocation period", h, ttl)
		}
	}

	clk.Advance(identity.RevocationPeriod)
	if got := list(); len(got) != 0 {
		t.Errorf("ListKeys after the revocation ended = %+v; want none", got)
	}
	k.Expires = clk.Now().Add(time.Hour)
	if err := ks.AddKey(ctx, k); err != nil {
		t.Errorf("AddKey after the revocation ended = %v", err)
	}
}

// TestIssuerKeysRevokeFleet: replica B revokes replica A's signing key
// through Redis. Both JWKS stop listing it, A makes a new key at its next
// write of the old one (within a minute of issuing), and a verifier of
// B's JWKS refuses A's old tokens once it fetches again.
func TestIssuerKeysRevokeFleet(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	a := replicaIssuer(t, openStore(t, r, &redisstore.Options{Prefix: "rvf:", Now: clk.Now}), clk, 0)
	bst, n := countedStore(t, r, "rvf:")
	b := replicaIssuer(t, bst, clk, 0)
	old := issue(t, a)
	ka := tokenKid(t, old)
	kb := tokenKid(t, issue(t, b))
	srv := httptest.NewServer(b.JWKSHandler())
	defer srv.Close()
	v, err := identity.NewVerifier(&identity.VerifierOptions{JWKSURL: srv.URL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	before := n.Load()
	if err := b.Revoke(t.Context(), ka); err != nil {
		t.Fatal(err)
	}
	if got := n.Load() - before; got != 1 {
		t.Errorf("Revoke: %d round trips; want 1", got)
	}
	if got := jwksKids(t, b); !slices.Equal(got, []string{kb}) {
		t.Errorf("B's JWKS after revoking A's key = %v; want [%s]", got, kb)
	}
	clk.Advance(time.Minute) // A writes its signing key again at its next Issue
	if k := tokenKid(t, issue(t, a)); k == ka {
		t.Errorf("a minute after the revocation, A still signs with the revoked key")
	}
	if got := jwksKids(t, a); slices.Contains(got, ka) {
		t.Errorf("A's JWKS lists its revoked key: %v", got)
	}
	clk.Advance(10 * time.Minute)
	if _, err := v.Verify(t.Context(), old); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("A's old token after the revocation, once the verifier fetched again: %v; want Unauthorized", err)
	}
}
