package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/internal/redact/redacttest"
)

func TestTokensAndSessionsNeverShowSecrets(t *testing.T) {
	tok := auth.Tokens{AccessToken: "ACCESS-SECRET", RefreshToken: "REFRESH-SECRET", IDToken: "ID-SECRET", Scope: "read:user", Expiry: time.Unix(1700000000, 0)}
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, true, nil)
	registerGitHub(t, p, fg)
	c, _, _ := p.signIn(t, "github")
	s := p.sessionOf(t, c)
	if s.Tokens.AccessToken == "" || s.Tokens.RefreshToken == "" {
		t.Fatal("the session has no tokens to hide")
	}
	secrets := []string{"ACCESS-SECRET", "REFRESH-SECRET", "ID-SECRET", s.Tokens.AccessToken, s.Tokens.RefreshToken}
	for i, v := range []any{tok, &tok, s, *s, s.UserCredentials(), s.UserCredentials()[fg.Host()]} {
		redacttest.Hidden(t, fmt.Sprintf("value %d (%T)", i, v), v, secrets...)
	}
	if !strings.Contains(fmt.Sprint(s), "github:alice") {
		t.Errorf("String = %q, want the user named", fmt.Sprint(s))
	}
}

// TestStoreSeesOnlyCiphertext checks that no token or profile field
// reaches the store in clear.
func TestStoreSeesOnlyCiphertext(t *testing.T) {
	store := &recordingStore{MemoryStore: auth.NewMemoryStore(nil)}
	p := newPortal(t, auth.Options{Store: store})
	fg := githubWorld(t, true, nil)
	registerGitHub(t, p, fg)
	c, _, _ := p.signIn(t, "github")
	s := p.sessionOf(t, c)
	if len(store.seen) == 0 {
		t.Fatal("nothing was stored")
	}
	for _, data := range store.seen {
		for _, clear := range []string{s.Tokens.AccessToken, s.Tokens.RefreshToken, "alice", "ghr_", "ghu_"} {
			if bytes.Contains(data, []byte(clear)) {
				t.Fatalf("the store received %q in clear", clear)
			}
		}
	}
	// A record moved to another key does not open there.
	var key string
	for k := range store.keys {
		key = k
	}
	if !strings.HasPrefix(key, "session:") || strings.Contains(key, cookieValue(t, p, c)) {
		t.Fatalf("store key %q reveals the cookie", key)
	}
}

type recordingStore struct {
	*auth.MemoryStore
	seen [][]byte
	keys map[string]bool
}

func (s *recordingStore) Put(ctx contextT, key string, data []byte, ttl time.Duration) (int64, error) {
	s.seen = append(s.seen, append([]byte(nil), data...))
	if s.keys == nil {
		s.keys = map[string]bool{}
	}
	s.keys[key] = true
	return s.MemoryStore.Put(ctx, key, data, ttl)
}

type contextT = context.Context

func cookieValue(t *testing.T, p *portal, c *http.Client) string {
	u, _ := url.Parse(p.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "scmkit-session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
