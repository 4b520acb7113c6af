package auth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

var scriptRE = regexp.MustCompile(`<script>(.*)</script>`)
var messageRE = regexp.MustCompile(`decodeURIComponent\("([^"]*)"\)`)

func TestPopupFlowPostsBackstageResponse(t *testing.T) {
	for _, expose := range []bool{false, true} {
		t.Run(map[bool]string{false: "TokensKept", true: "TokensExposed"}[expose], func(t *testing.T) {
			p := newPortal(t, auth.Options{ExposeProviderTokens: expose})
			fg := githubWorld(t, true, nil)
			registerGitHub(t, p, fg)
			c := noFollow()
			cb := authorize(t, start(t, c, p, "github", "&origin="+url.QueryEscape(p.srv.URL)))
			resp, body := do(t, c, "GET", cb.String(), nil)
			if resp.StatusCode != 200 {
				t.Fatalf("callback: %d %s", resp.StatusCode, body)
			}
			script := scriptRE.FindStringSubmatch(body)[1]
			sum := sha256.Sum256([]byte(script))
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
				t.Fatalf("CSP %q does not allow exactly the page's script", csp)
			}
			if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Frame-Options") != "sameorigin" {
				t.Fatalf("headers: %v", resp.Header)
			}
			raw, _ := url.PathUnescape(messageRE.FindStringSubmatch(script)[1])
			var msg struct {
				Type     string        `json:"type"`
				Response auth.Response `json:"response"`
			}
			if err := json.Unmarshal([]byte(raw), &msg); err != nil {
				t.Fatal(err)
			}
			if msg.Type != "authorization_response" || msg.Response.Profile.Email != "alice@example.com" || msg.Response.Profile.DisplayName != "Alice Liddell" ||
				msg.Response.ProviderInfo.ExpiresInSeconds < 28000 {
				t.Fatalf("message %+v", msg)
			}
			if got := msg.Response.ProviderInfo.AccessToken != ""; got != expose {
				t.Fatalf("access token in the response: %v, want %v", got, expose)
			}
			if !strings.Contains(script, `"`+p.srv.URL+`"`) {
				t.Fatalf("the message is not posted to the app's origin: %s", script)
			}
		})
	}
}

