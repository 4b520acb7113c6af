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

// TestDefaultBranchWhateverBase: a pull request from the default branch
// into another branch is InvalidArgument after the one listing that
// finds the branch (its isDefault flag), with nothing committed (it used
// to PUT the files on main and open a pull request from main into the
// other branch). The flag also catches a remembered default branch that
// changed since: with Base empty and main remembered, a pull request
// from trunk, the default branch now, is refused instead of committing on
// trunk and opening one into the new main.
func TestDefaultBranchWhateverBase(t *testing.T) {
	e := newEnv(t, "")
	d, hc := driverFor(t, e.fake, nil)
	repo := driver.Repo{Owner: project, Name: scmtest.BasicRepo}
	req := func(branch, base string) *driver.PullRequestRequest {
		return &driver.PullRequestRequest{Repo: repo, Branch: branch, Base: base, Title: "t", CommitMessage: "m",
			Changes: []driver.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}
	}
	head := func(branch string) string {
		id, _ := e.fake.Branch(project, scmtest.BasicRepo, branch)
		return id
	}
	refused := func(branch, base string) {
		t.Helper()
		before, requests := head(branch), e.fake.Stats().Total
		_, err := d.OpenPullRequest(t.Context(), hc, req(branch, base))
		if d.ErrorInfo(err).Code != errcode.InvalidArgument {
			t.Errorf("OpenPullRequest from %s into %q = %v; want InvalidArgument", branch, base, err)
		}
		if n := e.fake.Stats().Total - requests; n != 1 {
			t.Errorf("the refusal of %s into %q cost %d requests; want 1 (the branch listing)", branch, base, n)
		}
		if after := head(branch); after != before {
			t.Errorf("the default branch %s moved from %s to %s", branch, before, after)
		}
	}

	// develop is made from main by a pull request (Base empty: main is
	// remembered as the default branch).
	if _, err := d.OpenPullRequest(t.Context(), hc, req("develop", "")); err != nil {
		t.Fatal(err)
	}
	refused(scmtest.DefaultBranch, "develop")

	if err := e.fake.RenameBranch(project, scmtest.BasicRepo, scmtest.DefaultBranch, "trunk"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.Commit(project, scmtest.BasicRepo, scmtest.DefaultBranch, fakebitbucketserver.Commit{Message: "again"}); err != nil {
		t.Fatal(err)
	}
	refused("trunk", "")
	refused("trunk", "develop")
}
