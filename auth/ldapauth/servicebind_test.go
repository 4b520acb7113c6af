package ldapauth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/integrations"

	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// TestServiceBindRefusedKeepsSessions: the service account's bind being
// refused (its password changed in the directory before the config) is
// the directory failing, not the user: sessions are kept (RecheckGrace)
// and work again once the bind does.
func TestServiceBindRefusedKeepsSessions(t *testing.T) {
	s := need(t)
	good := newAuth(t, baseConfig(s), nil)
	bc := baseConfig(s)
	bc.LDAPAuthenticationOptions.AdminPassword = integrations.NewSecret("not-the-service-password")
	bad := newAuth(t, bc, nil)
	clk := testclock.New(time.Now())
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h, err := auth.New(&auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"),
		Environment: "development", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register("ldap", "development", good); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/auth/", ldapauth.ClientAddr(h))
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequestWithContext(context.Background(), method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := call("POST", "/api/auth/ldap/login", `{"username":"bob","password":"bob-password"}`); st != 200 {
		t.Fatalf("login: %d %s", st, body)
	}
	if err := h.Register("ldap", "development", bad); err != nil { // the service password changed
		t.Fatal(err)
	}
	clk.Advance(auth.DefaultRecheckInterval + time.Minute)
	st, body := call("GET", "/api/auth/ldap/refresh", "")
	if st != 200 || strings.Contains(body, "service account") {
		t.Fatalf("refresh with the service bind refused: %d %s; want the session kept, unchecked, without the directory's trouble shown", st, body)
	}
	if err := h.Register("ldap", "development", good); err != nil { // fixed a minute later
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	if st, body := call("GET", "/api/auth/ldap/refresh", ""); st != 200 {
		t.Fatalf("after the service account works again, the user's session is gone: %d %s", st, body)
	}
}
