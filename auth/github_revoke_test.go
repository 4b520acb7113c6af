package auth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestGitHubLogoutRevokesToken: logging out of a GitHub session deletes
// its access token at GitHub (DELETE /applications/{client_id}/token,
// one request), so that a copy of it (an OAuth App's never expires)
// stops working; the session ends.
func TestGitHubLogoutRevokesToken(t *testing.T) {
	for _, expiring := range []bool{false, true} {
		name := map[bool]string{false: "OAuthApp", true: "GitHubApp"}[expiring]
		t.Run(name, func(t *testing.T) {
			p := newPortal(t, auth.Options{})
			fg := githubWorld(t, expiring, p.clk.Now)
			registerGitHub(t, p, fg)
			c, _, _ := p.signIn(t, "github")
			tok := p.sessionOf(t, c).Tokens.AccessToken
			if st := apiStatus(t, fg, tok); st != http.StatusOK {
				t.Fatalf("before logout the session's token is refused: %d", st)
			}
			before := fg.Stats().Routes["DELETE /applications/{client_id}/token"]
			resp, body := do(t, c, http.MethodPost, p.srv.URL+"/api/auth/github/logout", map[string]string{"X-Requested-With": "XMLHttpRequest"})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("logout: %d %s", resp.StatusCode, body)
			}
			if n := fg.Stats().Routes["DELETE /applications/{client_id}/token"] - before; n != 1 {
				t.Errorf("logout sent %d token deletions, want 1", n)
			}
			if st := apiStatus(t, fg, tok); st != http.StatusUnauthorized {
				t.Errorf("after logout GitHub still accepts the session's token: %d", st)
			}
			if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
				t.Errorf("after logout the session is still served: %d", st)
			}
		})
	}
}

// TestGitHubRevokeAnswers: GitHub answers 404 both for a token it no
// longer knows and for another app's credentials. For a token that should
// still be valid (an OAuth App's never expires) Revoke says so (NotFound,
// naming the client id, never the token): the token may live on. For an
// expired token a 404 is no error: there is nothing left to revoke. A
// client without a secret sends nothing.
func TestGitHubRevokeAnswers(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, false, p.clk.Now)
	registerGitHub(t, p, fg)
	c, _, _ := p.signIn(t, "github")
	tok := p.sessionOf(t, c).Tokens.AccessToken
	fg.AddOAuthApp(fakegithub.OAuthApp{ClientID: "other", ClientSecret: "other-secret"})
	ctx := context.Background()

	other, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "other", ClientSecret: secret("other-secret"), EnterpriseInstanceURL: fg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	err = other.Revoke(ctx, auth.Tokens{AccessToken: tok})
	if errcode.CodeOf(err) != errcode.NotFound || !strings.Contains(err.Error(), "client id other") || strings.Contains(err.Error(), tok) {
		t.Errorf("another app's revocation of a live token: %v, want NotFound naming the client id, not the token", err)
	}
	if st := apiStatus(t, fg, tok); st != http.StatusOK {
		t.Fatalf("another app's credentials revoked the token: %d", st)
	}
	public, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", EnterpriseInstanceURL: fg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	before := fg.Stats().Routes["DELETE /applications/{client_id}/token"]
	if err := public.Revoke(ctx, auth.Tokens{AccessToken: tok}); err != nil {
		t.Errorf("a client without a secret: %v, want nil", err)
	}
	if n := fg.Stats().Routes["DELETE /applications/{client_id}/token"] - before; n != 0 {
		t.Errorf("a client without a secret sent %d deletions, want 0", n)
	}
	mine, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: secret("gh-secret"), EnterpriseInstanceURL: fg.URL(), Now: p.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := mine.Revoke(ctx, auth.Tokens{AccessToken: tok}); err != nil {
		t.Errorf("revocation: %v", err)
	}
	if st := apiStatus(t, fg, tok); st != http.StatusUnauthorized {
		t.Errorf("after the revocation GitHub still accepts the token: %d", st)
	}
	// GitHub no longer knows it: revoked already, which Revoke cannot
	// tell from a wrong client.
	if err := mine.Revoke(ctx, auth.Tokens{AccessToken: tok}); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("revoking a never-expiring token GitHub does not know: %v, want NotFound", err)
	}
	// An expired token (a GitHub App's, after 8 hours): nothing to revoke.
	expired := auth.Tokens{AccessToken: "ghu_expired", Expiry: p.clk.Now().Add(-time.Hour)}
	if err := mine.Revoke(ctx, expired); err != nil {
		t.Errorf("revoking an expired token GitHub no longer knows: %v, want nil", err)
	}
	live := auth.Tokens{AccessToken: "ghu_unknown", Expiry: p.clk.Now().Add(7 * time.Hour)}
	if err := mine.Revoke(ctx, live); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("revoking an unexpired token GitHub does not know: %v, want NotFound", err)
	}
}

// TestGitHubLogoutWithAnotherClientWarns is a regression test: a logout
// whose revocation GitHub answered 404 because the provider's client is
// no longer the app that issued the token (the configuration changed
// since the sign-in) was taken as "already revoked", silently: the token
// (an OAuth App's never expires) lived on and nobody was told. The user
// is still signed out; the Logger now gets a Warn naming the client.
func TestGitHubLogoutWithAnotherClientWarns(t *testing.T) {
	var logged bytes.Buffer
	p := newPortal(t, auth.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	fg := githubWorld(t, false, p.clk.Now)
	registerGitHub(t, p, fg)
	c, _, _ := p.signIn(t, "github")
	tok := p.sessionOf(t, c).Tokens.AccessToken
	fg.AddOAuthApp(fakegithub.OAuthApp{ClientID: "other", ClientSecret: "other-secret"})
	other, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "other", ClientSecret: secret("other-secret"), EnterpriseInstanceURL: fg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("github", "development", other); err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, c, http.MethodPost, p.srv.URL+"/api/auth/github/logout", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Errorf("after logout the session is still served: %d", st)
	}
	if st := apiStatus(t, fg, tok); st != http.StatusOK {
		t.Fatalf("the token was revoked with another app's credentials: %d", st)
	}
	out := logged.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "revoking") || !strings.Contains(out, "client id other") {
		t.Errorf("the failed revocation was not logged as a warning naming the client:\n%s", out)
	}
	if strings.Contains(out, tok) {
		t.Errorf("the log shows the token:\n%s", out)
	}
}

// apiStatus is the status of GET /user with token at fg's API.
func apiStatus(t *testing.T, fg *fakegithub.Server, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fg.URL()+"/api/v3/user", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
