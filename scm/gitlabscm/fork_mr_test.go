package gitlabscm_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// seedFork seeds acme/svc and mallory's fork mallory/svc, with a branch
// add-catalog-info.
func seedFork(t *testing.T, w *world) {
	t.Helper()
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	if _, _, err := w.s.AddProject(fakegitlab.Project{Namespace: "mallory", Path: "svc", ForkedFrom: "acme/svc",
		Files: []fakegitlab.File{{Path: "README.md", Content: []byte("hi\n")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Commit("mallory/svc", "add-catalog-info", fakegitlab.Commit{Message: "hostile",
		Files: []fakegitlab.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\nspec: {owner: mallory}\n")}}}); err != nil {
		t.Fatal(err)
	}
}

// seedForkMR is seedFork, and an open merge request from mallory/svc's
// add-catalog-info into acme/svc's main: the merge request GitLab lists
// on acme/svc (project.mergeRequests and GET /projects/:id/merge_requests
// are scoped to the target project), with the fork's id as its source
// project. It returns that merge request's iid.
func seedForkMR(t *testing.T, w *world) int {
	t.Helper()
	seedFork(t, w)
	iid, err := w.s.AddMergeRequest("acme/svc", fakegitlab.MergeRequest{SourceProject: "mallory/svc",
		SourceBranch: "add-catalog-info", TargetBranch: "main", Title: "Add catalog-info.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	return iid
}

// ownMRs returns acme/svc's merge requests from its own branch.
func ownMRs(w *world) (own []fakegitlab.MergeRequest) {
	for _, mr := range w.s.MergeRequests("acme/svc") {
		if mr.SourceProject == "" {
			own = append(own, mr)
		}
	}
	return own
}

// TestOpenPullRequestForkMergeRequestIsNotOurs: an open merge request
// from a fork whose branch has the run's branch name is someone else's
// (anyone who can fork the project can open one, and scaffolder branch
// names are predictable). OpenPullRequest commits the changes on the
// project's own branch and opens its own merge request, in the same 3
// requests, with and without UpdateExisting. It used to return the fork's
// merge request as Existing and commit nothing (or, with UpdateExisting,
// commit on the project's branch and still return the fork's).
func TestOpenPullRequestForkMergeRequestIsNotOurs(t *testing.T) {
	for _, update := range []bool{false, true} {
		t.Run(map[bool]string{false: "new", true: "UpdateExisting"}[update], func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			forkIID := seedForkMR(t, w)
			before := w.requests()
			pr, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false),
				Branch: "add-catalog-info", Title: "Add catalog-info.yaml", UpdateExisting: update,
				Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}})
			if err != nil {
				t.Fatal(err)
			}
			if n := w.requests() - before; n != 3 {
				t.Errorf("OpenPullRequest: %d requests; want 3 (preflight, commit, merge request)", n)
			}
			own := ownMRs(w)
			if pr.Existing || pr.Number == forkIID || len(own) != 1 || own[0].IID != pr.Number {
				t.Fatalf("OpenPullRequest = %+v; acme/svc's own merge requests: %+v; want a new merge request from acme/svc's branch, not mallory/svc's !%d",
					*pr, own, forkIID)
			}
			if !strings.HasSuffix(pr.URL, "/acme/svc/-/merge_requests/2") || pr.CommitID != own[0].SHA {
				t.Errorf("OpenPullRequest = %+v; want !2 of acme/svc at %s", *pr, own[0].SHA)
			}
			if got, err := w.s.Files("acme/svc", "add-catalog-info"); err != nil || len(got) != 2 {
				t.Errorf("acme/svc's branch holds %d files (%v); want README.md and catalog-info.yaml", len(got), err)
			}
		})
	}
}

// TestOpenPullRequestForkMergeRequestStillFindsOurs: with the fork's
// merge request listed first, the project's own one for the branch is
// still found and returned, in 1 request.
func TestOpenPullRequestForkMergeRequestStillFindsOurs(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedForkMR(t, w)
	spec := &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false), Branch: "add-catalog-info",
		Title: "Add catalog-info.yaml", Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}
	first, err := w.c.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	// A newer fork merge request, listed before ours (newest first).
	forkIID, err := w.s.AddMergeRequest("acme/svc", fakegitlab.MergeRequest{SourceProject: "mallory/svc",
		SourceBranch: "add-catalog-info", TargetBranch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	before := w.requests()
	again, err := w.c.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if n := w.requests() - before; n != 1 {
		t.Errorf("OpenPullRequest again: %d requests; want 1", n)
	}
	if !again.Existing || again.Number != first.Number || again.Number == forkIID {
		t.Errorf("OpenPullRequest again = %+v; want the existing !%d", *again, first.Number)
	}
}

// raceMRTransport opens, just before the client's POST of its merge
// request, the project's own merge request for the branch (as a
// concurrent run would) and then a fork's for a branch of the same name,
// so that the POST is refused with 409 and the REST listing that follows
// it names the fork's merge request first (newest first).
type raceMRTransport struct {
	base http.RoundTripper
	w    **world
	t    *testing.T
	done bool
}

func (rt *raceMRTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !rt.done && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/merge_requests") {
		rt.done = true
		w := *rt.w
		for _, mr := range []fakegitlab.MergeRequest{
			{SourceBranch: "add-catalog-info", TargetBranch: "main", Title: "the concurrent run's"},
			{SourceProject: "mallory/svc", SourceBranch: "add-catalog-info", TargetBranch: "main", Title: "mallory's"},
		} {
			if _, err := w.s.AddMergeRequest("acme/svc", mr); err != nil {
				rt.t.Error(err)
			}
		}
	}
	return rt.base.RoundTrip(req)
}

// TestOpenPullRequestConflictIgnoresForkMergeRequest: after GitLab's 409
// (the merge request was opened meanwhile), the REST lookup of the open
// merge request keeps the project's own: a fork's, listed first, is not
// it. It used to return the fork's.
func TestOpenPullRequestConflictIgnoresForkMergeRequest(t *testing.T) {
	var w *world
	w = newWorld(t, worldOptions{transport: &raceMRTransport{base: http.DefaultTransport, w: &w, t: t}})
	seedFork(t, w)
	pr, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false),
		Branch: "add-catalog-info", Title: "Add catalog-info.yaml",
		Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	own := ownMRs(w)
	if len(own) != 1 || !pr.Existing || pr.Number != own[0].IID {
		t.Errorf("OpenPullRequest = %+v; acme/svc's own merge requests: %+v; want its own (the concurrent run's), Existing", *pr, own)
	}
}
