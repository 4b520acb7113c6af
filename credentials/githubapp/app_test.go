package githubapp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

func newClock() *testclock.Clock { return testclock.New(time.Now().Truncate(time.Second)) }

type setup struct {
	fake  *apptest.Server
	clock *testclock.Clock
	app   *githubapp.App
}

// newSetup starts a fake GitHub and an App talking to it; cfg and opts
// adjust the defaults.
func newSetup(t testing.TB, cfg func(*integrations.GitHubAppConfig), opts func(*githubapp.Options)) *setup {
	t.Helper()
	clk := newClock()
	fake := apptest.New(t, clk.Now)
	c := integrations.GitHubAppConfig{AppID: apptest.AppID, PrivateKey: integrations.NewSecret(apptest.PrivateKeyPEM())}
	if cfg != nil {
		cfg(&c)
	}
	o := githubapp.Options{Now: clk.Now, ConfigPath: "integrations.github[0].apps[0]", Host: "github.com",
		MinWait: time.Millisecond, MaxWait: 4 * time.Millisecond}
	if opts != nil {
		opts(&o)
	}
	app, err := githubapp.New(fake.URL, c, &o)
	if err != nil {
		t.Fatalf("githubapp.New: %v", err)
	}
	return &setup{fake: fake, clock: clk, app: app}
}

