package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"strings"
	"testing"
)

// postPR posts the pull request form as the browser c, from the portal's
// own origin.
func postPR(t *testing.T, c *http.Client, base, origin string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/pull-request", nil)
	req.Header.Set("Origin", origin)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPortalChecksEveryActionOnTheServer: reading catalog-info.yaml needs
// catalog.entity.read and opening a pull request scaffolder.task.create,
// decided by the policy on the server. frank (in no team) holds neither:
// he is refused with 403 even though his own GitHub token would be
// accepted by the fake GitHub, and his attempts reach GitHub not once.
// carol (web ⊂ engineering) holds both.
func TestPortalChecksEveryActionOnTheServer(t *testing.T) {
	p := startPortal(t)
	frank := signInGitHub(t, p, "frank", "Frank")
	requests, events := len(p.world.github.Requests()), len(p.app.audit.recent())
	if code, body := get(t, frank, p.URL+"/catalog"); code != http.StatusForbidden || !strings.Contains(body, "not allowed") || strings.Contains(body, "kind: Component") {
		t.Errorf("frank's catalog read: %d %s", code, body)
	}
	if code, body := postPR(t, frank, p.URL, p.URL); code != http.StatusForbidden || !strings.Contains(body, "not allowed") {
		t.Errorf("frank's pull request: %d %s", code, body)
	}
	if n, m := len(p.world.github.Requests())-requests, len(p.app.audit.recent())-events; n != 0 || m != 0 {
		t.Errorf("frank's refused attempts made %d GitHub requests, %d SCM calls", n, m)
	}
	carol := signInGitHub(t, p, "carol", "Carol")
	if code, body := get(t, carol, p.URL+"/catalog"); code != 200 || !strings.Contains(body, "kind: Component") {
		t.Errorf("carol's catalog read: %d %s", code, body)
	}
	if code, body := postPR(t, carol, p.URL, p.URL); code != 200 || !strings.Contains(body, "Opened pull request") {
		t.Errorf("carol's pull request: %d %s", code, body)
	}
}

// TestPortalWithoutPolicyActsOnlyAsTheUser: a portal run without a
// permission policy (as -config without permission.enabled runs it: anyone the identity provider
// signs in gets a session) never lends its own credentials: a user whose
// sign-in gives no token for the repository's host reads nothing, rather
// than the repository's files with the portal's token.
func TestPortalWithoutPolicyActsOnlyAsTheUser(t *testing.T) {
	p := startPortal(t)
	d := p.app.deps
	d.access = nil
	bare, err := newApp(&d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(bare.routes())
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	// Signed in with OIDC: no GitHub token. (Cookies are per host, not
	// per port: the session serves both listeners.)
	if code, body := get(t, c, p.URL+"/api/auth/oidc/start?flow=redirect&redirectUrl=/"); code != 200 || !strings.Contains(body, "Signed in as alice") {
		t.Fatalf("OIDC sign-in: %d %s", code, body)
	}
	requests := len(p.world.github.Requests())
	code, body := get(t, c, srv.URL+"/catalog")
	if code == 200 || strings.Contains(body, "kind: Component") || strings.Contains(body, "portal's credentials") {
		t.Errorf("without a policy, an OIDC user read the repository with the portal's credentials: %d %s", code, body)
	}
	if n := len(p.world.github.Requests()) - requests; n != 0 {
		t.Errorf("%d GitHub requests with the portal's credentials", n)
	}
}

// TestPortalSecurityHeaders: every page forbids framing (CSP
// frame-ancestors and X-Frame-Options), MIME sniffing, sending its URL to other sites as a
// referrer, and <base> and form targets elsewhere.
func TestPortalSecurityHeaders(t *testing.T) {
	p := startPortal(t)
	c := signInGitHub(t, p, "alice", "Alice")
	for _, path := range []string{"/", "/catalog", "/register", "/no-such-page"} {
		resp, err := c.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
}

// TestPortalEscapesWhatProvidersSay: names from the identity provider and
// files from a repository are shown as text, never as markup; and the
// home page shows no message taken from its URL (a link to
// /?error=<text> would have the portal say anything in its own voice).
func TestPortalEscapesWhatProvidersSay(t *testing.T) {
	p := startPortal(t)
	const evil = `</pre><script>alert("x")</script><img src=x onerror=alert(1)>`
	if _, err := p.world.github.Commit("acme", "service", "main", fakegithub.Commit{Message: "evil",
		Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n# " + evil + "\n")}}}); err != nil {
		t.Fatal(err)
	}
	c := signInGitHub(t, p, "alice", evil)
	for _, path := range []string{"/", "/catalog", "/register"} {
		code, body := get(t, c, p.URL+path)
		if code != 200 || strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
			t.Errorf("%s: %d, markup from a provider is not escaped: %s", path, code, body)
		}
	}
	if _, body := get(t, c, p.URL+"/catalog"); !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("/catalog does not show the file's text: %s", body)
	}
	if _, body := get(t, c, p.URL+"/?error=Your+session+expired.+Sign+in+at+evil.example"); strings.Contains(body, "evil.example") {
		t.Errorf("the home page says what its URL tells it: %s", body)
	}
}
