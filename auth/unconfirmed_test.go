package auth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// TestUnconfirmedSessionRefusedWithoutRefresh: a cookie holder who never
// calls /refresh does not keep a session of an account the directory
// removed: past RecheckInterval+RecheckGrace, Handler.Session refuses it.
func TestUnconfirmedSessionRefusedWithoutRefresh(t *testing.T) {
	p := newPortal(t, auth.Options{})
	dir := &leavingDirectory{}
	if err := p.h.Register("ldap", "development", dir); err != nil {
		t.Fatal(err)
	}
	c := passwordLogin(t, p)
	dir.gone.Store(true)
	p.clk.Advance(6 * 24 * time.Hour) // > 1h interval + 24h grace
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("6 days after the account was removed, never re-checked, Handler.Session still serves it: %d (re-checks: %d)", st, dir.rechecks.Load())
	}
}

// TestExpiredSessionRefusedWhileRefreshFails: a session whose provider
// tokens expire (a GitHub App's, 8 hours) and whose refreshes keep failing
// because the provider cannot be reached is served for RecheckGrace past
// the tokens' expiry, then refused by Handler.Session: an outage does not
// keep an unconfirmed user signed in for the rest of SessionDuration.
func TestExpiredSessionRefusedWhileRefreshFails(t *testing.T) {
	clk := testclock.New(time.Now())
	p := newPortal(t, auth.Options{Now: clk.Now, RecheckGrace: 4 * time.Hour})
	p.clk = clk
	fg := githubWorld(t, true, clk.Now)
	registerGitHub(t, p, fg)
	c, _, _ := p.signIn(t, "github")
	fg.Close() // the provider is unreachable from now on
	refresh := func() int {
		resp, _ := do(t, c, "POST", p.srv.URL+"/api/auth/github/refresh", map[string]string{"X-Requested-With": "XMLHttpRequest"})
		return resp.StatusCode
	}
	clk.Advance(8*time.Hour + time.Minute) // the tokens expired a minute ago
	if st := refresh(); st != http.StatusUnauthorized {
		t.Fatalf("refresh with the provider down: %d", st)
	}
	if st := pageStatus(t, p, c); st != http.StatusOK {
		t.Fatalf("within the grace, Handler.Session refuses the session: %d", st)
	}
	clk.Advance(4 * time.Hour) // 4h1m past the expiry: past the grace
	if st := refresh(); st != http.StatusUnauthorized {
		t.Fatalf("refresh with the provider down: %d", st)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("past the grace, with every refresh failed, Handler.Session still serves the session: %d", st)
	}
}

// TestSessionOfRemovedProviderEndsAtRefresh: a deployment restarted
// without a provider ends that provider's sessions at their next refresh,
// as it ends sessions whose tokens do not expire at their re-check.
func TestSessionOfRemovedProviderEndsAtRefresh(t *testing.T) {
	clk := testclock.New(time.Now())
	store := auth.NewMemoryStore(nil)
	p1 := newPortal(t, auth.Options{Now: clk.Now, Store: store})
	p1.clk = clk
	registerGitHub(t, p1, githubWorld(t, true, clk.Now))
	c, _, _ := p1.signIn(t, "github")
	p2 := newPortal(t, auth.Options{Now: clk.Now, Store: store}) // the same store, no github provider
	p2.clk = clk
	// Another provider stays: a Handler without any provider only reads
	// sessions, and leaves them to the replicas that serve sign-ins
	// (TestReadOnlyHandlerKeepsSessions).
	if err := p2.h.Register("ldap", "development", &leavingDirectory{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(8*time.Hour + time.Minute) // the GitHub App token expired
	resp, body := do(t, c, "POST", p2.srv.URL+"/api/auth/github/refresh", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "no longer configured") {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	if st := pageStatus(t, p2, c); st != http.StatusUnauthorized {
		t.Fatalf("the removed provider's session is still served after its refresh failed: %d", st)
	}
}

// TestSessionWithoutRefreshTokenEndsAtExpiry: an OpenID Connect sign-in
// without a refresh token (no offline_access) is served until its token
// expires, not RecheckGrace longer: nothing can renew it.
func TestSessionWithoutRefreshTokenEndsAtExpiry(t *testing.T) {
	p := newPortal(t, auth.Options{})
	op := startOP(t, p, "oidc", authtest.OPOptions{User: authtest.User{Subject: "u-7"}})
	registerOIDC(t, p, op)
	c, resp, body := p.signIn(t, "oidc")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	s := p.sessionOf(t, c)
	if s.Tokens.Expiry.IsZero() || s.Tokens.RefreshToken != "" {
		t.Fatalf("the OP gave expiry %v and a refresh token %v: not the case tested", s.Tokens.Expiry, s.Tokens.RefreshToken != "")
	}
	p.clk.Advance(s.Tokens.Expiry.Sub(p.clk.Now()) - time.Second)
	if st := pageStatus(t, p, c); st != http.StatusOK {
		t.Fatalf("before the token expires: %d", st)
	}
	// A refresh within the margin, with nothing to renew the token with,
	// answers with the session as it is while the token lives.
	if st, body := refreshStatus(t, p, c, "oidc"); st != http.StatusOK {
		t.Fatalf("/refresh before the token expires: %d %s", st, body)
	}
	p.clk.Advance(time.Minute)
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("a minute after the token expired, with no refresh token, Handler.Session serves the session: %d", st)
	}
}
