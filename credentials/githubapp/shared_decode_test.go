package githubapp_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
)

// memShared is an in-memory SharedStore; it stores secrets as they are.
type memShared struct {
	mu    sync.Mutex
	m     map[string][]byte
	fence int64
}

func (s *memShared) Load(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return append([]byte(nil), v...), ok, nil
}

func (s *memShared) Lease(context.Context, string, time.Duration) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fence++
	return s.fence, nil
}

func (s *memShared) Save(_ context.Context, key string, value []byte, _ time.Duration, _ int64, _ bool) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = append([]byte(nil), value...)
	return true, nil
}

func (s *memShared) Release(context.Context, string, int64) error { return nil }

func (s *memShared) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// sharedEntry wraps value as the shared cache stores an entry: the value,
// and when it expires and is due for renewal (here, far in the future).
func sharedEntry(t *testing.T, value string) []byte {
	t.Helper()
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	b, err := json.Marshal(map[string]any{"v": []byte(value), "e": far, "r": far})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSharedValuesThatAreNotThisAppsAreIgnored: what the shared store
// holds under the app's keys is used only when it is the app's own: a
// token another app minted, or an installation without an id, is
// ignored, and the app looks up and mints its own.
func TestSharedValuesThatAreNotThisAppsAreIgnored(t *testing.T) {
	prefix := "githubapp:github.com:" + strconv.FormatInt(apptest.AppID, 10) + ":"
	for _, tc := range []struct {
		name, key, value string
	}{
		{"another app's token", prefix + "token:5",
			`{"token":"ghs_another_apps","expires_at":"2100-01-01T00:00:00Z","app_id":999,"installation_id":5,"source":"another app"}`},
		{"an installation without an id", prefix + "installation:acme",
			`{"ID":0,"AppID":` + strconv.FormatInt(apptest.AppID, 10) + `,"Account":"acme","AccountType":"Organization","RepositorySelection":"all"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &memShared{m: map[string][]byte{tc.key: sharedEntry(t, tc.value)}}
			s := newSetup(t, nil, func(o *githubapp.Options) { o.Shared = store })
			s.fake.Add(apptest.Installation{ID: 5, Login: "acme"})
			tok, err := s.app.Token(t.Context(), "acme", "")
			if err != nil {
				t.Fatal(err)
			}
			if tok.Token == "ghs_another_apps" || tok.InstallationID != 5 || tok.AppID != apptest.AppID {
				t.Errorf("Token = %#v; want a token this app minted for installation 5", tok)
			}
			for route, n := range s.fake.Routes() {
				if strings.Contains(route, "/installations/0/") {
					t.Errorf("%d request(s) %s; want none for an installation without an id", n, route)
				}
			}
		})
	}
}
