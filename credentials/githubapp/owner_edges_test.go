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
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// TestOwnerNameLengthLimitIsExact: a login of 100 characters is looked up,
// one of 101 is refused without a request.
func TestOwnerNameLengthLimitIsExact(t *testing.T) {
	s := newSetup(t, nil, nil)
	if _, err := s.app.Token(t.Context(), strings.Repeat("a", 101), ""); errcode.CodeOf(err) != errcode.InvalidArgument || s.fake.Requests() != 0 {
		t.Errorf("101-character owner: %v after %d requests; want InvalidArgument and none", err, s.fake.Requests())
	}
	login := strings.Repeat("a", 100)
	s.fake.Add(apptest.Installation{ID: 9, Login: login})
	if tok, err := s.app.Token(t.Context(), login, ""); err != nil || tok.InstallationID != 9 {
		t.Errorf("100-character owner: %v, %v; want installation 9's token", tok, err)
	}
}

// TestSuspensionSeenAfterATokenWasCachedStopsTheToken: once a fresh
// lookup finds the installation suspended, the token minted before is
// not handed out again, on the first call or the next ones.
func TestSuspensionSeenAfterATokenWasCachedStopsTheToken(t *testing.T) {
	s := newSetup(t, nil, func(o *githubapp.Options) {
		o.InstallationTTL = time.Minute
		o.NotInstalledTTL = time.Minute
	})
	s.fake.Add(apptest.Installation{ID: 5, Login: "acme"})
	if _, err := s.app.Token(t.Context(), "acme", ""); err != nil {
		t.Fatal(err)
	}
	var suspended atomic.Bool
	suspended.Store(true)
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/installation") || !suspended.Load() {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":5,"app_id":4242,"account":{"login":"acme","type":"Organization"},"repository_selection":"all",` +
			`"permissions":{"contents":"read"},"suspended_at":"2026-01-01T00:00:00Z","suspended_by":{"login":"admin"}}`))
		return true
	})
	s.clock.Advance(2 * time.Minute) // the installation is looked up again; the token is still fresh
	for i := range 3 {
		if tok, err := s.app.Token(t.Context(), "acme", ""); !errors.Is(err, githubapp.ErrSuspended) {
			t.Fatalf("Token #%d after the suspension = %v, %v; want ErrSuspended", i, tok, err)
		}
	}
}

// TestNewRefusesAnAPIBaseURLThatIsNotHTTP: the app's JWT and tokens go
// only to an http(s) API base with a host.
func TestNewRefusesAnAPIBaseURLThatIsNotHTTP(t *testing.T) {
	cfg := integrations.GitHubAppConfig{AppID: apptest.AppID, PrivateKey: integrations.NewSecret(apptest.PrivateKeyPEM())}
	for _, base := range []string{"ftp://ghe.example.com/api/v3", "ws://ghe.example.com/api/v3", "ghe.example.com/api/v3", "https:///api/v3", "file:///etc"} {
		if _, err := githubapp.New(base, cfg, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("New(%q) = %v; want InvalidArgument", base, err)
		}
	}
	if _, err := githubapp.New("https://ghe.example.com/api/v3", cfg, nil); err != nil {
		t.Errorf("New(https) = %v", err)
	}
}
