package archive_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

// deepName is a path of n elements "a/a/.../a" followed by leaf.
func deepName(n int, leaf string) string { return strings.Repeat("a/", n) + leaf }

// raised lifts every limit that would refuse a hostile archive before the
// deadline does, to prove that the deadline alone bounds the work.
var raised = archive.Limits{MaxFiles: 1 << 30, MaxBytes: 1 << 40, MaxFileBytes: 1 << 30, MaxArchiveBytes: 1 << 40,
	MaxDepth: 1 << 30, MaxPathBytes: 1 << 30}

// TestHostileArchivesReturnByDeadline feeds archives crafted to make the
// reader work hard (a path of hundreds of thousands of elements, endless
// entries, huge names) and asserts that ReadTarGz and ReadZip return within
// 100 ms of the caller's deadline (500 ms under the race detector), refused
// by a limit or by the deadline.
// Before the reader walked paths element by element, one entry of 400,000
// elements (a few hundred bytes gzipped) kept it busy for minutes.
func TestHostileArchivesReturnByDeadline(t *testing.T) {
	const deadline = 300 * time.Millisecond
	slack := 100 * time.Millisecond
	if raceEnabled {
		slack *= 5 // the race detector slows archive/tar's parsing of a 1 MiB header as much
	}
	if testing.Short() {
		t.Skip("timing test")
	}
	oneEntry := func(name string) func(tw *tar.Writer) error {
		return func(tw *tar.Writer) error {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1}); err != nil {
				return err
			}
			_, err := tw.Write([]byte{'x'})
			return err
		}
	}
	endless := func(name func(i int) string) func(tw *tar.Writer) error {
		return func(tw *tar.Writer) error {
			for i := 0; ; i++ {
				if err := tw.WriteHeader(&tar.Header{Name: name(i), Mode: 0o644}); err != nil {
					return err
				}
			}
		}
	}
	long := strings.Repeat("x", 900_000)
	tests := []struct {
		name    string
		limits  archive.Limits
		opts    archive.Options
		write   func(tw *tar.Writer) error
		endless bool // stream write from a goroutine; else build the archive first
		want    errcode.Code
		// orDone also accepts a read that completes before the
		// deadline: the work is bounded either way (a fast machine
		// reads one 400,000-element name, the most archive/tar's 1 MiB
		// PAX header allows, in about 200 ms).
		orDone bool
	}{
		{name: "one entry of 400,000 elements, default limits", write: oneEntry(deepName(400_000, "f")),
			want: errcode.InvalidArgument},
		{name: "one entry of 400,000 elements, limits raised", limits: raised, write: oneEntry(deepName(400_000, "f")),
			want: errcode.DeadlineExceeded, orDone: true},
		{name: "one entry of 256 elements, one of 257", write: func(tw *tar.Writer) error {
			if err := oneEntry(deepName(255, "f"))(tw); err != nil {
				return err
			}
			return oneEntry(deepName(256, "g"))(tw)
		}, want: errcode.InvalidArgument},
		{name: "endless distinct entries of 256 elements, limits raised", limits: raised,
			write: endless(func(i int) string { return deepName(255, fmt.Sprint(i)) + "/f" }), endless: true, want: errcode.DeadlineExceeded},
		{name: "endless entries, each creating 200 new directories, limits raised", limits: raised,
			write:   endless(func(i int) string { return strings.Repeat(fmt.Sprintf("d%d/", i), 200) + "f" }),
			endless: true, want: errcode.DeadlineExceeded},
		{name: "endless tiny files in one directory, limits raised", limits: raised,
			write: endless(func(i int) string { return fmt.Sprintf("dir/f%d", i) }), endless: true, want: errcode.DeadlineExceeded},
		{name: "endless deep entries outside Dir, limits raised", limits: raised, opts: archive.Options{Dir: "keep"},
			write: endless(func(i int) string { return deepName(30_000, fmt.Sprint(i)) }), endless: true, want: errcode.DeadlineExceeded},
		{name: "900 KB names outside Dir", opts: archive.Options{Dir: "keep"}, want: errcode.InvalidArgument,
			write: func(tw *tar.Writer) error {
				for i := range 3 {
					if err := oneEntry(fmt.Sprintf("skip/%d%s", i, long))(tw); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "endless 64 KB names outside Dir, limits raised", limits: raised, opts: archive.Options{Dir: "keep"},
			write: endless(func(i int) string { return fmt.Sprintf("skip/%d%s", i, long[:64<<10]) }), endless: true, want: errcode.DeadlineExceeded},
		{name: "one 900 KB name, default limits", write: oneEntry("repo/" + long), want: errcode.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var built []byte
			if !tt.endless { // built beforehand, so that only reading is timed
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				tw := tar.NewWriter(zw)
				if err := tt.write(tw); err != nil {
					t.Fatal(err)
				}
				tw.Close()
				zw.Close()
				built = buf.Bytes()
			}
			wants := []errcode.Code{tt.want}
			if tt.orDone {
				wants = append(wants, errcode.OK)
			}
			withinDeadline(t, deadline, slack, wants, func(ctx context.Context) error {
				var r io.Reader = bytes.NewReader(built)
				if tt.endless {
					pr, stop := streamTarGz(t, tt.write)
					defer stop()
					// Like an HTTP response body, the stream fails once ctx
					// is done, so that only the reader's own work can
					// overrun the deadline, not a slow producer.
					context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
					r = pr
				}
				opts := tt.opts
				opts.Limits = tt.limits
				_, err := archive.ReadTarGz(ctx, r, &opts)
				return err
			})
		})
	}

	zipTests := []struct {
		name   string
		limits archive.Limits
		data   func(t *testing.T) []byte
		want   errcode.Code
	}{
		{name: "zip: one entry of 32,000 elements, default limits", want: errcode.InvalidArgument,
			data: func(t *testing.T) []byte { return zipBytes(t, entry{name: deepName(32_000, "f"), body: "x"}) }},
		{name: "zip: 400 entries, each of 16,000 new elements, limits raised", limits: raised, want: errcode.DeadlineExceeded,
			data: func(t *testing.T) []byte {
				return manyZipEntries(t, 400, func(i int) string { return strings.Repeat(fmt.Sprintf("%03x/", i), 16_000) + "f" })
			}},
	}
	for _, tt := range zipTests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			withinDeadline(t, deadline, slack, []errcode.Code{tt.want}, func(ctx context.Context) error {
				_, err := archive.ReadZip(ctx, bytes.NewReader(data), int64(len(data)), &archive.Options{Limits: tt.limits})
				return err
			})
		})
	}
}

