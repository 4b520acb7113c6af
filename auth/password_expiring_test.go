package auth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// expiringPasswordProvider is a PasswordProvider whose sign-ins carry
// tokens that expire (one over an OAuth password grant: SignIn.Tokens may
// be set).
type expiringPasswordProvider struct{ now func() time.Time }

func (*expiringPasswordProvider) Info() auth.ProviderInfo {
	return auth.ProviderInfo{Type: "ropc", Issuer: "https://idp.example.com"}
}

func (d *expiringPasswordProvider) Authenticate(_ context.Context, user, password string) (*auth.SignIn, error) {
	if user != "alice" || password != "wonderland" {
		return nil, errcode.New(errcode.Unauthorized, "directory", "invalid username or password")
	}
	return &auth.SignIn{Identity: auth.Identity{Subject: "alice", Login: "alice"},
		Tokens: auth.Tokens{AccessToken: "at", RefreshToken: "rt", Expiry: d.now().Add(time.Hour)}}, nil
}

// TestPasswordSessionWithExpiringTokens: a registered provider that cannot
// refresh (a password provider) keeps its session while its token lives,
// /refresh included, and ends it once the token expired; it is never taken
// for a provider removed from the configuration.
func TestPasswordSessionWithExpiringTokens(t *testing.T) {
	p := newPortal(t, auth.Options{})
	if err := p.h.Register("ldap", "development", &expiringPasswordProvider{now: p.clk.Now}); err != nil {
		t.Fatal(err)
	}
	c := passwordLogin(t, p)
	p.clk.Advance(56 * time.Minute) // within the refresh margin, the token still valid
	if st, body := refreshStatus(t, p, c, "ldap"); st != http.StatusOK {
		t.Fatalf("/refresh while the token lives: %d %s", st, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusOK {
		t.Fatalf("page while the token lives: %d", st)
	}
	p.clk.Advance(5 * time.Minute) // expired
	if st, body := refreshStatus(t, p, c, "ldap"); st != http.StatusUnauthorized || body == "" {
		t.Fatalf("/refresh after the token expired: %d %s", st, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("page after the token expired: %d", st)
	}
}

// TestPasswordSessionExpiredWithoutRefresh: Handler.Session alone (the app
// never calls /refresh) stops serving a session whose tokens nothing can
// renew once they expire.
func TestPasswordSessionExpiredWithoutRefresh(t *testing.T) {
	p := newPortal(t, auth.Options{})
	if err := p.h.Register("ldap", "development", &expiringPasswordProvider{now: p.clk.Now}); err != nil {
		t.Fatal(err)
	}
	c := passwordLogin(t, p)
	p.clk.Advance(2 * time.Hour)
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("an hour after its token expired, never refreshed: page %d", st)
	}
}
