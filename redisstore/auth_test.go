package redisstore_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/redisstore"
)

// authFleet is n auth.Handler replicas, each with its own SessionStore
// on one Redis, behind one address that spreads requests round-robin.
type authFleet struct {
	srv *httptest.Server
	p   *authtest.Provider
	clk *testclock.Clock
}

func newAuthFleet(t testing.TB, r *testsvc.Redis, n int) *authFleet {
	t.Helper()
	clk := newClock()
	// GitHub's strict rotation: every refresh token works once, and only
	// the newest one works; a refresh takes a round trip, so that callers
	// overlap.
	p := &authtest.Provider{ProviderInfo: auth.ProviderInfo{Type: "github", Host: "github.com"},
		AccessPrefix: "ghu_", RefreshPrefix: "ghr_", Lifetime: 8 * time.Hour, Now: clk.Now, RefreshDelay: 20 * time.Millisecond}
	var next atomic.Uint64
	handlers := make([]http.Handler, n)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers[next.Add(1)%uint64(n)].ServeHTTP(w, r)
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	for i := range handlers {
		store := openStore(t, r, &redisstore.Options{Now: clk.Now}).Sessions(nil)
		h, err := auth.New(&auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"),
			Environment: "development", Store: store, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Register("github", "development", p); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/api/auth/", h)
		// The portal's own route: it reads the GitHub credential of the
		// signed-in user, as a call to scm.Client.ForUser would.
		mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
			s, err := h.Session(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			c, err := s.UserCredentials()["github.com"].Credential(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			io.WriteString(w, c.Token)
		})
		handlers[i] = mux
	}
	return &authFleet{srv: srv, p: p, clk: clk}
}

// signIn signs alice in and returns her browser.
func (f *authFleet) signIn(t testing.TB) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(f.srv.URL + "/api/auth/github/start?env=development&flow=redirect&redirectUrl=/token")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "ghu_") {
		t.Fatalf("sign-in ended with %d %q", resp.StatusCode, b)
	}
	return c
}

// burst sends n concurrent /token requests and returns the tokens seen
// and the failures.
func (f *authFleet) burst(t testing.TB, c *http.Client, n int) (map[string]int, int) {
	var mu sync.Mutex
	seen := map[string]int{}
	failed := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			resp, err := c.Get(f.srv.URL + "/token")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed++
				return
			}
			seen[string(b)]++
		})
	}
	close(start)
	wg.Wait()
	return seen, failed
}

// TestRefreshOncePerFleet: ten replicas, fifty concurrent requests of one
// user when her token is due, strict rotation: one refresh, no failure.
func TestRefreshOncePerFleet(t *testing.T) {
	r := testsvc.StartRedis(t)
	f := newAuthFleet(t, r, 10)
	c := f.signIn(t)
	f.clk.Advance(8*time.Hour - time.Minute) // within the refresh margin
	seen, failed := f.burst(t, c, 50)
	if failed != 0 {
		t.Errorf("%d of 50 requests failed", failed)
	}
	if n := f.p.Refreshes.Load(); n != 1 {
		t.Errorf("refreshes = %d; want 1 (refused: %d)", n, f.p.Refused.Load())
	}
	if len(seen) != 1 || seen["ghu_2"] != 50-failed {
		t.Errorf("tokens handed out: %v; want ghu_2 only", seen)
	}
}

// TestRefreshAfterAbandonedLease: a replica took the user's refresh lease
// and died. The others wait no longer than its lease, then one refreshes:
// one refresh, no failure.
func TestRefreshAfterAbandonedLease(t *testing.T) {
	r := testsvc.StartRedis(t)
	f := newAuthFleet(t, r, 5)
	c := f.signIn(t)
	keys, err := rawClient(t, r).Keys(t.Context(), "scmkit:s:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("session keys: %v, %v", keys, err)
	}
	sessionKey := strings.TrimPrefix(keys[0], "scmkit:s:")
	const lease = 700 * time.Millisecond
	dead := openStore(t, r, nil).Sessions(nil)
	// Timed from before the lease is taken: it lapses no earlier than
	// lease after start, however long taking it took on a loaded machine.
	start := time.Now()
	if _, err := dead.Acquire(t.Context(), "refresh:"+sessionKey, lease); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(8*time.Hour - time.Minute)
	seen, failed := f.burst(t, c, 20)
	took := time.Since(start)
	if failed != 0 || len(seen) != 1 || seen["ghu_2"] != 20 {
		t.Errorf("after an abandoned lease: %d failed, tokens %v; want ghu_2 for all", failed, seen)
	}
	if n := f.p.Refreshes.Load(); n != 1 {
		t.Errorf("refreshes = %d; want 1", n)
	}
	if took < lease-100*time.Millisecond || took > lease+2*time.Second {
		t.Errorf("requests took %v; want about the abandoned lease (%v), no more", took, lease)
	}
}
