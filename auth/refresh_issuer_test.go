package auth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
)

// otherIssuerOnRefresh is a provider whose refreshes name the session's
// subject at another issuer (a multi-tenant provider's other tenant).
type otherIssuerOnRefresh struct{ *authtest.Provider }

func (p otherIssuerOnRefresh) Refresh(ctx context.Context, t auth.Tokens) (*auth.SignIn, error) {
	res, err := p.Provider.Refresh(ctx, t)
	if err != nil {
		return nil, err
	}
	res.Identity = auth.Identity{Issuer: "https://login.example.com/tenant-b/v2.0", Subject: "42", Login: "mallory"}
	res.Tokens.IDToken = "id-token-of-tenant-b" // the identity is an ID token's
	return res, nil
}

// A refresh whose ID token names the session's subject at another issuer
// is another user (OpenID Connect Core 12.2: iss and sub must be the
// original's): the session ends instead of taking that identity. (An
// identity without an ID token, read from a profile, is compared by
// subject only: a GitHub or LDAP issuer is a configured URL.)
func TestRefreshFromAnotherIssuerEndsSession(t *testing.T) {
	p := newPortal(t, auth.Options{})
	stub := newStub(time.Hour, p.clk.Now)
	stub.Identity.Issuer = "https://login.example.com/tenant-a/v2.0"
	if err := p.h.Register("stub", "development", otherIssuerOnRefresh{stub}); err != nil {
		t.Fatal(err)
	}
	c, resp, body := p.signIn(t, "stub")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	p.clk.Advance(58 * time.Minute) // within the refresh margin
	if st, body := refreshStatus(t, p, c, "stub"); st != http.StatusUnauthorized {
		t.Fatalf("a refresh naming another issuer's user: %d %s", st, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("the session is still served after its refresh named another issuer's user: %d", st)
	}
}
