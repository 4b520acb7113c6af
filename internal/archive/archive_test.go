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
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

// readers runs a test against each archive format.
var readers = []struct {
	name string
	read func(t *testing.T, entries []entry, opts *archive.Options) (*archive.FS, error)
}{
	{"tar.gz", func(t *testing.T, entries []entry, opts *archive.Options) (*archive.FS, error) {
		return archive.ReadTarGz(t.Context(), bytes.NewReader(tarGz(t, entries...)), opts)
	}},
	{"tar", func(t *testing.T, entries []entry, opts *archive.Options) (*archive.FS, error) {
		return archive.ReadTar(t.Context(), bytes.NewReader(tarBytes(t, entries...)), opts)
	}},
	{"zip", func(t *testing.T, entries []entry, opts *archive.Options) (*archive.FS, error) {
		z := zipBytes(t, entries...)
		return archive.ReadZip(t.Context(), bytes.NewReader(z), int64(len(z)), opts)
	}},
}

func TestRefusesUnsafeArchives(t *testing.T) {
	t.Parallel()
	ok := entry{name: "repo/ok.txt", body: "fine"}
	tests := []struct {
		name    string
		entries []entry
		opts    *archive.Options
		tarOnly bool // not expressible in zip
		want    string
	}{
		{name: "parent directory entry", entries: []entry{ok, {name: "../evil", body: "x"}}, want: `"../evil": path contains ".."`},
		{name: "parent directory inside the path", entries: []entry{{name: "repo/a/../../evil", body: "x"}}, want: `path contains ".."`},
		{name: "parent directory at the end", entries: []entry{{name: "repo/a/..", typ: tar.TypeDir}}, want: `path contains ".."`},
		{name: "absolute path", entries: []entry{{name: "/etc/passwd", body: "x"}}, want: "absolute path"},
		{name: "Windows drive letter", entries: []entry{{name: "C:/Windows/evil", body: "x"}}, want: "drive letter"},
		{name: "drive-relative path", entries: []entry{{name: "c:evil", body: "x"}}, want: "drive letter"},
		{name: "backslash", entries: []entry{{name: `repo\..\evil`, body: "x"}}, want: "backslash"},
		{name: "invalid UTF-8", entries: []entry{{name: "repo/\xff.txt", body: "x"}}, want: "UTF-8"},
		{name: "entry outside Dir is still checked", entries: []entry{{name: "repo/keep/a", body: "x"}, {name: "../evil", body: "x"}},
			opts: &archive.Options{StripComponents: 1, Dir: "keep"}, want: `".."`},
		{name: "symlink to /etc", entries: []entry{ok, {name: "repo/etc", typ: tar.TypeSymlink, link: "/etc"}}, want: `symbolic link to "/etc", outside`},
		{name: "symlink escaping with ..", entries: []entry{{name: "repo/a/link", typ: tar.TypeSymlink, link: "../../../x"}}, want: "outside the extracted tree"},
		{name: "symlink chain escaping", entries: []entry{
			{name: "repo/l1", typ: tar.TypeSymlink, link: "l2"},
			{name: "repo/l2", typ: tar.TypeSymlink, link: "sub/../../outside"},
		}, opts: &archive.Options{StripComponents: 1}, want: `"repo/l2" is a symbolic link`},
		{name: "symlink leaving the re-rooted Dir", entries: []entry{
			{name: "repo/templates/svc/shared", typ: tar.TypeSymlink, link: "../../common"},
			{name: "repo/common/x", body: "x"},
		}, opts: &archive.Options{StripComponents: 1, Dir: "templates/svc"}, want: "outside the extracted tree"},
		{name: "symlink with a Windows target", entries: []entry{{name: "repo/l", typ: tar.TypeSymlink, link: `C:\Windows`}}, want: "outside"},
		{name: "Dir itself is a symlink", entries: []entry{{name: "repo/t", typ: tar.TypeSymlink, link: "u"}, {name: "repo/u/a", body: "x"}},
			opts: &archive.Options{StripComponents: 1, Dir: "t"}, want: `Dir "t" is a symbolic link`},
		{name: "hard link to an absolute path", tarOnly: true, entries: []entry{{name: "repo/passwd", typ: tar.TypeLink, link: "/etc/passwd"}}, want: "hard link"},
		{name: "hard link outside the selection", tarOnly: true, entries: []entry{
			{name: "repo/secret", body: "s"}, {name: "repo/keep/h", typ: tar.TypeLink, link: "repo/secret"},
		}, opts: &archive.Options{StripComponents: 1, Dir: "keep"}, want: `hard link to "repo/secret", outside`},
		{name: "hard link with ..", tarOnly: true, entries: []entry{{name: "repo/h", typ: tar.TypeLink, link: "repo/../../x"}}, want: "hard link"},
		{name: "character device", tarOnly: true, entries: []entry{{name: "repo/null", typ: tar.TypeChar}}, want: "device file or FIFO"},
		{name: "block device", tarOnly: true, entries: []entry{{name: "repo/sda", typ: tar.TypeBlock}}, want: "device file or FIFO"},
		{name: "FIFO", entries: []entry{{name: "repo/fifo", typ: tar.TypeFifo}}, want: "FIFO"},
		{name: "file and directory at one path", entries: []entry{{name: "repo/a", body: "x"}, {name: "repo/a/b", body: "y"}}, want: "both a file and a directory"},
		{name: "Dir is a file", entries: []entry{{name: "repo/t", body: "x"}}, opts: &archive.Options{StripComponents: 1, Dir: "t"}, want: `Dir "t" is a file`},
	}
	for _, r := range readers {
		for _, tt := range tests {
			if tt.tarOnly && r.name == "zip" {
				continue
			}
			t.Run(r.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				fsys, err := r.read(t, tt.entries, tt.opts)
				if err == nil {
					t.Fatalf("got a snapshot %v; want an error", keys(tree(t, fsys)))
				}
				if got := errcode.CodeOf(err); got != errcode.InvalidArgument {
					t.Errorf("got code %v (%v); want InvalidArgument", got, err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("got %q; want it to contain %q", err, tt.want)
				}
			})
		}
	}
}

