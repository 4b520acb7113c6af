package redisstore_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
	"github.com/scmkit/scmkit/redisstore"
)

// A fleet whose tokens carry no ent: replica A issues Alice's token,
// replica B's user info endpoint serves her ownership refs, and a verifier
// asking B gets them.
func TestUserInfoFleet(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	ctx := t.Context()
	replica := func() *identity.Issuer {
		st := openStore(t, r, &redisstore.Options{Now: clk.Now})
		is, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: portalIssuer, Now: clk.Now, KeyStore: st.IssuerKeys(),
			OmitOwnershipClaim: true, UserInfo: st.UserInfo()})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	a, b := replica(), replica()
	refs := []string{"user:default/alice", "group:default/ops", "group:default/admins"}
	tok, err := a.Issue(ctx, identity.IssueRequest{Subject: "user:default/alice", Ent: refs})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/.well-known/jwks.json", b.JWKSHandler())
	mux.Handle("/api/auth/v1/userinfo", b.UserInfoHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	v, err := identity.NewVerifier(&identity.VerifierOptions{JWKSURL: srv.URL + "/api/auth/.well-known/jwks.json",
		UserInfoURL: srv.URL + "/api/auth/v1/userinfo", Now: clk.Now, Issuer: portalIssuer})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(ctx, tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.User().OwnershipEntityRefs; !slices.Equal(got, refs) {
		t.Errorf("ownership through replica B: %v; want %v", got, refs)
	}
}

// Records round-trip, expire with the token, and one planted by someone
// without the encryption key, or copied to another user, is not found.
func TestUserInfoStore(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	ctx := t.Context()
	var logs testlog.Buffer
	st := openStore(t, r, &redisstore.Options{Now: clk.Now, Logger: logs.Logger()})
	us := st.UserInfo()
	info := identity.UserInfo{User: identity.User{EntityRef: "user:default/alice", OwnershipEntityRefs: []string{"group:default/ops"}},
		ExpiresAt: clk.Now().Add(time.Hour), Extra: map[string]any{"team": "ops"}}
	if err := us.PutUserInfo(ctx, info); err != nil {
		t.Fatal(err)
	}
	got, err := us.UserInfo(ctx, "user:default/alice")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.OwnershipEntityRefs, info.OwnershipEntityRefs) || !got.ExpiresAt.Equal(info.ExpiresAt) || got.Extra["team"] != "ops" {
		t.Errorf("got %+v; want %+v", got, info)
	}
	if _, err := us.UserInfo(ctx, "user:default/bob"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("no record: %v; want NotFound", err)
	}
	raw := rawClient(t, r)
	ttl := raw.PTTL(ctx, "scmkit:userinfo:user:default/alice").Val()
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("the record expires in %v; want with the token, in an hour", ttl)
	}

	// Planted: a plain record giving Bob the admins group, and Alice's
	// sealed record copied to Bob.
	plain, _ := json.Marshal(identity.UserInfo{User: identity.User{EntityRef: "user:default/bob", OwnershipEntityRefs: []string{"group:default/admins"}}, ExpiresAt: clk.Now().Add(time.Hour)})
	raw.Set(ctx, "scmkit:userinfo:user:default/bob", append([]byte{'P'}, plain...), time.Hour)
	if _, err := us.UserInfo(ctx, "user:default/bob"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("a planted plain record: %v; want NotFound", err)
	}
	if logs.Count("refused an unsealed value") != 1 {
		t.Errorf("the planted record is not logged: %q", logs.String())
	}
	raw.Set(ctx, "scmkit:userinfo:user:default/bob", raw.Get(ctx, "scmkit:userinfo:user:default/alice").Val(), time.Hour)
	if _, err := us.UserInfo(ctx, "user:default/bob"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("Alice's record copied to Bob: %v; want NotFound", err)
	}

	// Expired, though Redis still has it (its clock and ours differ).
	clk.Advance(time.Hour)
	if _, err := us.UserInfo(ctx, "user:default/alice"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("an expired record: %v; want NotFound", err)
	}
	if err := us.PutUserInfo(ctx, identity.UserInfo{User: identity.User{EntityRef: "alice"}, ExpiresAt: clk.Now().Add(time.Hour)}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("a record whose user is not an entity ref: %v; want InvalidArgument", err)
	}
	var nilStore *redisstore.Store
	if _, err := nilStore.UserInfo().UserInfo(ctx, "user:default/alice"); errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("nil Store: %v; want Unavailable", err)
	}
	if err := nilStore.UserInfo().PutUserInfo(ctx, info); errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("nil Store: %v; want Unavailable", err)
	}
}
