package auth_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/auth"
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

// TestGitHubRevokeAnswers: a token GitHub no longer knows is revoked
// already (no error); another client's credentials cannot revoke a
// token; a client without a secret sends nothing.
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
	if err := other.Revoke(ctx, auth.Tokens{AccessToken: tok}); err != nil {
		t.Errorf("another app's revocation of a token it does not know: %v, want nil (404: not its token)", err)
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
	mine, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: secret("gh-secret"), EnterpriseInstanceURL: fg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second time GitHub no longer knows it
		if err := mine.Revoke(ctx, auth.Tokens{AccessToken: tok}); err != nil {
			t.Errorf("revocation %d: %v", i+1, err)
		}
	}
	if st := apiStatus(t, fg, tok); st != http.StatusUnauthorized {
		t.Errorf("after the revocation GitHub still accepts the token: %d", st)
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