func TestTokenOrganization(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	tok, err := s.app.Token(t.Context(), "acme", "widgets")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got, want := tok.Source, "integrations.github[0].apps[0] installation 42"; got != want {
		t.Errorf("Source = %q; want %q", got, want)
	}
	if tok.InstallationID != 42 || tok.AppID != apptest.AppID || s.fake.InstallationOf(tok.Token) != 42 {
		t.Errorf("token %#v was not minted for installation 42", tok)
	}
	if got, want := tok.ExpiresAt, s.clock.Now().Add(time.Hour); !got.Equal(want) {
		t.Errorf("ExpiresAt = %v; want %v", got, want)
	}
	want := map[string]int{"GET /repos/acme/widgets/installation": 1, "POST /app/installations/42/access_tokens": 1}
	if diff := cmp.Diff(want, s.fake.Routes()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	// Cached: the same token, no request, whatever the owner's case.
	for _, owner := range []string{"acme", "ACME", "Acme"} {
		again, err := s.app.Token(t.Context(), owner, "other")
		if err != nil || again != tok {
			t.Errorf("Token(%q) = %v, %v; want the cached token", owner, again, err)
		}
	}
	if got := s.fake.Requests(); got != 2 {
		t.Errorf("requests = %d; want 2", got)
	}
}

func TestTokenUserAccount(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 7, Login: "octocat", Type: "User"})
	tok, err := s.app.Token(t.Context(), "octocat", "")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	inst, err := s.app.Installation(t.Context(), "OctoCat")
	if err != nil {
		t.Fatalf("Installation: %v", err)
	}
	wantInst := &githubapp.Installation{ID: 7, AppID: apptest.AppID, Account: "octocat", AccountType: "User",
		RepositorySelection: "all", Permissions: map[string]string{"contents": "read", "metadata": "read"}}
	if diff := cmp.Diff(wantInst, inst); diff != "" {
		t.Errorf("Installation (-want +got):\n%s", diff)
	}
	if tok.InstallationID != 7 {
		t.Errorf("InstallationID = %d; want 7", tok.InstallationID)
	}
	want := map[string]int{
		"GET /orgs/octocat/installation":          1,
		"GET /users/octocat/installation":         1,
		"POST /app/installations/7/access_tokens": 1,
	}
	if diff := cmp.Diff(want, s.fake.Routes()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestNotInstalledIsRememberedAndFallsBack(t *testing.T) {
	s := newSetup(t, nil, func(o *githubapp.Options) { o.NotInstalledTTL = time.Minute })
	_, err := s.app.Token(t.Context(), "nobody", "")
	if !errors.Is(err, githubapp.ErrNotInstalled) || errcode.CodeOf(err) != errcode.NotFound || !githubapp.Fallback(err) {
		t.Fatalf("Token = %v; want NotFound wrapping ErrNotInstalled", err)
	}
	if !strings.Contains(err.Error(), "app 4242 (integrations.github[0].apps[0]) is not installed for owner nobody") {
		t.Errorf("error %q does not say which app is not installed for whom", err)
	}
	if got := s.fake.Requests(); got != 2 {
		t.Errorf("requests = %d; want 2 (orgs then users)", got)
	}
	_, err2 := s.app.Token(t.Context(), "nobody", "")
	if err2 != err || s.fake.Requests() != 2 {
		t.Errorf("second Token = %v after %d requests; want the remembered error and no request", err2, s.fake.Requests())
	}
	// Installed meanwhile: seen once the negative entry lapses.
	s.fake.Add(apptest.Installation{ID: 9, Login: "nobody"})
	s.clock.Advance(time.Minute)
	if _, err := s.app.Token(t.Context(), "nobody", ""); err != nil {
		t.Errorf("Token after NotInstalledTTL: %v", err)
	}
}

func TestAllowedInstallationOwners(t *testing.T) {
	s := newSetup(t, func(c *integrations.GitHubAppConfig) { c.AllowedInstallationOwners = []string{"Acme"} }, nil)
	s.fake.Add(apptest.Installation{ID: 1, Login: "acme"}, apptest.Installation{ID: 2, Login: "other"})
	if _, err := s.app.Token(t.Context(), "ACME", ""); err != nil {
		t.Errorf("Token(ACME): %v", err)
	}
	_, err := s.app.Token(t.Context(), "other", "")
	if !errors.Is(err, githubapp.ErrOwnerNotAllowed) || errcode.CodeOf(err) != errcode.PermissionDenied || !githubapp.Fallback(err) {
		t.Errorf("Token(other) = %v; want PermissionDenied wrapping ErrOwnerNotAllowed", err)
	}
	if got := s.fake.Count("GET /orgs/other/installation"); got != 0 {
		t.Errorf("looked up a disallowed owner %d times; want 0", got)
	}
}

func TestSuspended(t *testing.T) {
	t.Run("seen at lookup", func(t *testing.T) {
		s := newSetup(t, nil, nil)
		s.fake.Add(apptest.Installation{ID: 5, Login: "acme", Suspended: true})
		_, err := s.app.Token(t.Context(), "acme", "")
		if !errors.Is(err, githubapp.ErrSuspended) || errcode.CodeOf(err) != errcode.PermissionDenied || githubapp.Fallback(err) {
			t.Fatalf("Token = %v; want PermissionDenied wrapping ErrSuspended, not a fallback", err)
		}
		if !strings.Contains(err.Error(), "installation 5 for acme is suspended") {
			t.Errorf("error %q does not say what is suspended", err)
		}
		if got := s.fake.Count("POST /app/installations/5/access_tokens"); got != 0 {
			t.Errorf("minted %d tokens for a suspended installation; want 0", got)
		}
	})
	t.Run("seen at mint", func(t *testing.T) {
		s := newSetup(t, nil, nil)
		s.fake.Add(apptest.Installation{ID: 5, Login: "acme"})
		s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"This installation has been suspended","documentation_url":"https://docs.github.com/rest"}`))
			return true
		})
		_, err := s.app.Token(t.Context(), "acme", "")
		if !errors.Is(err, githubapp.ErrSuspended) || errcode.CodeOf(err) != errcode.PermissionDenied {
			t.Fatalf("Token = %v; want PermissionDenied wrapping ErrSuspended", err)
		}
	})
}

func TestSelectedRepositories(t *testing.T) {
	s := newSetup(t, nil, func(o *githubapp.Options) { o.RepositoriesRefresh = time.Minute })
	names := make([]string, 150) // two pages
	for i := range names {
		names[i] = "repo-" + strconv.Itoa(i)
	}
	names[149] = "Hello-World"
	s.fake.Add(apptest.Installation{ID: 3, Login: "acme", Selection: "selected", Repos: names})
	// The owner is known first, so that the repository is checked by
	// listing the installation's repositories: a cold lookup through the
	// repository itself proves it without one (see
	// TestSelectedRepositoryProvenByLookup).
	if _, err := s.app.Installation(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}

	tok, err := s.app.Token(t.Context(), "acme", "hello-world")
	if err != nil {
		t.Fatalf("Token(hello-world): %v", err)
	}
	if tok.RepositorySelection != "selected" {
		t.Errorf("RepositorySelection = %q; want selected", tok.RepositorySelection)
	}
	if got := s.fake.Count("GET /installation/repositories"); got != 2 {
		t.Errorf("listed %d pages; want 2", got)
	}
	// No repository named: no check, no listing.
	if _, err := s.app.Token(t.Context(), "acme", ""); err != nil {
		t.Errorf("Token(no repo): %v", err)
	}
	before := s.fake.Requests()
	_, err = s.app.Token(t.Context(), "acme", "secret-plans")
	if !errors.Is(err, githubapp.ErrRepositoryNotSelected) || errcode.CodeOf(err) != errcode.PermissionDenied || githubapp.Fallback(err) {
		t.Fatalf("Token(secret-plans) = %v; want PermissionDenied wrapping ErrRepositoryNotSelected", err)
	}
	if !strings.Contains(err.Error(), "secret-plans is not one of them") {
		t.Errorf("error %q does not name the repository", err)
	}
	if got := s.fake.Requests() - before; got != 0 {
		t.Errorf("a miss right after listing made %d requests; want 0 (refresh is throttled)", got)
	}
	// Added to the selection later: seen after the refresh interval. The
	// fake cannot change an installation's repositories, so the refreshed
	// listing is answered here, in GitHub's shape.
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/installation/repositories" {
			return false
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte(`{"total_count":1,"repository_selection":"selected","repositories":[{"id":1296269,"name":"secret-plans","full_name":"acme/secret-plans"}]}`))
		return true
	})
	s.clock.Advance(time.Minute)
	if _, err := s.app.Token(t.Context(), "acme", "secret-plans"); err != nil {
		t.Errorf("Token(secret-plans) after it was added: %v", err)
	}
}

func TestRenewalAtMargin(t *testing.T) {
	s := newSetup(t, nil, func(o *githubapp.Options) { o.Margin = 5 * time.Minute })
	s.fake.Add(apptest.Installation{ID: 1, Login: "acme"})
	first, err := s.app.Token(t.Context(), "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(55*time.Minute - time.Second) // 5m01s left
	if got, _ := s.app.Token(t.Context(), "acme", ""); got != first {
		t.Errorf("token renewed with more than the margin left")
	}
	s.clock.Advance(time.Second) // exactly the margin left
	second, err := s.app.Token(t.Context(), "acme", "")
	if err != nil || second == first || second.Token == first.Token {
		t.Fatalf("Token at the margin = %v, %v; want a new token", second, err)
	}
	if got := s.fake.Count("POST /app/installations/1/access_tokens"); got != 2 {
		t.Errorf("mints = %d; want 2", got)
	}
	if got := s.fake.Count("GET /orgs/acme/installation"); got != 1 {
		t.Errorf("lookups = %d; want 1 (installation still cached)", got)
	}
}

func TestShortLivedTokenIsNotRenewedOnEveryCall(t *testing.T) {
	// GitHub's installation tokens live an hour: a 40-minute margin is
	// more than half of that.
	s := newSetup(t, nil, func(o *githubapp.Options) { o.Margin = 40 * time.Minute })
	s.fake.Add(apptest.Installation{ID: 1, Login: "acme"})
	first, _ := s.app.Token(t.Context(), "acme", "")
	s.clock.Advance(29 * time.Minute)
	if got, _ := s.app.Token(t.Context(), "acme", ""); got != first {
		t.Errorf("a one-hour token was renewed after 29 minutes with a 40-minute margin; want renewal at half its life")
	}
	s.clock.Advance(time.Minute)
	if got, _ := s.app.Token(t.Context(), "acme", ""); got == first {
		t.Errorf("a one-hour token was not renewed after 30 minutes with a 40-minute margin")
	}
}

// TestMintIdempotencyKeyNotSent: a mint is marked idempotent for the
// retry policy (a nil Idempotency-Key), which must not reach GitHub.
func TestMintIdempotencyKeyNotSent(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 1, Login: "acme"})
	var mu sync.Mutex
	var posts int
	var sent []string
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost {
			mu.Lock()
			posts++
			for k := range r.Header {
				if strings.Contains(strings.ToLower(k), "idempotency") {
					sent = append(sent, k)
				}
			}
			mu.Unlock()
		}
		return false
	})
	if _, err := s.app.Token(t.Context(), "acme", ""); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if posts != 1 || len(sent) != 0 {
		t.Errorf("mints = %d, idempotency headers sent = %v; want 1 mint and none", posts, sent)
	}
}

func TestInvalidate(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 1, Login: "acme"})
	first, _ := s.app.Token(t.Context(), "acme", "")
	if s.app.Invalidate("not-a-token-we-hold") {
		t.Errorf("Invalidate(unknown) = true; want false")
	}
	if !s.app.Invalidate(first.Token) {
		t.Fatalf("Invalidate(cached) = false; want true")
	}
	second, err := s.app.Token(t.Context(), "acme", "")
	if err != nil || second.Token == first.Token {
		t.Fatalf("Token after Invalidate = %v, %v; want a new token", second, err)
	}
	if got := s.fake.Requests(); got != 3 {
		t.Errorf("requests = %d; want 3 (lookup, mint, mint)", got)
	}
}

func TestInstallationGoneIsLookedUpAgain(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 1, Login: "acme"})
	first, _ := s.app.Token(t.Context(), "acme", "")
	// Uninstalled and installed again: a new installation id. The fake
	// cannot uninstall, so GitHub's answers for acme are given here: 404
	// for the old installation, installation 2 on lookup (which the fake
	// knows, on another account, and mints for).
	s.fake.Add(apptest.Installation{ID: 2, Login: "acme-again"})
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.Method + " " + r.URL.Path {
		case "POST /app/installations/1/access_tokens":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app","status":"404"}`))
			return true
		case "GET /orgs/acme/installation":
			w.Write([]byte(`{"id":2,"app_id":4242,"account":{"login":"acme","type":"Organization"},"repository_selection":"all","permissions":{"contents":"read","metadata":"read"}}`))
			return true
		}
		return false
	})
	s.app.Invalidate(first.Token)
	tok, err := s.app.Token(t.Context(), "acme", "")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.InstallationID != 2 {
		t.Errorf("InstallationID = %d; want 2", tok.InstallationID)
	}
}

