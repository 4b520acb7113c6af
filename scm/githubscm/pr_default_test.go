package githubscm_test

import (
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestOpenPullRequestFromDefaultBranch: a pull request whose branch is the
// default branch ("trunk" here) is InvalidArgument whatever the base, after
// the one prepare query (which names the default branch) and with trunk
// unmoved; it used to commit on trunk and open a pull request from it into
// the base. A branch named "main" that is not the default branch is an
// ordinary branch: its pull request into trunk opens.
func TestOpenPullRequestFromDefaultBranch(t *testing.T) {
	both(t, func(t *testing.T, ghe bool) {
		e := newEnv(t, ghe, nil)
		trunk := e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", DefaultBranch: "trunk",
			Files: []fakegithub.File{{Path: "README.md", Content: []byte("trunk\n")}}})
		if _, err := e.s.Commit("acme", "svc", "main", fakegithub.Commit{Message: "a main branch",
			Files: []fakegithub.File{{Path: "README.md", Content: []byte("main\n")}}}); err != nil {
			t.Fatal(err)
		}
		for _, changes := range [][]scm.Change{textChanges(1), {{Path: "new.txt", Action: scm.Create, Content: []byte("x\n")}}} {
			var err error
			n := e.count(func() {
				_, err = e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Base: "main",
					Branch: "trunk", Title: "from the default branch", Changes: changes})
			})
			if scm.Code(err) != scm.InvalidArgument {
				t.Errorf("OpenPullRequest from trunk (the default branch) into main: %v; want InvalidArgument", err)
			}
			if n != 1 {
				t.Errorf("the refusal cost %d requests; want 1 (the prepare query)", n)
			}
			if head, _ := e.s.Ref("acme", "svc", "trunk"); head != trunk {
				t.Errorf("trunk moved from %s to %s", trunk, head)
			}
		}
		pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Base: "trunk",
			Branch: "main", Title: "from main, not the default branch", Changes: textChanges(1)})
		if err != nil || pr.Base != "trunk" || pr.Branch != "main" {
			t.Errorf("OpenPullRequest from main into trunk = %+v, %v; want it opened", pr, err)
		}
	})
}
