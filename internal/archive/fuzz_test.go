package archive_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
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
		{{name: "o-r-sha/templates/t/a", body: "a"}, {name: `o-r-sha/docs/a\b`, body: "b"}, {name: "o-r-sha/templates/t\xff", body: "c"}},
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

// shapeLimits are the limits the shape fuzzers read with: the defaults for
// depth and path length (raised when the fuzzer asks, to exercise the
// builder on deep trees), small file counts to keep executions fast.
func shapeLimits(raise bool) archive.Limits {
	lim := archive.Limits{MaxFiles: 2000, MaxBytes: 1 << 20, MaxFileBytes: 64 << 10, MaxArchiveBytes: 64 << 20}
	if raise {
		lim.MaxFiles, lim.MaxDepth, lim.MaxPathBytes = 1<<17, 1<<20, 1<<20
	}
	return lim
}

// shapeNames returns count entry names of depth elements, each element
// elemLen bytes long ("d" repeated, or a per-entry prefix when distinct
// so that every entry creates new directories), capped at maxName bytes.
func shapeNames(depth, elemLen, count int, distinct bool, maxName int) []string {
	names := make([]string, 0, count)
	for i := range count {
		elem := strings.Repeat("d", elemLen)
		if distinct {
			elem = fmt.Sprintf("%x-%s", i, elem)
		}
		n := min(depth, maxName/(len(elem)+1)) // whole elements within maxName
		names = append(names, strings.Repeat(elem+"/", n)+fmt.Sprintf("f%d", i))
	}
	return names
}

// checkShape asserts the properties every read must have: linear work,
// an *errcode.Error on failure, and on success a snapshot whose kept paths
// are within the limits. cpu and wall are the CPU and wall-clock time the
// read took (see work).
func checkShape(t *testing.T, lim archive.Limits, size int, cpu, wall time.Duration, fsys *archive.FS, err error, names []string) {
	t.Helper()
	// Linear work: one second plus 2 µs per byte of names of CPU time
	// (generous even for the fuzzer's instrumented build or the race
	// detector). A reader quadratic in depth needed 2.5 s for one name of
	// 40,000 elements (80 KB) and 25 s for 130,000. The bound is on CPU
	// time: on a loaded CI machine the wall-clock time of a linear read
	// went past it (2.1 s for 240 KB of names) while the work did not.
	var nameBytes int
	for _, n := range names {
		nameBytes += len(n)
	}
	if bound := time.Second + time.Duration(nameBytes)*2*time.Microsecond; cpu > bound {
		t.Fatalf("reading a %d-byte archive of %d entries (%d bytes of names) used %v of CPU (%v wall-clock); want at most %v",
			size, len(names), nameBytes, cpu, wall, bound)
	}
	if testing.Verbose() {
		t.Logf("%d bytes of names: %v of CPU, %v wall-clock", nameBytes, cpu, wall)
	}
	if err != nil {
		var ce *errcode.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %v (%T) is not an *errcode.Error", err, err)
		}
		if len(err.Error()) > 2000 {
			t.Fatalf("error of %d bytes; want names abbreviated", len(err.Error()))
		}
		return
	}
	maxDepth, maxPath := lim.MaxDepth, lim.MaxPathBytes
	if maxDepth == 0 {
		maxDepth = archive.DefaultMaxDepth
	}
	if maxPath == 0 {
		maxPath = archive.DefaultMaxPathBytes
	}
	for _, n := range names {
		if d := strings.Count(n, "/") + 1; d > maxDepth {
			t.Fatalf("a path of %d elements was accepted with MaxDepth %d", d, maxDepth)
		}
		if len(n) > maxPath {
			t.Fatalf("a %d-byte path was accepted with MaxPathBytes %d", len(n), maxPath)
		}
	}
	if len(names) > 0 {
		last := names[len(names)-1]
		if _, err := fs.Stat(fsys, last); err != nil {
			t.Fatalf("accepted entry missing from the snapshot: %v", err)
		}
	}
}

// FuzzReadTarGzShape builds gzipped tar archives from a shape (path depth,
// element length, entry count, whether every entry creates new
// directories, whether the depth and path limits are raised) and reads
// them: the reader must return promptly (it is linear in the archive's
// size), never panic, and keep only paths within the limits. A reader
// quadratic in depth fails here within seconds of fuzzing.
func FuzzReadTarGzShape(f *testing.F) {
	f.Add(uint32(3), uint16(1), uint16(3), false, false)
	f.Add(uint32(300), uint16(1), uint16(1), false, false)
	f.Add(uint32(40_000), uint16(1), uint16(1), false, true)
	f.Add(uint32(200), uint16(20), uint16(50), true, true)
	f.Add(uint32(1), uint16(5000), uint16(10), false, false)
	f.Fuzz(func(t *testing.T, depth uint32, elemLen uint16, count uint16, distinct, raise bool) {
		lim := shapeLimits(raise)
		// A tar name may be up to 1 MiB (a pax record); the entries' names
		// together stay within 1 MiB, to keep executions fast.
		n := 1 + int(count%256)
		names := shapeNames(int(depth%(1<<17)), 1+int(elemLen%300), n, distinct, 1<<20/n)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for _, name := range names {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg}); err != nil {
				t.Skip(err)
			}
			tw.Write([]byte{'x'})
		}
		tw.Close()
		zw.Close()
		var fsys *archive.FS
		var err error
		cpu, wall := work(func() {
			fsys, err = archive.ReadTarGz(t.Context(), bytes.NewReader(buf.Bytes()), &archive.Options{Limits: lim})
		})
		checkShape(t, lim, buf.Len(), cpu, wall, fsys, err, names)
	})
}

