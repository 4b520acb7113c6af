package auth_test

import (
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
)

// TestOIDCBlankNameIsNoName: a provider whose name claim is only spaces
// (built from an empty first and last name) gives no display name, not
// " ", from the ID token or from userinfo.
func TestOIDCBlankNameIsNoName(t *testing.T) {
	for _, inIDToken := range []bool{true, false} {
		p := newPortal(t, auth.Options{})
		op := startOP(t, p, "oidc", authtest.OPOptions{User: authtest.User{Subject: "u-9", Username: "nameless"}, ProfileInIDToken: inIDToken})
		registerOIDC(t, p, op)
		c, resp, body := p.signIn(t, "oidc")
		if resp.StatusCode != 200 {
			t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
		}
		if s := p.sessionOf(t, c); s.Identity.DisplayName != "" {
			t.Errorf("profile in ID token %v: display name %q, want none", inIDToken, s.Identity.DisplayName)
		}
	}
}
