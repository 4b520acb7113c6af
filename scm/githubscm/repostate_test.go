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

// TestOpenPullRequestArchivedRepository: GitHub refuses every write to an
// archived repository; the driver says so from its one preparing query,
// PermissionDenied as the GitLab driver answers, and writes nothing.
func TestOpenPullRequestArchivedRepository(t *testing.T) {
	both(t, func(t *testing.T, ghe bool) {
		e := newEnv(t, ghe, nil)
		head := e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "old", Archived: true,
			Files: []fakegithub.File{{Path: "README.md", Content: []byte("hi\n")}}})
		var err error
		n := e.count(func() {
			_, err = e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.web("acme/old"),
				Branch: "topic/one", Title: "One", Changes: textChanges(2)})
		})
		if scm.Code(err) != scm.PermissionDenied || !strings.Contains(err.Error(), "archived") || !strings.Contains(err.Error(), "acme/old") {
			t.Errorf("OpenPullRequest: %v (code %v); want PermissionDenied saying acme/old is archived", err, scm.Code(err))
		}
		if n != 1 {
			t.Errorf("%d requests; want 1 (the preparing query)", n)
		}
		if id, _ := e.s.Ref("acme", "old", "refs/heads/main"); id != head {
			t.Errorf("main moved to %s; want %s", id, head)
		}
		if _, ok := e.s.Ref("acme", "old", "refs/heads/topic/one"); ok {
			t.Error("branch topic/one was created")
		}
		if prs := e.s.Pulls("acme", "old"); len(prs) != 0 {
			t.Errorf("%d pull requests; want none", len(prs))
		}
	})
}