func TestRefreshRouteRotatesGitHubAppToken(t *testing.T) {
	clk := testclock.New(time.Now())
	p := newPortal(t, auth.Options{Now: clk.Now})
	p.clk = clk
	fg := githubWorld(t, true, clk.Now)
	registerGitHub(t, p, fg)
	c, _, _ := p.signIn(t, "github")
	s1 := p.sessionOf(t, c)
	clk.Advance(8 * time.Hour)
	resp, body := do(t, c, "POST", p.srv.URL+"/api/auth/github/refresh", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if resp.StatusCode != 200 || !strings.Contains(body, `"expiresInSeconds":28800`) {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	if s2 := p.sessionOf(t, c); s2.Tokens.AccessToken == s1.Tokens.AccessToken || s2.Tokens.RefreshToken == s1.Tokens.RefreshToken {
		t.Fatal("the refresh did not rotate the tokens")
	}
	// The provider refuses the refresh token (revoked): the route answers
	// 401 and the user must sign in again.
	clk.Advance(8 * time.Hour)
	fg.Close()
	resp, body = do(t, c, "POST", p.srv.URL+"/api/auth/github/refresh", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if resp.StatusCode != 401 || !strings.Contains(body, "Refresh failed") {
		t.Fatalf("refresh against a provider that is gone: %d %s", resp.StatusCode, body)
	}
}

func TestLogoutByFormFromTheApp(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, false, nil)
	registerGitHub(t, p, fg)
	c, _, _ := p.signIn(t, "github")
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := do(t, c, "POST", p.srv.URL+"/api/auth/github/logout?redirectUrl=/", map[string]string{"Origin": p.srv.URL})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != p.srv.URL+"/" {
		t.Fatalf("logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := do(t, c, "GET", p.srv.URL+"/", nil); resp.StatusCode != 401 {
		t.Fatalf("still signed in after logout: %d", resp.StatusCode)
	}
}

func TestOIDCRefreshWithRealOP(t *testing.T) {
	clk := testclock.New(time.Now())
	p := newPortal(t, auth.Options{Now: clk.Now})
	p.clk = clk
	op := startOP(t, p, "oidc", authtest.OPOptions{ProfileInIDToken: true, User: authtest.User{Subject: "u-9"}})
	prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("portal-secret"), MetadataURL: op.Issuer, Scopes: []string{"offline_access"}})
	if err != nil {
		t.Fatal(err)
	}
	p.h.Register("oidc", "development", prov)
	c, _, body := p.signIn(t, "oidc")
	s1 := p.sessionOf(t, c)
	if s1.Tokens.RefreshToken == "" || s1.Tokens.IDToken == "" {
		t.Fatalf("no refresh or ID token after sign-in (%s)", body)
	}
	clk.Advance(time.Until(s1.Tokens.Expiry)) // the handler sees the token expire
	resp, body := do(t, c, "GET", p.srv.URL+"/api/auth/oidc/refresh", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if resp.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	s2 := p.sessionOf(t, c)
	if s2.Tokens.AccessToken == s1.Tokens.AccessToken || s2.Identity.Subject != "u-9" {
		t.Fatalf("refresh kept the old token or changed the user: %v", s2.Identity)
	}
}

func TestShortLivedTokenIsNotRefreshedAtOnce(t *testing.T) {
	clk := testclock.New(time.Now())
	p := newPortal(t, auth.Options{Now: clk.Now})
	p.clk = clk
	fg := fakegithub.New(&fakegithub.Options{Now: clk.Now})
	t.Cleanup(fg.Close)
	fg.AddOAuthApp(fakegithub.OAuthApp{ClientID: "gh-client", ClientSecret: "gh-secret", Expiring: true, TokenLifetime: 4 * time.Minute})
	fg.SetOAuthUser(fakegithub.OAuthUser{Login: "alice"})
	registerGitHub(t, p, fg)
	c, _, _ := p.signIn(t, "github")
	s := p.sessionOf(t, c)
	src := s.UserCredentials()[fg.Host()]
	refreshes := func() int { return fg.Stats().Routes["POST /login/oauth/access_token"] }
	base := refreshes()
	clk.Advance(time.Minute) // a 4-minute token, 1 minute old: not due (5-minute margin > its lifetime)
	if _, err := src.Credential(t.Context()); err != nil || refreshes() != base {
		t.Fatalf("refreshed a token at a quarter of its life: %d refreshes, %v", refreshes()-base, err)
	}
	clk.Advance(90 * time.Second) // past half its life
	if _, err := src.Credential(t.Context()); err != nil || refreshes() != base+1 {
		t.Fatalf("did not refresh past half its life: %d refreshes, %v", refreshes()-base, err)
	}
}

func TestOIDCLogoutRevokesRefreshToken(t *testing.T) {
	p := newPortal(t, auth.Options{})
	op := startOP(t, p, "oidc", authtest.OPOptions{ProfileInIDToken: true})
	prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("portal-secret"), MetadataURL: op.Issuer, Scopes: []string{"offline_access"}})
	if err != nil {
		t.Fatal(err)
	}
	p.h.Register("oidc", "development", prov)
	c, _, _ := p.signIn(t, "oidc")
	s := p.sessionOf(t, c)
	if s.Tokens.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	resp, body := do(t, c, "POST", p.srv.URL+"/api/auth/oidc/logout", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if resp.StatusCode != 200 {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	if n := op.Requests()["/revoke"]; n != 1 {
		t.Fatalf("logout sent %d revocation requests, want 1", n)
	}
	// The refresh token no longer works at the provider.
	if _, err := prov.Refresh(t.Context(), s.Tokens); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Fatalf("refresh with a revoked token: %v, want Unauthorized", err)
	}
}
