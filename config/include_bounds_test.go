package config

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingFS is mapFS that counts its reads.
func countingFS(files map[string]string, n *atomic.Int64) func(string) ([]byte, error) {
	read := mapFS(files)
	return func(name string) ([]byte, error) {
		n.Add(1)
		return read(name)
	}
}

// A file that includes itself several times fails fast, instead of being
// followed to the depth limit once per branch (3^16 reads for a file that
// includes itself three times).
func TestIncludeCycle(t *testing.T) {
	var reads atomic.Int64
	opts := &Options{ReadFile: countingFS(map[string]string{
		"self.yaml": "a: {x: {$include: self.yaml#a}, y: {$include: self.yaml#a}, z: {$include: self.yaml#a}}\n",
	}, &reads)}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := LoadBytes(ctx, opts, []byte("integrations:\n  github: [{host: a.example.com, apps: {$include: self.yaml#a}}]\n"))
	if ctx.Err() != nil {
		t.Fatalf("LoadBytes ran until its deadline (%d reads)", reads.Load())
	}
	if err == nil || !strings.Contains(err.Error(), "more than "+strconv.Itoa(maxIncludes)) {
		t.Errorf("LoadBytes = %.300v; want a problem about too many $file and $include directives", err)
	}
	if got := reads.Load(); got > maxIncludes+1 {
		t.Errorf("%d reads; want at most %d", got, maxIncludes+1)
	}
	// Including another part of the same file is not a cycle.
	cfg, err := LoadBytes(t.Context(), &Options{ReadFile: mapFS(map[string]string{
		"parts.yaml": "token: t1\nentry: {host: gitlab.com, token: {$include: parts.yaml#token}}\n",
	})}, []byte("integrations:\n  gitlab: [{$include: parts.yaml#entry}]\n"))
	if err != nil {
		t.Fatalf("include of another part of the same file: %v", err)
	}
	if got := cfg.Integrations.GitLab[0].Token.Reveal(); got != "t1" {
		t.Errorf("token = %q; want t1", got)
	}
}

// Includes that fan out without a cycle (16 files, each including the
// next three times) are bounded by a total number of directives.
func TestIncludeFanOutIsBounded(t *testing.T) {
	files := map[string]string{}
	for i := range 16 {
		next := "f" + strconv.Itoa(i+1) + ".yaml#a"
		files["f"+strconv.Itoa(i)+".yaml"] = "a: {x: {$include: " + next + "}, y: {$include: " + next + "}, z: {$include: " + next + "}}\n"
	}
	files["f16.yaml"] = "a: leaf\n"
	var reads atomic.Int64
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := LoadBytes(ctx, &Options{ReadFile: countingFS(files, &reads)},
		[]byte("integrations:\n  github: [{host: a.example.com, apps: {$include: f0.yaml#a}}]\n"))
	if ctx.Err() != nil {
		t.Fatalf("LoadBytes ran until its deadline (%d reads)", reads.Load())
	}
	if err == nil || !strings.Contains(err.Error(), "more than "+strconv.Itoa(maxIncludes)) {
		t.Errorf("LoadBytes = %.300v; want a problem about too many $file and $include directives", err)
	}
	if got := reads.Load(); got > maxIncludes+1 {
		t.Errorf("%d reads; want at most %d", got, maxIncludes+1)
	}
}

// The default file reader reads at most maxConfigFileBytes+1 bytes of any
// file: a device that never ends and a larger file are refused, naming the
// file and never its content; a pipe (a FIFO, -config <(envsubst ...),
// /dev/stdin) is read like a regular file.
func TestDefaultReadFileBounds(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.txt")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxConfigFileBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ok := filepath.Join(dir, "token.txt")
	if err := os.WriteFile(ok, []byte("s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file, want string
	}{
		{"/dev/zero", "larger than"},
		{big, "larger than"},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			doc := "integrations:\n  github: [{host: a.example.com, token: {$file: " + strconv.Quote(tt.file) + "}}]\n"
			_, err := LoadBytes(ctx, nil, []byte(doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "integrations.github[0].token") {
				t.Errorf("LoadBytes = %v; want a problem at integrations.github[0].token saying %q", err, tt.want)
			}
		})
	}
	cfg, err := LoadBytes(t.Context(), nil, []byte("integrations:\n  github: [{host: a.example.com, token: {$file: "+strconv.Quote(ok)+"}}]\n"))
	if err != nil {
		t.Fatalf("LoadBytes with a small regular $file: %v", err)
	}
	if got := cfg.Integrations.GitHub[0].Token.Reveal(); got != "s3cr3t-value" {
		t.Errorf("token = %q; want the file's content", got)
	}
}
