package githubscm_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestOpenPullRequestIntoEmptyRepository: a pull request without a base
// into a repository with no branch at all is InvalidArgument asking for
// a base branch, as the GitLab driver answers, after the one preparing
// query and nothing written.
func TestOpenPullRequestIntoEmptyRepository(t *testing.T) {
	both(t, func(t *testing.T, ghe bool) {
		e := newEnv(t, ghe, nil)
		e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "empty"})
		var err error
		n := e.count(func() {
			_, err = e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.web("acme/empty"),
				Branch: "first", Title: "First", Changes: textChanges(1)})
		})
		if scm.Code(err) != scm.InvalidArgument || !strings.Contains(err.Error(), "base branch") || !strings.Contains(err.Error(), "acme/empty") {
			t.Errorf("OpenPullRequest into an empty repository without a base: %v; want InvalidArgument naming it and asking for a base branch", err)
		}
		if n != 1 {
			t.Errorf("%d requests; want 1 (nothing written)", n)
		}
		if _, ok := e.s.Ref("acme", "empty", "refs/heads/first"); ok {
			t.Error("the branch was created; want nothing written")
		}
	})
}
