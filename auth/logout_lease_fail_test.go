package auth_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// failAcquire fails its next fails Acquires.
type failAcquire struct {
	*auth.MemoryStore
	fails atomic.Int32
}

func (s *failAcquire) Acquire(ctx context.Context, name string, ttl time.Duration) (auth.Lease, error) {
	if s.fails.Add(-1) >= 0 {
		return auth.Lease{}, errcode.New(errcode.Unavailable, "x", "store hiccup")
	}
	return s.MemoryStore.Acquire(ctx, name, ttl)
}

// TestLogoutRevokesWhenTheLeaseFails is a regression test: a logout whose
// refresh lease could not be taken (a store error, twice) deleted the
// session, answered 503 "try again", and never revoked the tokens, since
// the retry found nothing to revoke. Now what it deleted is revoked.
func TestLogoutRevokesWhenTheLeaseFails(t *testing.T) {
	var store *failAcquire
	e := newEnvWith(t, func(m *auth.MemoryStore) auth.SessionStore { store = &failAcquire{MemoryStore: m}; return store })
	srv, p := e.srv, e.p
	_, cookie := e.signedIn(t)
	logout := func() int {
		lreq, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/auth/github/logout", nil)
		lreq.Header.Set("X-Requested-With", "XMLHttpRequest")
		lreq.AddCookie(cookie)
		lresp, err := http.DefaultClient.Do(lreq)
		if err != nil {
			t.Fatal(err)
		}
		lresp.Body.Close()
		return lresp.StatusCode
	}
	store.fails.Store(2)
	st1 := logout()
	st2 := logout()
	if rv := p.Revoked(); len(rv) != 1 || st2 != http.StatusOK {
		t.Errorf("first logout %d, retry %d, revoked %d times; want the deleted session's tokens revoked once", st1, st2, len(rv))
	}
}
