package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
)

// A refresh token the provider refuses (revoked, expired, or already
// spent elsewhere: GitHub answers bad_refresh_token) ends the session, as
// a refused re-check does: Handler.Session no longer returns it, so that
// the app does not keep a user signed in, for the rest of
// SessionDuration, whose grant the provider withdrew. A provider that
// refuses the client itself (a wrong client secret in the portal's
// configuration) is not the user's doing: that session is kept.
func TestRefusedRefreshTokenEndsTheSession(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, true, p.clk.Now)
	registerGitHub(t, p, fg)
	c, resp, body := p.signIn(t, "github")
	if resp.StatusCode != 200 || !strings.Contains(body, "hello alice") {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	// Someone else spends the refresh token (GitHub rotates it on use).
	rt := p.sessionOf(t, c).Tokens.RefreshToken
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"gh-client"}, "client_secret": {"gh-secret"}}
	r, err := http.PostForm(fg.URL()+"/login/oauth/access_token", form)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	p.clk.Advance(8 * time.Hour)
	if st, body := refreshStatus(t, p, c, "github"); st != http.StatusUnauthorized || strings.Contains(body, rt) {
		t.Fatalf("refresh with a spent refresh token: %d %s", st, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("the session whose refresh token the provider refused is still there (%d)", st)
	}

	// A wrong client secret: the session stays.
	q := newPortal(t, auth.Options{})
	fg2 := githubWorld(t, true, q.clk.Now)
	good, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: integrations.NewSecret("gh-secret"), EnterpriseInstanceURL: fg2.URL(), Now: q.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.h.Register("github", "development", good); err != nil {
		t.Fatal(err)
	}
	c2, resp, body := q.signIn(t, "github")
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	bad, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: integrations.NewSecret("not-the-secret"), EnterpriseInstanceURL: fg2.URL(), Now: q.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.h.Register("github", "development", bad); err != nil {
		t.Fatal(err)
	}
	q.clk.Advance(8 * time.Hour)
	if st, body := refreshStatus(t, q, c2, "github"); st != http.StatusUnauthorized {
		t.Fatalf("refresh with a wrong client secret: %d %s", st, body)
	}
	if err := q.h.Register("github", "development", good); err != nil {
		t.Fatal(err)
	}
	if st, body := refreshStatus(t, q, c2, "github"); st != http.StatusOK {
		t.Fatalf("refresh once the client secret is right again: %d %s; the session should have been kept", st, body)
	}
}