func TestJWT(t *testing.T) {
	s := newSetup(t, nil, nil)
	tok, err := s.app.JWT(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	parsed, _, err := jwt.NewParser().ParseUnverified(tok.Token, &claims)
	if err != nil {
		t.Fatal(err)
	}
	now := s.clock.Now()
	if got := parsed.Method.Alg(); got != "RS256" {
		t.Errorf("alg = %q; want RS256", got)
	}
	if claims.Issuer != strconv.Itoa(apptest.AppID) {
		t.Errorf("iss = %q; want %d", claims.Issuer, apptest.AppID)
	}
	if got, want := claims.IssuedAt.Time, now.Add(-60*time.Second); !got.Equal(want) {
		t.Errorf("iat = %v; want %v (back-dated 60s)", got, want)
	}
	if got := claims.ExpiresAt.Time.Sub(now); got <= 0 || got > 10*time.Minute {
		t.Errorf("exp - now = %v; want within GitHub's 10 minutes", got)
	}
	if tok.Source != "integrations.github[0].apps[0] jwt" || tok.InstallationID != 0 {
		t.Errorf("JWT token = %#v", tok)
	}
	if again, _ := s.app.JWT(t.Context()); again != tok {
		t.Errorf("JWT not reused")
	}
	s.clock.Advance(8 * time.Minute)
	if again, _ := s.app.JWT(t.Context()); again == tok {
		t.Errorf("JWT reused with a minute left")
	}
}

func TestPublicToken(t *testing.T) {
	s := newSetup(t, func(c *integrations.GitHubAppConfig) { c.PublicAccess = true }, nil)
	s.fake.Add(apptest.Installation{ID: 8, Login: "suspended-co", Suspended: true}, apptest.Installation{ID: 9, Login: "acme"})
	tok, err := s.app.PublicToken(t.Context())
	if err != nil {
		t.Fatalf("PublicToken: %v", err)
	}
	if tok.InstallationID != 9 {
		t.Errorf("InstallationID = %d; want 9, the first active installation", tok.InstallationID)
	}
	if again, _ := s.app.PublicToken(t.Context()); again != tok || s.fake.Requests() != 2 {
		t.Errorf("PublicToken not cached: %d requests", s.fake.Requests())
	}

	noPublic := newSetup(t, nil, nil)
	if _, err := noPublic.app.PublicToken(t.Context()); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("PublicToken without publicAccess = %v; want InvalidArgument", err)
	}
}

