package githubapp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// lookups counts the per-owner installation lookups among routes.
func lookups(routes map[string]int) int {
	n := 0
	for r, c := range routes {
		if strings.HasSuffix(r, "/installation") && strings.HasPrefix(r, "GET /") {
			n += c
		}
	}
	return n
}

// TestPublicTokenReadsPastTheFirstPage: the first active installation is
// looked for on the next pages when the first 100 are all suspended or of
// owners allowedInstallationOwners excludes, and the listing stops at the
// page that has one.
func TestPublicTokenReadsPastTheFirstPage(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  func(*integrations.GitHubAppConfig)
		skip apptest.Installation // the first 100
	}{
		{"suspended", func(c *integrations.GitHubAppConfig) { c.PublicAccess = true }, apptest.Installation{Suspended: true}},
		{"not allowed", func(c *integrations.GitHubAppConfig) {
			c.PublicAccess = true
			c.AllowedInstallationOwners = []string{"acme", "later-0"}
		}, apptest.Installation{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, tt.cfg, nil)
			for i := range 100 {
				in := tt.skip
				in.ID, in.Login = int64(i+1), "skip-"+strconv.Itoa(i)
				s.fake.Add(in)
			}
			s.fake.Add(apptest.Installation{ID: 101, Login: "acme"})
			for i := range 100 { // a third page, never read
				s.fake.Add(apptest.Installation{ID: int64(102 + i), Login: "later-" + strconv.Itoa(i)})
			}
			tok, err := s.app.PublicToken(t.Context())
			if err != nil {
				t.Fatalf("PublicToken: %v; want the token of installation 101, on the second page", err)
			}
			if tok.InstallationID != 101 {
				t.Errorf("InstallationID = %d; want 101", tok.InstallationID)
			}
			if got := s.fake.Count("GET /app/installations"); got != 2 {
				t.Errorf("listed %d pages; want 2 (stop at the page with an active installation)", got)
			}
		})
	}
}

// TestPublicTokenListingIsBounded: a listing that never ends (a server
// that links to one more page each time) is read no further than 100
// pages.
func TestPublicTokenListingIsBounded(t *testing.T) {
	s := newSetup(t, func(c *integrations.GitHubAppConfig) { c.PublicAccess = true }, nil)
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/app/installations" {
			return false
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Link", fmt.Sprintf(`<http://%s/app/installations?per_page=100&page=%d>; rel="next"`, r.Host, page+1))
		fmt.Fprintf(w, `[{"id":%d,"app_id":4242,"account":{"login":"o%d","type":"Organization"},"suspended_at":"2020-01-01T00:00:00Z"}]`, page, page)
		return true
	})
	_, err := s.app.PublicToken(t.Context())
	if errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("PublicToken = %v; want Unavailable after the bound", err)
	}
	if got := s.fake.Count("GET /app/installations"); got != 100 {
		t.Errorf("listed %d pages; want 100", got)
	}
	// Remembered for a while: no second walk through 100 pages.
	if _, err2 := s.app.PublicToken(t.Context()); errcode.CodeOf(err2) != errcode.Unavailable || s.fake.Count("GET /app/installations") != 100 {
		t.Errorf("PublicToken again = %v after %d pages; want the remembered error", err2, s.fake.Count("GET /app/installations"))
	}
}

