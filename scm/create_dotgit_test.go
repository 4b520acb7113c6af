package scm_test

import (
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/memscm"
)

// TestCreateRepositoryRefusesGitNames: a new repository's tree holding a
// path git refuses (".git" as NTFS or HFS+ reads it, a .gitmodules or
// .gitattributes directory) is InvalidArgument before any request, as
// OpenPullRequest refuses the same paths; it used to be committed on every
// host but GitHub (review29-integ2 #3). A .gitmodules file and names that
// only look like git's own are kept.
func TestCreateRepositoryRefusesGitNames(t *testing.T) {
	for _, p := range []string{".GIT/config", ".git/hooks/post-checkout", "sub/.git/config", "git~1/config", ".gitmodules/x",
		".gitattributes/x", ".git./config", ".g\u200cit/config"} {
		w := memscm.New()
		c := newClient(t, w.Opener(nil), nil, nil)
		fsys := createFS()
		fsys[p] = &fstest.MapFile{Data: []byte("[core]\n\tfsmonitor = evil\n"), Mode: 0o644}
		_, err := c.CreateRepository(t.Context(), "https://github.com/acme", &scm.RepositorySpec{Name: "svc"}, fsys)
		if scm.Code(err) != scm.InvalidArgument {
			t.Errorf("CreateRepository with %q = %v; want InvalidArgument", p, err)
		}
		if n := w.Requests(); n != 0 {
			t.Errorf("%q: driver calls = %d; want 0", p, n)
		}
		_, perr := c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: "https://github.com/acme/svc", Branch: "x", Title: "t",
			Changes: []scm.Change{{Path: p, Content: []byte("x")}}})
		if scm.Code(perr) != scm.InvalidArgument {
			t.Errorf("OpenPullRequest with %q = %v; want InvalidArgument, the same rule", p, perr)
		}
	}

	w := memscm.New()
	c := newClient(t, w.Opener(nil), nil, nil)
	fsys := createFS()
	for _, p := range []string{".gitmodules", ".gitattributes", ".github/workflows/ci.yml", "git~2/x", ".gitignore"} {
		fsys[p] = &fstest.MapFile{Data: []byte("x\n"), Mode: 0o644}
	}
	if _, err := c.CreateRepository(t.Context(), "https://github.com/acme", &scm.RepositorySpec{Name: "svc"}, fsys); err != nil {
		t.Fatalf("CreateRepository with names git accepts: %v", err)
	}
	if _, _, ok := w.File("acme", "svc", "", ".github/workflows/ci.yml"); !ok {
		t.Error(".github/workflows/ci.yml was not committed")
	}
}