func TestBadOwnerName(t *testing.T) {
	s := newSetup(t, nil, nil)
	for _, owner := range []string{"", "..", "acme/../../user", "a b", "acme?x=1"} {
		_, err := s.app.Token(t.Context(), owner, "")
		if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("Token(%q) = %v; want InvalidArgument", owner, err)
		}
	}
	if got := s.fake.Requests(); got != 0 {
		t.Errorf("requests = %d; want 0", got)
	}
}

func TestRepositoryListDoesNotFollowForeignLinks(t *testing.T) {
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
		if r.URL.Path == "/installation/repositories" {
			w.Header().Set("Link", `<https://evil.example.com/steal?page=2>; rel="next"`)
		}
		return false
	})
	if _, err := s.app.Token(t.Context(), "acme", "a"); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if got := s.fake.Count("GET /installation/repositories"); got != 1 {
		t.Errorf("listing requests = %d; want 1", got)
	}
}

func TestConcurrentColdCallersMakeTwoRequests(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	const n = 1000
	toks := make([]*githubapp.Token, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			toks[i], errs[i] = s.app.Token(t.Context(), "acme", "widgets")
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || toks[i] != toks[0] {
			t.Fatalf("caller %d: %v, %v; want the shared token", i, toks[i], errs[i])
		}
	}
	if got := s.fake.Requests(); got != 2 {
		t.Errorf("requests = %d; want exactly 2 (lookup + mint): %v", got, s.fake.Routes())
	}
}

