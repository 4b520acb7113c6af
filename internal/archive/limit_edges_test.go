package archive_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

// TestMaxFilesIsExact: MaxFiles files are read, one more is refused; and
// the same bound holds for directories, counted apart (the root aside),
// in tar and zip alike.
func TestMaxFilesIsExact(t *testing.T) {
	t.Parallel()
	const max = 5
	files := func(n int) []entry {
		var es []entry
		for i := range n {
			es = append(es, entry{name: fmt.Sprintf("f%d", i), body: "x"})
		}
		return es
	}
	dirs := func(n int) []entry {
		var es []entry
		for i := range n {
			es = append(es, entry{name: fmt.Sprintf("d%d/", i), typ: tar.TypeDir})
		}
		return es
	}
	opts := &archive.Options{Limits: archive.Limits{MaxFiles: max}}
	for _, tc := range []struct {
		name    string
		entries []entry
		ok      bool
	}{
		{"MaxFiles files", files(max), true},
		{"MaxFiles+1 files", files(max + 1), false},
		{"MaxFiles directories", dirs(max), true},
		{"MaxFiles+1 directories", dirs(max + 1), false},
		{"MaxFiles files in MaxFiles directories", append(dirs(max), files(max)...), true},
	} {
		for _, format := range []string{"tar", "zip"} {
			var err error
			if format == "tar" {
				_, err = archive.ReadTar(t.Context(), bytes.NewReader(tarBytes(t, tc.entries...)), opts)
			} else {
				b := zipBytes(t, tc.entries...)
				_, err = archive.ReadZip(t.Context(), bytes.NewReader(b), int64(len(b)), opts)
			}
			if tc.ok && err != nil || !tc.ok && errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("%s, %s: %v; want accepted %v", tc.name, format, err, tc.ok)
			}
		}
	}
}

// countingReaderAt counts the reads made through it.
type countingReaderAt struct {
	r     *bytes.Reader
	reads int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// TestZipOverMaxArchiveBytesRefusedUnread: a zip archive larger than
// MaxArchiveBytes is refused from its size alone, before its central
// directory is read; one of exactly that size is read.
func TestZipOverMaxArchiveBytesRefusedUnread(t *testing.T) {
	t.Parallel()
	b := zipBytes(t, entry{name: "a.txt", body: "hello"})
	for _, tc := range []struct {
		max int64
		ok  bool
	}{{int64(len(b)), true}, {int64(len(b)) - 1, false}} {
		r := &countingReaderAt{r: bytes.NewReader(b)}
		_, err := archive.ReadZip(t.Context(), r, int64(len(b)), &archive.Options{Limits: archive.Limits{MaxArchiveBytes: tc.max}})
		if tc.ok && err != nil {
			t.Errorf("MaxArchiveBytes %d, a %d-byte zip: %v; want it read", tc.max, len(b), err)
		}
		if !tc.ok && (errcode.CodeOf(err) != errcode.InvalidArgument || r.reads != 0) {
			t.Errorf("MaxArchiveBytes %d, a %d-byte zip: %v after %d reads; want InvalidArgument and no read", tc.max, len(b), err, r.reads)
		}
	}
}
