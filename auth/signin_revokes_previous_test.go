package auth_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
)

// signInAgain runs a redirect-flow sign-in with provider in browser c,
// which may hold a session already, and returns the landing page's
// status.
func signInAgain(t *testing.T, p *portal, c *http.Client, provider string) int {
	t.Helper()
	resp, _ := do(t, c, http.MethodGet, p.srv.URL+"/api/auth/"+provider+"/start?env=development&flow=redirect&redirectUrl=/", nil)
	return resp.StatusCode
}

// sessionCookie returns browser c's session cookie for p.
func sessionCookie(t *testing.T, p *portal, c *http.Client) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(p.srv.URL + "/")
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "scmkit-session" {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// TestGitHubSignInAgainRevokesThePreviousToken is a regression test: a
// browser signing in again ended its previous session in the store but
// left that session's GitHub token alive at GitHub (an OAuth App's never
// expires), held by nobody the portal could ask to end it. It is now
// revoked as at logout (one DELETE /applications/{client_id}/token, only
// for that token: the new session's stays valid).
func TestGitHubSignInAgainRevokesThePreviousToken(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, false, p.clk.Now)
	registerGitHub(t, p, fg)
	c, resp, body := p.signIn(t, "github")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first sign-in: %d %s", resp.StatusCode, body)
	}
	oldTok := p.sessionOf(t, c).Tokens.AccessToken
	oldCookie := sessionCookie(t, p, c)
	before := fg.Stats().Routes["DELETE /applications/{client_id}/token"]
	if st := signInAgain(t, p, c, "github"); st != http.StatusOK {
		t.Fatalf("second sign-in: %d", st)
	}
	newTok := p.sessionOf(t, c).Tokens.AccessToken
	if newTok == oldTok {
		t.Fatal("GitHub handed out the same token twice")
	}
	if n := fg.Stats().Routes["DELETE /applications/{client_id}/token"] - before; n != 1 {
		t.Errorf("the second sign-in sent %d token deletions, want 1", n)
	}
	if st := apiStatus(t, fg, oldTok); st != http.StatusUnauthorized {
		t.Errorf("after signing in again GitHub still accepts the previous session's token: %d", st)
	}
	if st := apiStatus(t, fg, newTok); st != http.StatusOK {
		t.Errorf("the new session's token is refused: %d", st)
	}
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/", nil)
	req.AddCookie(oldCookie)
	if _, err := p.h.Session(req); err == nil {
		t.Error("a copy of the previous session's cookie still works")
	}
}

// TestSignInAgainRevokesWhatTheNewSessionDoesNotShare: a browser that
// signs in as another user or with another provider has its previous
// session's tokens revoked (they belong to another grant); the same user
// signing in again with a provider that may revoke a whole grant (here
// authtest.Provider, as an OpenID provider: Google and Keycloak end the
// grant or the client's session the new tokens share) keeps them, and
// the new session works.
func TestSignInAgainRevokesWhatTheNewSessionDoesNotShare(t *testing.T) {
	p := newPortal(t, auth.Options{})
	alice := &authtest.Provider{Identity: auth.Identity{Subject: "42", Login: "alice"}, AccessPrefix: "a-at-", RefreshPrefix: "a-rt-"}
	bob := &authtest.Provider{Identity: auth.Identity{Subject: "7", Login: "bob"}, AccessPrefix: "b-at-", RefreshPrefix: "b-rt-"}
	for id, prov := range map[string]*authtest.Provider{"one": alice, "two": bob} {
		if err := p.h.Register(id, "development", prov); err != nil {
			t.Fatal(err)
		}
	}
	c, resp, body := p.signIn(t, "one")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first sign-in: %d %s", resp.StatusCode, body)
	}
	// The same user with the same provider: nothing revoked.
	if st := signInAgain(t, p, c, "one"); st != http.StatusOK {
		t.Fatalf("second sign-in: %d", st)
	}
	if rv := alice.Revoked(); len(rv) != 0 {
		t.Errorf("signing the same user in again revoked %+v; the provider may end the new session's grant with them", rv)
	}
	if s := p.sessionOf(t, c); s.Tokens.RefreshToken != "a-rt-2" {
		t.Errorf("the session after signing in again holds %q, want a-rt-2", s.Tokens.RefreshToken)
	}
	// Another user with another provider: the previous tokens are revoked.
	if st := signInAgain(t, p, c, "two"); st != http.StatusOK {
		t.Fatalf("third sign-in: %d", st)
	}
	if rv := alice.Revoked(); len(rv) != 1 || rv[0].RefreshToken != "a-rt-2" || rv[0].AccessToken != "a-at-2" {
		t.Errorf("signing bob in over alice's session revoked %+v, want alice's tokens a-at-2/a-rt-2 once", rv)
	}
	if rv := bob.Revoked(); len(rv) != 0 {
		t.Errorf("bob's new tokens were revoked: %+v", rv)
	}
	if s := p.sessionOf(t, c); s.Identity.Login != "bob" {
		t.Errorf("the session is %q's, want bob's", s.Identity.Login)
	}
}
