package ldapauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
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
	p := newLDAPPortal(t, good)
	h, clk, call := p.h, p.clk, p.call
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
