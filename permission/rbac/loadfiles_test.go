package rbac

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
