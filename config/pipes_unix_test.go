//go:build unix

package config

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The default reader loads a configuration from a pipe, as a shell's
// -config <(envsubst < app-config.yaml) (/dev/fd/63) or /dev/stdin gives
// it: a named FIFO and an os.Pipe, each with a writer.
func TestDefaultReadFilePipes(t *testing.T) {
	const doc = "integrations:\n  github: [{host: a.example.com, token: piped-token}]\n"
	fifo := func(t *testing.T) string {
		name := filepath.Join(t.TempDir(), "app-config.yaml")
		if err := syscall.Mkfifo(name, 0o600); err != nil {
			t.Fatalf("mkfifo in a temporary directory (unix systems all support it): %v", err)
		}
		t.Cleanup(func() {
			// Releases the writer when Load never opened the FIFO.
			if r, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				r.Close()
			}
		})
		go func() {
			w, err := os.OpenFile(name, os.O_WRONLY, 0) // blocks until a reader opens it
			if err != nil {
				return
			}
			defer w.Close()
			_, _ = io.WriteString(w, doc)
		}()
		return name
	}
	pipe := func(t *testing.T) string {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		go func() {
			defer w.Close()
			_, _ = io.WriteString(w, doc)
		}()
		return "/dev/fd/" + strconv.Itoa(int(r.Fd()))
	}
	for _, tt := range []struct {
		name string
		file func(t *testing.T) string
	}{
		{"fifo", fifo},
		{"os.Pipe", pipe},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.file(t)
			if _, err := os.Stat(name); err != nil {
				t.Skipf("this system does not name open pipes under /dev/fd (Linux and macOS do), so -config <(…) cannot be used here: %v", err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cfg, err := Load(ctx, nil, name)
			if err != nil {
				t.Fatalf("Load(%s): %v", name, err)
			}
			if len(cfg.Integrations.GitHub) != 1 || cfg.Integrations.GitHub[0].Token.Reveal() != "piped-token" {
				t.Errorf("Load(%s): github %+v; want the piped configuration", name, cfg.Integrations.GitHub)
			}
		})
	}
}
