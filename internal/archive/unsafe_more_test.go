package archive_test

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

// TestRefusesMoreUnsafeEntries: cases the main table leaves to a single
// check: a symbolic link whose target has only a drive letter, or only
// backslashes (a Windows path that climbs out), and a file that arrives
// after a directory of the same name.
func TestRefusesMoreUnsafeEntries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		entries []entry
		want    string
	}{
		{"symlink to a drive letter with forward slashes", []entry{{name: "repo/l", typ: tar.TypeSymlink, link: "C:/Windows/System32"}}, "outside"},
		{"symlink to a drive-relative path", []entry{{name: "repo/l", typ: tar.TypeSymlink, link: "d:evil"}}, "outside"},
		{"symlink climbing with backslashes", []entry{{name: "repo/a/l", typ: tar.TypeSymlink, link: `..\..\..\etc\passwd`}}, "outside"},
		{"file after a directory of its name", []entry{{name: "repo/a/", typ: tar.TypeDir}, {name: "repo/a/b", body: "x"}, {name: "repo/a", body: "y"}}, "both a file and a directory"},
		{"file after an implied directory of its name", []entry{{name: "repo/a/b", body: "x"}, {name: "repo/a", body: "y"}}, "both a file and a directory"},
	} {
		for _, r := range readers {
			fsys, err := r.read(t, tc.entries, nil)
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
				var got []string
				if fsys != nil {
					got = keys(tree(t, fsys))
				}
				t.Errorf("%s, %s: %v (snapshot %v); want InvalidArgument containing %q", r.name, tc.name, err, got, tc.want)
			}
		}
	}
}

// TestMaxArchiveBytesIsExact: a tar stream of exactly MaxArchiveBytes is
// read; one byte less as the limit refuses it.
func TestMaxArchiveBytesIsExact(t *testing.T) {
	t.Parallel()
	b := tarBytes(t, entry{name: "a.txt", body: "hello"})
	for _, tc := range []struct {
		max int64
		ok  bool
	}{{int64(len(b)), true}, {int64(len(b)) - 1, false}} {
		_, err := archive.ReadTar(t.Context(), bytes.NewReader(b), &archive.Options{Limits: archive.Limits{MaxArchiveBytes: tc.max, MaxBytes: 5}})
		if tc.ok && err != nil || !tc.ok && errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("MaxArchiveBytes %d, a %d-byte tar: %v; want accepted %v", tc.max, len(b), err, tc.ok)
		}
	}
}

// TestRefusesAHardLinkToTheSelectedDirectory: a hard link whose target is
// the selected Dir itself (a directory, which no hard link may name) is
// refused, as one outside it is.
func TestRefusesAHardLinkToTheSelectedDirectory(t *testing.T) {
	t.Parallel()
	entries := []entry{{name: "repo/keep/a", body: "x"}, {name: "repo/keep/h", typ: tar.TypeLink, link: "repo/keep"}}
	_, err := archive.ReadTar(t.Context(), bytes.NewReader(tarBytes(t, entries...)), &archive.Options{StripComponents: 1, Dir: "keep"})
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "hard link") {
		t.Errorf("ReadTar = %v; want InvalidArgument about the hard link", err)
	}
}
