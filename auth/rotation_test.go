package auth_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact/redacttest"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// Secrets of a rotation: the one used before, and the new one.
const (
	oldSecret = "old-session-secret-0123456789abcdef"
	newSecret = "new-session-secret-fedcba9876543210"
)

// rotatingPortal is one portal (one base URL, one session store) whose
// handler is replaced, as a redeployment with another auth.session
// configuration replaces it.
type rotatingPortal struct {
	srv   *httptest.Server
	cur   atomic.Pointer[auth.Handler]
	store *auth.MemoryStore
	clk   *testclock.Clock
	fg    *fakegithub.Server
}

func newRotatingPortal(t *testing.T) *rotatingPortal {
	t.Helper()
	p := &rotatingPortal{clk: testclock.New(time.Now())}
	p.store = auth.NewMemoryStore(&auth.MemoryStoreOptions{Now: p.clk.Now})
	p.fg = githubWorld(t, false, p.clk.Now)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/auth/", func(w http.ResponseWriter, r *http.Request) { p.cur.Load().ServeHTTP(w, r) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := p.cur.Load().Session(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello "+s.Identity.Login)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// deploy replaces the handler by one with secret and previous secrets.
func (p *rotatingPortal) deploy(t *testing.T, secret string, previous ...string) *auth.Handler {
	t.Helper()
	o := auth.Options{BaseURL: p.srv.URL + "/api/auth", Secret: integrations.NewSecret(secret), Environment: "development",
		Store: p.store, Now: p.clk.Now}
	for _, s := range previous {
		o.PreviousSecrets = append(o.PreviousSecrets, integrations.NewSecret(s))
	}
	h, err := auth.New(&o)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: integrations.NewSecret("gh-secret"),
		EnterpriseInstanceURL: p.fg.URL(), Scopes: []string{"repo"}, Now: p.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register("github", "development", gh); err != nil {
		t.Fatal(err)
	}
	p.cur.Store(h)
	return h
}

func (p *rotatingPortal) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// page is the portal's root page as c sees it: "hello alice" when signed
// in.
func (p *rotatingPortal) page(t *testing.T, c *http.Client) (int, string) {
	t.Helper()
	resp, err := c.Get(p.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *rotatingPortal) signIn(t *testing.T, c *http.Client) {
	t.Helper()
	resp, err := c.Get(p.srv.URL + "/api/auth/github/start?env=development&flow=redirect&redirectUrl=/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, body := p.page(t, c); code != http.StatusOK || body != "hello alice" {
		t.Fatalf("after sign-in: %d %q", code, body)
	}
}

func (p *rotatingPortal) sessionCookie(t *testing.T, c *http.Client) string {
	t.Helper()
	u, _ := url.Parse(p.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "scmkit-session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func (p *rotatingPortal) refresh(t *testing.T, c *http.Client) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/api/auth/github/refresh?env=development", nil)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d", resp.StatusCode)
	}
	return resp
}

