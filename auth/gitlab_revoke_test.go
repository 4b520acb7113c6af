package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// TestGitLabLogoutRevokes: logging out of a GitLab session revokes its
// grant at GitLab's /oauth/revoke (RFC 7009: token, token_type_hint, and
// the application's client_id and client_secret in the form, as GitLab's
// token endpoint takes them), with the refresh token, which revokes the
// access token with it; the session ends.
func TestGitLabLogoutRevokes(t *testing.T) {
	var mu sync.Mutex
	var revoked []url.Values
	p, c := signedInGitLabBehind(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		revoked = append(revoked, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	})
	s := p.sessionOf(t, c)
	if s.Tokens.RefreshToken == "" {
		t.Fatal("GitLab gave no refresh token: not the case tested")
	}
	resp, body := do(t, c, http.MethodPost, p.srv.URL+"/api/auth/gitlab/logout", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(revoked) != 1 {
		t.Fatalf("%d revocations at logout, want 1", len(revoked))
	}
	f := revoked[0]
	if f.Get("token") != s.Tokens.RefreshToken || f.Get("token_type_hint") != "refresh_token" || f.Get("client_id") != "gl-client" || f.Get("client_secret") != "gl-secret" {
		t.Errorf("revocation form: token is the refresh token %v, hint %q, client %q, secret given %v",
			f.Get("token") == s.Tokens.RefreshToken, f.Get("token_type_hint"), f.Get("client_id"), f.Get("client_secret") == "gl-secret")
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Errorf("after logout the session is still served: %d", st)
	}
}

// signedInGitLabBehind signs alice in to a portal with a GitLab provider
// whose /oauth/revoke is answered by revoke, in front of a fake GitLab
// (which has none).
func signedInGitLabBehind(t *testing.T, revoke http.HandlerFunc) (*portal, *http.Client) {
	t.Helper()
	clk := testclock.New(time.Now())
	p := newPortal(t, auth.Options{Now: clk.Now})
	p.clk = clk
	fl := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"portal-pat"}, Now: clk.Now, RelativePath: "/gitlab"})
	t.Cleanup(fl.Close)
	fl.AddOAuthApp(fakegitlab.OAuthApp{ClientID: "gl-client", ClientSecret: "gl-secret"})
	fl.SetOAuthUser(fakegitlab.OAuthUser{Username: "alice", Name: "Alice", Email: "alice@example.com"})
	target, _ := url.Parse(fl.URL())
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/gitlab/oauth/revoke" {
			revoke(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	gl, err := auth.NewGitLab(auth.GitLabOptions{ClientID: "gl-client", ClientSecret: integrations.NewSecret("gl-secret"), BaseURL: front.URL + "/gitlab", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("gitlab", "development", gl); err != nil {
		t.Fatal(err)
	}
	c, resp, body := p.signIn(t, "gitlab")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
	return p, c
}