func TestInsideLinksAreSkipped(t *testing.T) {
	t.Parallel()
	entries := []entry{
		{name: "repo/", typ: tar.TypeDir},
		{name: "repo/keep/a.txt", body: "a"},
		{name: "repo/keep/sub/link", typ: tar.TypeSymlink, link: "../a.txt"},
		{name: "repo/keep/dirlink", typ: tar.TypeSymlink, link: "sub"},
		{name: "repo/keep/hard", typ: tar.TypeLink, link: "repo/keep/a.txt"},
		{name: "repo/other/link-outside-selection", typ: tar.TypeSymlink, link: "/etc/passwd"},
	}
	fsys, err := archive.ReadTarGz(t.Context(), bytes.NewReader(tarGz(t, entries...)), &archive.Options{StripComponents: 1, Dir: "keep"})
	if err != nil {
		t.Fatal(err)
	}
	// Skipped links imply no parent directory; a real archive lists it.
	want := map[string]string{"a.txt": "a"}
	if diff := cmp.Diff(want, tree(t, fsys)); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
}

func TestSelection(t *testing.T) {
	t.Parallel()
	entries := []entry{
		{typ: tar.TypeXGlobalHeader, body: "900f3f818d8c2ac46196b3cdaee655d1ee986381"},
		{name: "owner-repo-abc123/", typ: tar.TypeDir},
		{name: "owner-repo-abc123/README.md", body: "readme"},
		{name: "owner-repo-abc123/templates/", typ: tar.TypeDir},
		{name: "owner-repo-abc123/templates/service/", typ: tar.TypeDir},
		{name: "owner-repo-abc123/templates/service/template.yaml", body: "kind: Template"},
		{name: "owner-repo-abc123/templates/service/skeleton/run.sh", body: "#!/bin/sh", mode: 0o755},
		{name: "owner-repo-abc123/templates/service/skeleton/big.bin", body: strings.Repeat("b", 100)},
		{name: "owner-repo-abc123/templates/service/empty/", typ: tar.TypeDir},
		{name: "owner-repo-abc123/templates/service-other/x", body: "not a child of templates/service"},
	}
	tests := []struct {
		name string
		opts *archive.Options
		want map[string]string
	}{
		{name: "no options keeps the wrapper directory", opts: nil, want: map[string]string{
			"owner-repo-abc123/": "", "owner-repo-abc123/README.md": "readme",
			"owner-repo-abc123/templates/": "", "owner-repo-abc123/templates/service/": "",
			"owner-repo-abc123/templates/service/template.yaml": "kind: Template",
			"owner-repo-abc123/templates/service/skeleton/":     "", "owner-repo-abc123/templates/service/skeleton/run.sh": "#!/bin/sh",
			"owner-repo-abc123/templates/service/skeleton/big.bin": strings.Repeat("b", 100),
			"owner-repo-abc123/templates/service/empty/":           "",
			"owner-repo-abc123/templates/service-other/":           "", "owner-repo-abc123/templates/service-other/x": "not a child of templates/service",
		}},
		{name: "strip and re-root at Dir", opts: &archive.Options{StripComponents: 1, Dir: "templates/service/"}, want: map[string]string{
			"template.yaml": "kind: Template", "skeleton/": "", "skeleton/run.sh": "#!/bin/sh",
			"skeleton/big.bin": strings.Repeat("b", 100), "empty/": "",
		}},
		{name: "filter by path and size", opts: &archive.Options{StripComponents: 1, Dir: "templates/service",
			Filter: func(p string, size int64) bool { return size < 50 && !strings.HasSuffix(p, ".yaml") }},
			want: map[string]string{"skeleton/": "", "skeleton/run.sh": "#!/bin/sh", "empty/": ""}},
		{name: "strip two components", opts: &archive.Options{StripComponents: 2}, want: map[string]string{
			"service/": "", "service/template.yaml": "kind: Template", "service/skeleton/": "",
			"service/skeleton/run.sh": "#!/bin/sh", "service/skeleton/big.bin": strings.Repeat("b", 100),
			"service/empty/": "", "service-other/": "", "service-other/x": "not a child of templates/service",
		}},
	}
	for _, r := range readers {
		for _, tt := range tests {
			t.Run(r.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				es := entries
				if r.name == "zip" {
					es = es[1:] // no pax header in zip
				}
				fsys, err := r.read(t, es, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, tree(t, fsys)); diff != "" {
					t.Errorf("snapshot (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestDirNotFound(t *testing.T) {
	t.Parallel()
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			_, err := r.read(t, []entry{{name: "repo/a/x", body: "x"}}, &archive.Options{StripComponents: 1, Dir: "b"})
			if errcode.CodeOf(err) != errcode.NotFound || !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("got %v; want NotFound matching fs.ErrNotExist", err)
			}
		})
	}
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts archive.Options
	}{
		{"negative strip", archive.Options{StripComponents: -1}},
		{"Dir with ..", archive.Options{Dir: "a/../b"}},
		{"absolute Dir", archive.Options{Dir: "/a"}},
		{"negative limit", archive.Options{Limits: archive.Limits{MaxFiles: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := archive.ReadTar(t.Context(), bytes.NewReader(tarBytes(t, entry{name: "a", body: "x"})), &tt.opts)
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("got %v; want InvalidArgument", err)
			}
		})
	}
}

