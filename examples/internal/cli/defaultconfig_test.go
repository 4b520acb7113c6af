package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An app-config.yaml in the current directory that is there but cannot be
// read (a symbolic link loop, ELOOP; a dangling link, as a ConfigMap not
// mounted yet is) makes Open fail naming it, rather than run anonymously
// and say nothing (review w6).
func TestOpenUnreadableDefaultConfig(t *testing.T) {
	for _, tt := range []struct {
		name   string
		target func(dir string) string
	}{
		{"link loop", func(string) string { return DefaultConfig }},
		{"dangling link", func(dir string) string { return filepath.Join(dir, "configmap", "app-config.yaml") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if err := os.Symlink(tt.target(dir), DefaultConfig); err != nil {
				t.Skipf("this system cannot make symbolic links here (Windows needs a privilege for them), so the unreadable-link case cannot arise: %v", err)
			}
			var stderr bytes.Buffer
			_, err := (&Common{}).Open(t.Context(), &stderr, "https://github.com/acme", nil)
			if err == nil || !strings.Contains(err.Error(), DefaultConfig) {
				t.Errorf("Open = %v (stderr %q); want an error naming %s", err, stderr.String(), DefaultConfig)
			}
			if strings.Contains(stderr.String(), "anonymously") {
				t.Errorf("stderr %q says it reads anonymously", stderr.String())
			}
		})
	}
}