// TestColdOwnersShareOneListing: many owners asked for at once (or one
// after another) cost one listing of the installations, not a lookup
// each; an owner absent from it is remembered as not installed until
// NotInstalledTTL, then asked again; a single cold owner is still looked
// up alone (DESIGN.md: per owner, one call).
func TestColdOwnersShareOneListing(t *testing.T) {
	for _, tt := range []struct {
		name       string
		typ        string
		concurrent bool
	}{
		{"organisations at once", "Organization", true},
		{"users one after another", "User", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil, nil)
			const n = 50
			for i := range n {
				s.fake.Add(apptest.Installation{ID: int64(i + 1), Login: "owner-" + strconv.Itoa(i), Type: tt.typ})
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				get := func() {
					tok, err := s.app.Token(t.Context(), "owner-"+strconv.Itoa(i), "")
					if err == nil && tok.InstallationID != int64(i+1) {
						err = fmt.Errorf("token of installation %d", tok.InstallationID)
					}
					errs[i] = err
				}
				if tt.concurrent {
					wg.Go(get)
				} else {
					get()
				}
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			routes := s.fake.Routes()
			if got := lookups(routes); got > 2 {
				t.Errorf("%d per-owner lookups; want at most 2 (the first owner's)", got)
			}
			if got := routes["GET /app/installations"]; got != 1 {
				t.Errorf("%d listings; want 1", got)
			}
			before := s.fake.Requests()
			if _, err := s.app.Token(t.Context(), "nobody", ""); !errors.Is(err, githubapp.ErrNotInstalled) {
				t.Fatalf("Token(nobody) = %v; want ErrNotInstalled", err)
			}
			if got := s.fake.Requests() - before; got != 0 {
				t.Errorf("an owner absent from the listing cost %d requests; want 0", got)
			}
			s.clock.Advance(githubapp.DefaultNotInstalledTTL)
			if _, err := s.app.Token(t.Context(), "nobody", ""); !errors.Is(err, githubapp.ErrNotInstalled) {
				t.Fatalf("Token(nobody) later = %v; want ErrNotInstalled", err)
			}
			if got := s.fake.Requests() - before; got == 0 {
				t.Errorf("not installed was remembered past NotInstalledTTL")
			}
		})
	}
}

// TestListedOwnerRepositoryIsChecked: an installation found in the
// listing does not prove a repository is selected (a lookup through the
// repository would): the repositories are listed.
func TestListedOwnerRepositoryIsChecked(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 1, Login: "first"},
		apptest.Installation{ID: 3, Login: "acme", Selection: "selected", Repos: []string{"a"}})
	if _, err := s.app.Token(t.Context(), "first", ""); err != nil {
		t.Fatal(err)
	}
	// A second cold owner: answered from the listing.
	_, err := s.app.Token(t.Context(), "acme", "secret-plans")
	if !errors.Is(err, githubapp.ErrRepositoryNotSelected) {
		t.Fatalf("Token(acme, secret-plans) = %v; want ErrRepositoryNotSelected", err)
	}
	if got := s.fake.Count("GET /app/installations"); got != 1 {
		t.Errorf("listings = %d; want 1", got)
	}
	if got := s.fake.Count("GET /installation/repositories"); got != 1 {
		t.Errorf("repository listings = %d; want 1", got)
	}
	if _, err := s.app.Token(t.Context(), "acme", "a"); err != nil {
		t.Errorf("Token(acme, a) = %v", err)
	}
}

// TestListingHonoursAllowedOwners: an owner that allowedInstallationOwners
// excludes is not taken from a listing.
func TestListingHonoursAllowedOwners(t *testing.T) {
	s := newSetup(t, func(c *integrations.GitHubAppConfig) { c.AllowedInstallationOwners = []string{"acme", "globex"} }, nil)
	s.fake.Add(apptest.Installation{ID: 1, Login: "acme"}, apptest.Installation{ID: 2, Login: "globex"}, apptest.Installation{ID: 3, Login: "evil"})
	for _, o := range []string{"acme", "globex"} {
		if _, err := s.app.Token(t.Context(), o, ""); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.fake.Count("GET /app/installations"); got != 1 {
		t.Fatalf("listings = %d; want 1 (globex was the second cold owner)", got)
	}
	if _, err := s.app.Token(t.Context(), "evil", ""); !errors.Is(err, githubapp.ErrOwnerNotAllowed) {
		t.Errorf("Token(evil) = %v; want ErrOwnerNotAllowed", err)
	}
	if got := s.fake.Count("POST /app/installations/3/access_tokens"); got != 0 {
		t.Errorf("minted %d tokens for evil", got)
	}
}

// TestLargeAppIsLookedUpPerOwner: when GitHub's first page shows more
// installations than are worth listing (Link rel="last"), the listing
// stops there, and without rel="last" after 10 pages; the owners it did
// not name are looked up one by one, and no further burst lists again.
func TestLargeAppIsLookedUpPerOwner(t *testing.T) {
	for _, tt := range []struct {
		name  string
		last  bool
		pages int
	}{{"rel last", true, 1}, {"no rel last", false, 10}} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil, nil)
			s.fake.Add(apptest.Installation{ID: 1, Login: "first"}, apptest.Installation{ID: 2, Login: "second"},
				apptest.Installation{ID: 3, Login: "third"}, apptest.Installation{ID: 4, Login: "fourth"})
			s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/app/installations" {
					return false
				}
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				page = max(page, 1)
				link := fmt.Sprintf(`<http://%s/app/installations?per_page=100&page=%d>; rel="next"`, r.Host, page+1)
				if tt.last {
					link += fmt.Sprintf(`, <http://%s/app/installations?per_page=100&page=500>; rel="last"`, r.Host)
				}
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("Link", link)
				w.Write([]byte(`[]`))
				return true
			})
			for _, o := range []string{"first", "second", "third", "fourth"} {
				if _, err := s.app.Token(t.Context(), o, ""); err != nil {
					t.Fatalf("Token(%s): %v", o, err)
				}
			}
			if got := s.fake.Count("GET /app/installations"); got != tt.pages {
				t.Errorf("listed %d pages; want %d, and no more listing for a large app", got, tt.pages)
			}
			if got := lookups(s.fake.Routes()); got != 4 {
				t.Errorf("%d lookups; want 4", got)
			}
		})
	}
}

