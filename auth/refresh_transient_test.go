package auth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
)

// tokenAnswer is what the GitHub token endpoint answers while it is set.
type tokenAnswer struct {
	ctype, body string
	status      int
}

// signedInBehindProxy signs a user in with a GitHub App (expiring tokens)
// behind a proxy that, while *answer is set, answers the token endpoint
// with it instead of GitHub.
func signedInBehindProxy(t *testing.T) (*portal, *http.Client, *atomic.Pointer[tokenAnswer]) {
	t.Helper()
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, true, p.clk.Now)
	target, _ := url.Parse(fg.URL())
	rp := httputil.NewSingleHostReverseProxy(target)
	var answer atomic.Pointer[tokenAnswer]
	px := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := answer.Load(); a != nil && r.URL.Path == "/login/oauth/access_token" {
			w.Header().Set("Content-Type", a.ctype)
			w.WriteHeader(a.status)
			io.WriteString(w, a.body)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(px.Close)
	gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: integrations.NewSecret("gh-secret"),
		EnterpriseInstanceURL: px.URL, Scopes: []string{"repo"}, Now: p.clk.Now})
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
	return p, c, &answer
}

// Regression (final review, session 22):
// a refresh that fails for a reason that is not the
// user's grant (a token endpoint answering 400 with an OAuth error such
// as temporarily_unavailable or invalid_request, or a proxy's bare 400/401
// page) is taken as a refusal, and the user's session is deleted.
func TestTransientRefreshFailureKeepsSession(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer tokenAnswer
	}{
		{"400 temporarily_unavailable", tokenAnswer{"application/json", `{"error":"temporarily_unavailable","error_description":"try again"}`, 400}},
		{"400 invalid_request", tokenAnswer{"application/json", `{"error":"invalid_request"}`, 400}},
		{"a proxy's bare 401 page", tokenAnswer{"text/html", `<html>proxy authentication required</html>`, 401}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, c, answer := signedInBehindProxy(t)
			p.clk.Advance(8 * time.Hour)
			answer.Store(&tt.answer)
			st, body := refreshStatus(t, p, c, "github")
			t.Logf("refresh while the token endpoint fails: %d %s", st, body)
			answer.Store(nil)
			if st := pageStatus(t, p, c); st != http.StatusOK {
				t.Errorf("a transient token-endpoint failure (%s) ended the user's session (page %d)", tt.name, st)
			}
		})
	}
}

// Regression (second review, session 22):
// a token endpoint that refuses the user's grant with an OAuth
// error other than invalid_grant is taken as transient, and the session
// keeps serving pages for the rest of SessionDuration although the user
// can never refresh again: Entra's interaction_required (a Conditional
// Access or MFA policy now applies to the user), Okta's access_denied
// ("Policy evaluation failed": the user left the group the access policy
// names), OIDC's login_required / consent_required.
func TestRefusedRefreshEndsSession(t *testing.T) {
	for _, tt := range []struct{ name, body string }{
		{"entra interaction_required", `{"error":"interaction_required","error_description":"AADSTS50076: Due to a configuration change made by your administrator ... you must use multi-factor authentication","error_codes":[50076]}`},
		{"entra consent_required", `{"error":"consent_required","error_description":"AADSTS65001: The user or administrator has not consented"}`},
		{"okta access_denied", `{"error":"access_denied","error_description":"Policy evaluation failed for this request, please check the policy configurations."}`},
		{"login_required", `{"error":"login_required"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, c, answer := signedInBehindProxy(t)
			answer.Store(&tokenAnswer{"application/json", tt.body, 400})
			for range 18 { // 6 days
				p.clk.Advance(8 * time.Hour)
				st, body := refreshStatus(t, p, c, "github")
				t.Logf("refresh: %d %s", st, body)
			}
			if st := pageStatus(t, p, c); st == http.StatusOK {
				t.Errorf("the provider refused the grant (%s) on every refresh for 6 days, yet the session still serves pages", tt.name)
			}
		})
	}
}