// FuzzReadZipShape is FuzzReadTarGzShape for zip archives, whose names
// are at most 65,535 bytes.
func FuzzReadZipShape(f *testing.F) {
	f.Add(uint32(3), uint16(1), uint16(3), false, false)
	f.Add(uint32(300), uint16(1), uint16(1), false, false)
	f.Add(uint32(30_000), uint16(1), uint16(1), false, true)
	f.Add(uint32(200), uint16(20), uint16(50), true, true)
	f.Fuzz(func(t *testing.T, depth uint32, elemLen uint16, count uint16, distinct, raise bool) {
		lim := shapeLimits(raise)
		n := 1 + int(count%256)
		names := shapeNames(int(depth%(1<<16)), 1+int(elemLen%300), n, distinct, min(65_535-16, 1<<20/n))
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, name := range names {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
			if err != nil {
				t.Skip(err)
			}
			w.Write([]byte{'x'})
		}
		if err := zw.Close(); err != nil {
			t.Skip(err)
		}
		var fsys *archive.FS
		var err error
		cpu, wall := work(func() {
			fsys, err = archive.ReadZip(t.Context(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), &archive.Options{Limits: lim})
		})
		checkShape(t, lim, buf.Len(), cpu, wall, fsys, err, names)
	})
}

// FuzzReadZip feeds arbitrary bytes to ReadZip, seeded with small zips
// (unsafe names, links, deep and long paths): no panic, *errcode.Error on
// failure, and a snapshot of valid paths within the limits.
func FuzzReadZip(f *testing.F) {
	for _, s := range [][]entry{
		{{name: "repo/", typ: tar.TypeDir}, {name: "repo/a.txt", body: "a"}, {name: "repo/sub/b", body: "b", mode: 0o755}},
		{{name: "../evil", body: "x"}},
		{{name: "repo/l", typ: tar.TypeSymlink, link: "../../etc"}},
		{{name: "repo/a", body: "x"}, {name: "repo/a/b", body: "y"}},
		{{name: strings.Repeat("a/", 300) + "f", body: "deep"}},
		{{name: strings.Repeat("x", 5000), body: "long"}},
		{{name: "repo/keep/a", body: "a"}, {name: `repo/docs/a\b`, body: "b"}, {name: "repo/keep\xff", body: "c"}},
	} {
		f.Add(zipBytes(f, s...), uint8(1), "")
		f.Add(zipBytes(f, s...), uint8(1), "keep")
	}
	f.Fuzz(func(t *testing.T, data []byte, strip uint8, dir string) {
		lim := archive.Limits{MaxFiles: 200, MaxBytes: 1 << 20, MaxFileBytes: 256 << 10, MaxArchiveBytes: 4 << 20}
		var fsys *archive.FS
		var err error
		cpu, wall := work(func() {
			fsys, err = archive.ReadZip(t.Context(), bytes.NewReader(data), int64(len(data)), &archive.Options{
				Limits: lim, StripComponents: int(strip % 4), Dir: dir,
			})
		})
		if cpu > 2*time.Second { // CPU time: see checkShape
			t.Fatalf("reading %d bytes used %v of CPU (%v wall-clock)", len(data), cpu, wall)
		}
		if err != nil {
			var ce *errcode.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not an *errcode.Error", err, err)
			}
			return
		}
		var files int
		var total int64
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !fs.ValidPath(p) || strings.Contains(p, `\`) || len(p) > archive.DefaultMaxPathBytes ||
				strings.Count(p, "/")+1 > archive.DefaultMaxDepth {
				return fmt.Errorf("invalid path %q in the snapshot", p)
			}
			switch {
			case d.IsDir():
			case d.Type() != 0:
				return fmt.Errorf("%q has type %v; want only files and directories", p, d.Type())
			default:
				files++
				b, err := fsys.ReadFile(p)
				if err != nil {
					return err
				}
				total += int64(len(b))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if files > lim.MaxFiles || total > lim.MaxBytes {
			t.Fatalf("snapshot of %d files, %d bytes exceeds %+v", files, total, lim)
		}
	})
}
