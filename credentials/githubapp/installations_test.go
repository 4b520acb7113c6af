package githubapp_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// TestInstallationsListsEveryOne: Installations lists every installation
// as GitHub does (suspended ones, users' and those of owners that
// allowedInstallationOwners excludes included, each with its fields), and
// remembers the allowed ones for their owners: their tokens cost the mint
// alone, while an excluded owner stays refused.
func TestInstallationsListsEveryOne(t *testing.T) {
	s := newSetup(t, func(c *integrations.GitHubAppConfig) {
		c.AllowedInstallationOwners = []string{"acme", "jane", "dormant"}
	}, nil)
	s.fake.Add(
		apptest.Installation{ID: 1, Login: "acme"},
		apptest.Installation{ID: 2, Login: "jane", Type: "User", Selection: "selected", Repos: []string{"dotfiles"}},
		apptest.Installation{ID: 3, Login: "dormant", Suspended: true},
		apptest.Installation{ID: 4, Login: "evil"},
	)
	list, err := s.app.Installations(t.Context())
	if err != nil {
		t.Fatalf("Installations: %v", err)
	}
	got := map[string]githubapp.Installation{}
	for _, in := range list {
		got[in.Account] = in
	}
	for _, want := range []githubapp.Installation{
		{ID: 1, AppID: apptest.AppID, Account: "acme", AccountType: "Organization", RepositorySelection: "all"},
		{ID: 2, AppID: apptest.AppID, Account: "jane", AccountType: "User", RepositorySelection: "selected"},
		{ID: 3, AppID: apptest.AppID, Account: "dormant", AccountType: "Organization", RepositorySelection: "all", Suspended: true},
		{ID: 4, AppID: apptest.AppID, Account: "evil", AccountType: "Organization", RepositorySelection: "all"},
	} {
		g, ok := got[want.Account]
		g.Permissions = nil
		if !ok || fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("installation of %s = %+v (listed %v); want %+v", want.Account, g, ok, want)
		}
	}
	if len(list) != 4 {
		t.Errorf("%d installations listed; want 4", len(list))
	}
	if got := s.fake.Count("GET /app/installations"); got != 1 {
		t.Errorf("%d pages listed; want 1", got)
	}
	before := s.fake.Requests()
	for _, o := range []string{"acme", "jane"} {
		if _, err := s.app.Token(t.Context(), o, ""); err != nil {
			t.Fatalf("Token(%s): %v", o, err)
		}
	}
	if n := lookups(s.fake.Routes()); n != 0 {
		t.Errorf("%d installation lookups; want 0 (the listing named them)", n)
	}
	if got := s.fake.Requests() - before; got != 2 {
		t.Errorf("%d requests for two tokens; want 2 (the mints)", got)
	}
	if _, err := s.app.Token(t.Context(), "dormant", ""); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Errorf("Token(dormant) = %v; want PermissionDenied (suspended)", err)
	}
	if _, err := s.app.Token(t.Context(), "evil", ""); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Errorf("Token(evil) = %v; want PermissionDenied (not in allowedInstallationOwners)", err)
	}
}

// TestInstallationsAsksEveryTime: each call asks GitHub, so that an
// installation added since is seen: a full last page in full, a page that
// leads on or a last page with room left with its ETag (a 304 when
// unchanged).
func TestInstallationsAsksEveryTime(t *testing.T) {
	s := newSetup(t, nil, nil)
	for i := range 100 {
		s.fake.Add(apptest.Installation{ID: int64(i + 1), Login: "o" + strconv.Itoa(i)})
	}
	count := func(want, pages, notModified int) {
		t.Helper()
		list, err := s.app.Installations(t.Context())
		if err != nil {
			t.Fatalf("Installations: %v", err)
		}
		if len(list) != want {
			t.Errorf("%d installations; want %d", len(list), want)
		}
		if got := s.fake.Count("GET /app/installations"); got != pages {
			t.Errorf("%d pages listed in all; want %d", got, pages)
		}
		if got := s.fake.NotModified(); got != notModified {
			t.Errorf("%d answers 304 in all; want %d", got, notModified)
		}
	}
	count(100, 1, 0)
	count(100, 2, 0) // page 1 is the last: in full
	s.fake.Add(apptest.Installation{ID: 101, Login: "fresh"})
	count(101, 4, 0) // page 1, in full, now leads on to page 2
	count(101, 6, 2) // page 1 unchanged: 304; page 2, the last, of 1: 304 too
}

// TestInstallationsListingThatNeverEnds: a server that links each page to
// one more with the same installations is stopped at the second page, an
// Unavailable error naming the listing; an empty page ends a listing.
func TestInstallationsListingThatNeverEnds(t *testing.T) {
	for _, tt := range []struct {
		name  string
		body  string
		pages int
		code  errcode.Code
	}{
		{"same page again", `[{"id":1,"app_id":4242,"account":{"login":"acme","type":"Organization"}}]`, 2, errcode.Unavailable},
		{"empty page", `[]`, 1, errcode.OK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil, nil)
			s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/app/installations" {
					return false
				}
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("Link", fmt.Sprintf(`<http://%s/app/installations?per_page=100&page=%d>; rel="next"`, r.Host, max(page, 1)+1))
				fmt.Fprint(w, tt.body)
				return true
			})
			_, err := s.app.Installations(t.Context())
			if errcode.CodeOf(err) != tt.code {
				t.Fatalf("Installations = %v; want %v", err, tt.code)
			}
			if err != nil && !strings.Contains(err.Error(), "installations") {
				t.Errorf("error %q does not name the installations", err)
			}
			if got := s.fake.Count("GET /app/installations"); got != tt.pages {
				t.Errorf("listed %d pages; want %d", got, tt.pages)
			}
		})
	}
}
