package githubapp_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
)

// A suspended installation is remembered only as long as "not installed"
// is (NotInstalledTTL), not for InstallationTTL: once an owner unsuspends
// it, the app works again within a minute, not an hour.
func TestSuspendedAtLookupIsRecheckedAfterNotInstalledTTL(t *testing.T) {
	s := newSetup(t, nil, func(o *githubapp.Options) {
		o.NotInstalledTTL = time.Minute
		o.InstallationTTL = time.Hour
	})
	var suspended atomic.Bool
	suspended.Store(true)
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/installation") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		body := `{"id":5,"app_id":4242,"account":{"login":"acme","type":"Organization"},"repository_selection":"all","permissions":{"contents":"read"}`
		if suspended.Load() {
			body += `,"suspended_at":"2026-01-01T00:00:00Z","suspended_by":{"login":"admin"}`
		}
		w.Write([]byte(body + "}"))
		return true
	})
	s.fake.Add(apptest.Installation{ID: 5, Login: "acme"})
	if _, err := s.app.Token(t.Context(), "acme", ""); !errors.Is(err, githubapp.ErrSuspended) {
		t.Fatalf("Token = %v; want ErrSuspended", err)
	}
	lookups := s.fake.Requests()
	if _, err := s.app.Token(t.Context(), "acme", ""); !errors.Is(err, githubapp.ErrSuspended) {
		t.Fatalf("second Token = %v; want the remembered ErrSuspended", err)
	}
	if got := s.fake.Requests(); got != lookups {
		t.Errorf("second Token within NotInstalledTTL sent %d request(s); want 0", got-lookups)
	}
	suspended.Store(false)
	s.clock.Advance(time.Minute)
	tok, err := s.app.Token(t.Context(), "acme", "")
	if err != nil {
		t.Fatalf("Token a minute after the installation was unsuspended: %v; want a token", err)
	}
	if tok.InstallationID != 5 {
		t.Errorf("InstallationID = %d; want 5", tok.InstallationID)
	}
}

// GitHub answering a mint with "suspended" is remembered for
// NotInstalledTTL: callers get the error without a POST each, and the
// app tries again once it lapses.
func TestSuspendedAtMintIsRemembered(t *testing.T) {
	s := newSetup(t, nil, func(o *githubapp.Options) { o.NotInstalledTTL = time.Minute })
	s.fake.Add(apptest.Installation{ID: 5, Login: "acme"})
	var suspended atomic.Bool
	suspended.Store(true)
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !suspended.Load() {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"This installation has been suspended","documentation_url":"https://docs.github.com/rest"}`))
		return true
	})
	const mint = "POST /app/installations/5/access_tokens"
	for i := range 3 {
		if _, err := s.app.Token(t.Context(), "acme", ""); !errors.Is(err, githubapp.ErrSuspended) {
			t.Fatalf("Token #%d = %v; want ErrSuspended", i, err)
		}
	}
	if got := s.fake.Count(mint); got != 1 {
		t.Errorf("%d mints for 3 calls within NotInstalledTTL; want 1", got)
	}
	suspended.Store(false)
	s.clock.Advance(time.Minute)
	if _, err := s.app.Token(t.Context(), "acme", ""); err != nil {
		t.Fatalf("Token after NotInstalledTTL, unsuspended: %v", err)
	}
	if got := s.fake.Count(mint); got != 2 {
		t.Errorf("%d mints; want 2", got)
	}
}
