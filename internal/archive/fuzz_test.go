package archive_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/internal/archive"
	"github.com/scmkit/scmkit/internal/errcode"
)

// FuzzReadTarGz feeds arbitrary bytes to ReadTarGz: gzip streams as they
// are, anything else gzipped first so that the fuzzer explores the tar
// layer. It must never panic, every error must be an *errcode.Error, and a
// snapshot must hold only valid paths within the limits.
func FuzzReadTarGz(f *testing.F) {
	seeds := [][]entry{
		{{name: "repo/", typ: tar.TypeDir}, {name: "repo/a.txt", body: "a"}, {name: "repo/sub/b", body: "b", mode: 0o755}},
		{{name: "../evil", body: "x"}},
		{{name: "/etc/passwd", body: "x"}},
		{{name: "repo/l", typ: tar.TypeSymlink, link: "../../etc"}},
		{{name: "repo/l", typ: tar.TypeSymlink, link: "a"}, {name: "repo/a", body: "a"}},
		{{name: "repo/h", typ: tar.TypeLink, link: "repo/a"}, {name: "repo/a", body: "a"}},
		{{name: "repo/dev", typ: tar.TypeChar}},
		{{name: "repo/a", body: "x"}, {name: "repo/a/b", body: "y"}},
		{{typ: tar.TypeXGlobalHeader, body: "abc"}, {name: "o-r-sha/templates/t/template.yaml", body: "kind: Template"}},
	}
	for i, s := range seeds {
		raw := tarBytes(f, s...)
		f.Add(raw, uint8(i%2), "")
		f.Add(gzipBytes(f, raw), uint8(1), "templates/t")
	}
	if gh, err := os.ReadFile("testdata/octokit-get-archive.tar.gz"); err == nil {
		f.Add(gh, uint8(1), "")
	}
	f.Fuzz(func(t *testing.T, data []byte, strip uint8, dir string) {
		if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			data = gzipBytes(t, data)
		}
		lim := archive.Limits{MaxFiles: 200, MaxBytes: 1 << 20, MaxFileBytes: 256 << 10, MaxArchiveBytes: 4 << 20}
		fsys, err := archive.ReadTarGz(t.Context(), bytes.NewReader(data), &archive.Options{
			Limits: lim, StripComponents: int(strip % 4), Dir: dir,
		})
		if err != nil {
			var ce *errcode.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not an *errcode.Error", err, err)
			}
			return
		}
		var files, dirs int
		var total int64
		var paths []string
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !fs.ValidPath(p) || strings.Contains(p, `\`) || strings.HasPrefix(p, "/") {
				return fmt.Errorf("invalid path %q in the snapshot", p)
			}
			for elem := range strings.SplitSeq(p, "/") {
				if elem == ".." {
					return fmt.Errorf("path %q escapes the root", p)
				}
			}
			switch {
			case d.IsDir():
				dirs++
			case d.Type() != 0:
				return fmt.Errorf("%q has type %v; want only files and directories", p, d.Type())
			default:
				files++
				b, err := fsys.ReadFile(p)
				if err != nil {
					return err
				}
				total += int64(len(b))
				if len(paths) < 8 {
					paths = append(paths, p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if files > lim.MaxFiles || dirs > lim.MaxFiles+1 || total > lim.MaxBytes {
			t.Fatalf("snapshot of %d files, %d directories, %d bytes exceeds %+v", files, dirs, total, lim)
		}
		if files+dirs <= 64 {
			if err := fstest.TestFS(fsys, paths...); err != nil {
				t.Fatal(err)
			}
		}
	})
}
