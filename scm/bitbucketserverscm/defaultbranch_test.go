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
