package archive_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

// TestWriteDirRefusesDotGit: a tree that carries a repository's control
// directory (".git/config" with core.fsmonitor or core.hooksPath set, or
// a ".git" file whose gitdir points elsewhere) would make the next git
// command run in the destination (a scaffolder's git init, add and commit)
// run the tree's own commands. No git host serves such a tree (git's fsck
// refuses the name), so WriteDir refuses it in every spelling git refuses,
// with InvalidArgument, and writes nothing under that name.
func TestWriteDirRefusesDotGit(t *testing.T) {
	for _, name := range []string{".git/config", ".GIT/hooks/pre-commit", "sub/.git", "sub/.Git./config", "git~1/config"} {
		t.Run(name, func(t *testing.T) {
			tree := fstest.MapFS{
				"README.md": {Data: []byte("hi")},
				name:        {Data: []byte("[core]\n\tfsmonitor = touch /tmp/pwned\n")},
			}
			dest := t.TempDir()
			err := archive.WriteDir(t.Context(), tree, dest, nil)
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), ".git") {
				t.Fatalf("WriteDir = %v; want InvalidArgument naming .git", err)
			}
			first, _, _ := strings.Cut(strings.TrimPrefix(name, "sub/"), "/")
			if _, err := os.Lstat(filepath.Join(dest, filepath.FromSlash(strings.TrimSuffix(name, strings.TrimPrefix(name, "sub/"))), first)); err == nil {
				t.Errorf("%s was written", first)
			}
		})
	}
	// Names that only look alike are written.
	tree := fstest.MapFS{".github/workflows/ci.yaml": {Data: []byte("on: push")}, ".gitignore": {Data: []byte("x")}, "a.git/x": {Data: []byte("y")}}
	if err := archive.WriteDir(t.Context(), tree, t.TempDir(), nil); err != nil {
		t.Errorf("WriteDir(.github, .gitignore, a.git) = %v", err)
	}
}
