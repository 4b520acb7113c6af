package archive_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

// diskTree lists dest like tree does, with each file's mode.
func diskTree(t *testing.T, dest string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dest, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
		case d.IsDir():
			out[rel+"/"] = ""
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fi, _ := d.Info()
			out[rel] = fi.Mode().Perm().String() + " " + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sampleFS(t *testing.T) *archive.FS {
	t.Helper()
	fsys, err := archive.NewFS(map[string]archive.File{
		"README.md":           {Data: []byte("hello"), Mode: 0o664},
		"bin/run.sh":          {Data: []byte("#!/bin/sh"), Mode: 0o700},
		"bin/lib/tool":        {Data: []byte("tool"), Mode: 0o751},
		"docs/empty":          {Mode: fs.ModeDir | 0o700},
		"skeleton/a/b/c.yaml": {Data: []byte("c: 1"), Mode: 0o600},
	})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func TestWriteDir(t *testing.T) {
	t.Parallel()
	dest := filepath.Join(t.TempDir(), "new", "workspace")
	if err := archive.WriteDir(t.Context(), sampleFS(t), dest, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"README.md": "-rw-r--r-- hello", "bin/": "", "bin/run.sh": "-rwxr-xr-x #!/bin/sh",
		"bin/lib/": "", "bin/lib/tool": "-rwxr-xr-x tool", "docs/": "", "docs/empty/": "",
		"skeleton/": "", "skeleton/a/": "", "skeleton/a/b/": "", "skeleton/a/b/c.yaml": "-rw-r--r-- c: 1",
	}
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	if diff := cmp.Diff(want, diskTree(t, dest)); diff != "" {
		t.Errorf("written tree (-want +got):\n%s", diff)
	}
	// Writing again without Overwrite refuses; with it, succeeds.
	err := archive.WriteDir(t.Context(), sampleFS(t), dest, nil)
	if errcode.CodeOf(err) != errcode.AlreadyExists {
		t.Errorf("second write: got %v; want AlreadyExists", err)
	}
	if err := archive.WriteDir(t.Context(), sampleFS(t), dest, &archive.WriteOptions{Overwrite: true}); err != nil {
		t.Errorf("overwrite: %v", err)
	}
}

func TestWriteDirNeverLeavesDest(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	t.Parallel()
	tests := []struct {
		name     string
		prepare  func(t *testing.T, dest, outside string) // set up dest before writing
		fsys     fs.FS
		opts     *archive.WriteOptions
		wantCode errcode.Code
	}{
		{name: "symlinked directory in dest pointing outside",
			prepare: func(t *testing.T, dest, outside string) { symlink(t, outside, filepath.Join(dest, "evil")) },
			fsys:    fstest.MapFS{"evil/pwned": {Data: []byte("x")}}, wantCode: errcode.AlreadyExists},
		{name: "symlinked directory in dest pointing inside is not followed either",
			prepare: func(t *testing.T, dest, outside string) {
				os.Mkdir(filepath.Join(dest, "real"), 0o755)
				symlink(t, "real", filepath.Join(dest, "alias"))
			},
			fsys: fstest.MapFS{"alias/f": {Data: []byte("x")}}, wantCode: errcode.AlreadyExists},
		{name: "symlinked file in dest, no overwrite",
			prepare: func(t *testing.T, dest, outside string) {
				symlink(t, filepath.Join(outside, "target"), filepath.Join(dest, "f"))
			},
			fsys: fstest.MapFS{"f": {Data: []byte("x")}}, wantCode: errcode.AlreadyExists},
		{name: "dangling symlink in dest pointing outside, no overwrite",
			prepare: func(t *testing.T, dest, outside string) {
				symlink(t, filepath.Join(outside, "created-later"), filepath.Join(dest, "f"))
			},
			fsys: fstest.MapFS{"f": {Data: []byte("x")}}, wantCode: errcode.AlreadyExists},
		{name: "symlink chain in dest: link1 -> link2 -> outside",
			prepare: func(t *testing.T, dest, outside string) {
				symlink(t, outside, filepath.Join(dest, "link2"))
				symlink(t, "link2", filepath.Join(dest, "link1"))
			},
			fsys: fstest.MapFS{"link1/pwned": {Data: []byte("x")}}, wantCode: errcode.AlreadyExists},
		{name: "file named .. in a hostile fs.FS",
			fsys: fstest.MapFS{"../pwned": {Data: []byte("x")}}, wantCode: errcode.InvalidArgument},
		{name: "backslash name in a hostile fs.FS",
			fsys: fstest.MapFS{`..\pwned`: {Data: []byte("x")}}, wantCode: errcode.InvalidArgument},
		{name: "device file in the source",
			fsys: fstest.MapFS{"dev": {Mode: fs.ModeDevice}}, wantCode: errcode.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			dest, outside := filepath.Join(base, "dest"), filepath.Join(base, "outside")
			for _, d := range []string{dest, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(outside, "target"), []byte("original"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(t, dest, outside)
			}
			err := archive.WriteDir(t.Context(), tt.fsys, dest, tt.opts)
			if got := errcode.CodeOf(err); got != tt.wantCode {
				t.Errorf("got %v (code %v); want %v", err, got, tt.wantCode)
			}
			if diff := cmp.Diff(map[string]string{"target": "-rw-r--r-- original"}, diskTree(t, outside)); diff != "" {
				t.Errorf("outside changed (-want +got):\n%s", diff)
			}
			if _, err := os.Lstat(filepath.Join(base, "pwned")); err == nil {
				t.Errorf("a file was written next to dest")
			}
		})
	}
}

func TestWriteDirOverwriteReplacesLinksWithoutFollowing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	t.Parallel()
	base := t.TempDir()
	dest, outside := filepath.Join(base, "dest"), filepath.Join(base, "outside")
	os.Mkdir(dest, 0o755)
	os.Mkdir(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "target"), []byte("original"), 0o644)
	symlink(t, filepath.Join(outside, "target"), filepath.Join(dest, "f"))
	os.Mkdir(filepath.Join(dest, "d"), 0o755)
	err := archive.WriteDir(t.Context(), fstest.MapFS{"f": {Data: []byte("new"), Mode: 0o755}}, dest, &archive.WriteOptions{Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"f": "-rwxr-xr-x new", "d/": ""}, diskTree(t, dest)); diff != "" {
		t.Errorf("dest (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "target")); string(b) != "original" {
		t.Errorf("outside target changed to %q", b)
	}
	// A directory is never replaced by a file.
	err = archive.WriteDir(t.Context(), fstest.MapFS{"d": {Data: []byte("x")}}, dest, &archive.WriteOptions{Overwrite: true})
	if errcode.CodeOf(err) != errcode.AlreadyExists {
		t.Errorf("got %v; want AlreadyExists", err)
	}
}

func TestWriteDirSkipsSourceSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	t.Parallel()
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "a"), []byte("a"), 0o644)
	symlink(t, "/etc/passwd", filepath.Join(src, "passwd"))
	dest := t.TempDir()
	if err := archive.WriteDir(t.Context(), os.DirFS(src), dest, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a": "-rw-r--r-- a"}, diskTree(t, dest)); diff != "" {
		t.Errorf("dest (-want +got):\n%s", diff)
	}
}

func TestWriteDirContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := archive.WriteDir(ctx, sampleFS(t), t.TempDir(), nil)
	if errcode.CodeOf(err) != errcode.Canceled || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v; want Canceled", err)
	}
	ctx, cancel = context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	err = archive.WriteDir(ctx, sampleFS(t), t.TempDir(), nil)
	if errcode.CodeOf(err) != errcode.DeadlineExceeded {
		t.Errorf("got %v; want DeadlineExceeded", err)
	}
}

func TestArchiveToDiskRoundTrip(t *testing.T) {
	t.Parallel()
	data := tarGz(t,
		entry{name: "owner-repo-sha/", typ: '5'},
		entry{name: "owner-repo-sha/tmpl/run.sh", body: "#!/bin/sh\necho hi\n", mode: 0o775},
		entry{name: "owner-repo-sha/tmpl/catalog-info.yaml", body: "kind: Component\n", mode: 0o664},
	)
	fsys, err := archive.ReadTarGz(t.Context(), bytes.NewReader(data), &archive.Options{StripComponents: 1, Dir: "tmpl"})
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := archive.WriteDir(t.Context(), fsys, dest, nil); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	want := map[string]string{"run.sh": "-rwxr-xr-x #!/bin/sh\necho hi\n", "catalog-info.yaml": "-rw-r--r-- kind: Component\n"}
	if diff := cmp.Diff(want, diskTree(t, dest)); diff != "" {
		t.Errorf("dest (-want +got):\n%s", diff)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
