package scm_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/memscm"
)

// TestCreateRepositoryRefusesSymlinksInTheTree: a symbolic link in the
// initial tree (here one to a file outside it, as a template directory on
// disk might hold) is refused before any request, never read through.
func TestCreateRepositoryRefusesSymlinksInTheTree(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("not for the repository"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# svc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "leak.txt")); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	w := memscm.New()
	c := newClient(t, w.Opener(nil), nil, nil)
	_, err := c.CreateRepository(t.Context(), "https://github.com/acme", &scm.RepositorySpec{Name: "x"}, os.DirFS(dir))
	if scm.Code(err) != scm.InvalidArgument {
		t.Errorf("CreateRepository = %v; want InvalidArgument", err)
	}
	if n := w.Requests(); n != 0 {
		t.Errorf("driver calls = %d; want 0", n)
	}
}