// TestRotatedSecretKeepsSessions: after auth.session.secret is rotated
// with the old one listed in previousSecrets, a session signed in before
// keeps working; its record is sealed again under the new secret and its
// cookie signed again at its next /refresh, so that it
// survives the old secret's removal. A session that was not used while
// the old secret was listed ends when it is removed.
func TestRotatedSecretKeepsSessions(t *testing.T) {
	p := newRotatingPortal(t)
	old := p.deploy(t, oldSecret)
	alice, idle := p.browser(), p.browser()
	p.signIn(t, alice)
	p.signIn(t, idle)
	oldCookie := p.sessionCookie(t, alice)

	p.deploy(t, newSecret, oldSecret)
	if code, body := p.page(t, alice); code != http.StatusOK || body != "hello alice" {
		t.Fatalf("after the rotation, a session of the old secret: %d %q; want it signed in", code, body)
	}
	// A read does not write: the handler of the old secret still opens
	// the record (during a rolling rotation, replicas that disagree on the
	// current secret must not rewrite each other's records on every read).
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: "scmkit-session", Value: oldCookie})
	if _, err := old.Session(req); err != nil {
		t.Fatalf("a read under the new secret rewrote the record: the old secret's handler says %v", err)
	}
	// /refresh signs the cookie again under the new secret (same session)
	// and seals the record again: the old secret's handler no longer
	// opens it.
	resp := p.refresh(t, alice)
	if _, err := old.Session(req); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Fatalf("the old secret's handler still opens the record after /refresh under the new one: %v", err)
	}
	if !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), "\n"), "scmkit-session=") {
		t.Fatal("/refresh after the rotation set no new session cookie")
	}
	if renewed := p.sessionCookie(t, alice); renewed == oldCookie {
		t.Fatal("/refresh after the rotation left the cookie signed under the old secret")
	}
	// A refresh of a cookie signed under the current secret sets none.
	if resp := p.refresh(t, alice); len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("/refresh of a current cookie set cookies again: %q", resp.Header.Values("Set-Cookie"))
	}

	p.deploy(t, newSecret) // the old secret dropped
	if code, body := p.page(t, alice); code != http.StatusOK || body != "hello alice" {
		t.Fatalf("after the old secret was dropped, the re-sealed session: %d %q; want it signed in", code, body)
	}
	if code, body := p.page(t, idle); code != http.StatusUnauthorized {
		t.Fatalf("after the old secret was dropped, a session still under it: %d %q; want 401", code, body)
	}
	// So does the renewed session's old cookie: it was signed under the
	// dropped secret.
	if _, err := p.cur.Load().Session(req); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Fatalf("a cookie signed under a dropped secret: %v; want Unauthorized", err)
	}
}

// TestRotatedSecretWithoutPreviousEndsSessions is the control: changing
// the secret without listing the old one ends the sessions sealed under
// it, with a message that says why and shows no secret.
func TestRotatedSecretWithoutPreviousEndsSessions(t *testing.T) {
	p := newRotatingPortal(t)
	p.deploy(t, oldSecret)
	alice := p.browser()
	p.signIn(t, alice)
	p.deploy(t, newSecret)
	code, body := p.page(t, alice)
	if code != http.StatusUnauthorized {
		t.Fatalf("a session of a secret neither current nor previous: %d %q; want 401", code, body)
	}
	if strings.Contains(body, oldSecret) || strings.Contains(body, newSecret) {
		t.Fatalf("the refusal shows a secret: %q", body)
	}
}

// TestSignInStartedBeforeRotationCompletes: a user who started signing in
// (state parameter and flow cookie sealed under the old secret) before
// the deployment that rotated the secret completes the sign-in after it.
func TestSignInStartedBeforeRotationCompletes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		previous []string
		want     int
	}{
		{"old secret listed", []string{oldSecret}, http.StatusOK},
		{"old secret not listed", nil, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newRotatingPortal(t)
			p.deploy(t, oldSecret)
			c := p.browser()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := c.Get(p.srv.URL + "/api/auth/github/start?env=development&flow=redirect&redirectUrl=/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			authorize := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusFound || !strings.Contains(authorize, "state=") {
				t.Fatalf("/start: %d %q", resp.StatusCode, authorize)
			}

			p.deploy(t, newSecret, tc.previous...)
			c.CheckRedirect = nil
			resp, err = c.Get(authorize) // the provider sends the browser to the callback
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if code, body := p.page(t, c); code != tc.want {
				t.Fatalf("after a sign-in across the rotation: %d %q; want %d", code, body, tc.want)
			}
		})
	}
}

