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

	"github.com/go-ldap/ldap/v3"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// admin runs f bound as the directory's administrator.
func admin(t *testing.T, s *testsvc.Slapd, f func(*ldap.Conn) error) {
	t.Helper()
	c, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(testsvc.SlapdAdminDN, testsvc.SlapdAdminPassword); err != nil {
		t.Fatal(err)
	}
	if err := f(c); err != nil {
		t.Fatal(err)
	}
}

// TestHandlerRefreshRechecksTheDirectory signs a user in through an
// auth.Handler against the real directory, then disables her account
// (as an administrator would: an attribute the user filter excludes)
// and, for a second user, deletes the entry: the first refresh after the
// handler's RecheckInterval asks the directory (Authenticator.Recheck) and
// ends the session; while the account is fine it answers 200.
func TestHandlerRefreshRechecksTheDirectory(t *testing.T) {
	s := need(t)
	for _, tc := range []struct {
		name  string
		leave func(c *ldap.Conn, dn string) error
	}{
		{"Disabled", func(c *ldap.Conn, dn string) error {
			m := ldap.NewModifyRequest(dn, nil)
			m.Replace("employeeType", []string{"disabled"})
			return c.Modify(m)
		}},
		{"Deleted", func(c *ldap.Conn, dn string) error { return c.Del(ldap.NewDelRequest(dn, nil)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			login := "recheck-" + strings.ToLower(tc.name)
			dn := "uid=" + login + "," + testsvc.SlapdPeopleDN
			admin(t, s, func(c *ldap.Conn) error {
				a := ldap.NewAddRequest(dn, nil)
				a.Attribute("objectClass", []string{"inetOrgPerson"})
				a.Attribute("uid", []string{login})
				a.Attribute("cn", []string{"Re Check"})
				a.Attribute("sn", []string{"Check"})
				a.Attribute("mail", []string{login + "@example.org"})
				a.Attribute("userPassword", []string{"recheck-password"})
				return c.Add(a)
			})
			t.Cleanup(func() {
				admin(t, s, func(c *ldap.Conn) error {
					if err := c.Del(ldap.NewDelRequest(dn, nil)); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
						return err
					}
					return nil
				})
			})
			c := baseConfig(s)
			c.UserFilter = "(!(employeeType=disabled))"
			a := newAuth(t, c, nil)
			p := newLDAPPortal(t, a)
			clk, call := p.clk, p.call
			if st, body := call("POST", "/api/auth/ldap/login", `{"username":"`+login+`","password":"recheck-password"}`); st != 200 {
				t.Fatalf("login: %d %s", st, body)
			}
			clk.Advance(auth.DefaultRecheckInterval)
			before := a.Stats().Ops()
			if st, body := call("GET", "/api/auth/ldap/refresh", ""); st != 200 || !strings.Contains(body, login+"@example.org") {
				t.Fatalf("refresh of a fine account past the interval: %d %s", st, body)
			}
			if ops := a.Stats().Ops() - before; ops != 2 {
				t.Errorf("the re-check took %d LDAP operations, want 2", ops)
			}
			admin(t, s, func(c *ldap.Conn) error { return tc.leave(c, dn) })
			clk.Advance(6 * 24 * time.Hour)
			if st, body := call("GET", "/api/auth/ldap/refresh", ""); st != http.StatusUnauthorized || !strings.Contains(body, "no longer") {
				t.Fatalf("6 days after the account left the directory, /refresh answers %d: %s", st, body)
			}
		})
	}
}

// ldapPortal is a's sign-in served at a test server under a hand-moved
// clock, and one browser's calls to it (its cookies kept).
type ldapPortal struct {
	h    *auth.Handler
	clk  *testclock.Clock
	call func(method, path, body string) (int, string)
}

func newLDAPPortal(t *testing.T, a *ldapauth.Authenticator) *ldapPortal {
	t.Helper()
	p := &ldapPortal{clk: testclock.New(time.Now())}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h, err := auth.New(&auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"),
		Environment: "development", Now: p.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register("ldap", "development", a); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/auth/", ldapauth.ClientAddr(h))
	p.h = h
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	p.call = func(method, path, body string) (int, string) {
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
	return p
}