func TestModesTimesAndDuplicates(t *testing.T) {
	t.Parallel()
	mtime := time.Date(2024, 1, 24, 20, 49, 21, 0, time.UTC)
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			fsys, err := r.read(t, []entry{
				{name: "./bin/", typ: tar.TypeDir, mode: 0o700, mtime: mtime},
				{name: "./bin/tool", body: "v1", mode: 0o755, mtime: mtime},
				{name: "./bin/tool", body: "version 2", mode: 0o4755, mtime: mtime},
				{name: "./doc.txt", body: "d", mode: 0o664, mtime: mtime},
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]string{"bin/": "", "bin/tool": "version 2", "doc.txt": "d"}, tree(t, fsys)); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
			for _, c := range []struct {
				name string
				mode fs.FileMode
				size int64
			}{{"bin", fs.ModeDir | 0o700, 0}, {"bin/tool", 0o755, 9}, {"doc.txt", 0o664, 1}} {
				fi, err := fsys.Stat(c.name)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode() != c.mode || fi.Size() != c.size {
					t.Errorf("%s: got mode %v size %d; want %v %d", c.name, fi.Mode(), fi.Size(), c.mode, c.size)
				}
				if r.name != "zip" && !fi.ModTime().Equal(mtime) {
					t.Errorf("%s: got mtime %v; want %v", c.name, fi.ModTime(), mtime)
				}
			}
		})
	}
}

