package bitbucketserverscm_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

const defaultBranchRoute = "GET /projects/{key}/repos/{slug}/default-branch"

// TestDefaultBranchMemo: an empty Base looks the default branch up once
// per DefaultBranchTTL per repository; a failed call forgets it; a
// negative TTL turns the memo off; a caller the server refuses gets
// Bitbucket's refusal however warm the memo is, and writes nothing.
func TestDefaultBranchMemo(t *testing.T) {
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	type step struct {
		advance time.Duration
		fault   bool // the pull request cannot be opened
		lookups int  // GET default-branch requests
	}
	for _, tc := range []struct {
		name  string
		ttl   time.Duration
		steps []step
	}{
		{"default TTL", 0, []step{{0, false, 1}, {30 * time.Second, false, 0}, {31 * time.Second, false, 1}, {0, false, 0}}},
		{"a failure forgets", 0, []step{{0, false, 1}, {0, true, 0}, {0, false, 1}}},
		{"off", -1, []step{{0, false, 1}, {0, false, 1}}},
		{"longer TTL", 10 * time.Minute, []step{{0, false, 1}, {9 * time.Minute, false, 0}, {2 * time.Minute, false, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			d, hc := driverFor(t, e.fake, &bitbucketserverscm.Options{DefaultBranchTTL: tc.ttl, Now: clk.Now})
			for i, s := range tc.steps {
				clk.Advance(s.advance)
				if s.fault {
					e.fake.Inject(fake.Fault{Kind: scmtest.FaultServerError, Method: http.MethodPost,
						Path: "/projects/ACME/repos/basic/pull-requests", Times: 1})
				}
				before := e.fake.Stats().Routes[defaultBranchRoute]
				pr, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
					Branch: fmt.Sprintf("memo/%d", i), Title: "t", CommitMessage: "m", Changes: []driver.Change{
						{Path: fmt.Sprintf("memo/%d.txt", i), Content: []byte("x\n")}}})
				if (err != nil) != s.fault || (err == nil && pr.Base != "main") {
					t.Fatalf("step %d: OpenPullRequest = %+v, %v; want base main, failing %v", i, pr, err, s.fault)
				}
				if n := e.fake.Stats().Routes[defaultBranchRoute] - before; n != s.lookups {
					t.Errorf("step %d: %d default-branch lookups; want %d", i, n, s.lookups)
				}
			}
		})
	}

	// A refused caller, with the memo warm.
	e := newEnv(t, "")
	d, hc := driverFor(t, e.fake, nil)
	req := &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo}, Branch: "memo/ok", Title: "t",
		CommitMessage: "m", Changes: []driver.Change{{Path: "memo/ok.txt", Content: []byte("x\n")}}}
	if _, err := d.OpenPullRequest(t.Context(), hc, req); err != nil {
		t.Fatal(err)
	}
	bad := adaptertest.BearerClient(t, "not-a-token")
	req.Branch = "memo/refused"
	if _, err := d.OpenPullRequest(t.Context(), bad, req); err == nil || d.ErrorInfo(err).Code != errcode.Unauthorized {
		t.Errorf("OpenPullRequest with a bad token = %v; want Unauthorized", err)
	}
	if _, ok := e.fake.Branch(project, scmtest.BasicRepo, "memo/refused"); ok {
		t.Error("a refused caller created a branch")
	}
}

// TestDefaultBranchMemoRenamed: when the remembered default branch was
// renamed within the TTL, OpenPullRequest finds it missing before
// writing anything, looks the default branch up again (one request) and
// opens the pull request on the new one, instead of failing NotFound.
func TestDefaultBranchMemoRenamed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes []driver.Change
	}{
		{"new file", []driver.Change{{Path: "memo/new.txt", Content: []byte("x\n")}}},
		{"update changes", []driver.Change{{Path: "catalog-info.yaml", Action: driver.Update, Content: []byte("kind: x\n")},
			{Path: "mkdocs.yml", Action: driver.Update, Content: []byte("site_name: x\n")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			if _, err := e.fake.Commit(project, scmtest.BasicRepo, "main", fakebitbucketserver.Commit{Message: "seed",
				Files: []fake.File{{Path: "mkdocs.yml", Content: []byte("site_name: a\n")}}}); err != nil {
				t.Fatal(err)
			}
			d, hc := driverFor(t, e.fake, nil)
			req := func(branch string, changes []driver.Change) *driver.PullRequestRequest {
				return &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo}, Branch: branch, Title: "t",
					CommitMessage: "m", Changes: changes}
			}
			if _, err := d.OpenPullRequest(t.Context(), hc, req("memo/warm", []driver.Change{{Path: "memo/warm.txt", Content: []byte("x\n")}})); err != nil {
				t.Fatal(err)
			}
			if err := e.fake.RenameBranch(project, scmtest.BasicRepo, "main", "trunk"); err != nil {
				t.Fatal(err)
			}
			before := e.fake.Stats().Routes[defaultBranchRoute]
			pr, err := d.OpenPullRequest(t.Context(), hc, req("memo/after", tc.changes))
			if err != nil || pr.Base != "trunk" {
				t.Fatalf("OpenPullRequest after the default branch was renamed = %+v, %v; want a pull request to trunk", pr, err)
			}
			if n := e.fake.Stats().Routes[defaultBranchRoute] - before; n != 1 {
				t.Errorf("%d default-branch lookups; want 1", n)
			}
			// The new default is remembered.
			before = e.fake.Stats().Routes[defaultBranchRoute]
			if pr, err := d.OpenPullRequest(t.Context(), hc, req("memo/again", []driver.Change{{Path: "memo/again.txt", Content: []byte("x\n")}})); err != nil || pr.Base != "trunk" {
				t.Fatalf("OpenPullRequest again = %+v, %v; want a pull request to trunk", pr, err)
			}
			if n := e.fake.Stats().Routes[defaultBranchRoute] - before; n != 0 {
				t.Errorf("%d default-branch lookups; want 0 (remembered)", n)
			}
		})
	}
}

