package bitbucketcloudscm_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// TestPullRequestFromMainBranch: a pull request whose branch is the main
// branch is InvalidArgument whatever the base, after the branch query, the
// open pull request's look-up and the main branch's (GET the repository:
// 3 requests), with main unmoved and no pull request; it used to commit on
// main and open a pull request from main into the base. The main branch
// is read only when something is to be written on an existing branch: a
// new branch into the same base costs the 3 requests it did, opening it
// again the 2 it did, and an existing branch that is not the main branch
// goes on with UpdateExisting.
func TestPullRequestFromMainBranch(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	if _, err := e.fake.Commit(workspace, scmtest.BasicRepo, "develop", fakebitbucketcloud.Commit{Message: "develop",
		Files: []fake.File{{Path: "develop.txt", Content: []byte("d\n")}}}); err != nil {
		t.Fatal(err)
	}
	repoPath := "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo
	repoReads := func() int {
		n := 0
		for _, r := range e.fake.Requests() {
			if r.Method == http.MethodGet && r.Path == repoPath {
				n++
			}
		}
		return n
	}
	spec := func(branch string, changes ...scm.Change) *scm.PullRequestSpec {
		return &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "develop", Branch: branch,
			Title: "into develop", Changes: changes}
	}
	main, _ := e.fake.Branch(workspace, scmtest.BasicRepo, scmtest.DefaultBranch)
	for _, ch := range []scm.Change{{Path: "x.txt", Content: []byte("x\n")}, {Path: "new.txt", Action: scm.Create, Content: []byte("x\n")}} {
		e.fake.ResetStats()
		_, err := e.c.OpenPullRequest(t.Context(), spec(scmtest.DefaultBranch, ch))
		if scm.Code(err) != scm.InvalidArgument {
			t.Errorf("OpenPullRequest from main (the main branch) into develop: %v; want InvalidArgument", err)
		}
		if n, reads := e.requests(), repoReads(); n != 3 || reads != 1 {
			t.Errorf("the refusal cost %d requests (%d of the repository); want 3 (the branch query, the pull request, the repository)", n, reads)
		}
		if head, _ := e.fake.Branch(workspace, scmtest.BasicRepo, scmtest.DefaultBranch); head != main {
			t.Errorf("main moved from %s to %s", main, head)
		}
	}
	if prs := e.fake.PullRequests(workspace, scmtest.BasicRepo); slices.ContainsFunc(prs, func(p fakebitbucketcloud.PullRequest) bool {
		return p.Source == scmtest.DefaultBranch
	}) {
		t.Errorf("pull requests %+v; want none from main", prs)
	}

	e.fake.ResetStats()
	if _, err := e.c.OpenPullRequest(t.Context(), spec("topic", scm.Change{Path: "t.txt", Content: []byte("t\n")})); err != nil {
		t.Fatal(err)
	}
	if n, reads := e.requests(), repoReads(); n != 3 || reads != 0 {
		t.Errorf("a new branch into develop cost %d requests (%d of the repository); want 3, none of the repository", n, reads)
	}
	e.fake.ResetStats()
	if pr, err := e.c.OpenPullRequest(t.Context(), spec("topic", scm.Change{Path: "t.txt", Content: []byte("t\n")})); err != nil || !pr.Existing {
		t.Errorf("OpenPullRequest again from topic = %+v, %v; want the existing pull request", pr, err)
	}
	if n, reads := e.requests(), repoReads(); n != 2 || reads != 0 {
		t.Errorf("opening it again cost %d requests (%d of the repository); want 2, none of the repository", n, reads)
	}
	again := spec("topic", scm.Change{Path: "t.txt", Content: []byte("t2\n")})
	again.UpdateExisting = true
	e.fake.ResetStats()
	if pr, err := e.c.OpenPullRequest(t.Context(), again); err != nil || !pr.Existing {
		t.Errorf("OpenPullRequest again from topic with UpdateExisting = %+v, %v; want the existing pull request", pr, err)
	}
	if reads := repoReads(); reads != 1 {
		t.Errorf("UpdateExisting on topic read the repository %d times; want 1 (the main branch, before the commit)", reads)
	}
}
