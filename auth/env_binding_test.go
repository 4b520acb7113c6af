package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// A session belongs to the environment it signed in through: a Handler
// that serves only auth.environment "production" refuses the session
// cookie of a "development" sign-in, even when both deployments share the
// session secret and the store (one Redis, one secret in two
// app-configs). Otherwise a user of the looser development identity
// provider would be signed in to production with that cookie, which
// Options.Environment is there to prevent.
func TestSessionOfAnotherEnvironmentIsRefused(t *testing.T) {
	store := auth.NewMemoryStore(nil)
	dev := newPortal(t, auth.Options{Store: store, Environment: "development"})
	prod := newPortal(t, auth.Options{Store: store, Environment: "production"})
	if err := dev.h.Register("ldap", "development", directory{}); err != nil {
		t.Fatal(err)
	}
	if err := prod.h.Register("ldap", "production", directory{}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, dev.srv.URL+"/api/auth/ldap/login", strings.NewReader(`{"username":"alice","password":"wonderland"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, body := send(t, noFollow(), req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("development login: %d %s", resp.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "scmkit-session" && c.Value != "" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	// The development deployment itself accepts it.
	r, _ := http.NewRequest(http.MethodGet, dev.srv.URL+"/", nil)
	r.AddCookie(cookie)
	if s, err := dev.h.Session(r); err != nil || s.Env != "development" {
		t.Fatalf("development Session = %v, %v", s, err)
	}
	// Production does not: not as Session, not at /refresh.
	r, _ = http.NewRequest(http.MethodGet, prod.srv.URL+"/", nil)
	r.AddCookie(cookie)
	if s, err := prod.h.Session(r); errcode.CodeOf(err) != errcode.Unauthorized || !strings.Contains(err.Error(), "development") {
		t.Errorf("production Session of a development sign-in = %v, %v; want Unauthorized naming the environment", s, err)
	}
	r, _ = http.NewRequest(http.MethodGet, prod.srv.URL+"/api/auth/ldap/refresh", nil)
	r.Header.Set("X-Requested-With", "XMLHttpRequest")
	r.AddCookie(cookie)
	if resp, body := send(t, noFollow(), r); resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "alice@example.com") {
		t.Errorf("production /refresh with a development session: %d %s", resp.StatusCode, body)
	}
	// A Handler serving every environment accepts both.
	all := newPortal(t, auth.Options{Store: store, Environment: "production", ServeAllEnvironments: true})
	r, _ = http.NewRequest(http.MethodGet, all.srv.URL+"/", nil)
	r.AddCookie(cookie)
	if _, err := all.h.Session(r); err != nil {
		t.Errorf("ServeAllEnvironments: Session of a development sign-in = %v", err)
	}
}
