package archive_test

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

func TestNewFS(t *testing.T) {
	t.Parallel()
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	data := []byte("package main")
	fsys, err := archive.NewFS(map[string]archive.File{
		"cmd/main.go":  {Data: data, Mode: 0o644, ModTime: mtime},
		"cmd/run":      {Data: []byte("#!/bin/sh"), Mode: 0o755},
		"empty":        {Mode: fs.ModeDir | 0o755, ModTime: mtime},
		"a/b/c/d.json": {Data: []byte("{}")},
	})
	if err != nil {
		t.Fatal(err)
	}
	data[0] = 'X' // NewFS copied it
	want := map[string]string{"a/": "", "a/b/": "", "a/b/c/": "", "a/b/c/d.json": "{}",
		"cmd/": "", "cmd/main.go": "package main", "cmd/run": "#!/bin/sh", "empty/": ""}
	if diff := cmp.Diff(want, tree(t, fsys)); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
	if err := fstest.TestFS(fsys, "cmd/main.go", "cmd/run", "empty", "a/b/c/d.json"); err != nil {
		t.Error(err)
	}
	fi, _ := fsys.Stat("cmd/main.go")
	if !fi.ModTime().Equal(mtime) || fi.Mode() != 0o644 {
		t.Errorf("got %v %v; want %v -rw-r--r--", fi.ModTime(), fi.Mode(), mtime)
	}
	fi, _ = fsys.Stat(".")
	if fi.Name() != "." || !fi.IsDir() {
		t.Errorf("Stat(.) = %v; want a directory named .", fi)
	}
}

func TestNewFSRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]archive.File
		want  string
	}{
		{"dot dot", map[string]archive.File{"../x": {}}, "invalid path"},
		{"absolute", map[string]archive.File{"/x": {}}, "invalid path"},
		{"root", map[string]archive.File{".": {}}, "invalid path"},
		{"trailing slash", map[string]archive.File{"a/": {}}, "invalid path"},
		{"backslash", map[string]archive.File{`a\b`: {}}, "invalid path"},
		{"NUL", map[string]archive.File{"a\x00b": {}}, "invalid path"},
		{"symlink", map[string]archive.File{"l": {Mode: fs.ModeSymlink}}, "only regular files and directories"},
		{"file and directory", map[string]archive.File{"a": {}, "a/b": {}}, "both a file and a directory"},
		{"directory and file", map[string]archive.File{"a": {Mode: fs.ModeDir}, "a/b": {}, "a/b/c": {}}, "both a file and a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := archive.NewFS(tt.files)
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want InvalidArgument containing %q", err, tt.want)
			}
		})
	}
}

func TestZeroFS(t *testing.T) {
	t.Parallel()
	var fsys archive.FS
	entries, err := fsys.ReadDir(".")
	if err != nil || len(entries) != 0 {
		t.Errorf("ReadDir(.) = %v, %v; want empty", entries, err)
	}
	if _, err := fsys.Open("x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(x) = %v; want fs.ErrNotExist", err)
	}
	if err := fstest.TestFS(&fsys); err != nil {
		t.Error(err)
	}
}

func TestOpenFileSemantics(t *testing.T) {
	t.Parallel()
	fsys, err := archive.NewFS(map[string]archive.File{"f": {Data: []byte("0123456789")}, "d/x": {}})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := fsys.Open("f")
	ra := f.(io.ReaderAt)
	buf := make([]byte, 4)
	if n, err := ra.ReadAt(buf, 8); n != 2 || err != io.EOF || string(buf[:n]) != "89" {
		t.Errorf("ReadAt(8) = %d, %v, %q; want 2, EOF, 89", n, err, buf[:n])
	}
	if pos, err := f.(io.Seeker).Seek(-3, io.SeekEnd); pos != 7 || err != nil {
		t.Errorf("Seek(-3, end) = %d, %v; want 7", pos, err)
	}
	if b, _ := io.ReadAll(f); string(b) != "789" {
		t.Errorf("read after seek = %q; want 789", b)
	}
	f.Close()
	if _, err := f.Read(buf); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close = %v; want fs.ErrClosed", err)
	}
	d, _ := fsys.Open("d")
	if _, err := d.Read(buf); err == nil {
		t.Errorf("Read on a directory succeeded")
	}
	rd := d.(fs.ReadDirFile)
	if es, err := rd.ReadDir(1); len(es) != 1 || err != nil {
		t.Errorf("ReadDir(1) = %v, %v; want one entry", es, err)
	}
	if es, err := rd.ReadDir(1); len(es) != 0 || err != io.EOF {
		t.Errorf("ReadDir(1) at end = %v, %v; want EOF", es, err)
	}
}

func TestConcurrentReads(t *testing.T) {
	t.Parallel()
	fsys := sampleFS(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					_, err = fsys.ReadFile(p)
				}
				return err
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