func TestCallerContextEndsWhileOthersWait(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	release := make(chan struct{})
	var once sync.Once
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet {
			once.Do(func() {
				select { // the first lookup hangs until its caller gives up
				case <-r.Context().Done():
				case <-release:
				}
			})
		}
		return false
	})
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	leaderDone := make(chan error)
	go func() {
		_, err := s.app.Token(ctx, "acme", "")
		leaderDone <- err
	}()
	for s.fake.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	followerDone := make(chan error)
	go func() {
		_, err := s.app.Token(t.Context(), "acme", "")
		followerDone <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the follower join the flight
	cancel()
	if err := <-leaderDone; errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("leader: %v; want Canceled", err)
	}
	if err := <-followerDone; err != nil {
		t.Errorf("follower: %v; want a token (it fetches again when the leader gives up)", err)
	}
}

func TestFaults(t *testing.T) {
	respond := func(status int, ctype, body string) func(http.ResponseWriter, *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			w.Write([]byte(body))
			return true
		}
	}
	const ghJSON = "application/json; charset=utf-8"
	tests := []struct {
		name      string
		fault     func(http.ResponseWriter, *http.Request) bool
		opts      func(*githubapp.Options)
		timeout   time.Duration
		wantCode  errcode.Code
		wantInMsg string
		wantReqs  int // 0: not checked
	}{{
		name:      "401 for a wrong JWT",
		fault:     respond(401, ghJSON, `{"message":"A JSON web token could not be decoded","documentation_url":"https://docs.github.com/rest"}`),
		wantCode:  errcode.Unauthorized,
		wantInMsg: "check that appId and privateKey belong to the same app, and that this machine's clock is right",
		wantReqs:  1,
	}, {
		name:  "422 for a permission not granted",
		fault: func(w http.ResponseWriter, r *http.Request) bool { return false },
		opts: func(o *githubapp.Options) {
			o.Permissions = map[string]string{"contents": "write"}
		},
		wantCode:  errcode.PermissionDenied,
		wantInMsg: "The permissions requested are not granted to this installation.",
	}, {
		name:      "endpoint down",
		fault:     respond(503, "text/html", "<html>Service Unavailable</html>"),
		wantCode:  errcode.Unavailable,
		wantInMsg: "HTTP 503",
		wantReqs:  4, // 1 + MaxRetries
	}, {
		name: "endpoint down, then up",
		fault: func() func(http.ResponseWriter, *http.Request) bool {
			var mu sync.Mutex
			n := 0
			return func(w http.ResponseWriter, r *http.Request) bool {
				mu.Lock()
				defer mu.Unlock()
				n++
				if n <= 2 {
					w.WriteHeader(http.StatusBadGateway)
					return true
				}
				return false
			}
		}(),
		wantCode: errcode.OK,
		wantReqs: 4, // two failures, lookup, mint
	}, {
		name: "endpoint slow: bounded by the context",
		fault: func(w http.ResponseWriter, r *http.Request) bool {
			<-r.Context().Done()
			return true
		},
		timeout:   150 * time.Millisecond,
		wantCode:  errcode.DeadlineExceeded,
		wantInMsg: "GitHub did not answer the installation lookup of app 4242 (integrations.github[0].apps[0]) for acme before the caller's context ended",
	}, {
		name: "endpoint slow per attempt: retried",
		fault: func() func(http.ResponseWriter, *http.Request) bool {
			var mu sync.Mutex
			n := 0
			return func(w http.ResponseWriter, r *http.Request) bool {
				mu.Lock()
				n++
				first := n == 1
				mu.Unlock()
				if first {
					<-r.Context().Done()
					return true
				}
				return false
			}
		}(),
		opts:     func(o *githubapp.Options) { o.AttemptTimeout = 50 * time.Millisecond },
		wantCode: errcode.OK,
	}, {
		name:      "garbage instead of JSON",
		fault:     respond(200, "text/html", "<html><body>Sign in to your proxy</body></html>"),
		wantCode:  errcode.Unavailable,
		wantInMsg: "check that the integration's apiBaseUrl is the REST API",
		wantReqs:  1,
	}, {
		name:      "JSON without an installation",
		fault:     respond(200, ghJSON, `{"message":"ok"}`),
		wantCode:  errcode.Unavailable,
		wantInMsg: "without an installation id",
	}, {
		name: "token answer without a token",
		fault: func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost {
				return false
			}
			return respond(201, ghJSON, `{"expires_at":"2030-01-01T00:00:00Z"}`)(w, r)
		},
		wantCode:  errcode.Unavailable,
		wantInMsg: "without a token or its expiry",
	}, {
		name: "primary rate limit",
		fault: func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
			return respond(403, ghJSON, `{"message":"API rate limit exceeded for installation ID 42."}`)(w, r)
		},
		wantCode:  errcode.RateLimited,
		wantInMsg: "rate-limited",
		wantReqs:  1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil, tt.opts)
			s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
			s.fake.SetFault(tt.fault)
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			tok, err := s.app.Token(ctx, "acme", "")
			if elapsed := time.Since(start); tt.timeout > 0 && elapsed > tt.timeout+time.Second {
				t.Errorf("Token took %v; want it bounded by the %v context", elapsed, tt.timeout)
			}
			if got := errcode.CodeOf(err); got != tt.wantCode {
				t.Fatalf("Token = %v, %v; want code %v", tok, err, tt.wantCode)
			}
			if err != nil {
				var e *errcode.Error
				if !errors.As(err, &e) {
					t.Errorf("error %T is not an *errcode.Error", err)
				}
				if !strings.Contains(err.Error(), tt.wantInMsg) {
					t.Errorf("error %q does not contain %q", err, tt.wantInMsg)
				}
				if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "ghs_") {
					t.Errorf("error %q shows a secret", err)
				}
			}
			if tt.wantReqs > 0 {
				if got := s.fake.Requests(); got != tt.wantReqs {
					t.Errorf("requests = %d; want %d", got, tt.wantReqs)
				}
			}
			if tt.wantCode == errcode.RateLimited {
				if at, ok := errcode.RetryAt(err); !ok || at.Before(time.Now()) {
					t.Errorf("RetryAt = %v, %v; want a time in the future", at, ok)
				}
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := apptest.PrivateKeyPEM()
	tests := []struct {
		name      string
		base      string
		cfg       integrations.GitHubAppConfig
		wantInMsg string
	}{
		{"key does not parse", "https://api.github.com", integrations.GitHubAppConfig{AppID: 1, PrivateKey: integrations.NewSecret("-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n")}, "integrations.github[0].apps[0].privateKey: not a PEM-encoded RSA private key"},
		{"key is not PEM", "https://api.github.com", integrations.GitHubAppConfig{AppID: 1, PrivateKey: integrations.NewSecret("hunter2-secret-value")}, "privateKey: not a PEM-encoded RSA private key"},
		{"no app id", "https://api.github.com", integrations.GitHubAppConfig{PrivateKey: integrations.NewSecret(good)}, "appId: must be a positive number"},
		{"no base URL", "", integrations.GitHubAppConfig{AppID: 1, PrivateKey: integrations.NewSecret(good)}, "is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := githubapp.New(tt.base, tt.cfg, &githubapp.Options{ConfigPath: "integrations.github[0].apps[0]"})
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("New = %v; want InvalidArgument", err)
			}
			if !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantInMsg)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "bm90IGEga2V5") {
				t.Errorf("error %q shows the key", err)
			}
		})
	}
	// Backstage's config writes newlines as literal \n.
	escaped := strings.ReplaceAll(good, "\n", `\n`)
	if _, err := githubapp.New("https://api.github.com", integrations.GitHubAppConfig{AppID: 1, PrivateKey: integrations.NewSecret(escaped)}, nil); err != nil {
		t.Errorf("New with a \\n-escaped key: %v", err)
	}
}

