package scm_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/scm"
)

func ExampleWriteTree() {
	ctx := context.Background()
	c := exampleClient()
	tree, err := c.ReadTree(ctx, "https://github.com/acme/service/tree/main/templates/web", nil)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "workspace")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// WriteTree, not os.CopyFS: it never follows a symbolic link already in dir.
	if err := scm.WriteTree(ctx, tree, dir, nil); err != nil {
		log.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "skeleton", "README.md"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(b))

	// Writing again over the same files needs Overwrite.
	err = scm.WriteTree(ctx, tree, dir, nil)
	fmt.Println(scm.Code(err))
	fmt.Println(scm.WriteTree(ctx, tree, dir, &scm.WriteTreeOptions{Overwrite: true}))
	// Output:
	// # ${{ values.name }}
	// AlreadyExists
	// <nil>
}

// TestWriteTreeRefusesSymlinkInDestination: a destination that already
// holds a symbolic link where the tree has a directory (or a file) is
// refused, and nothing is written where the link points; os.CopyFS, which
// the documentation used to recommend, writes through such a link.
func TestWriteTreeRefusesSymlinkInDestination(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	t.Parallel()
	tree := fstest.MapFS{
		"skeleton/authorized_keys": {Data: []byte("ssh-ed25519 attacker"), Mode: 0o644},
		"template.yaml":            {Data: []byte("kind: Template\n"), Mode: 0o644},
	}
	for _, tc := range []struct {
		name string
		link string // the name in dest that is a symbolic link to outside
		opts *scm.WriteTreeOptions
	}{
		{name: "link where the tree has a directory", link: "skeleton"},
		{name: "link where the tree has a directory, Overwrite", link: "skeleton", opts: &scm.WriteTreeOptions{Overwrite: true}},
		{name: "link where the tree has a file", link: "template.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			dest, outside := filepath.Join(base, "dest"), filepath.Join(base, "outside")
			for _, d := range []string{dest, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			target := outside
			if tc.link == "template.yaml" {
				target = filepath.Join(outside, "template.yaml")
			}
			if err := os.Symlink(target, filepath.Join(dest, tc.link)); err != nil {
				t.Fatal(err)
			}
			err := scm.WriteTree(t.Context(), tree, dest, tc.opts)
			if scm.Code(err) != scm.AlreadyExists || !errors.Is(err, fs.ErrExist) {
				t.Errorf("WriteTree: %v; want AlreadyExists", err)
			}
			var se *scm.Error
			if !errors.As(err, &se) || se.Op != "scm.WriteTree" {
				t.Errorf("error %#v; want an *scm.Error with Op scm.WriteTree", err)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("WriteTree wrote %v outside the destination", entries)
			}

			if tc.link != "skeleton" {
				return
			}
			// The hazard WriteTree avoids: os.CopyFS follows the link.
			copyDest := filepath.Join(base, "copy")
			os.Mkdir(copyDest, 0o755)
			copyOutside := filepath.Join(base, "copy-outside")
			os.Mkdir(copyOutside, 0o755)
			if err := os.Symlink(copyOutside, filepath.Join(copyDest, "skeleton")); err != nil {
				t.Fatal(err)
			}
			if err := os.CopyFS(copyDest, tree); err == nil {
				if _, err := os.Stat(filepath.Join(copyOutside, "authorized_keys")); err != nil {
					t.Logf("os.CopyFS no longer writes through the link (%v)", err)
				}
			}
		})
	}
}

// TestWriteTreeErrors: WriteTree reports every failure as an *scm.Error
// with its Op and a code.
func TestWriteTreeErrors(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{"a.txt": {Data: []byte("a")}}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		fsys fs.FS
		dir  string
		want scm.ErrorCode
	}{
		{name: "ok", ctx: t.Context(), fsys: tree, dir: filepath.Join(t.TempDir(), "new"), want: scm.OK},
		{name: "cancelled", ctx: cancelled, fsys: tree, dir: t.TempDir(), want: scm.Canceled},
		{name: "device file in the tree", ctx: t.Context(), fsys: fstest.MapFS{"dev": {Mode: fs.ModeDevice}}, dir: t.TempDir(),
			want: scm.InvalidArgument},
		{name: "destination is a file", ctx: t.Context(), fsys: tree, dir: file, want: scm.Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := scm.WriteTree(tc.ctx, tc.fsys, tc.dir, nil)
			if got := scm.Code(err); got != tc.want {
				t.Fatalf("WriteTree: %v (code %v); want %v", err, got, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "scm.WriteTree: ") {
				t.Errorf("error %q; want it to start with the Op", err)
			}
		})
	}
}
