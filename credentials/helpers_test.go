package credentials

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

func newClock() *testclock.Clock { return testclock.New(time.Now().Truncate(time.Second)) }

// testIntegrations returns the integrations of cfg as integrations.NewRegistry
// validates and normalises them (with the implicit public entries).
func testIntegrations(cfg integrations.Config) []*integrations.Integration {
	reg, err := integrations.NewRegistry(cfg)
	if err != nil {
		panic("testIntegrations: " + err.Error())
	}
	return reg.List()
}

func secret(s string) integrations.Secret { return integrations.NewSecret(s) }

// tableResolver builds the Resolver of one case of a table test: cfg
// with opts (nil: the defaults), retrying without waiting.
func tableResolver(t *testing.T, cfg integrations.Config, opts *ResolverOptions) *Resolver {
	t.Helper()
	if opts == nil {
		opts = &ResolverOptions{}
	}
	opts.MinWait, opts.MaxWait = 1, 1
	r, err := newResolver(testIntegrations(cfg), nil, opts)
	if err != nil {
		t.Fatalf("newResolver: %v", err)
	}
	return r
}

// newFakeGitHub starts scm/scmtest/fakegithub (through apptest) with the
// fake's two apps registered.
func newFakeGitHub(t testing.TB, now func() time.Time) *apptest.Server {
	return apptest.New(t, now)
}

// app returns an app config for the fake GitHub's app.
func app(mod ...func(*integrations.GitHubAppConfig)) integrations.GitHubAppConfig {
	c := integrations.GitHubAppConfig{AppID: apptest.AppID, PrivateKey: secret(apptest.PrivateKeyPEM())}
	for _, m := range mod {
		m(&c)
	}
	return c
}

// fakeOAuth is an OAuth 2.0 token endpoint: the client-credentials grant
// (Bitbucket Cloud's OAuth consumers, with the client id and secret in a
// Basic header) and the refresh-token grant (a signed-in user's token).
// Its answers follow Bitbucket's and GitHub's documented token responses.
type fakeOAuth struct {
	*httptest.Server
	clientID, clientSecret string

	mu        sync.Mutex
	requests  int
	issued    int
	refresh   map[string]bool // refresh tokens that are valid
	rotate    bool            // issue a new refresh token on each refresh, and revoke the old one
	expiresIn int
	delay     time.Duration // a refresh answers this long after the grant (and any rotation) took effect
	fault     func(w http.ResponseWriter, r *http.Request) bool
	lastAuth  string
	lastForm  string
}

func newFakeOAuth(t testing.TB, clientID, clientSecret string) *fakeOAuth {
	f := &fakeOAuth{clientID: clientID, clientSecret: clientSecret, refresh: make(map[string]bool), expiresIn: 7200}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeOAuth) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *fakeOAuth) setFault(fault func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.fault = fault
	f.mu.Unlock()
}

func (f *fakeOAuth) serve(w http.ResponseWriter, r *http.Request) {
	// Read the body first: the server cancels r.Context() when the
	// client goes away only once the body has been consumed.
	formErr := r.ParseForm()
	f.mu.Lock()
	f.requests++
	fault := f.fault
	f.lastAuth = r.Header.Get("Authorization")
	f.mu.Unlock()
	if fault != nil && fault(w, r) {
		return
	}
	if formErr != nil || r.Method != http.MethodPost {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "expected a form POST")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastForm = r.PostForm.Encode()
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		id, sec, ok := r.BasicAuth()
		if !ok || id != f.clientID || sec != f.clientSecret {
			oauthFail(w, http.StatusUnauthorized, "invalid_client", "Invalid OAuth client credentials")
			return
		}
		f.issued++
		n := strconv.Itoa(f.issued)
		writeJSON(w, map[string]any{
			"access_token": "bbat-consumer-" + n, "scopes": "repository pullrequest", "expires_in": f.expiresIn,
			"token_type": "bearer", "state": "client_credentials", "refresh_token": "bbrt-" + n,
		})
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if !f.refresh[rt] {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid or has been revoked.")
			return
		}
		f.issued++
		n := strconv.Itoa(f.issued)
		body := map[string]any{"access_token": "ghu_user" + n, "token_type": "bearer", "expires_in": f.expiresIn, "scope": "repo"}
		if f.rotate {
			delete(f.refresh, rt)
			nrt := "ghr_rotated" + n
			f.refresh[nrt] = true
			body["refresh_token"] = nrt
		}
		if f.delay > 0 {
			// The old refresh token is gone already, whether or not the
			// client is still there to read the answer.
			delay := f.delay
			f.mu.Unlock()
			time.Sleep(delay)
			f.mu.Lock()
		}
		writeJSON(w, body)
	default:
		oauthFail(w, http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

func oauthFail(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc}) //nolint:errcheck // test server
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // test server
}

// mustNotContain fails if s contains any of secrets.
func mustNotContain(t testing.TB, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s %q shows a secret", what, s)
		}
	}
}
