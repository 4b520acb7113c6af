package bitbucketserverscm_test

import (
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// TestBranchIsDefaultBranch: a pull request whose branch is the default
// branch, Base empty, is InvalidArgument after the one default-branch
// look-up, with no commit on it (it used to PUT every file on the default
// branch, then fail to open the pull request with a 409). A remembered
// default branch that names the branch is looked up again before the
// refusal: when the default branch changed since, the pull request goes
// to the new one.
func TestBranchIsDefaultBranch(t *testing.T) {
	e := newEnv(t, "")
	d, hc := driverFor(t, e.fake, nil)
	repo := driver.Repo{Owner: project, Name: scmtest.BasicRepo}
	req := func(branch string) *driver.PullRequestRequest {
		return &driver.PullRequestRequest{Repo: repo, Branch: branch, Title: "t", CommitMessage: "m",
			Changes: []driver.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}
	}
	head := func(branch string) string {
		id, _ := e.fake.Branch(project, scmtest.BasicRepo, branch)
		return id
	}

	before, requests := head(scmtest.DefaultBranch), e.fake.Stats().Total
	_, err := d.OpenPullRequest(t.Context(), hc, req(scmtest.DefaultBranch))
	if d.ErrorInfo(err).Code != errcode.InvalidArgument {
		t.Errorf("OpenPullRequest from the default branch = %v; want InvalidArgument", err)
	}
	if n := e.fake.Stats().Total - requests; n != 1 {
		t.Errorf("the refusal cost %d requests; want 1 (the default branch's look-up)", n)
	}
	if after := head(scmtest.DefaultBranch); after != before {
		t.Errorf("the default branch moved from %s to %s", before, after)
	}

	// Remembered: main. The default branch becomes trunk, and a branch
	// named main is made again: a pull request from it goes to trunk.
	if _, err := d.OpenPullRequest(t.Context(), hc, req("topic")); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.RenameBranch(project, scmtest.BasicRepo, scmtest.DefaultBranch, "trunk"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.Commit(project, scmtest.BasicRepo, scmtest.DefaultBranch, fakebitbucketserver.Commit{Message: "again"}); err != nil {
		t.Fatal(err)
	}
	pr, err := d.OpenPullRequest(t.Context(), hc, req(scmtest.DefaultBranch))
	if err != nil || pr.Base != "trunk" {
		t.Fatalf("OpenPullRequest from main once trunk is the default branch = %+v, %v; want a pull request into trunk", pr, err)
	}
	before = head("trunk")
	if _, err := d.OpenPullRequest(t.Context(), hc, req("trunk")); d.ErrorInfo(err).Code != errcode.InvalidArgument {
		t.Errorf("OpenPullRequest from trunk = %v; want InvalidArgument", err)
	}
	if after := head("trunk"); after != before {
		t.Errorf("the default branch trunk moved from %s to %s", before, after)
	}
}
