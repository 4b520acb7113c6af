package auth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
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
