package auth_test

import (
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// A GitHub user's public e-mail is verified only when /user/emails says so
// (/user does not): with a token that may read e-mails, a sign-in reads it
// for a public address too, so that e-mail resolvers (which never match
// an unverified address) match her; a private address comes from the same
// request. Without user:email, the public address stays unverified and
// the sign-in costs 2 requests.
func TestGitHubPublicEmailVerified(t *testing.T) {
	for _, tc := range []struct {
		name         string
		scopes       []string
		expiring     bool // a GitHub App: no scopes, an e-mail permission
		private      bool
		wantVerified bool
		wantRequests int
	}{
		{"public e-mail, user:email", []string{"user:email"}, false, false, true, 3},
		{"public e-mail, user", []string{"user"}, false, false, true, 3},
		{"public e-mail, GitHub App", nil, true, false, true, 3},
		{"private e-mail, user:email", []string{"user:email"}, false, true, true, 3},
		{"public e-mail, read:user only", []string{"repo"}, false, false, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPortal(t, auth.Options{})
			fg := fakegithub.New(&fakegithub.Options{Tokens: []string{"portal-pat"}})
			t.Cleanup(fg.Close)
			fg.AddOAuthApp(fakegithub.OAuthApp{ClientID: "gh-client", ClientSecret: "gh-secret", Expiring: tc.expiring})
			fg.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice Liddell", Email: "alice@example.com", PrivateEmail: tc.private})
			gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: integrations.NewSecret("gh-secret"),
				EnterpriseInstanceURL: fg.URL(), Scopes: tc.scopes, Now: p.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.h.Register("github", "development", gh); err != nil {
				t.Fatal(err)
			}
			c, resp, body := p.signIn(t, "github")
			if resp.StatusCode != 200 {
				t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
			}
			s := p.sessionOf(t, c)
			if s.Identity.Email != "alice@example.com" || s.Identity.EmailVerified != tc.wantVerified {
				t.Errorf("e-mail %q verified=%v; want alice@example.com verified=%v", s.Identity.Email, s.Identity.EmailVerified, tc.wantVerified)
			}
			st := fg.Stats()
			if n := st.Routes["POST /login/oauth/access_token"] + st.Routes["GET /user"] + st.Routes["GET /user/emails"]; n != tc.wantRequests {
				t.Errorf("%d back-channel requests (%v); want %d", n, st.Routes, tc.wantRequests)
			}
			// An OAuth App token is re-checked with /user alone, which does
			// not say whether the address is verified: what the sign-in
			// read is kept.
			if !tc.expiring {
				re, err := gh.Recheck(t.Context(), s.Identity, s.Tokens)
				if err != nil || re.Identity.Email != "alice@example.com" || re.Identity.EmailVerified != tc.wantVerified {
					t.Errorf("Recheck: %+v, %v; want alice@example.com verified=%v", re, err, tc.wantVerified)
				}
			}
		})
	}
}
