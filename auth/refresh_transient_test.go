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

// Regression (final review, session 22):
// a refresh that fails for a reason that is not the
// user's grant (a token endpoint answering 400 with an OAuth error such
// as temporarily_unavailable or invalid_request, or a proxy's bare 400/401
// page) is taken as a refusal, and the user's session is deleted. Only
// invalid_grant (GitHub: bad_refresh_token) says the grant is gone.
func TestTransientRefreshFailureKeepsSession(t *testing.T) {
	for _, tt := range []struct {
		name, ctype, body string
		status            int
	}{
		{"400 temporarily_unavailable", "application/json", `{"error":"temporarily_unavailable","error_description":"try again"}`, 400},
		{"400 invalid_request", "application/json", `{"error":"invalid_request"}`, 400},
		{"a proxy's bare 401 page", "text/html", `<html>proxy authentication required</html>`, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPortal(t, auth.Options{})
			fg := githubWorld(t, true, p.clk.Now)
			target, _ := url.Parse(fg.URL())
			rp := httputil.NewSingleHostReverseProxy(target)
			var broken atomic.Bool
			px := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if broken.Load() && r.URL.Path == "/login/oauth/access_token" {
					w.Header().Set("Content-Type", tt.ctype)
					w.WriteHeader(tt.status)
					io.WriteString(w, tt.body)
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
			p.clk.Advance(8 * time.Hour)
			broken.Store(true)
			st, body := refreshStatus(t, p, c, "github")
			t.Logf("refresh while the token endpoint fails: %d %s", st, body)
			broken.Store(false)
			if st := pageStatus(t, p, c); st != http.StatusOK {
				t.Errorf("a transient token-endpoint failure (%s) ended the user's session (page %d)", tt.name, st)
			}
		})
	}
}
