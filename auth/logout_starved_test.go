package auth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// TestLogoutNotStarvedByRefreshes is a regression test: replicas share a
// store and the provider hangs on refresh, so other replicas' refreshes
// keep taking the session's refresh lease; logout waited for the lease
// for its whole lifetime before ending the session, which kept being
// served. Now it waits logoutLeaseWait (2 s) at most.
func TestLogoutNotStarvedByRefreshes(t *testing.T) {
	t.Parallel()
	clk := testclock.New(time.Now())
	store := auth.NewMemoryStore(&auth.MemoryStoreOptions{Now: time.Now}) // real time for leases
	var srvs []*httptest.Server
	p := newStub(8*time.Hour, clk.Now)
	p.RefreshDelay = time.Hour // stuck provider
	for i := 0; i < 4; i++ {
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		defer srv.Close()
		h, err := auth.New(&auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"),
			Environment: "development", Store: store, Now: clk.Now, ProviderTimeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Register("github", "development", p); err != nil {
			t.Fatal(err)
		}
		mux.Handle("/api/auth/", h)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if _, err := h.Session(r); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			io.WriteString(w, "hello alice")
		})
		srvs = append(srvs, srv)
	}
	c := browser(t)
	if resp, body := get(t, c, srvs[0].URL+"/api/auth/github/start?env=development&flow=redirect&redirectUrl=/home"); body != "hello alice" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
	u, _ := url.Parse(srvs[0].URL)
	var cookie *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "session") {
			cookie = ck
		}
	}
	clk.Advance(8*time.Hour - time.Minute)
	var stop atomic.Bool
	for i := 0; i < 3; i++ {
		go func(srv string) {
			for !stop.Load() {
				req, _ := http.NewRequest(http.MethodGet, srv+"/api/auth/github/refresh", nil)
				req.Header.Set("X-Requested-With", "XMLHttpRequest")
				req.AddCookie(cookie)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}(srvs[i].URL)
	}
	time.Sleep(100 * time.Millisecond)
	done := make(chan int, 1)
	start := time.Now()
	go func() {
		lreq, _ := http.NewRequest(http.MethodPost, srvs[3].URL+"/api/auth/github/logout", nil)
		lreq.Header.Set("X-Requested-With", "XMLHttpRequest")
		lreq.AddCookie(cookie)
		lresp, err := http.DefaultClient.Do(lreq)
		if err != nil {
			done <- 0
			return
		}
		lresp.Body.Close()
		done <- lresp.StatusCode
	}()
	time.Sleep(2500 * time.Millisecond)
	req, _ := http.NewRequest(http.MethodGet, srvs[3].URL+"/", nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("2.5 s into a logout racing refreshes, the session answers %d %q; want 401", resp.StatusCode, b)
	}
	st := <-done
	stop.Store(true)
	if st != http.StatusOK {
		t.Errorf("logout: %d after %v", st, time.Since(start))
	}
}