// withinDeadline runs read with a context of the given deadline and checks
// that it ends with one of the codes wants (the first is the expected one)
// within slack of the deadline. Wall time on
// a shared machine (or under the race detector) has outliers, so a run
// that is late is tried again, up to three runs in all: a reader that
// really overruns (by seconds) fails every run.
func withinDeadline(t *testing.T, deadline, slack time.Duration, wants []errcode.Code, read func(ctx context.Context) error) {
	t.Helper()
	want := wants[0]
	var late []string
	for range 3 {
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		start := time.Now()
		err := read(ctx)
		elapsed := time.Since(start)
		cancel()
		t.Logf("returned after %v: %v", elapsed, truncate(err))
		if len(fmt.Sprint(err)) > 1000 {
			t.Errorf("error of %d bytes; want the entry's name abbreviated", len(fmt.Sprint(err)))
		}
		got := errcode.CodeOf(err)
		if elapsed <= deadline+slack && slices.Contains(wants, got) {
			return
		}
		if elapsed <= deadline+slack && got == errcode.DeadlineExceeded {
			// A refusal the loaded machine could not make before the
			// deadline; TestPathLimits asserts the refusal itself.
			return
		}
		if !slices.Contains(wants, got) && got != errcode.DeadlineExceeded { // wrong whatever the timing
			t.Fatalf("code %v (%v); want %v", got, truncate(err), want)
		}
		late = append(late, fmt.Sprintf("%v (%v)", elapsed, got))
	}
	t.Errorf("every run returned later than %v after the %v deadline or with the wrong code (want %v): %v", slack, deadline, want, late)
}