func TestGitHubTarball(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/octokit-get-archive.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	const top = "octokit-fixture-org-tmp-scenario-get-archive-20240124204918461-o3t43-900f3f8"
	tests := []struct {
		name string
		opts *archive.Options
		want map[string]string
	}{
		{name: "as is", want: map[string]string{top + "/": "", top + "/README.md": "# get-archive"}},
		{name: "strip the leading directory", opts: &archive.Options{StripComponents: 1}, want: map[string]string{"README.md": "# get-archive"}},
		{name: "Dir after strip", opts: &archive.Options{Dir: top}, want: map[string]string{"README.md": "# get-archive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys, err := archive.ReadTarGz(t.Context(), bytes.NewReader(raw), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tree(t, fsys)); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
		})
	}
	fsys, err := archive.ReadTarGz(t.Context(), bytes.NewReader(raw), &archive.Options{StripComponents: 1})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := fsys.Stat("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1706129361, 0); !fi.ModTime().Equal(want) || fi.Mode() != 0o664 {
		t.Errorf("README.md: got %v %v; want %v -rw-rw-r--", fi.ModTime(), fi.Mode(), want)
	}
	if err := fstest.TestFS(fsys, "README.md"); err != nil {
		t.Error(err)
	}
}

func TestTestFS(t *testing.T) {
	t.Parallel()
	var entries []entry
	for i := range 20 {
		entries = append(entries, entry{name: fmt.Sprintf("repo/dir%d/sub/file%02d.txt", i%3, i), body: strings.Repeat("x", i*10)})
	}
	entries = append(entries,
		entry{name: "repo/empty/", typ: tar.TypeDir},
		entry{name: "repo/run.sh", body: "#!/bin/sh\n", mode: 0o755},
		entry{name: "repo/zero", body: ""},
	)
	fsys, err := archive.ReadTarGz(t.Context(), bytes.NewReader(tarGz(t, entries...)), &archive.Options{StripComponents: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "dir0/sub/file00.txt", "dir2/sub/file17.txt", "empty", "run.sh", "zero"); err != nil {
		t.Error(err)
	}
	sub, err := fs.Sub(fsys, "dir1")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(sub, "sub/file01.txt", "sub/file19.txt"); err != nil {
		t.Error(err)
	}
	if _, err := fs.Sub(fsys, "run.sh"); err == nil {
		t.Errorf("fs.Sub on a file succeeded; want an error")
	}
	if _, err := fsys.Open("../x"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Open(../x) = %v; want fs.ErrInvalid", err)
	}
	if _, err := fsys.Open("missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v; want fs.ErrNotExist", err)
	}
	if _, err := fsys.ReadDir("run.sh"); err == nil {
		t.Errorf("ReadDir on a file succeeded; want an error")
	}
}

