package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
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
	clk := testclock.New(time.Now())
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	store := &failAcquire{MemoryStore: auth.NewMemoryStore(&auth.MemoryStoreOptions{Now: clk.Now})}
	h, err := auth.New(&auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"),
		Environment: "development", Store: store, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	p := newStub(8*time.Hour, clk.Now)
	if err := h.Register("github", "development", p); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/auth/", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, err := h.Session(r); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.Write([]byte("hello alice"))
	})
	c := browser(t)
	if resp, body := get(t, c, srv.URL+"/api/auth/github/start?env=development&flow=redirect&redirectUrl=/home"); body != "hello alice" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
	u, _ := url.Parse(srv.URL)
	var cookie *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "session") {
			cookie = ck
		}
	}
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