// TestDefaultBranchMemoNoRetry: a failure that is not a missing base (or
// a base looked up just now) is returned as it is, with no second
// look-up.
func TestDefaultBranchMemoNoRetry(t *testing.T) {
	e := newEnv(t, "")
	d, hc := driverFor(t, e.fake, nil)
	req := &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo}, Branch: "memo/x", Title: "t",
		CommitMessage: "m", Changes: []driver.Change{{Path: "nope.txt", Action: driver.Update, Content: []byte("x\n")}}}
	before := e.fake.Stats().Routes[defaultBranchRoute]
	if _, err := d.OpenPullRequest(t.Context(), hc, req); d.ErrorInfo(err).Code != errcode.NotFound {
		t.Fatalf("OpenPullRequest of a missing Update = %v; want NotFound", err)
	}
	if n := e.fake.Stats().Routes[defaultBranchRoute] - before; n != 1 {
		t.Errorf("%d default-branch lookups; want 1 (a fresh look-up is not repeated)", n)
	}
}

// TestDefaultBranchMemoRenamedExistingBranch: when the remembered
// default branch was renamed within the TTL and the pull request's
// branch already exists, the remembered base is checked before anything
// is written: the pull request opens to the new default branch (or the
// one already open to it is returned) with no commit made for the old
// one and no pull request asked of it.
func TestDefaultBranchMemoRenamedExistingBranch(t *testing.T) {
	const (
		prRoute  = "POST /projects/{key}/repos/{slug}/pull-requests"
		putRoute = "PUT /projects/{key}/repos/{slug}/browse/{path...}"
	)
	for _, tc := range []struct {
		name     string
		openNew  bool // a pull request from feature to trunk is already open
		existing bool
		commits  int // new commits on feature
		puts     int // PUT browse requests
	}{
		{"no pull request yet", false, false, 1, 1},
		{"a pull request open to the new default", true, true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			d, hc := driverFor(t, e.fake, nil)
			req := func(branch, base, file string) *driver.PullRequestRequest {
				return &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo}, Branch: branch, Base: base,
					Title: "t", CommitMessage: "m", Changes: []driver.Change{{Path: file, Content: []byte("x\n")}}}
			}
			if _, err := d.OpenPullRequest(t.Context(), hc, req("memo/warm", "", "memo/warm.txt")); err != nil {
				t.Fatal(err)
			}
			if _, err := e.fake.Commit(project, scmtest.BasicRepo, "feature", fakebitbucketserver.Commit{Message: "seed",
				Files: []fake.File{{Path: "f.txt", Content: []byte("f\n")}}}); err != nil {
				t.Fatal(err)
			}
			if err := e.fake.RenameBranch(project, scmtest.BasicRepo, "main", "trunk"); err != nil {
				t.Fatal(err)
			}
			var open *driver.PullRequest
			if tc.openNew {
				var err error
				if open, err = d.OpenPullRequest(t.Context(), hc, req("feature", "trunk", "memo/first.txt")); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := e.fake.Commits(project, scmtest.BasicRepo, "feature")
			st := e.fake.Stats()
			pr, err := d.OpenPullRequest(t.Context(), hc, req("feature", "", "memo/new.txt"))
			if err != nil || pr.Base != "trunk" || pr.Existing != tc.existing {
				t.Fatalf("OpenPullRequest = %+v, %v; want a pull request to trunk, Existing %v", pr, err, tc.existing)
			}
			if open != nil && pr.Number != open.Number {
				t.Errorf("got pull request #%d; want the open one, #%d", pr.Number, open.Number)
			}
			after, _ := e.fake.Commits(project, scmtest.BasicRepo, "feature")
			now := e.fake.Stats()
			if n := len(after) - len(before); n != tc.commits {
				t.Errorf("%d new commits on feature; want %d", n, tc.commits)
			}
			if n := now.Routes[putRoute] - st.Routes[putRoute]; n != tc.puts {
				t.Errorf("%d PUT browse requests; want %d", n, tc.puts)
			}
			if n := now.Routes[defaultBranchRoute] - st.Routes[defaultBranchRoute]; n != 1 {
				t.Errorf("%d default-branch lookups; want 1", n)
			}
			wantPosts := 1
			if tc.existing {
				wantPosts = 0
			}
			if n := now.Routes[prRoute] - st.Routes[prRoute]; n != wantPosts {
				t.Errorf("%d pull requests asked for; want %d (none to the old base)", n, wantPosts)
			}
			for _, p := range e.fake.PullRequests(project, scmtest.BasicRepo) {
				if p.FromBranch == "feature" && p.ToBranch != "trunk" {
					t.Errorf("pull request #%d from feature to %s; want none but to trunk", p.ID, p.ToBranch)
				}
			}
		})
	}
}
