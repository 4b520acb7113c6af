package githubscm_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestOpenPullRequestDraftAndBase: Draft reaches GitHub, and an empty Base
// is the repository's default branch ("trunk" here, with a "main" branch
// beside it that must not be used), from which the new branch starts.
func TestOpenPullRequestDraftAndBase(t *testing.T) {
	both(t, func(t *testing.T, ghe bool) {
		e := newEnv(t, ghe, nil)
		trunk := e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", DefaultBranch: "trunk",
			Files: []fakegithub.File{{Path: "README.md", Content: []byte("trunk\n")}}})
		mainHead, err := e.s.Commit("acme", "svc", "main", fakegithub.Commit{Message: "a main branch",
			Files: []fakegithub.File{{Path: "README.md", Content: []byte("main\n")}}})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name       string
			base       string
			draft      bool
			wantBase   string
			wantParent string
		}{
			{"draft, default base", "", true, "trunk", trunk},
			{"ready, default base", "", false, "trunk", trunk},
			{"draft, base given", "main", true, "main", mainHead},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				branch := "change-" + string(rune('a'+i))
				n := e.count(func() {
					pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Base: tt.base,
						Branch: branch, Title: tt.name, Draft: tt.draft, Changes: textChanges(1)})
					if err != nil {
						t.Fatal(err)
					}
					if pr.Base != tt.wantBase || pr.Branch != branch || pr.Existing {
						t.Errorf("pull request %+v; want base %q, branch %q, not existing", pr, tt.wantBase, branch)
					}
				})
				if n != 2 {
					t.Errorf("API requests = %d; want 2", n)
				}
				pulls := e.s.Pulls("acme", "svc")
				k := slices.IndexFunc(pulls, func(p fakegithub.Pull) bool { return p.Head == branch })
				if k < 0 {
					t.Fatalf("no pull request from %s in %+v", branch, pulls)
				}
				type view struct {
					Base  string
					Draft bool
				}
				if diff := cmp.Diff(view{tt.wantBase, tt.draft}, view{pulls[k].Base, pulls[k].Draft}); diff != "" {
					t.Errorf("pull request recorded by GitHub differs (-want +got):\n%s", diff)
				}
				info, _ := e.s.GetCommit("acme", "svc", branch)
				if !slices.Equal(info.Parents, []string{tt.wantParent}) {
					t.Errorf("branch commit parents = %v; want [%s] (the head of %s)", info.Parents, tt.wantParent, tt.wantBase)
				}
			})
		}
	})
}