// TestColdTokenRequestCounts: what a token costs for an owner seen for the
// first time. With a repository, one lookup (GET
// /repos/{owner}/{repo}/installation) for organisations and users alike.
func TestColdTokenRequestCounts(t *testing.T) {
	redirectRepo := func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/repos/") {
			return false
		}
		// A renamed repository: GitHub answers 301 with the new location.
		w.Header().Set("Location", "/repositories/1296269/installation")
		w.WriteHeader(http.StatusMovedPermanently)
		return true
	}
	tests := []struct {
		name        string
		install     apptest.Installation
		owner, repo string
		fault       func(http.ResponseWriter, *http.Request) bool
		want        map[string]int
		wantErr     error
	}{{
		name:    "organisation with repository",
		install: apptest.Installation{ID: 42, Login: "acme"},
		owner:   "acme", repo: "widgets",
		want: map[string]int{"GET /repos/acme/widgets/installation": 1, "POST /app/installations/42/access_tokens": 1},
	}, {
		name:    "user with repository",
		install: apptest.Installation{ID: 7, Login: "octocat", Type: "User"},
		owner:   "octocat", repo: "hello-world",
		want: map[string]int{"GET /repos/octocat/hello-world/installation": 1, "POST /app/installations/7/access_tokens": 1},
	}, {
		name:    "organisation without repository",
		install: apptest.Installation{ID: 42, Login: "acme"},
		owner:   "acme",
		want:    map[string]int{"GET /orgs/acme/installation": 1, "POST /app/installations/42/access_tokens": 1},
	}, {
		name:    "user without repository",
		install: apptest.Installation{ID: 7, Login: "octocat", Type: "User"},
		owner:   "octocat",
		want: map[string]int{"GET /orgs/octocat/installation": 1, "GET /users/octocat/installation": 1,
			"POST /app/installations/7/access_tokens": 1},
	}, {
		name:    "repository moved: the owner is looked up",
		install: apptest.Installation{ID: 42, Login: "acme"},
		owner:   "acme", repo: "old-name",
		fault: redirectRepo,
		want: map[string]int{"GET /repos/acme/old-name/installation": 1, "GET /orgs/acme/installation": 1,
			"POST /app/installations/42/access_tokens": 1},
	}, {
		name:    "repository of another account: the owner is looked up",
		install: apptest.Installation{ID: 42, Login: "acme"},
		owner:   "acme", repo: "moved",
		fault: func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/repos/acme/moved/installation" {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id":99,"app_id":4242,"account":{"login":"elsewhere","type":"Organization"},"repository_selection":"all"}`))
			return true
		},
		want: map[string]int{"GET /repos/acme/moved/installation": 1, "GET /orgs/acme/installation": 1,
			"POST /app/installations/42/access_tokens": 1},
	}, {
		name:    "repository outside a selection: the owner is looked up",
		install: apptest.Installation{ID: 3, Login: "acme", Selection: "selected", Repos: []string{"a"}},
		owner:   "acme", repo: "secret-plans",
		want: map[string]int{"GET /repos/acme/secret-plans/installation": 1, "GET /orgs/acme/installation": 1,
			"POST /app/installations/3/access_tokens": 1, "GET /installation/repositories": 1},
		wantErr: githubapp.ErrRepositoryNotSelected,
	}, {
		name:    "not installed",
		install: apptest.Installation{ID: 42, Login: "acme"},
		owner:   "nobody", repo: "x",
		want: map[string]int{"GET /repos/nobody/x/installation": 1, "GET /orgs/nobody/installation": 1,
			"GET /users/nobody/installation": 1},
		wantErr: githubapp.ErrNotInstalled,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil, nil)
			s.fake.Add(tt.install)
			s.fake.SetFault(tt.fault)
			_, err := s.app.Token(t.Context(), tt.owner, tt.repo)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Token = %v; want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, s.fake.Routes()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			// Cached now, with or without a repository.
			before := s.fake.Requests()
			s.app.Token(t.Context(), tt.owner, tt.repo) //nolint:errcheck // only the request count matters
			s.app.Token(t.Context(), tt.owner, "")      //nolint:errcheck // only the request count matters
			if n := s.fake.Requests() - before; n != 0 {
				t.Errorf("asking again made %d requests; want 0", n)
			}
		})
	}
}

// TestOwnerKindIsRemembered: once a user's installation was found through
// /users, looking the user up again (when the cached installation expires)
// asks /users first: one request, not two.
func TestOwnerKindIsRemembered(t *testing.T) {
	for _, repo := range []string{"", "hello-world"} {
		t.Run("first lookup with repo "+strconv.Quote(repo), func(t *testing.T) {
			s := newSetup(t, nil, func(o *githubapp.Options) { o.InstallationTTL = 10 * time.Minute })
			s.fake.Add(apptest.Installation{ID: 7, Login: "octocat", Type: "User"})
			if _, err := s.app.Token(t.Context(), "octocat", repo); err != nil {
				t.Fatal(err)
			}
			s.clock.Advance(11 * time.Minute) // the installation expires; the token does not
			before := s.fake.Routes()
			if _, err := s.app.Installation(t.Context(), "OctoCat"); err != nil {
				t.Fatal(err)
			}
			after := s.fake.Routes()
			got := map[string]int{}
			for route, n := range after {
				if d := n - before[route]; d != 0 {
					got[route] = d
				}
			}
			if diff := cmp.Diff(map[string]int{"GET /users/OctoCat/installation": 1}, got); diff != "" {
				t.Errorf("requests of the second lookup (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRedirectsAreNotFollowed: GitHub's app endpoints never redirect; a
// 307 to another port of the same address (where Go's client would keep
// Authorization and re-send the body) is an error, and nothing reaches the
// redirect's target.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		elsewhere = append(elsewhere, r.Method+" "+r.URL.Path+" Authorization="+r.Header.Get("Authorization")+" body="+string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer other.Close()
	tests := []struct {
		name   string
		method string // the request that is redirected
		perms  map[string]string
	}{
		{"installation lookup", http.MethodGet, nil},
		{"token mint", http.MethodPost, map[string]string{"contents": "read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			elsewhere = nil
			mu.Unlock()
			s := newSetup(t, nil, func(o *githubapp.Options) { o.Permissions = tt.perms })
			s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
			s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != tt.method {
					return false
				}
				w.Header().Set("Location", other.URL+r.URL.Path+"?sig=redirect-secret#frag")
				w.WriteHeader(http.StatusTemporaryRedirect)
				return true
			})
			_, err := s.app.Token(t.Context(), "acme", "")
			if errcode.CodeOf(err) != errcode.Unavailable {
				t.Fatalf("Token = %v; want Unavailable", err)
			}
			for _, want := range []string{"unexpected redirect (HTTP 307) to " + other.URL + "/", "check the integration's apiBaseUrl"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "redirect-secret") || strings.Contains(err.Error(), "frag") {
				t.Errorf("error %q shows the Location's query or fragment", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(elsewhere) != 0 {
				t.Errorf("the redirect target received %q; want nothing", elsewhere)
			}
			if got := s.fake.Count(tt.method + " " + map[string]string{
				http.MethodGet: "/orgs/acme/installation", http.MethodPost: "/app/installations/42/access_tokens"}[tt.method]); got != 1 {
				t.Errorf("redirected request sent %d times; want 1 (a redirect is not retried)", got)
			}
		})
	}
}
