package githubapp_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/integrations"
)

// A cached installation token that GitHub has revoked (an owner changed
// the installation, an admin revoked it) must not keep a selected-
// repositories installation failing until the token would have expired:
// when GitHub answers 401 to the repository listing made with it, the
// token is dropped and minted again, once, and the listing retried with
// the new one.
func TestSelectedRepositoriesRevokedTokenIsReminted(t *testing.T) {
	s := newSetup(t, nil, func(o *githubapp.Options) { o.RepositoriesTTL = time.Minute })
	s.fake.Add(apptest.Installation{ID: 3, Login: "acme", Selection: "selected", Repos: []string{"a"}})
	first, err := s.app.Token(t.Context(), "acme", "a")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	var rejected atomic.Int32
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer "+first.Token {
			return false
		}
		rejected.Add(1)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`))
		return true
	})
	s.clock.Advance(2 * time.Minute) // the repository list is stale, the token is not
	before := s.fake.Count("POST /app/installations/3/access_tokens")
	tok, err := s.app.Token(t.Context(), "acme", "a")
	if err != nil {
		t.Fatalf("Token after the cached token was revoked: %v", err)
	}
	if tok.Token == first.Token {
		t.Fatalf("Token returned the revoked token again")
	}
	if got := s.fake.Count("POST /app/installations/3/access_tokens") - before; got != 1 {
		t.Errorf("minted %d tokens after the 401; want 1", got)
	}
	if got := rejected.Load(); got != 1 {
		t.Errorf("the revoked token was sent %d times; want 1", got)
	}
	// The new token is cached: no more requests.
	n := s.fake.Requests()
	if again, err := s.app.Token(t.Context(), "acme", "a"); err != nil || again != tok {
		t.Errorf("Token again = %v, %v; want the new cached token", again, err)
	}
	if got := s.fake.Requests() - n; got != 0 {
		t.Errorf("cached Token made %d requests; want 0", got)
	}
}

// A token that GitHub keeps rejecting, even freshly minted, is reported
// after one new mint, never minted in a loop.
func TestSelectedRepositoriesRejectedTokenDoesNotLoop(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 3, Login: "acme", Selection: "selected", Repos: []string{"a"}})
	// The owner is known first, so that the repository is checked by
	// listing the installation's repositories: a cold lookup through the
	// repository itself proves it without one (see
	// TestSelectedRepositoryProvenByLookup).
	if _, err := s.app.Installation(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/installation/repositories" {
			return false
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Bad credentials","status":"401"}`))
		return true
	})
	_, err := s.app.Token(t.Context(), "acme", "a")
	if err == nil {
		t.Fatal("Token succeeded although GitHub rejects every installation token")
	}
	if got := s.fake.Count("POST /app/installations/3/access_tokens"); got != 2 {
		t.Errorf("minted %d tokens; want 2 (the first, and one after the 401)", got)
	}
	// The first token twice (a token minted moments ago is tried again
	// after a second: GitHub may not know it yet), the new one once.
	if got := s.fake.Count("GET /installation/repositories"); got != 3 {
		t.Errorf("listed %d times; want 3", got)
	}
}

// With allowedInstallationOwners, the publicAccess token comes from an
// installation of an allowed owner: an app that anyone may install must
// not read on behalf of an installation the configuration excludes (an
// account that installed the app to sit first in its list, say).
func TestPublicTokenUsesAnAllowedInstallation(t *testing.T) {
	s := newSetup(t, func(c *integrations.GitHubAppConfig) {
		c.PublicAccess = true
		c.AllowedInstallationOwners = []string{"Acme"}
	}, nil)
	s.fake.Add(apptest.Installation{ID: 5, Login: "stranger"}, apptest.Installation{ID: 9, Login: "acme"})
	tok, err := s.app.PublicToken(t.Context())
	if err != nil {
		t.Fatalf("PublicToken: %v", err)
	}
	if tok.InstallationID != 9 {
		t.Errorf("InstallationID = %d; want 9, the installation of the allowed owner acme", tok.InstallationID)
	}

	none := newSetup(t, func(c *integrations.GitHubAppConfig) {
		c.PublicAccess = true
		c.AllowedInstallationOwners = []string{"acme"}
	}, nil)
	none.fake.Add(apptest.Installation{ID: 5, Login: "stranger"})
	if tok, err := none.app.PublicToken(t.Context()); !errors.Is(err, githubapp.ErrNotInstalled) {
		t.Errorf("PublicToken with only a disallowed installation = %v, %v; want ErrNotInstalled", tok, err)
	}
}

// TestFreshTokenNotYetKnownIsTriedAgain: GitHub may refuse a token minted
// moments ago (not every server knows it yet): it is tried once more
// after a second, not thrown away for another that would fare the same.
func TestFreshTokenNotYetKnownIsTriedAgain(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 3, Login: "acme", Selection: "selected", Repos: []string{"a"}})
	// The owner is known first, so that the repository is checked by
	// listing the installation's repositories: a cold lookup through the
	// repository itself proves it without one (see
	// TestSelectedRepositoryProvenByLookup).
	if _, err := s.app.Installation(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	var seen sync.Map // tokens GitHub has refused once
	var rejected atomic.Int32
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		a := r.Header.Get("Authorization")
		if !strings.HasPrefix(a, "Bearer ghs_") {
			return false
		}
		if _, loaded := seen.LoadOrStore(a, true); loaded {
			return false
		}
		rejected.Add(1)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`))
		return true
	})
	tok, err := s.app.Token(t.Context(), "acme", "a")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if n := s.fake.Count("POST /app/installations/3/access_tokens"); n != 1 || rejected.Load() != 1 || tok == nil {
		t.Errorf("minted %d tokens, %d refusals; want 1 token, used again after its refusal", n, rejected.Load())
	}
}
