package gitlabscm_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// addForkMRs opens n merge requests from mallory/svc's add-catalog-info
// into acme/svc's main, each newer than those before (GitLab lists them
// newest first).
func addForkMRs(t *testing.T, w *world, n int) {
	t.Helper()
	for range n {
		if _, err := w.s.AddMergeRequest("acme/svc", fakegitlab.MergeRequest{SourceProject: "mallory/svc",
			SourceBranch: "add-catalog-info", TargetBranch: "main", Title: "Add catalog-info.yaml"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenPullRequestManyForkMRsDoNotHideOurs: forks' merge requests from
// branches named like ours, newer than ours, fill the preflight's first 20
// merge requests. OpenPullRequest without UpdateExisting must still find
// the project's own open merge request and return it, committing nothing:
// it reads on, 100 at a time, only when the page before is full of
// others' ones (19 forks: the preflight alone). The preflight read one
// page of 20: with 20 forks it took ours for missing, committed on its
// branch, got 409 and returned ours from the REST look-up (one page of
// 100); with 150 that look-up missed it too and the call failed after the
// commit (seen failing on the old code: commits 2 → 3 for 20 and 150).
func TestOpenPullRequestManyForkMRsDoNotHideOurs(t *testing.T) {
	for _, tc := range []struct{ forks, requests int }{{0, 1}, {19, 1}, {20, 2}, {150, 3}} {
		t.Run(strconv.Itoa(tc.forks), func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			seedFork(t, w)
			spec := &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false), Branch: "add-catalog-info",
				Title: "Add catalog-info.yaml", Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}
			first, err := w.c.OpenPullRequest(t.Context(), spec)
			if err != nil {
				t.Fatal(err)
			}
			addForkMRs(t, w, tc.forks)
			before, _ := w.s.Commits("acme/svc", "add-catalog-info")
			spec.Changes = []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\nchanged: by a second run\n")}}
			reqs := w.requests()
			again, err := w.c.OpenPullRequest(t.Context(), spec)
			if err != nil {
				t.Fatal(err)
			}
			if n := w.requests() - reqs; n != tc.requests {
				t.Errorf("%d requests; want %d", n, tc.requests)
			}
			after, _ := w.s.Commits("acme/svc", "add-catalog-info")
			if again.Number != first.Number || !again.Existing {
				t.Errorf("again = %+v; want our !%d, Existing", *again, first.Number)
			}
			if len(after) != len(before) {
				t.Errorf("UpdateExisting false, our !%d open: the branch got %d new commit(s)", first.Number, len(after)-len(before))
			}
			if len(ownMRs(w)) != 1 {
				t.Errorf("%d merge requests from acme/svc's own branch; want 1", len(ownMRs(w)))
			}
		})
	}
}

// TestOpenPullRequestTooManyForkMRsRefused: past the bound of the pages
// read (20 + 10×100 merge requests) without finding ours, OpenPullRequest
// cannot tell whether ours is open: it refuses (Conflict) before any
// write, rather than commit on a branch that may carry our open merge
// request.
func TestOpenPullRequestTooManyForkMRsRefused(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedFork(t, w)
	spec := &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false), Branch: "add-catalog-info",
		Title: "Add catalog-info.yaml", Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}
	if _, err := w.c.OpenPullRequest(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	addForkMRs(t, w, 1020)
	before, _ := w.s.Commits("acme/svc", "add-catalog-info")
	spec.Changes = []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\nchanged: by a second run\n")}}
	reqs := w.requests()
	_, err := w.c.OpenPullRequest(t.Context(), spec)
	if errcode.CodeOf(err) != errcode.Conflict || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("err = %v; want Conflict, nothing written", err)
	}
	if n := w.requests() - reqs; n != 11 {
		t.Errorf("%d requests; want 11 (the preflight and 10 pages)", n)
	}
	if after, _ := w.s.Commits("acme/svc", "add-catalog-info"); len(after) != len(before) {
		t.Errorf("the branch got %d new commit(s)", len(after)-len(before))
	}
}

// forkRaceTransport, on the first POST of a merge request, opens the
// project's own merge request from the same branch and then forks
// newer ones, as a concurrent run and forks would: GitLab answers 409.
type forkRaceTransport struct {
	base  http.RoundTripper
	once  sync.Once
	setup func()
}

func (r *forkRaceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/merge_requests") {
		r.once.Do(r.setup)
	}
	return r.base.RoundTrip(req)
}

// TestOpenPullRequestConflictFindsOursPastForks: when GitLab answers 409
// (our merge request opened meanwhile) and 150 forks' merge requests from
// branches of the same name are newer than ours, the REST look-up reads
// on past its first page of 100 and returns ours. It read one page and
// failed (seen failing on the old code).
func TestOpenPullRequestConflictFindsOursPastForks(t *testing.T) {
	tr := &forkRaceTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(tr.base.(*http.Transport).CloseIdleConnections)
	w := newWorld(t, worldOptions{transport: tr})
	seedFork(t, w)
	var ours int
	tr.setup = func() {
		var err error
		if ours, err = w.s.AddMergeRequest("acme/svc", fakegitlab.MergeRequest{SourceBranch: "add-catalog-info",
			TargetBranch: "main", Title: "opened meanwhile"}); err != nil {
			t.Error(err)
		}
		addForkMRs(t, w, 150)
	}
	spec := &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false), Branch: "add-catalog-info",
		Title: "Add catalog-info.yaml", Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}
	pr, err := w.c.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Number != ours || !pr.Existing {
		t.Errorf("pr = %+v; want !%d, Existing", *pr, ours)
	}
}