// TestListingsAreConditional: listing an installation's repositories
// again sends the ETag of the last answer, and GitHub's 304 costs nothing
// on its rate limit; so does the installations' last page (here their only
// one), as it has room left (a full one is read in full, see
// TestRosterSeesInstallationOnNewPage).
func TestListingsAreConditional(t *testing.T) {
	s := newSetup(t, func(c *integrations.GitHubAppConfig) { c.PublicAccess = true }, nil)
	s.fake.Add(apptest.Installation{ID: 8, Login: "suspended-co", Suspended: true}, apptest.Installation{ID: 9, Login: "acme"},
		apptest.Installation{ID: 30, Login: "selco", Selection: "selected", Repos: []string{"a", "b"}})
	if _, err := s.app.PublicToken(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Installation(t.Context(), "selco"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Token(t.Context(), "selco", "a"); err != nil {
		t.Fatal(err)
	}
	if s.fake.NotModified() != 0 {
		t.Fatalf("304s before anything was listed twice")
	}
	// The repository list is stale, the token is not: listed again,
	// answered 304, still right.
	s.clock.Advance(githubapp.DefaultRepositoriesTTL)
	if _, err := s.app.Token(t.Context(), "selco", "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Token(t.Context(), "selco", "c"); !errors.Is(err, githubapp.ErrRepositoryNotSelected) {
		t.Fatalf("Token(selco, c) = %v; want ErrRepositoryNotSelected", err)
	}
	if got := s.fake.NotModified(); got != 1 {
		t.Errorf("304s = %d; want 1 (the repository list)", got)
	}
	// The installation found for publicAccess has expired: listed again,
	// its one page, of 3, with its ETag (it has room left). GitHub's ETags
	// are specific to the Authorization, as the fake's are, and the App's
	// JWT has been renewed since (it lives minutes; the installation
	// TTL is longer): answered 200, not 304. A re-listing within the JWT's
	// life is answered 304 (TestInstallationsShortLastPageRevalidated).
	s.clock.Advance(githubapp.DefaultInstallationTTL)
	tok, err := s.app.PublicToken(t.Context())
	if err != nil || tok.InstallationID != 9 {
		t.Fatalf("PublicToken = %v, %v; want installation 9", tok, err)
	}
	if got := s.fake.NotModified(); got != 1 {
		t.Errorf("304s = %d; want 1 (the repository list; the installations' ETag was the old JWT's)", got)
	}
	if got := s.fake.Count("GET /app/installations"); got != 2 {
		t.Errorf("installation listings = %d; want 2", got)
	}
}

// TestSelectedRepositoryProvenByLookup: a cold owner looked up through the
// repository costs the lookup and the mint: GitHub's answer for
// /repos/{owner}/{repo}/installation already says the repository is
// selected. Another repository is checked by listing them.
func TestSelectedRepositoryProvenByLookup(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 3, Login: "acme", Selection: "selected", Repos: []string{"a", "b"}})
	if _, err := s.app.Token(t.Context(), "acme", "a"); err != nil {
		t.Fatal(err)
	}
	if got := s.fake.Requests(); got != 2 {
		t.Errorf("first token: %d requests (%v); want 2", got, s.fake.Routes())
	}
	if _, err := s.app.Token(t.Context(), "acme", "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Token(t.Context(), "acme", "secret-plans"); !errors.Is(err, githubapp.ErrRepositoryNotSelected) {
		t.Fatalf("Token(secret-plans) = %v; want ErrRepositoryNotSelected", err)
	}
	if got := s.fake.Count("GET /installation/repositories"); got != 1 {
		t.Errorf("repository listings = %d; want 1 (for b, reused for secret-plans)", got)
	}
}