// TestBadPreviousSecretsRefused: previous secrets that could not be
// secrets used before are refused at construction, with InvalidArgument
// naming auth.session.previousSecrets[i], and no error shows a secret.
func TestBadPreviousSecretsRefused(t *testing.T) {
	five := []string{"previous-secret-number-1", "previous-secret-number-2", "previous-secret-number-3", "previous-secret-number-4", "previous-secret-number-5"}
	for _, tc := range []struct {
		name     string
		previous []string
		want     string
	}{
		{"too short", []string{"previous-secret-number-1", "short-secret"}, "auth.session.previousSecrets[1]"},
		{"empty", []string{""}, "auth.session.previousSecrets[0]"},
		{"the current secret", []string{newSecret}, "auth.session.previousSecrets[0]"},
		{"listed twice", []string{oldSecret, "previous-secret-number-1", oldSecret}, "auth.session.previousSecrets[2]"},
		{"more than 4", five, "auth.session.previousSecrets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := auth.Options{BaseURL: "https://portal.example.com/api/auth", Secret: integrations.NewSecret(newSecret)}
			for _, s := range tc.previous {
				o.PreviousSecrets = append(o.PreviousSecrets, integrations.NewSecret(s))
			}
			h, err := auth.New(&o)
			var e *errcode.Error
			if h != nil || !errors.As(err, &e) || e.Code != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, %v; want InvalidArgument naming %s", h, err, tc.want)
			}
			for _, s := range append(tc.previous, newSecret) {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
	// At the bound: fine.
	o := auth.Options{BaseURL: "https://portal.example.com/api/auth", Secret: integrations.NewSecret(newSecret)}
	for _, s := range five[:4] {
		o.PreviousSecrets = append(o.PreviousSecrets, integrations.NewSecret(s))
	}
	if _, err := auth.New(&o); err != nil {
		t.Fatalf("4 previous secrets: %v", err)
	}
}

// TestPreviousSecretsFromConfig: auth.session.previousSecrets (scmkit's
// key next to Backstage's auth.session.secret) is read by
// Config.NewHandler, a bad one is refused naming its path, and neither
// the Config nor the Options ever show one.
func TestPreviousSecretsFromConfig(t *testing.T) {
	_, ac := loadAuth(t, []byte(`
auth:
  environment: development
  session:
    secret: new-session-secret-fedcba9876543210
    previousSecrets:
      - old-session-secret-0123456789abcdef
`))
	if len(ac.Session.PreviousSecrets) != 1 || ac.Session.PreviousSecrets[0].Reveal() != oldSecret {
		t.Fatalf("previousSecrets not decoded: %d", len(ac.Session.PreviousSecrets))
	}
	redacttest.Hidden(t, "auth.Config", ac, oldSecret, newSecret)
	o := auth.Options{Secret: integrations.NewSecret(newSecret), PreviousSecrets: []integrations.Secret{integrations.NewSecret(oldSecret)}}
	redacttest.Hidden(t, "auth.Options", o, oldSecret, newSecret)
	redacttest.Hidden(t, "*auth.Options", &o, oldSecret, newSecret)

	// A session sealed under the previous secret opens in the handler
	// built from this configuration.
	p := newRotatingPortal(t)
	p.deploy(t, oldSecret)
	alice := p.browser()
	p.signIn(t, alice)
	h, _, err := ac.NewHandler(&auth.Options{BaseURL: p.srv.URL + "/api/auth", Store: p.store, Now: p.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	p.cur.Store(h)
	if code, body := p.page(t, alice); code != http.StatusOK {
		t.Fatalf("a session of auth.session.previousSecrets[0]: %d %q", code, body)
	}

	_, bad := loadAuth(t, []byte(`
auth:
  session:
    secret: new-session-secret-fedcba9876543210
    previousSecrets: [too-short]
`))
	_, _, err = bad.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"})
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "auth.session.previousSecrets[0]") || strings.Contains(err.Error(), "too-short") {
		t.Fatalf("NewHandler with a short previous secret = %v; want InvalidArgument naming auth.session.previousSecrets[0], without the secret", err)
	}
}
