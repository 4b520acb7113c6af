package bitbucketserverscm_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

// TestLostCommitAnswer: the answer to a PUT browse is lost after the
// server committed the file. The retry of the PUT gets 409 (its
// sourceCommitId is no longer the branch's head); the branch holds the
// content, so that file is done, and the next file is committed on the
// branch's real head. Before, the next file failed with 409 and the error
// said "1 of 3 files committed" with two on the branch.
func TestLostCommitAnswer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault fake.Fault
	}{
		{"first file's answer lost once", fake.Fault{Kind: scmtest.FaultLostAnswer, Times: 1, Method: http.MethodPut,
			Path: "/projects/ACME/repos/basic/browse/gen/f01.txt"}},
		{"middle file's answer lost once", fake.Fault{Kind: scmtest.FaultLostAnswer, Times: 1, Method: http.MethodPut,
			Path: "/projects/ACME/repos/basic/browse/gen/f02.txt"}},
		{"every answer to the middle file lost", fake.Fault{Kind: scmtest.FaultLostAnswer, Method: http.MethodPut,
			Path: "/projects/ACME/repos/basic/browse/gen/f02.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Branch: "gen/lost", Title: "Generated",
				Changes: tenChanges("gen")[:3]}
			spec.Changes[1].Action = scm.Create
			e.fake.Inject(tc.fault)
			pr, err := e.c.OpenPullRequest(t.Context(), spec)
			if err != nil {
				t.Fatalf("OpenPullRequest with a lost answer: %v; want the pull request", err)
			}
			base, _ := e.fake.Commits(project, scmtest.BasicRepo, "main")
			onBranch, _ := e.fake.Commits(project, scmtest.BasicRepo, spec.Branch)
			if n := len(onBranch) - len(base); n != 3 {
				t.Errorf("branch holds %d new commits; want 3, one per file", n)
			}
			files, _ := e.fake.Files(project, scmtest.BasicRepo, spec.Branch)
			got := map[string]string{}
			for _, f := range files {
				got[f.Path] = string(f.Content)
			}
			for _, ch := range spec.Changes {
				if got[ch.Path] != string(ch.Content) {
					t.Errorf("%s on the branch = %q; want %q", ch.Path, got[ch.Path], ch.Content)
				}
			}
			if prs := e.fake.PullRequests(project, scmtest.BasicRepo); len(prs) != 1 || pr.Number != prs[0].ID {
				t.Errorf("pull requests %+v; want exactly the one returned (%d)", prs, pr.Number)
			}
		})
	}
}

// TestPartialCountsWhatIsOnTheBranch: when a file fails for good after an
// earlier file's answer was lost, the error counts the files the branch
// holds, the one whose answer was lost included.
func TestPartialCountsWhatIsOnTheBranch(t *testing.T) {
	e := newEnv(t, "")
	spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Branch: "gen/lost-partial", Title: "Generated",
		Changes: tenChanges("gen")[:3]}
	e.fake.Inject(fake.Fault{Kind: scmtest.FaultLostAnswer, Times: 1, Method: http.MethodPut,
		Path: "/projects/ACME/repos/basic/browse/gen/f01.txt"})
	e.fake.Inject(fake.Fault{Kind: scmtest.FaultUnprocessable, Method: http.MethodPut,
		Path: "/projects/ACME/repos/basic/browse/gen/f03.txt"})
	_, err := e.c.OpenPullRequest(t.Context(), spec)
	var pe *bitbucketserverscm.PartialCommitError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *PartialCommitError", err)
	}
	base, _ := e.fake.Commits(project, scmtest.BasicRepo, "main")
	onBranch, _ := e.fake.Commits(project, scmtest.BasicRepo, spec.Branch)
	if n := len(onBranch) - len(base); pe.Committed != n || n != 2 || pe.Failed != "gen/f03.txt" {
		t.Errorf("PartialCommitError = %+v with %d files on the branch; want 2 of 3 committed, gen/f03.txt failed", pe, n)
	}
	if !strings.Contains(err.Error(), "2 of 3 files committed") {
		t.Errorf("error %q; want it to say 2 of 3 files committed", err)
	}
}

// TestSearchBadRequestIsAnError: only Bitbucket's "is not a directory"
// answer means that a listed path is a file (no results); another 400 (a
// proxy's, say) fails the search instead of finding nothing. The soak
// found Search returning no results under such a fault.
func TestSearchBadRequestIsAnError(t *testing.T) {
	e := newEnv(t, "")
	res, err := e.c.Search(t.Context(), e.fileURL(scmtest.BasicRepo, "main", "README.md/*.txt"), nil)
	if err != nil || len(res) != 0 {
		t.Fatalf("Search under a file: %v, %v; want no results", res, err)
	}
	e.fake.Inject(fake.Fault{Kind: scmtest.FaultEchoCredentials, Status: http.StatusBadRequest, Times: 1})
	res, err = e.c.Search(t.Context(), e.fileURL(scmtest.BasicRepo, "main", "templates/**/*.yaml"), nil)
	if scm.Code(err) != scm.InvalidArgument {
		t.Errorf("Search under a 400: %v, %v; want InvalidArgument", res, err)
	}
}
