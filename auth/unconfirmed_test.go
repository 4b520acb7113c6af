package auth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
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
