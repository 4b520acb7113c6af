package gitlabscm_test

import (
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// TestPullRequestFromDefaultBranch: a merge request whose source branch is
// the default branch is InvalidArgument whatever the target, after the
// one preflight query (whose rootRef names the default branch), with the
// default branch unmoved and no merge request; it used to commit on main
// and open a merge request from main into the target.
func TestPullRequestFromDefaultBranch(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	if _, err := w.s.Commit("acme/svc", "develop", fakegitlab.Commit{Message: "develop",
		Files: []fakegitlab.File{{Path: "develop.txt", Content: []byte("d\n")}}}); err != nil {
		t.Fatal(err)
	}
	repoURL := w.url(t, "acme", "svc", "", "", false)
	main, _ := w.s.Branch("acme/svc", "main")
	for _, changes := range [][]scm.Change{textChanges("x", 1), {{Path: "new.txt", Action: scm.Create, Content: []byte("x\n")}}} {
		before := w.requests()
		_, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: repoURL, Base: "develop", Branch: "main",
			Title: "from the default branch", Changes: changes})
		if scm.Code(err) != scm.InvalidArgument {
			t.Errorf("OpenPullRequest from main (the default branch) into develop: %v; want InvalidArgument", err)
		}
		if n := w.requests() - before; n != 1 {
			t.Errorf("%d requests; want 1 (the preflight query only)", n)
		}
		if head, _ := w.s.Branch("acme/svc", "main"); head != main {
			t.Errorf("main moved from %s to %s", main, head)
		}
	}
	if mrs := w.s.MergeRequests("acme/svc"); len(mrs) != 0 {
		t.Errorf("%d merge requests; want none", len(mrs))
	}
}