// TestCancelledMintIsShared: the caller that started a mint gives up after
// the POST went out; the callers still waiting get that mint's token, and
// no second token is minted.
func TestCancelledMintIsShared(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	if _, err := s.app.Installation(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost {
			first := false
			once.Do(func() { first = true })
			if first {
				close(arrived)
				<-release
			}
		}
		return false
	})
	leader, cancel := context.WithCancel(t.Context())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := s.app.Token(leader, "acme", "")
		leaderErr <- err
	}()
	<-arrived
	follower := make(chan *githubapp.Token, 1)
	followerErr := make(chan error, 1)
	go func() {
		tok, err := s.app.Token(t.Context(), "acme", "")
		follower <- tok
		followerErr <- err
	}()
	time.Sleep(50 * time.Millisecond) // the follower joins the mint
	cancel()
	if err := <-leaderErr; errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("leader: %v; want Canceled at once", err)
	}
	time.Sleep(50 * time.Millisecond) // an old-style retry would be sent now
	close(release)
	tok, err := <-follower, <-followerErr
	if err != nil || tok == nil {
		t.Fatalf("follower: %v", err)
	}
	if got := s.fake.Count("POST /app/installations/42/access_tokens"); got != 1 {
		t.Errorf("mints = %d; want 1", got)
	}
	// The leader's mint is cached for everyone.
	again, err := s.app.Token(t.Context(), "acme", "")
	if err != nil || again != tok {
		t.Errorf("Token again = %v, %v; want the shared token", again, err)
	}
}

// TestSeedInstallations: installations listed elsewhere spare the lookup;
// those of another app, of an owner that is not allowed or without an id
// are ignored.
func TestSeedInstallations(t *testing.T) {
	s := newSetup(t, func(c *integrations.GitHubAppConfig) {
		c.AllowedInstallationOwners = []string{"acme", "globex", "initech"}
	}, nil)
	s.fake.Add(apptest.Installation{ID: 1, Login: "acme"}, apptest.Installation{ID: 2, Login: "globex"}, apptest.Installation{ID: 4, Login: "initech"})
	s.app.SeedInstallations([]githubapp.Installation{
		{ID: 1, AppID: apptest.AppID, Account: "acme", AccountType: "Organization", RepositorySelection: "all"},
		{ID: 2 + apptest.AppID2Offset, AppID: apptest.AppID2, Account: "globex", AccountType: "Organization"}, // another app's
		{ID: 3, AppID: apptest.AppID, Account: "evil", AccountType: "Organization"},                           // not allowed
		{AppID: apptest.AppID, Account: "initech", AccountType: "Organization"},                               // no id
	})
	tok, err := s.app.Token(t.Context(), "acme", "")
	if err != nil || tok.InstallationID != 1 {
		t.Fatalf("Token(acme) = %v, %v", tok, err)
	}
	if got := s.fake.Requests(); got != 1 {
		t.Errorf("a seeded owner cost %d requests; want 1 (the mint)", got)
	}
	if tok, err := s.app.Token(t.Context(), "globex", ""); err != nil || tok.InstallationID != 2 {
		t.Errorf("Token(globex) = %v, %v; want installation 2, looked up", tok, err)
	}
	if _, err := s.app.Token(t.Context(), "evil", ""); !errors.Is(err, githubapp.ErrOwnerNotAllowed) {
		t.Errorf("Token(evil) = %v; want ErrOwnerNotAllowed", err)
	}
}
