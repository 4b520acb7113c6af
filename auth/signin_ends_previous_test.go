package auth_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// keyStore remembers the keys written, in order.
type keyStore struct {
	*auth.MemoryStore
	mu   sync.Mutex
	keys []string
}

func (s *keyStore) Put(ctx contextT, key string, data []byte, ttl time.Duration) (int64, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	return s.MemoryStore.Put(ctx, key, data, ttl)
}

// Signing in again in a browser that has a session ends that session, so
// that its cookie (stolen, or planted by an attacker) stops working. A
// refresh of it in flight on another replica writes the session back when
// its provider answers (PutFenced under the refresh lease): the sign-in
// deleted it without waiting for that refresh, and the old cookie lived
// on. It now ends it as logout does, after the refresh's write.
func TestSignInEndsThePreviousSessionDespiteARefreshInFlight(t *testing.T) {
	store := &keyStore{MemoryStore: auth.NewMemoryStore(nil)}
	p := newPortal(t, auth.Options{Store: store, ProviderTimeout: 2 * time.Second})
	if err := p.h.Register("ldap", "development", directory{}); err != nil {
		t.Fatal(err)
	}
	login := func(old *http.Cookie) *http.Cookie {
		req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/api/auth/ldap/login", strings.NewReader(`{"username":"alice","password":"wonderland"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		if old != nil {
			req.AddCookie(old)
		}
		resp, body := send(t, noFollow(), req)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("login: %d %s", resp.StatusCode, body)
			return nil
		}
		for _, c := range resp.Cookies() {
			if c.Name == "scmkit-session" && c.Value != "" {
				return c
			}
		}
		t.Error("no session cookie")
		return nil
	}
	first := login(nil)
	oldKey := store.keys[0]
	rec, err := store.Get(t.Context(), oldKey)
	if err != nil {
		t.Fatal(err)
	}
	// Another replica is refreshing the first session.
	lease, err := store.Acquire(t.Context(), "refresh:"+oldKey, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *http.Cookie)
	go func() { done <- login(first) }()
	time.Sleep(100 * time.Millisecond) // the sign-in is under way
	// The refresh finishes: it writes the session back, then lets go.
	if _, err := store.PutFenced(t.Context(), lease, oldKey, rec.Data, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := store.Release(t.Context(), lease); err != nil {
		t.Fatal(err)
	}
	second := <-done
	if second == nil || second.Value == first.Value {
		t.Fatal("the second sign-in kept the first session id")
	}
	r, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/", nil)
	r.AddCookie(first)
	if s, err := p.h.Session(r); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Fatalf("the first session after a second sign-in in its browser: %v, %v; want Unauthorized", s, err)
	}
}
