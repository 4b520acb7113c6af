package githubscm_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// textTree is a template of n text files.
func textTree(n int) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := range n {
		fsys[fmt.Sprintf("skeleton/dir%d/file%d.yaml", i%7, i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("n: %d\n", i)), Mode: 0o644}
	}
	return fsys
}

func TestCreateRepositoryRequests(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec scm.RepositorySpec
		fsys fstest.MapFS
		want int
	}{
		{"text tree, owner's default branch", scm.RepositorySpec{}, textTree(50), 4},
		{"one file", scm.RepositorySpec{}, textTree(1), 4},
		{"a binary file", scm.RepositorySpec{}, fstest.MapFS{"a.txt": {Data: []byte("a")}, "b.bin": {Data: []byte{0, 1, 2}}}, 5},
		{"another default branch", scm.RepositorySpec{DefaultBranch: "trunk"}, textTree(50), 6},
		{"topics", scm.RepositorySpec{Topics: []string{"backstage", "go"}}, textTree(50), 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false, nil)
			e.s.AddOwner("acme", fakegithub.Organization)
			spec := tc.spec
			spec.Name = "new-svc"
			var r *scm.CreatedRepository
			n := e.count(func() {
				var err error
				r, err = e.c.CreateRepository(t.Context(), e.web("acme"), &spec, tc.fsys)
				if err != nil {
					t.Fatalf("CreateRepository: %v", err)
				}
			})
			if n != tc.want {
				t.Errorf("CreateRepository made %d requests; want %d", n, tc.want)
			}
			want := "main"
			if spec.DefaultBranch != "" {
				want = spec.DefaultBranch
			}
			if r.DefaultBranch != want || r.CommitID == "" || !r.Private {
				t.Errorf("CreateRepository = %+v; want default branch %s, a commit id, private", r, want)
			}
			info, ok := e.s.GetCommit("acme", "new-svc", want)
			if !ok || info.SHA != r.CommitID || len(info.Parents) != 0 {
				t.Errorf("head of %s = %+v, %v; want the root commit %s (one commit, no README commit before it)", want, info, ok, r.CommitID)
			}
			files, err := e.s.Files("acme", "new-svc", want)
			if err != nil || len(files) != len(tc.fsys) {
				t.Errorf("Files = %d files, %v; want exactly the %d of the tree (no README)", len(files), err, len(tc.fsys))
			}
			if _, ok := e.s.Ref("acme", "new-svc", "refs/heads/main"); want != "main" && ok {
				t.Errorf("the auto_init branch main is left")
			}
		})
	}
}

func TestCreateRepositoryFailureAfterCreation(t *testing.T) {
	e := newEnv(t, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	e.s.Inject(fake.Fault{Kind: fake.FaultServerError, Method: "POST", Path: "/repos/acme/half/git/commits"})
	_, err := e.c.CreateRepository(t.Context(), e.web("acme"), &scm.RepositorySpec{Name: "half"}, textTree(3))
	if scm.Code(err) != scm.Unavailable || !strings.Contains(err.Error(), "acme/half was created") ||
		!strings.Contains(err.Error(), "initial commit is missing") {
		t.Errorf("CreateRepository with a failing commit = %v; want Unavailable naming acme/half and the missing initial commit", err)
	}
}

func BenchmarkGitHubCreateRepository(b *testing.B) {
	e := newEnv(b, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	fsys := textTree(50)
	measure(b, e, func(i int) error {
		_, err := e.c.CreateRepository(b.Context(), e.web("acme"), &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i)}, fsys)
		return err
	})
}

func TestCreateRepositoryUserOwner(t *testing.T) {
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, User: "alice"}, nil)
	var r *scm.CreatedRepository
	n := e.count(func() {
		var err error
		r, err = e.c.CreateRepository(t.Context(), e.web("alice"), &scm.RepositorySpec{Name: "dotfiles"}, textTree(3))
		if err != nil {
			t.Fatalf("CreateRepository for the user: %v", err)
		}
	})
	// 404 from /orgs/alice/repos, GET /user, then the 4 of an organization.
	if n != 6 || r.Owner != "alice" {
		t.Errorf("CreateRepository for the user = %+v after %d requests; want alice/dotfiles after 6", r, n)
	}
	n = e.count(func() {
		_, err := e.c.CreateRepository(t.Context(), e.web("bob"), &scm.RepositorySpec{Name: "dotfiles2"}, textTree(3))
		if scm.Code(err) != scm.NotFound {
			t.Errorf("CreateRepository for another user = %v; want NotFound", err)
		}
	})
	if n != 2 {
		t.Errorf("CreateRepository for another user made %d requests; want 2 (nothing created)", n)
	}
	if _, err := e.s.Files("alice", "dotfiles2", "main"); err == nil {
		t.Error("alice/dotfiles2 was created for bob's URL")
	}
}
