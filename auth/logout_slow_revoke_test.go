package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// A logout ends the session even when the browser gives up on it while
// GitLab's /oauth/revoke is slow (the request's context ends): the
// session is deleted first, and the revocation does not run under the
// request's context.
func TestLogoutEndsSessionWhileRevokeIsSlow(t *testing.T) {
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
		if r.URL.Path == "/gitlab/oauth/revoke" {
			select { // GitLab slow to answer
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
			w.Write([]byte("{}"))
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
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.srv.URL+"/api/auth/gitlab/logout", nil)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
	}
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		if st := pageStatus(t, p, c); st == http.StatusUnauthorized {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("5 s after a logout the user gave up on while GitLab was slow to revoke, the session is still served")
}