// manyZipEntries builds a zip of n empty stored files named name(i).
func manyZipEntries(t *testing.T, n int, name func(i int) string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: name(i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func truncate(err error) string {
	s := fmt.Sprint(err)
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// TestPathLimits: MaxDepth and MaxPathBytes count the path of a kept entry
// after StripComponents and Dir, refuse with InvalidArgument naming the
// limit to raise, and ignore entries that are not kept.
func TestPathLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []entry
		opts    archive.Options
		want    string // "" for success
	}{
		{name: "default depth accepted", entries: []entry{{name: deepName(255, "f"), body: "x"}}},
		{name: "default depth exceeded", entries: []entry{{name: deepName(256, "f"), body: "x"}},
			want: "path deeper than 256 elements; raise the MaxDepth limit"},
		{name: "directory entry too deep", entries: []entry{{name: deepName(300, ""), typ: tar.TypeDir}},
			want: "path deeper than 256 elements"},
		{name: "link too deep", entries: []entry{{name: deepName(300, "l"), typ: tar.TypeSymlink, link: "x"}},
			want: "path deeper than 256 elements"},
		{name: "MaxDepth 3", opts: archive.Options{Limits: archive.Limits{MaxDepth: 3}},
			entries: []entry{{name: "a/b/c", body: "x"}, {name: "a/b/c/d", body: "x"}}, want: "deeper than 3 elements"},
		{name: "MaxDepth counts after StripComponents and Dir",
			opts:    archive.Options{Limits: archive.Limits{MaxDepth: 2}, StripComponents: 1, Dir: "x/y"},
			entries: []entry{{name: "top/x/y/a/b", body: "x"}}},
		{name: "entries outside Dir are not counted", opts: archive.Options{Limits: archive.Limits{MaxDepth: 2}, Dir: "keep"},
			entries: []entry{{name: "keep/a", body: "x"}, {name: deepName(1000, "f"), body: "x"}}},
		{name: "huge name outside Dir", opts: archive.Options{Dir: "keep"},
			entries: []entry{{name: "keep/a", body: "x"}, {name: "skip/" + strings.Repeat("x", 8200), body: "x"}},
			want:    "name longer than 8196 bytes"},
		{name: "long stripped prefix", opts: archive.Options{StripComponents: 1},
			entries: []entry{{name: strings.Repeat("p", 4000) + "/" + strings.Repeat("x", 4096), body: "x"}}},
		{name: "default path length accepted", entries: []entry{{name: strings.Repeat("x", 4096), body: "x"}}},
		{name: "default path length exceeded", entries: []entry{{name: strings.Repeat("x", 4097), body: "x"}},
			want: "path longer than 4096 bytes (the MaxPathBytes limit)"},
		{name: "MaxPathBytes 5", opts: archive.Options{Limits: archive.Limits{MaxPathBytes: 5}},
			entries: []entry{{name: "ab/cd", body: "x"}, {name: "ab/cde", body: "x"}}, want: "longer than 5 bytes"},
		{name: "negative MaxDepth", opts: archive.Options{Limits: archive.Limits{MaxDepth: -1}},
			entries: []entry{{name: "a", body: "x"}}, want: "negative archive limit"},
		{name: "negative MaxPathBytes", opts: archive.Options{Limits: archive.Limits{MaxPathBytes: -1}},
			entries: []entry{{name: "a", body: "x"}}, want: "negative archive limit"},
	}
	for _, tt := range tests {
		for _, format := range []string{"tar.gz", "zip"} {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var err error
				var fsys *archive.FS
				if format == "zip" {
					z := zipBytes(t, tt.entries...)
					fsys, err = archive.ReadZip(t.Context(), bytes.NewReader(z), int64(len(z)), &tt.opts)
				} else {
					fsys, err = archive.ReadTarGz(t.Context(), bytes.NewReader(tarGz(t, tt.entries...)), &tt.opts)
				}
				if tt.want == "" {
					if err != nil {
						t.Fatalf("got %v; want success", truncate(err))
					}
					if _, err := fs.Stat(fsys, "."); err != nil {
						t.Fatal(err)
					}
					return
				}
				if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(fmt.Sprint(err), tt.want) {
					t.Errorf("got %v; want InvalidArgument containing %q", truncate(err), tt.want)
				}
			})
		}
	}
}

