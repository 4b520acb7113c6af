package auth_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// newStub returns the stub provider of the auth tests: GitHub's host,
// tokens living lifetime on now's clock.
func newStub(lifetime time.Duration, now func() time.Time) *authtest.Provider {
	return &authtest.Provider{
		ProviderInfo: auth.ProviderInfo{Host: "github.com"},
		Identity:     auth.Identity{Subject: "42", Login: "alice", Email: "alice@example.com", DisplayName: "Alice"},
		Scope:        "read:user", Lifetime: lifetime, Now: now,
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

type env struct {
	h     *auth.Handler
	srv   *httptest.Server
	p     *authtest.Provider
	clk   *testclock.Clock
	store *auth.MemoryStore
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the handler's store wrap(the memory store)
// when wrap is set: a store that fails or interposes.
func newEnvWith(t *testing.T, wrap func(*auth.MemoryStore) auth.SessionStore) *env {
	t.Helper()
	clk := testclock.New(time.Now())
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	store := auth.NewMemoryStore(&auth.MemoryStoreOptions{Now: clk.Now})
	var hs auth.SessionStore = store
	if wrap != nil {
		hs = wrap(store)
	}
	h, err := auth.New(&auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"),
		Environment: "development", Store: hs, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	p := newStub(8*time.Hour, clk.Now)
	if err := h.Register("github", "development", p); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/auth/", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := h.Session(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello "+s.Identity.Login)
	})
	return &env{h: h, srv: srv, p: p, clk: clk, store: store}
}

// signedIn signs alice in with a fresh browser and returns it and its
// session cookie.
func (e *env) signedIn(t *testing.T) (*http.Client, *http.Cookie) {
	t.Helper()
	c := browser(t)
	if resp, body := get(t, c, e.srv.URL+"/api/auth/github/start?env=development&flow=redirect&redirectUrl=/home"); body != "hello alice" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "session") {
			return c, ck
		}
	}
	t.Fatal("no session cookie")
	return nil, nil
}

func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return send(t, c, req)
}

func TestRedirectSignInThenRefreshAndLogout(t *testing.T) {
	e := newEnv(t)
	c := browser(t)
	resp, body := get(t, c, e.srv.URL+"/api/auth/github/start?env=development&flow=redirect&redirectUrl=/home")
	if resp.StatusCode != 200 || body != "hello alice" || resp.Request.URL.Path != "/home" {
		t.Fatalf("after sign-in: %d %q at %s", resp.StatusCode, body, resp.Request.URL)
	}
	req := e.p.LastRequest()
	if len(req.CodeChallenge) != 43 || req.Nonce == "" || strings.Contains(req.State, "development") {
		t.Fatalf("auth request: %+v", req)
	}
	resp, body = get(t, c, e.srv.URL+"/api/auth/github/refresh?env=development", "X-Requested-With", "XMLHttpRequest")
	if resp.StatusCode != 200 || !strings.Contains(body, `"email":"alice@example.com"`) || strings.Contains(body, "at-1") {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	resp, _ = get(t, c, e.srv.URL+"/api/auth/github/refresh?env=development")
	if resp.StatusCode != 401 {
		t.Fatalf("refresh without X-Requested-With: %d", resp.StatusCode)
	}
	lreq, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/auth/github/logout", nil)
	lreq.Header.Set("X-Requested-With", "XMLHttpRequest")
	lresp, err := c.Do(lreq)
	if err != nil || lresp.StatusCode != 200 {
		t.Fatalf("logout: %v %v", lresp, err)
	}
	lresp.Body.Close()
	resp, _ = get(t, c, e.srv.URL+"/")
	if resp.StatusCode != 401 {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

// TestLogoutDuringRefreshStaysLoggedOut is a regression test: a logout
// while a refresh of the same session was waiting for the provider was
// undone when the refresh stored the rotated tokens (PutFenced wrote the
// deleted session back), so the signed-out session cookie worked again.
func TestLogoutDuringRefreshStaysLoggedOut(t *testing.T) {
	e := newEnv(t)
	_, cookie := e.signedIn(t)
	e.clk.Advance(8*time.Hour - time.Minute) // the token is due for refresh
	e.p.RefreshDelay = 300 * time.Millisecond
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/auth/github/refresh", nil)
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		req.AddCookie(cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	for e.p.Refreshes.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	lreq, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/auth/github/logout", nil)
	lreq.Header.Set("X-Requested-With", "XMLHttpRequest")
	lreq.AddCookie(cookie)
	lresp, err := http.DefaultClient.Do(lreq)
	if err != nil || lresp.StatusCode != 200 {
		t.Fatalf("logout: %v %v", lresp, err)
	}
	lresp.Body.Close()
	<-done
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the logged-out session cookie still works after the refresh finished: %d %s", resp.StatusCode, b)
	}
	// The logout revoked the tokens the refresh rotated to, not the
	// spent ones it read before: those would leave the new ones valid.
	if rv := e.p.Revoked(); len(rv) != 1 || rv[0].RefreshToken != "rt-2" {
		t.Errorf("logout revoked %+v, want the rotated tokens (rt-2) once", rv)
	}
}
