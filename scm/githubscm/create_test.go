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

func TestCreateRepositoryAccess(t *testing.T) {
	e := newEnv(t, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	e.s.AddOwner("carol", fakegithub.User)
	if err := e.s.AddOrgMember("acme", fakegithub.OrgMember{Login: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddTeam("acme", fakegithub.Team{Slug: "platform"}); err != nil {
		t.Fatal(err)
	}
	spec := &scm.RepositorySpec{Name: "granted", Access: []scm.Access{
		{Team: "platform", Permission: scm.Write}, {User: "alice", Permission: scm.Admin}, {User: "carol", Permission: scm.Read}}}
	n := e.count(func() {
		if _, err := e.c.CreateRepository(t.Context(), e.web("acme"), spec, textTree(5)); err != nil {
			t.Fatalf("CreateRepository: %v", err)
		}
	})
	if n != 4+3 {
		t.Errorf("CreateRepository with 3 grants made %d requests; want 7 (4 + one per grant)", n)
	}
	want := []fakegithub.Grant{{Team: "platform", Permission: "push"}, {User: "alice", Permission: "admin"},
		{User: "carol", Permission: "pull", Invited: true}}
	if got := e.s.Grants("acme", "granted"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("grants = %+v; want %+v", got, want)
	}
}

func TestCreateRepositoryAccessFailure(t *testing.T) {
	e := newEnv(t, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	if err := e.s.AddTeam("acme", fakegithub.Team{Slug: "platform"}); err != nil {
		t.Fatal(err)
	}
	spec := &scm.RepositorySpec{Name: "half", Access: []scm.Access{
		{Team: "platform", Permission: scm.Write}, {Team: "ghosts", Permission: scm.Read}, {User: "nobody", Permission: scm.Read}}}
	_, err := e.c.CreateRepository(t.Context(), e.web("acme"), spec, textTree(3))
	msg := fmt.Sprint(err)
	for _, want := range []string{"acme/half was created with its initial commit", "[team ghosts: read user nobody: read] are missing",
		"done: [team platform: write]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("CreateRepository with an unknown team = %v; want it to say %q", err, want)
		}
	}
	if scm.Code(err) != scm.NotFound {
		t.Errorf("code = %v; want NotFound (GitHub's 404 for the team)", scm.Code(err))
	}
	if _, err := e.s.Files("acme", "half", "main"); err != nil {
		t.Errorf("the initial commit is missing: %v", err)
	}
}

func TestCreateRepositoryAccessRefusedBeforeCreation(t *testing.T) {
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, User: "alice"}, nil)
	one := func(a scm.Access) []scm.Access { return []scm.Access{a} }
	for _, tc := range []struct {
		name   string
		owner  string
		access []scm.Access
	}{
		{"unknown permission", "acme", one(scm.Access{Team: "platform", Permission: "owner"})},
		{"no team nor user", "acme", one(scm.Access{Permission: scm.Read})},
		{"team and user", "acme", one(scm.Access{Team: "platform", User: "alice", Permission: scm.Read})},
		{"control character", "acme", one(scm.Access{User: "al\nice", Permission: scm.Read})},
		{"query in a name", "acme", one(scm.Access{Team: "platform?x=1", Permission: scm.Read})},
		{"user twice", "acme", []scm.Access{{User: "bob", Permission: scm.Read}, {User: "Bob", Permission: scm.Write}}},
		{"slash in a team slug", "acme", one(scm.Access{Team: "a/b", Permission: scm.Read})},
		{"team on a user's repository", "alice", one(scm.Access{Team: "platform", Permission: scm.Read})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.CreateRepository(t.Context(), e.web(tc.owner), &scm.RepositorySpec{Name: "refused", Access: tc.access}, textTree(1))
			if scm.Code(err) != scm.InvalidArgument {
				t.Errorf("CreateRepository(%+v) = %v; want InvalidArgument", tc.access, err)
			}
			if _, err := e.s.Files(tc.owner, "refused", "main"); err == nil {
				t.Errorf("%s/refused was created", tc.owner)
			}
		})
	}
}

// BenchmarkGitHubCreateRepositoryAccess is the benchmark above with a
// team and a user granted access: 4 + 2 requests.
func BenchmarkGitHubCreateRepositoryAccess(b *testing.B) {
	e := newEnv(b, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	if err := e.s.AddOrgMember("acme", fakegithub.OrgMember{Login: "alice"}); err != nil {
		b.Fatal(err)
	}
	if err := e.s.AddTeam("acme", fakegithub.Team{Slug: "platform"}); err != nil {
		b.Fatal(err)
	}
	fsys := textTree(50)
	access := []scm.Access{{Team: "platform", Permission: scm.Write}, {User: "alice", Permission: scm.Admin}}
	measure(b, e, func(i int) error {
		_, err := e.c.CreateRepository(b.Context(), e.web("acme"), &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i), Access: access}, fsys)
		return err
	})
}