// TestDeepSnapshotLookups: a snapshot as deep as the limits allow answers
// Stat, ReadFile, ReadDir and Sub along its whole depth.
func TestDeepSnapshotLookups(t *testing.T) {
	t.Parallel()
	lim := archive.Limits{MaxDepth: 2048, MaxPathBytes: 8192}
	fsys, err := archive.ReadTarGz(t.Context(), bytes.NewReader(tarGz(t, entry{name: deepName(2000, "leaf"), body: "deep"})),
		&archive.Options{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fsys.ReadFile(deepName(2000, "leaf")); err != nil || string(b) != "deep" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	sub, err := fsys.Sub(strings.TrimSuffix(deepName(1000, ""), "/"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(sub, deepName(1000, "leaf")); err != nil || string(b) != "deep" {
		t.Fatalf("Sub then ReadFile = %q, %v", b, err)
	}
	if _, err := fsys.Stat(deepName(2000, "leaf/x")); err == nil {
		t.Error("Stat below a file succeeded")
	}
	var n int
	if err := fs.WalkDir(fsys, ".", func(_ string, _ fs.DirEntry, err error) error { n++; return err }); err != nil {
		t.Fatal(err)
	}
	if n != 2002 { // ".", 2000 directories, the leaf
		t.Errorf("walked %d entries; want 2002", n)
	}
}

// TestHeapAtByteLimit reads trees whose files add up to exactly the byte
// limit (one file as large as the limit, the shape that cost most) and
// checks the memory the read allocates: at most 1.1 × the limit plus 2 MiB
// in all, which bounds the peak heap. Before buffers were allocated at the
// header's (checked) size, growing a buffer for the one large file peaked
// at 1.75 × the limit and allocated about 2 ×.
func TestHeapAtByteLimit(t *testing.T) {
	if raceEnabled {
		t.Skip("a heap measurement: the race detector adds nothing here and slows building the 32 MiB archives tenfold")
	}
	const limit = 32 << 20
	for _, tc := range []struct {
		name  string
		files int
	}{{"one file", 1}, {"32 files", 32}} {
		for _, format := range []string{"tar.gz", "zip"} {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				var entries []entry
				for i := range tc.files {
					entries = append(entries, entry{name: fmt.Sprintf("repo/f%03d", i), body: strings.Repeat("x", limit/tc.files)})
				}
				var data []byte
				if format == "zip" {
					data = zipBytes(t, entries...)
				} else {
					data = tarGz(t, entries...)
				}
				entries = nil
				opts := &archive.Options{StripComponents: 1, Limits: archive.Limits{MaxBytes: limit, MaxFileBytes: limit}}
				read := func() (*archive.FS, error) {
					if format == "zip" {
						return archive.ReadZip(t.Context(), bytes.NewReader(data), int64(len(data)), opts)
					}
					return archive.ReadTarGz(t.Context(), bytes.NewReader(data), opts)
				}
				allocated, peak := heapDuring(t, read)
				t.Logf("limit %d: allocated %d (%.2fx), sampled peak heap above the baseline %d (%.2fx)",
					limit, allocated, float64(allocated)/limit, peak, float64(peak)/limit)
				if max := uint64(limit*11/10 + 2<<20); allocated > max {
					t.Errorf("reading allocated %d bytes; want at most %d (1.1 × the limit + 2 MiB)", allocated, max)
				}
			})
		}
	}
}

// heapDuring runs read and returns the bytes it allocated (TotalAlloc) and
// the highest heap in use above the starting point, sampled every 100 µs.
func heapDuring(t *testing.T, read func() (*archive.FS, error)) (allocated, peak uint64) {
	t.Helper()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var max uint64
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			max = maxu(max, ms.HeapAlloc)
			select {
			case <-stop:
				done <- max
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	fsys, err := read()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	close(stop)
	max := <-done
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(fsys)
	max = maxu(max, after.HeapAlloc)
	return after.TotalAlloc - before.TotalAlloc, max - min(max, before.HeapAlloc)
}

func maxu(a, b uint64) uint64 { return max(a, b) }

// hostileFS is an fs.FS whose ReadDir of "." returns one entry with an
// arbitrary name, to check that WriteDir validates names it is given.
type hostileFS struct{ name string }

func (h hostileFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (h hostileFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return []fs.DirEntry{hostileEntry(h.name)}, nil
}

type hostileEntry string

func (e hostileEntry) Name() string               { return string(e) }
func (e hostileEntry) IsDir() bool                { return true }
func (e hostileEntry) Type() fs.FileMode          { return fs.ModeDir }
func (e hostileEntry) Info() (fs.FileInfo, error) { return nil, fs.ErrInvalid }

// TestWriteDirRefusesHostileNames: WriteDir creates each entry by its name
// in its parent directory, so it must refuse names that are not one plain
// path element, whatever the fs.FS returns.
func TestWriteDirRefusesHostileNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"..", ".", "", "a/b", "../x", `a\b`, "a\x00b", "\xff"} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			t.Parallel()
			dest := t.TempDir()
			err := archive.WriteDir(t.Context(), hostileFS{name}, dest, nil)
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("got %v; want InvalidArgument", err)
			}
			if got := diskTreeNames(t, dest); len(got) != 0 {
				t.Errorf("wrote %v", got)
			}
		})
	}
}