func TestReadFileReturnsACopy(t *testing.T) {
	t.Parallel()
	fsys, err := archive.ReadTar(t.Context(), bytes.NewReader(tarBytes(t, entry{name: "a", body: "abc"})), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := fsys.ReadFile("a")
	b[0] = 'X'
	if b2, _ := fsys.ReadFile("a"); string(b2) != "abc" {
		t.Errorf("got %q after modifying a returned slice; want %q", b2, "abc")
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	good := tarGz(t, entry{name: "a", body: strings.Repeat("a", 100_000)}, entry{name: "b", body: "b"})
	downloadErr := errors.New("connection reset by peer")
	tests := []struct {
		name     string
		r        io.Reader
		wantCode errcode.Code
		wantIs   error
	}{
		{name: "not gzip", r: strings.NewReader("this is not gzip"), wantCode: errcode.InvalidArgument},
		{name: "truncated", r: bytes.NewReader(good[:len(good)/2]), wantCode: errcode.InvalidArgument},
		{name: "corrupt", r: bytes.NewReader(append(append([]byte{}, good[:20]...), bytes.Repeat([]byte{0xff}, 200)...)), wantCode: errcode.InvalidArgument},
		{name: "download fails midway", r: io.MultiReader(bytes.NewReader(good[:len(good)/2]), errReader{downloadErr}),
			wantCode: errcode.Unavailable, wantIs: downloadErr},
		{name: "download fails with a coded error", r: io.MultiReader(bytes.NewReader(good[:10]), errReader{&errcode.Error{Code: errcode.Unauthorized}}),
			wantCode: errcode.Unauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := archive.ReadTarGz(t.Context(), tt.r, nil)
			if got := errcode.CodeOf(err); got != tt.wantCode {
				t.Errorf("got code %v (%v); want %v", got, err, tt.wantCode)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got %v; want it to wrap %v", err, tt.wantIs)
			}
		})
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// cancelAfter cancels its context once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestContext(t *testing.T) {
	t.Parallel()
	data := tarGz(t, entry{name: "a", body: strings.Repeat("a", 1<<20)}, entry{name: "b", body: "b"})
	t.Run("already cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := archive.ReadTarGz(ctx, bytes.NewReader(data), nil)
		if errcode.CodeOf(err) != errcode.Canceled || !errors.Is(err, context.Canceled) {
			t.Errorf("got %v; want Canceled", err)
		}
	})
	t.Run("cancelled while reading", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		_, err := archive.ReadTarGz(ctx, &cancelAfter{r: bytes.NewReader(data), n: 100, cancel: cancel}, nil)
		if errcode.CodeOf(err) != errcode.Canceled {
			t.Errorf("got %v; want Canceled", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
		defer cancel()
		z := zipBytes(t, entry{name: "a", body: "a"})
		_, err := archive.ReadZip(ctx, bytes.NewReader(z), int64(len(z)), nil)
		if errcode.CodeOf(err) != errcode.DeadlineExceeded {
			t.Errorf("got %v; want DeadlineExceeded", err)
		}
	})
}

// streamTarGz writes a gzipped tar archive to a pipe from a goroutine, so
// that huge archives are never held in memory. stop closes the reading side,
// waits for the writer and returns how many tar bytes it produced.
func streamTarGz(t *testing.T, write func(tw *tar.Writer) error) (r *io.PipeReader, stop func() int64) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan struct{})
	cw := &countWriter{}
	go func() {
		defer close(done)
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed) // still about 800:1 on zeros
		cw.w = zw
		tw := tar.NewWriter(cw)
		err := write(tw)
		if err == nil {
			err = tw.Close()
		}
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, func() int64 {
		pr.CloseWithError(errors.New("reader done"))
		<-done
		return cw.n
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// zeros is a reader of n zero bytes.
func zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestLimits(t *testing.T) {
	t.Parallel()
	// Zeros compress about 1000:1, so the few KiB of compressed data that
	// gzip and bufio buffer stand for megabytes of tar bytes produced.
	const slack = 8 << 20
	tests := []struct {
		name    string
		limits  archive.Limits
		opts    archive.Options
		write   func(tw *tar.Writer) error
		want    string
		maxRead int64 // most tar bytes the reader may have consumed
	}{
		{name: "100,000 tiny files stop at the default MaxFiles", want: "more than 10000 files; raise Limits.MaxFiles", maxRead: 12 << 20,
			write: func(tw *tar.Writer) error {
				for i := range 100_000 {
					if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%06d", i), Mode: 0o644, Size: 1}); err != nil {
						return err
					}
					if _, err := tw.Write([]byte{'x'}); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "too many directories", limits: archive.Limits{MaxFiles: 100}, want: "more than 100 directories", maxRead: 2 << 20,
			write: func(tw *tar.Writer) error {
				for i := range 1000 {
					if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%04d/", i), Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "gzip bomb: one 1 GiB file of zeros, default limits", want: "larger than 67108864 bytes; raise Limits.MaxFileBytes", maxRead: slack,
			write: func(tw *tar.Writer) error {
				if err := tw.WriteHeader(&tar.Header{Name: "bomb", Mode: 0o644, Size: 1 << 30}); err != nil {
					return err
				}
				_, err := io.Copy(tw, zeros(1<<30))
				return err
			}},
		{name: "gzip bomb: 1 GiB of zeros outside Dir stops at MaxArchiveBytes", limits: archive.Limits{MaxArchiveBytes: 16 << 20},
			opts: archive.Options{Dir: "keep"}, want: "decompressed archive is larger than 16777216 bytes; raise Limits.MaxArchiveBytes", maxRead: 16<<20 + slack,
			write: func(tw *tar.Writer) error {
				if err := tw.WriteHeader(&tar.Header{Name: "keep/a", Mode: 0o644, Size: 1}); err != nil {
					return err
				}
				tw.Write([]byte{'a'})
				if err := tw.WriteHeader(&tar.Header{Name: "skip/bomb", Mode: 0o644, Size: 1 << 30}); err != nil {
					return err
				}
				_, err := io.Copy(tw, zeros(1<<30))
				return err
			}},
		{name: "gzip bomb: many 1 MiB files of zeros stop at MaxBytes", limits: archive.Limits{MaxBytes: 8 << 20},
			want: "more than 8388608 bytes of files; raise Limits.MaxBytes", maxRead: 8<<20 + slack,
			write: func(tw *tar.Writer) error {
				for i := range 1024 {
					if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("z%04d", i), Mode: 0o644, Size: 1 << 20}); err != nil {
						return err
					}
					if _, err := io.Copy(tw, zeros(1<<20)); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "filtered-out files do not count against MaxFiles", limits: archive.Limits{MaxFiles: 5}, want: "more than 5 files",
			opts: archive.Options{Filter: func(p string, _ int64) bool { return strings.HasSuffix(p, "keep") }}, maxRead: 1 << 20,
			write: func(tw *tar.Writer) error {
				for i := range 20 {
					name := fmt.Sprintf("%02d-skip", i)
					if i%2 == 0 {
						name = fmt.Sprintf("%02d-keep", i)
					}
					if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644}); err != nil {
						return err
					}
				}
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, stop := streamTarGz(t, tt.write)
			opts := tt.opts
			opts.Limits = tt.limits
			start := time.Now()
			_, err := archive.ReadTarGz(t.Context(), r, &opts)
			elapsed := time.Since(start)
			produced := stop()
			// Wall time is noisy on a shared machine; the bytes the writer
			// managed to push through before the reader gave up are not.
			t.Logf("failed after %v and %d tar bytes", elapsed, produced)
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Errorf("got %v; want InvalidArgument containing %q", err, tt.want)
			}
			if produced > tt.maxRead {
				t.Errorf("the reader consumed %d tar bytes; want at most %d", produced, tt.maxRead)
			}
			if elapsed > 20*time.Second {
				t.Errorf("took %v; want a prompt refusal", elapsed)
			}
		})
	}
}

func TestZipSizeIsCountedNotTrusted(t *testing.T) {
	t.Parallel()
	// A zip entry whose header claims 10 bytes but inflates to 8 MiB.
	z := rawZip(t, "liar", 10, zeros(8<<20))
	start := time.Now()
	_, err := archive.ReadZip(t.Context(), bytes.NewReader(z), int64(len(z)), &archive.Options{Limits: archive.Limits{MaxFileBytes: 1 << 20}})
	if errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("got %v; want InvalidArgument", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v; want a quick refusal", elapsed)
	}
}

// TestZipEntryOverMaxFileBytes: an honest zip entry larger than
// MaxFileBytes, well within MaxBytes, is refused naming the limit.
func TestZipEntryOverMaxFileBytes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, size := range map[string]int{"small": 100, "big": 2 << 20} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(bytes.Repeat([]byte{'x'}, size))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := archive.ReadZip(t.Context(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), &archive.Options{Limits: archive.Limits{MaxFileBytes: 1 << 20}})
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "raise Limits.MaxFileBytes") {
		t.Errorf("got %v; want InvalidArgument naming MaxFileBytes", err)
	}
}

