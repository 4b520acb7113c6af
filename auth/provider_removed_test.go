package auth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// A deployment restarted with its (only) provider removed, say to lock
// users out after a compromise, ends that provider's sessions as one with
// another provider left does: only Options.ReadOnly makes a Handler that
// leaves them to other replicas (TestReadOnlyHandlerKeepsSessions).
func TestAllProvidersRemovedEndsSessions(t *testing.T) {
	for _, other := range []bool{true, false} {
		name := map[bool]string{true: "another provider remains", false: "no provider remains"}[other]
		t.Run(name, func(t *testing.T) {
			clk := testclock.New(time.Now())
			store := auth.NewMemoryStore(nil)
			p1 := newPortal(t, auth.Options{Now: clk.Now, Store: store})
			p1.clk = clk
			registerGitHub(t, p1, githubWorld(t, false, clk.Now)) // OAuth App: tokens that never expire
			c, _, _ := p1.signIn(t, "github")
			p2 := newPortal(t, auth.Options{Now: clk.Now, Store: store}) // restarted without github
			p2.clk = clk
			if other {
				if err := p2.h.Register("ldap", "development", &leavingDirectory{}); err != nil {
					t.Fatal(err)
				}
			}
			clk.Advance(2 * time.Hour) // the 1-hour re-check is due
			st, body := refreshStatus(t, p2, c, "github")
			if st != http.StatusUnauthorized {
				t.Errorf("%s: the session of a provider no longer configured is refreshed: %d %.120s", name, st, body)
			}
			if pst := pageStatus(t, p2, c); pst != http.StatusUnauthorized {
				t.Errorf("%s: the session of a provider no longer configured is still served: %d", name, pst)
			}
		})
	}
}

// The same for an expiring GitHub App token: with no provider left, the
// session gets no grace past its token's expiry.
func TestAllProvidersRemovedNoGraceOnExpiring(t *testing.T) {
	clk := testclock.New(time.Now())
	store := auth.NewMemoryStore(nil)
	p1 := newPortal(t, auth.Options{Now: clk.Now, Store: store})
	p1.clk = clk
	registerGitHub(t, p1, githubWorld(t, true, clk.Now))
	c, _, _ := p1.signIn(t, "github")
	p2 := newPortal(t, auth.Options{Now: clk.Now, Store: store})
	p2.clk = clk
	clk.Advance(8*time.Hour + 23*time.Hour) // the token expired 23 h ago
	if st := pageStatus(t, p2, c); st != http.StatusUnauthorized {
		t.Errorf("23 h after its token expired, with its provider removed, the session is still served: %d", st)
	}
}
