package rbac

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// Backstage configs name the CSV "../../rbac-policy.csv" (relative to
// packages/backend) or by an absolute path (container images); Load, over
// an fs.FS, refuses both. LoadFiles reads them as Backstage does.
func TestLoadFilesBackstagePaths(t *testing.T) {
	root := t.TempDir()
	backend := filepath.Join(root, "packages", "backend")
	if err := os.MkdirAll(backend, 0o755); err != nil {
		t.Fatal(err)
	}
	csv := "p, role:default/admins, catalog-entity, read, allow\ng, user:default/alice, role:default/admins\n"
	if err := os.WriteFile(filepath.Join(root, "rbac-policy.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../../rbac-policy.csv", filepath.Join(root, "rbac-policy.csv")} {
		c := &Config{Enabled: true}
		c.RBAC.PoliciesCSVFile = name
		if _, err := Load(os.DirFS(backend), c, nil); err == nil || !strings.Contains(err.Error(), "rbac.LoadFiles") {
			t.Errorf("Load(%q): %v; want a refusal pointing at LoadFiles", name, err)
		}
		if _, err := LoadFiles(backend, c, nil); err != nil {
			t.Errorf("LoadFiles(%q): %v", name, err)
		}
	}
	c := &Config{Enabled: true}
	c.RBAC.PoliciesCSVFile = "missing.csv"
	if _, err := LoadFiles(backend, c, nil); err == nil || !strings.Contains(err.Error(), "permission.rbac.policies-csv-file") {
		t.Errorf("a missing file: %v; want an error naming the key", err)
	}
}

// failingFS's Open fails with an *errcode.Error of its own.
type failingFS struct{}

func (failingFS) Open(string) (fs.File, error) {
	return nil, errcode.New(errcode.InvalidArgument, "myfs.Open", "refused")
}

// Load's error names the key whatever error the fs.FS's Open returns (an
// InvalidArgument one came back bare, without rbac.Load or the key).
func TestLoadOpenErrorNamesTheKey(t *testing.T) {
	c := &Config{Enabled: true}
	c.RBAC.PoliciesCSVFile = "rbac-policy.csv"
	_, err := Load(failingFS{}, c, nil)
	if err == nil || !strings.Contains(err.Error(), "rbac.Load") || !strings.Contains(err.Error(), "permission.rbac.policies-csv-file") {
		t.Errorf("got %v; want an error of rbac.Load naming the key", err)
	}
}
