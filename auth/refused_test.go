package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// keysStore remembers the keys it was asked to store.
type keysStore struct {
	*auth.MemoryStore
	mu   sync.Mutex
	keys []string
}

func (s *keysStore) Put(ctx context.Context, key string, data []byte, ttl time.Duration) (int64, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	return s.MemoryStore.Put(ctx, key, data, ttl)
}

// A sign-in that Options.BackstageIdentity refuses (no catalog user, say)
// leaves no session: none in the store, and no usable cookie.
func TestRefusedSignInLeavesNoSession(t *testing.T) {
	store := &keysStore{MemoryStore: auth.NewMemoryStore(nil)}
	p := newPortal(t, auth.Options{Store: store, BackstageIdentity: func(context.Context, *auth.Session) (*auth.BackstageIdentity, error) {
		return nil, errcode.New(errcode.NotFound, "resolve", "no catalog user for alice")
	}})
	if err := p.h.Register("ldap", "development", directory{}); err != nil {
		t.Fatal(err)
	}
	c := noFollow()
	req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/api/auth/ldap/login", strings.NewReader(`{"username":"alice","password":"wonderland"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, body := send(t, c, req)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Sign-in refused") {
		t.Fatalf("login = %d %s, want 403 Sign-in refused", resp.StatusCode, body)
	}
	store.mu.Lock()
	keys := append([]string(nil), store.keys...)
	store.mu.Unlock()
	if len(keys) == 0 {
		t.Fatal("the session was never stored; the test does not exercise the refusal after establish")
	}
	for _, k := range keys {
		if _, err := store.Get(t.Context(), k); errcode.CodeOf(err) != errcode.NotFound {
			t.Errorf("the refused session %q is still in the store (Get: %v)", k, err)
		}
	}
	u, _ := url.Parse(p.srv.URL + "/")
	check, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/", nil)
	for _, ck := range c.Jar.Cookies(u) {
		check.AddCookie(ck)
	}
	if s, err := p.h.Session(check); err == nil || !errors.Is(err, errcode.ErrUnauthorized) && errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("the browser still has a session after a refused sign-in: %v, %v", s, err)
	}
}
