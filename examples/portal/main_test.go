package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

func startPortal(t *testing.T) *portal {
	t.Helper()
	p, err := start(t.Context(), options{addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// prAuthor asks the fake GitHub who authored pull request n.
func prAuthor(t *testing.T, p *portal, n int) string {
	req, _ := http.NewRequest(http.MethodGet, p.world.github.APIBaseURL()+"/repos/acme/service/pulls/"+itoaT(n), nil)
	req.Header.Set("Authorization", "Bearer portal-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pr struct {
		User struct{ Login string } `json:"user"`
	}
	json.NewDecoder(resp.Body).Decode(&pr)
	return pr.User.Login
}

func itoaT(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestPortalWithHTTPClient walks the portal with a plain HTTP client:
// sign in with GitHub, read as her, open a pull request as her, sign out.
func TestPortalWithHTTPClient(t *testing.T) {
	p := startPortal(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if code, body := get(t, c, p.URL+"/"); code != 200 || !strings.Contains(body, `id="signin-github"`) || !strings.Contains(body, `id="signin-oidc"`) {
		t.Fatalf("home: %d %s", code, body)
	}
	if code, body := get(t, c, p.URL+"/api/auth/github/start?flow=redirect&redirectUrl=/"); code != 200 || !strings.Contains(body, "Signed in as alice") || !strings.Contains(body, p.world.github.Host()) {
		t.Fatalf("after sign-in: %d %s", code, body)
	}
	if code, body := get(t, c, p.URL+"/catalog"); code != 200 || !strings.Contains(body, "kind: Component") || !strings.Contains(body, "your token") {
		t.Fatalf("catalog: %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/pull-request", nil)
	req.Header.Set("Origin", p.URL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Opened pull request") {
		t.Fatalf("pull request: %d %s", resp.StatusCode, b)
	}
	if got := prAuthor(t, p, 1); got != "alice" {
		t.Fatalf("pull request authored by %q, want alice", got)
	}
	// A cross-site form post is refused.
	req, _ = http.NewRequest(http.MethodPost, p.URL+"/pull-request", nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site pull request: %d, want 403", resp.StatusCode)
	}
}

// browserTimeout bounds a browser test's steps, once chromium has started
// and the portal is up: a guard against a step that never completes (a
// selector that never shows), not a performance bound. Under the race
// detector on a loaded two-core machine the steps took about 10 s.
const browserTimeout = 90 * time.Second

// TestPortalInBrowser clicks through the portal in a real headless
// chromium: GitHub sign-in, read, pull request, sign out, OIDC sign-in.
func TestPortalInBrowser(t *testing.T) {
	p := startPortal(t)
	ctx := testsvc.Chromium(t, browserTimeout)
	shots := t.TempDir()
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d bytes)", filepath.Join(shots, name), len(png))
	}

	step("open the portal", chromedp.Navigate(p.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#signin-github")))
	step("sign in with GitHub", chromedp.Click(chromedp.CSS("#signin-github")), chromedp.WaitVisible(chromedp.CSS("#greeting")))
	if got := text("#greeting"); got != "Signed in as alice" {
		t.Fatalf("greeting %q", got)
	}
	if got := text("#host"); got != p.world.github.Host() {
		t.Fatalf("token host %q, want %s", got, p.world.github.Host())
	}
	shot("github-signed-in.png")
	step("read catalog-info.yaml", chromedp.Click(chromedp.CSS("#read-catalog")), chromedp.WaitVisible(chromedp.CSS("#catalog")))
	if got := text("#catalog"); !strings.Contains(got, "kind: Component") || text("#as") != "your token" {
		t.Fatalf("catalog page: %q", got)
	}
	step("back", chromedp.Navigate(p.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#open-pr")))
	step("open a pull request", chromedp.Click(chromedp.CSS("#open-pr")), chromedp.WaitVisible(chromedp.CSS("#pr")))
	if got := text("#pr"); !strings.HasPrefix(got, "Opened pull request #1") {
		t.Fatalf("pull request page: %q", got)
	}
	if got := prAuthor(t, p, 1); got != "alice" {
		t.Fatalf("pull request authored by %q, want alice", got)
	}
	shot("github-pull-request.png")
	step("sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin-oidc")))

	step("sign in with OIDC", chromedp.Click(chromedp.CSS("#signin-oidc")), chromedp.WaitVisible(chromedp.CSS("#greeting")))
	if got := text("#provider"); got != "oidc" {
		t.Fatalf("provider %q", got)
	}
	if got := text("#email"); got != "alice@example.com (verified)" {
		t.Fatalf("email %q", got)
	}
	step("read catalog-info.yaml as the portal", chromedp.Click(chromedp.CSS("#read-catalog")), chromedp.WaitVisible(chromedp.CSS("#catalog")))
	if got := text("#as"); got != "the portal's credentials" {
		t.Fatalf("an OIDC user read with %q", got)
	}
	shot("oidc-catalog.png")

	// The policy: alice (platform-team) registers a component; frank (in
	// no team) is refused on the server, and his attempt changes nothing.
	target := p.app.repo + "/blob/HEAD/catalog-info.yaml"
	step("alice registers", chromedp.Navigate(p.URL+"/register"), chromedp.WaitVisible(chromedp.CSS("#register")),
		chromedp.Click(chromedp.CSS("#register")), chromedp.WaitVisible(chromedp.CSS("#message")))
	if got := text("#locations"); strings.Count(got, target) != 1 {
		t.Fatalf("after alice registered, locations %q", got)
	}
	if ev := p.app.audit.recent(); len(ev) == 0 || !ev[len(ev)-1].OnBehalf() || ev[len(ev)-1].User != "user:default/alice" {
		t.Fatalf("alice's registration (OIDC: no GitHub token) was not audited as the portal on her behalf: %v", ev)
	}
	shot("alice-registered.png")
	step("sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin-github")))
	p.world.github.SetOAuthUser(fakegithub.OAuthUser{Login: "frank", Name: "Frank", Email: "frank@example.com"})
	step("frank signs in with GitHub", chromedp.Click(chromedp.CSS("#signin-github")), chromedp.WaitVisible(chromedp.CSS("#greeting")))
	if got := text("#greeting"); got != "Signed in as frank" {
		t.Fatalf("greeting %q", got)
	}
	step("frank opens the register page", chromedp.Click(chromedp.CSS("#register-page")), chromedp.WaitVisible(chromedp.CSS("#register")))
	if got := text("#user-ref"); got != "user:default/frank" {
		t.Fatalf("frank is %q in the catalog", got)
	}
	requests, events := len(p.world.github.Requests()), len(p.app.audit.recent())
	step("frank tries to register", chromedp.Click(chromedp.CSS("#register")), chromedp.WaitVisible(chromedp.CSS("#error")))
	if got := text("#error"); !strings.Contains(got, "not allowed") {
		t.Fatalf("frank's attempt: %q", got)
	}
	if got := text("#locations"); strings.Count(got, target) != 1 {
		t.Fatalf("after frank's refused attempt, locations %q", got)
	}
	if got := p.app.locations.list(); len(got) != 1 {
		t.Fatalf("frank's refused attempt changed the locations: %v", got)
	}
	if n, m := len(p.world.github.Requests())-requests, len(p.app.audit.recent())-events; n != 0 || m != 0 {
		t.Fatalf("frank's refused attempt made %d GitHub requests, %d SCM calls", n, m)
	}
	shot("frank-refused.png")
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if u, _ := url.Parse(loc); u == nil || "http://"+u.Host != p.URL {
		t.Fatalf("ended at %s", loc)
	}
}
