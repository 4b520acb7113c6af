package auth_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
)

// hookStore runs beforeDelete (once) before its first Delete.
type hookStore struct {
	*auth.MemoryStore
	once         sync.Once
	beforeDelete func()
}

func (s *hookStore) Delete(ctx context.Context, key string) error {
	if s.beforeDelete != nil {
		s.once.Do(s.beforeDelete)
	}
	return s.MemoryStore.Delete(ctx, key)
}

// TestLogoutHoldsTheRefreshLease is a regression test: a refresh that
// stored rotated tokens between logout's read of the session and its
// delete had them deleted unseen, and logout revoked the spent ones. Now
// logout reads and deletes holding the refresh lease: a refresh arriving
// in that window (here, while logout deletes) cannot rotate the tokens;
// it finds the session ended, and the tokens revoked are the newest the
// provider issued.
func TestLogoutHoldsTheRefreshLease(t *testing.T) {
	var store *hookStore
	e := newEnvWith(t, func(m *auth.MemoryStore) auth.SessionStore { store = &hookStore{MemoryStore: m}; return store })
	srv, p, clk := e.srv, e.p, e.clk
	_, cookie := e.signedIn(t)
	clk.Advance(8*time.Hour - time.Minute) // due for refresh
	refreshed := make(chan int, 1)
	store.beforeDelete = func() {
		// Another tab's refresh arrives right now (another replica).
		go func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/auth/github/refresh", nil)
			req.Header.Set("X-Requested-With", "XMLHttpRequest")
			req.AddCookie(cookie)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				refreshed <- 0
				return
			}
			resp.Body.Close()
			refreshed <- resp.StatusCode
		}()
		time.Sleep(100 * time.Millisecond) // room for it to rotate, had it the lease
	}
	lreq, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/auth/github/logout", nil)
	lreq.Header.Set("X-Requested-With", "XMLHttpRequest")
	lreq.AddCookie(cookie)
	lresp, err := http.DefaultClient.Do(lreq)
	if err != nil || lresp.StatusCode != 200 {
		t.Fatalf("logout: %v %v", lresp, err)
	}
	lresp.Body.Close()
	if st := <-refreshed; st != http.StatusUnauthorized {
		t.Errorf("the refresh arriving during logout: %d, want 401 (the session has ended)", st)
	}
	if n := p.Refreshes.Load(); n != 0 {
		t.Errorf("the provider rotated the tokens %d times behind logout's back", n)
	}
	if rv := p.Revoked(); len(rv) != 1 || rv[0].RefreshToken != "rt-1" {
		t.Errorf("logout revoked %+v, want the tokens in force (rt-1) once", rv)
	}
}