// TestOddNamesOutsideDirAreSkipped: git allows any bytes but "/" and NUL
// in a name, so a repository's archive may hold a name with a backslash
// or one that is not UTF-8. Outside the selected Dir such an entry is
// skipped like any other entry there, instead of failing the whole read
// (GitHub's tarball holds the whole repository); inside it, it is still
// refused, as are ".." and absolute names anywhere.
func TestOddNamesOutsideDirAreSkipped(t *testing.T) {
	t.Parallel()
	odd := []entry{{name: `repo/docs/a\b.md`, body: "b"}, {name: "repo/docs/\xff.txt", body: "ff"}, {name: "repo/keepers/\xfe", body: "fe"}}
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			entries := append([]entry{{name: "repo/keep/x.txt", body: "x"}}, odd...)
			fsys, err := r.read(t, entries, &archive.Options{StripComponents: 1, Dir: "keep"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]string{"x.txt": "x"}, tree(t, fsys)); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
			for _, e := range odd {
				_, err := r.read(t, []entry{{name: "repo/keep/x.txt", body: "x"}, e}, &archive.Options{StripComponents: 1})
				if errcode.CodeOf(err) != errcode.InvalidArgument {
					t.Errorf("%q inside the selection: %v; want InvalidArgument", e.name, err)
				}
			}
		})
	}
}
