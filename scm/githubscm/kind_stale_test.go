package githubscm_test

import (
	"testing"

	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// Regression (final review, session 22):
// a stale "self" kind is found out only when the
// token's user owns a repository (ownedBy needs one): when she owns none
// (a renamed login that left its repositories behind, a fresh account),
// the listing of the owner she no longer is comes back empty, with no
// error, hiding the owner's public repositories for up to 10 minutes.
func TestStaleSelfWithNoOwnRepos(t *testing.T) {
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, User: "fake-user"}, nil)
	e.s.AddOwner("octocat", fakegithub.User)
	e.addRepo(t, fakegithub.Repo{Owner: "octocat", Name: "pub0"})
	e.addRepo(t, fakegithub.Repo{Owner: "octocat", Name: "pub1"})
	page, err := e.d.ListRepositories(t.Context(), e.hc, &driver.ListRepositoriesRequest{Owner: "octocat", Kind: "self"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Repositories) != 2 {
		t.Errorf("octocat listed with a stale self kind: %d repositories, kind %q; want her 2 public ones", len(page.Repositories), page.Kind)
	}
}

// A user who owns no repository is never reported as "self", so listing
// her again costs what it cost the first time, not one request more.
func TestEmptySelfNotRemembered(t *testing.T) {
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, User: "octocat"}, nil)
	e.s.AddOwner("octocat", fakegithub.User)
	var page *driver.RepositoryPage
	if n := e.count(func() {
		var err error
		if page, err = e.d.ListRepositories(t.Context(), e.hc, &driver.ListRepositoriesRequest{Owner: "octocat"}); err != nil {
			t.Fatal(err)
		}
	}); n != 3 || page.Kind != "" || len(page.Repositories) != 0 {
		t.Errorf("%d requests, kind %q, %d repositories; want 3, no kind, none", n, page.Kind, len(page.Repositories))
	}
}
