package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// authBackend serves an Issuer's JWKS and user info as Backstage's auth
// backend does, and counts the user info requests.
func authBackend(t testing.TB, is *Issuer) (srv *httptest.Server, userinfo *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/api/auth/.well-known/jwks.json", is.JWKSHandler())
	ui := is.UserInfoHandler()
	mux.Handle("/api/auth/v1/userinfo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); ui.ServeHTTP(w, r) }))
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &n
}

func groups(n int) []string {
	refs := []string{"user:default/alice"}
	for i := range n {
		refs = append(refs, fmt.Sprintf("group:default/team-with-a-rather-long-name-%04d", i))
	}
	return refs
}

func payload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	var m map[string]any
	if err := json.Unmarshal(mustDecode(t, parts[1]), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A user in 700 groups cannot sign in while her token carries ent (it
// would pass Backstage's size limit); with OmitOwnershipClaim her token is
// small, and a verifier with UserInfoURL gets her 701 refs from the user
// info endpoint, once per token.
func TestOmitOwnershipClaim(t *testing.T) {
	c := newClock()
	ctx := t.Context()
	refs := groups(700)

	full := newIssuer(t, c)
	if _, err := full.Issue(ctx, IssueRequest{Subject: "user:default/alice", Ent: refs}); errcode.CodeOf(err) != errcode.InvalidArgument ||
		!strings.Contains(err.Error(), "OmitOwnershipClaim") {
		t.Fatalf("a token with 701 ownership refs: %v; want InvalidArgument pointing at OmitOwnershipClaim", err)
	}

	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, OmitOwnershipClaim: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Issue(ctx, IssueRequest{Subject: "user:default/alice", Ent: refs, Extra: map[string]any{"team": "platform"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := payload(t, tok.Token); p["ent"] != nil || p["team"] != "platform" {
		t.Fatalf("token payload %v: want no ent, the extra claim kept", p)
	}
	if len(tok.Token) > 1000 {
		t.Errorf("token of %d characters; want a small one", len(tok.Token))
	}
	if !slices.Equal(tok.User.OwnershipEntityRefs, refs) {
		t.Errorf("the sign-in response lists %d refs; want all %d", len(tok.User.OwnershipEntityRefs), len(refs))
	}

	srv, userinfo := authBackend(t, is)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL + "/api/auth/.well-known/jwks.json", UserInfoURL: srv.URL + "/api/auth/v1/userinfo",
		Now: c.Now, Issuer: "https://portal.example.com/api/auth"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			cl, err := v.Verify(ctx, tok.Token)
			if err != nil {
				t.Error(err)
				return
			}
			if !slices.Equal(cl.User().OwnershipEntityRefs, refs) {
				t.Errorf("verified ent has %d refs; want %d", len(cl.Ent), len(refs))
			}
		})
	}
	wg.Wait()
	for range 5 {
		if _, err := v.Verify(ctx, tok.Token); err != nil {
			t.Fatal(err)
		}
	}
	if n := userinfo.Load(); n != 1 {
		t.Errorf("13 verifications of one token asked the user info %d times; want 1", n)
	}

	// Without UserInfoURL, such a token's ownership is its subject only.
	plain, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL + "/api/auth/.well-known/jwks.json", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := plain.Verify(ctx, tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got := cl.User().OwnershipEntityRefs; !slices.Equal(got, []string{"user:default/alice"}) {
		t.Errorf("without UserInfoURL: ent %v; want the subject only", got)
	}

	// A token that carries ent is not asked about.
	ftok, err := full.Issue(ctx, IssueRequest{Subject: "user:default/bob", Ent: []string{"user:default/bob", "group:default/x"}})
	if err != nil {
		t.Fatal(err)
	}
	fsrv, fui := authBackend(t, full)
	fv, _ := NewVerifier(&VerifierOptions{JWKSURL: fsrv.URL + "/api/auth/.well-known/jwks.json", UserInfoURL: fsrv.URL + "/api/auth/v1/userinfo", Now: c.Now})
	if cl, err := fv.Verify(ctx, ftok.Token); err != nil || len(cl.Ent) != 2 || fui.Load() != 0 {
		t.Errorf("a token with ent: %v, %v, %d user info requests; want its 2 refs and none", cl, err, fui.Load())
	}
}

func askUserInfo(t testing.TB, url, authz string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

type failingUserInfo struct{}

func (failingUserInfo) PutUserInfo(context.Context, UserInfo) error {
	return errcode.New(errcode.Unavailable, "test", "store down")
}
func (failingUserInfo) UserInfo(context.Context, string) (*UserInfo, error) {
	return nil, errcode.New(errcode.Unavailable, "test", "store down")
}

// The user info endpoint answers as Backstage's.
func TestUserInfoHandler(t *testing.T) {
	c := newClock()
	ctx := t.Context()
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, OmitOwnershipClaim: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := authBackend(t, is)
	url := srv.URL + "/api/auth/v1/userinfo"
	tok, err := is.Issue(ctx, IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/ops"}, Extra: map[string]any{"team": "ops"}})
	if err != nil {
		t.Fatal(err)
	}
	status, body := askUserInfo(t, url, "bearer  "+tok.Token)
	if status != 200 {
		t.Fatalf("user info: %d %s", status, body)
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	cl := raw["claims"]
	if cl["sub"] != "user:default/alice" || fmt.Sprint(cl["ent"]) != "[user:default/alice group:default/ops]" || cl["team"] != "ops" ||
		cl["exp"] != float64(tok.ExpiresAt.Unix()) || cl["aud"] != nil || cl["uip"] != nil {
		t.Errorf("user info claims %v: want sub, ent, exp and the extras only", cl)
	}
	limited, err := LimitedToken(tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := askUserInfo(t, url, "Bearer "+limited); status != 200 || !strings.Contains(body, "group:default/ops") {
		t.Errorf("a limited token: %d %s; want 200 with the refs (Backstage's allowLimitedAccess)", status, body)
	}

	other, _ := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now})
	forged, err := other.Issue(ctx, IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, authz string }{
		{"no header", ""}, {"basic", "Basic YTpi"}, {"two tokens", "Bearer a b"},
		{"garbage", "Bearer not.a.token"}, {"another issuer's key", "Bearer " + forged.Token},
	} {
		status, body := askUserInfo(t, url, tc.authz)
		if status != http.StatusUnauthorized || !strings.Contains(body, `"AuthenticationError"`) {
			t.Errorf("%s: %d %s; want 401 AuthenticationError", tc.name, status, body)
		}
		if strings.Contains(body, forged.Token) {
			t.Errorf("%s: the answer echoes the token", tc.name)
		}
	}

	// A user whose record is gone (the store lost it, or it expired).
	c.Advance(is.Lifetime() + 1)
	tok2, err := is.Issue(ctx, IssueRequest{Subject: "user:default/bob"})
	if err != nil {
		t.Fatal(err)
	}
	is.userInfo.(*MemoryUserInfoStore).m = nil
	if status, body := askUserInfo(t, url, "Bearer "+tok2.Token); status != http.StatusNotFound || !strings.Contains(body, "User info not found") {
		t.Errorf("no record: %d %s; want 404 User info not found", status, body)
	}

	// A failing store: no token is issued, and the endpoint answers 503.
	down, _ := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, OmitOwnershipClaim: true, UserInfo: failingUserInfo{}})
	if tok, err := down.Issue(ctx, IssueRequest{Subject: "user:default/alice"}); errcode.CodeOf(err) != errcode.Unavailable || tok != nil {
		t.Errorf("Issue with the user info store down: %v, %v; want Unavailable and no token", tok, err)
	}
	down.userInfo = nil
	dtok, err := down.Issue(ctx, IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	down.userInfo = failingUserInfo{}
	dsrv, _ := authBackend(t, down)
	if status, body := askUserInfo(t, dsrv.URL+"/api/auth/v1/userinfo", "Bearer "+dtok.Token); status != http.StatusServiceUnavailable {
		t.Errorf("store down: %d %s; want 503", status, body)
	}
}

// aliceWithoutEnt returns the clock of an Issuer with OmitOwnershipClaim,
// the Issuer, a server of its JWKS, and a token it issued to alice, a
// member of group:default/ops.
func aliceWithoutEnt(t *testing.T) (*testclock.Clock, *Issuer, *httptest.Server, *Token) {
	t.Helper()
	c := newClock()
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, OmitOwnershipClaim: true})
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := jwksServer(t, is)
	tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice", Ent: []string{"group:default/ops"}})
	if err != nil {
		t.Fatal(err)
	}
	return c, is, jwks, tok
}

// What a verifier does with the user info endpoint's answers.
func TestVerifierUserInfoAnswers(t *testing.T) {
	c, _, jwks, tok := aliceWithoutEnt(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   errcode.Code
	}{
		{"404", 404, "User info not found", errcode.Unauthorized},
		{"401", 401, `{"error":{"name":"AuthenticationError"}}`, errcode.Unauthorized},
		{"500", 500, "oops", errcode.Unavailable},
		{"not JSON", 200, "<html>", errcode.Unavailable},
		{"another user", 200, `{"claims":{"sub":"user:default/mallory","ent":["group:default/admins"],"exp":9999999999}}`, errcode.Unavailable},
		{"ent not refs", 200, `{"claims":{"sub":"user:default/alice","ent":["admins"],"exp":9999999999}}`, errcode.Unavailable},
		{"redirect", 302, "", errcode.Unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotAuth string
			ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAuth = r.Header.Get("Authorization")
				if tc.status == 302 {
					http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
					return
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer ui.Close()
			v, err := NewVerifier(&VerifierOptions{JWKSURL: jwks.URL, UserInfoURL: ui.URL, Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			cl, err := v.Verify(ctx, tok.Token)
			if errcode.CodeOf(err) != tc.want || cl != nil {
				t.Fatalf("got %v, %v; want %v and no claims", cl, err, tc.want)
			}
			if gotAuth != "Bearer "+tok.Token {
				t.Errorf("the user info endpoint got Authorization %q; want the token as Bearer", gotAuth)
			}
			if strings.Contains(err.Error(), tok.Token) {
				t.Errorf("the error shows the token")
			}
		})
	}
}

func TestUserInfoJSON(t *testing.T) {
	in := UserInfo{User: User{EntityRef: "user:default/alice", OwnershipEntityRefs: []string{"group:default/ops"}},
		ExpiresAt: newClock().Now().Add(time.Hour), Extra: map[string]any{"team": "ops"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out UserInfo
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.EntityRef != in.EntityRef || !slices.Equal(out.OwnershipEntityRefs, in.OwnershipEntityRefs) || !out.ExpiresAt.Equal(in.ExpiresAt) || out.Extra["team"] != "ops" {
		t.Errorf("round trip: %s gave %+v", b, out)
	}
	for _, bad := range []string{`{}`, `{"claims":{"sub":"alice","exp":1}}`, `{"claims":{"sub":"user:default/a","ent":"group:default/x","exp":1}}`,
		`{"claims":{"sub":"user:default/a","exp":"soon"}}`, `{"claims":{"sub":"user:default/a"}}`, `[]`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
	var e *errcode.Error
	if err := json.Unmarshal([]byte(`{"claims":{"sub":"x"}}`), &out); !errors.As(err, &e) {
		t.Errorf("a bad user info: %v; want an *errcode.Error", err)
	}
}

// A plugin acting for a user sends her limited token (no ent): a
// PluginVerifier whose Users verifier has UserInfoURL reads her ownership
// refs from the user info endpoint, as Backstage's permission backend.
func TestPluginOboOwnershipFromUserInfo(t *testing.T) {
	c := newClock()
	ctx := t.Context()
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, OmitOwnershipClaim: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, userinfo := authBackend(t, is)
	users, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL + "/api/auth/.well-known/jwks.json", UserInfoURL: srv.URL + "/api/auth/v1/userinfo", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	b := newPluginBackend(t, "catalog")
	pv, err := NewPluginVerifier(&PluginVerifierOptions{PluginID: "permission", AllowedPlugins: []string{"catalog"}, BaseURL: b.baseURL, Users: users, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Issue(ctx, IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	obo, err := LimitedToken(tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	pt := b.token(t, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": now, "exp": now + 600, "obo": obo})
	pc, err := pv.Verify(ctx, pt)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pc.Principal().User.OwnershipEntityRefs, " "); got != "user:default/alice group:default/team-a" || userinfo.Load() != 1 {
		t.Errorf("ownership refs %q after %d user info requests; want her group, after 1", got, userinfo.Load())
	}
}

// BenchmarkVerifyWithoutEnt is a signed-in user's requests to a backend
// when her token carries no ent: each op is a new user's first request
// then nine more with the same token; the user info endpoint is asked once
// per token (requests/op counts user info and JWKS requests).
func BenchmarkVerifyWithoutEnt(b *testing.B) {
	c := newClock()
	ctx := context.Background()
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, OmitOwnershipClaim: true})
	if err != nil {
		b.Fatal(err)
	}
	srv, userinfo := authBackend(b, is)
	var jwks atomic.Int64
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL + "/api/auth/.well-known/jwks.json", UserInfoURL: srv.URL + "/api/auth/v1/userinfo", Now: c.Now,
		HTTPClient: &http.Client{Transport: countingTransport{&jwks, http.DefaultTransport}}})
	if err != nil {
		b.Fatal(err)
	}
	warm, _ := is.Issue(ctx, IssueRequest{Subject: "user:default/warm"})
	if _, err := v.Verify(ctx, warm.Token); err != nil {
		b.Fatal(err)
	}
	start := jwks.Load()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		tok, err := is.Issue(ctx, IssueRequest{Subject: fmt.Sprintf("user:default/u%d", i), Ent: groups(50)})
		if err != nil {
			b.Fatal(err)
		}
		for range 10 {
			if _, err := v.Verify(ctx, tok.Token); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(jwks.Load()-start)/float64(b.N), "requests/op")
	b.ReportMetric(float64(userinfo.Load()-1)/float64(b.N), "userinfo-requests/op")
}

type countingTransport struct {
	n    *atomic.Int64
	base http.RoundTripper
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

// What the review of the user info code found: a fleet whose user info
// is not shared; a revoked key still answered at the revoking replica;
// UserInfoURL unchecked; a user info outage stopping tokens that carry ent.
func TestUserInfoReviewFindings(t *testing.T) {
	c := newClock()
	ctx := t.Context()
	if _, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", OmitOwnershipClaim: true, KeyStore: failingKeyStore{}}); errcode.CodeOf(err) != errcode.InvalidArgument ||
		!strings.Contains(err.Error(), "shared UserInfo store") {
		t.Errorf("OmitOwnershipClaim, a shared KeyStore and no UserInfo: %v; want InvalidArgument", err)
	}
	if _, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", OmitOwnershipClaim: true, KeyStore: NewMemoryKeyStore()}); err != nil {
		t.Errorf("OmitOwnershipClaim with a MemoryKeyStore (one replica): %v", err)
	}

	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, OmitOwnershipClaim: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := authBackend(t, is)
	tok, err := is.Issue(ctx, IssueRequest{Subject: "user:default/alice", Ent: []string{"group:default/ops"}})
	if err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/api/auth/v1/userinfo"
	if status, body := askUserInfo(t, url, "Bearer "+tok.Token); status != 200 {
		t.Fatalf("before the revocation: %d %s", status, body)
	}
	if err := is.Revoke(ctx, tokenKid(t, tok.Token)); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if status, body := askUserInfo(t, url, "Bearer "+tok.Token); status != http.StatusUnauthorized {
		t.Errorf("a minute after revoking its key: %d %s; want 401 at once", status, body)
	}

	for _, u := range []string{"ftp://portal.example.com/userinfo", "https://user:pw@portal.example.com/api/auth/v1/userinfo", "/api/auth/v1/userinfo", "https://portal.example.com/x#frag"} {
		if _, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, UserInfoURL: u}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("UserInfoURL %q: %v; want InvalidArgument", u, err)
		}
	}

	withEnt, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, UserInfo: failingUserInfo{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withEnt.Issue(ctx, IssueRequest{Subject: "user:default/alice"}); err != nil {
		t.Errorf("a token with ent while the user info store is down: %v; want it issued", err)
	}
}

func tokenKid(t *testing.T, tok string) string {
	t.Helper()
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(mustDecode(t, strings.Split(tok, ".")[0]), &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// failingKeyStore stands for a shared store.
type failingKeyStore struct{ KeyStore }

// The second review: a UserInfoURL redirect followed by the caller's
// client; a stale record served for a token that carries ent; a port or
// host that cannot be.
func TestUserInfoSecondReview(t *testing.T) {
	c, _, jwks, tok := aliceWithoutEnt(t)
	ctx := t.Context()
	var leaked atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		fmt.Fprint(w, `{"claims":{"sub":"user:default/alice","ent":["group:default/admins"],"exp":9999999999}}`)
	}))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirect.Close()
	v, err := NewVerifier(&VerifierOptions{JWKSURL: jwks.URL, UserInfoURL: redirect.URL, Now: c.Now, HTTPClient: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	if cl, err := v.Verify(ctx, tok.Token); errcode.CodeOf(err) != errcode.Unavailable || leaked.Load() != 0 {
		t.Errorf("a redirecting user info endpoint with a client that follows redirects: %v, %v, %d requests with the token after the redirect; want Unavailable and none", cl, err, leaked.Load())
	}

	// A token with ent is answered from itself, not from an older record.
	stale := &writesFail{}
	withEnt, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, UserInfo: stale})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withEnt.Issue(ctx, IssueRequest{Subject: "user:default/bob", Ent: []string{"user:default/bob", "group:default/admins"}}); err != nil {
		t.Fatal(err)
	}
	stale.fail = true // the next write fails; the admins record stays behind
	newer, err := withEnt.Issue(ctx, IssueRequest{Subject: "user:default/bob", Ent: []string{"user:default/bob", "group:default/readers"}})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := authBackend(t, withEnt)
	if status, body := askUserInfo(t, srv.URL+"/api/auth/v1/userinfo", "Bearer "+newer.Token); status != 200 || !strings.Contains(body, "group:default/readers") || strings.Contains(body, "admins") {
		t.Errorf("a token with ent after a failed write: %d %s; want its own refs (readers)", status, body)
	}

	for _, u := range []string{"http://:8080/api/auth/v1/userinfo", "https://portal.example.com:99999/api/auth/v1/userinfo"} {
		if _, err := NewVerifier(&VerifierOptions{JWKSURL: jwks.URL, UserInfoURL: u}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("UserInfoURL %q: %v; want InvalidArgument", u, err)
		}
	}
}

// writesFail is a memory store whose writes fail once fail is set.
type writesFail struct {
	MemoryUserInfoStore
	fail bool
}

func (s *writesFail) PutUserInfo(ctx context.Context, info UserInfo) error {
	if s.fail {
		return errcode.New(errcode.Unavailable, "test", "store down")
	}
	return s.MemoryUserInfoStore.PutUserInfo(ctx, info)
}