func diskTreeNames(t *testing.T, dest string) []string { return keys(diskTree(t, dest)) }

// TestWriteDirLinearInDepth writes a chain of 1,500 nested directories and
// 1,500 sibling directories: the same number of directories and files, so a
// writer linear in the tree's size takes about as long for both. Before
// WriteDir opened each directory relative to its parent, every operation
// resolved the whole path from the destination: the chain took 25 times as
// long as the flat tree (10 s for 2,000 levels).
func TestWriteDirLinearInDepth(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	const n = 1500
	deep := map[string]archive.File{deepName(n-1, "f"): {Data: []byte("x")}}
	flat := map[string]archive.File{}
	for i := range n {
		flat[fmt.Sprintf("d%04d/f", i)] = archive.File{Data: []byte("x")}
	}
	timeWrite := func(files map[string]archive.File) time.Duration {
		fsys, err := archive.NewFS(files)
		if err != nil {
			t.Fatal(err)
		}
		dest := t.TempDir()
		// CPU time (user and system): the work of the writer, which
		// other processes competing for the CPU and the disk do not
		// inflate as they do its wall-clock time. The test is not
		// parallel, so the process's CPU time is the writer's.
		cpu, wall := work(func() { err = archive.WriteDir(t.Context(), fsys, dest, nil) })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d entries written in %v of CPU, %v wall-clock", len(files), cpu, wall)
		return cpu
	}
	tFlat := timeWrite(flat)
	tDeep := timeWrite(deep)
	t.Logf("%d directories: nested %v, side by side %v of CPU", n, tDeep, tFlat)
	if tDeep > 3*tFlat+500*time.Millisecond {
		t.Errorf("writing %d nested directories took %v, side by side %v; want about the same", n, tDeep, tFlat)
	}
}

// TestSnapshotDoesNotRetainLongNames: entries whose stripped top directory
// has a 64 KB name leave a snapshot of short paths, and the snapshot must
// not keep the long names alive (300 of them are 19 MB).
func TestSnapshotDoesNotRetainLongNames(t *testing.T) {
	if raceEnabled {
		t.Skip("a heap measurement: the race detector adds nothing here and slows building the archive tenfold")
	}
	top := strings.Repeat("t", 64<<10)
	var entries []entry
	for i := range 300 {
		entries = append(entries, entry{name: fmt.Sprintf("%s/dir%d/f", top, i), body: "x"})
	}
	data := tarGz(t, entries...)
	entries = nil
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fsys, err := archive.ReadTarGz(t.Context(), bytes.NewReader(data), &archive.Options{StripComponents: 1,
		Limits: archive.Limits{MaxPathBytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if _, err := fsys.Stat("dir299/f"); err != nil {
		t.Fatal(err)
	}
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("snapshot of 600 entries retains %d bytes of heap", retained)
	if retained > 4<<20 {
		t.Errorf("the snapshot retains %d bytes; want well under the 19 MB of long names", retained)
	}
	runtime.KeepAlive(fsys)
}

// cancelAtReaderAt ends its context on the first read at offset 0, where
// the first entry's local header is (the archive is large enough that
// reading its central directory starts further on), and fails that read as
// a body would once its request's context is done.
type cancelAtReaderAt struct {
	r      io.ReaderAt
	cancel context.CancelFunc
}

func (c cancelAtReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off == 0 {
		c.cancel()
		return 0, errors.New("read on a closed body")
	}
	return c.r.ReadAt(p, off)
}

// TestZipContextEndsWhileOpeningEntry: a context that ends while an
// entry's header is read is the caller's cancellation, not a corrupt
// archive (it was classified InvalidArgument under load in CI).
func TestZipContextEndsWhileOpeningEntry(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	body := make([]byte, 8<<10)
	for i := range body {
		body[i] = byte(rnd.Uint32())
	}
	data := zipBytes(t, entry{name: "repo/catalog-info.yaml", body: string(body)})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := archive.ReadZip(ctx, cancelAtReaderAt{bytes.NewReader(data), cancel}, int64(len(data)), &archive.Options{})
	if got := errcode.CodeOf(err); got != errcode.Canceled {
		t.Fatalf("ReadZip = %v (code %v); want Canceled", err, got)
	}
}
