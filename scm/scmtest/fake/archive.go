package fake

import (
	"archive/tar"
	"archive/zip"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"time"
)

// Archive is a flat file set to write as a tar or zip archive, in the
// shape git archive gives them.
type Archive struct {
	// Commit is the commit id: the comment of the tar's pax global header,
	// and of the zip when asked.
	Commit string
	// Prefix is prepended to every name, e.g. "acme-svc-0123456789ab/";
	// when it is not "", the tar holds a directory entry for it.
	Prefix string
	// ModTime dates every entry (to the second in a tar).
	ModTime time.Time
	// Files are the files, in the order to write them.
	Files []File
}

// WriteTar writes a: a pax global header holding the commit id, the
// prefix's directory, every parent directory of the files (sorted), then
// the files. Directories and executable files get perm, other files perm
// without its execute bits.
func (a *Archive) WriteTar(w io.Writer, perm fs.FileMode) error {
	tw := tar.NewWriter(w)
	mtime := a.ModTime.Truncate(time.Second)
	dirMode, fileMode := int64(perm), int64(perm&^0o111)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
		PAXRecords: map[string]string{"comment": a.Commit}, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if a.Prefix != "" {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: a.Prefix, Mode: dirMode, ModTime: mtime}); err != nil {
			return err
		}
	}
	for _, d := range a.dirs() {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: a.Prefix + d + "/", Mode: dirMode, ModTime: mtime}); err != nil {
			return err
		}
	}
	for _, f := range a.Files {
		mode := fileMode
		if f.Executable {
			mode = dirMode
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: a.Prefix + f.Path, Mode: mode, Size: int64(len(f.Content)),
			ModTime: mtime}); err != nil {
			return err
		}
		if _, err := tw.Write(f.Content); err != nil {
			return err
		}
	}
	return tw.Close()
}

// dirs returns the parent directories of the files, each once, sorted.
func (a *Archive) dirs() []string {
	seen := map[string]bool{}
	for _, f := range a.Files {
		for d := path.Dir(f.Path); d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// WriteZip writes a's files, deflated, with no directory entries;
// executable files get perm, others perm without its execute bits. With
// comment the zip's comment is the commit id.
func (a *Archive) WriteZip(w io.Writer, perm fs.FileMode, comment bool) error {
	zw := zip.NewWriter(w)
	if comment {
		if err := zw.SetComment(a.Commit); err != nil {
			return err
		}
	}
	for _, f := range a.Files {
		h := &zip.FileHeader{Name: a.Prefix + f.Path, Method: zip.Deflate, Modified: a.ModTime}
		mode := perm &^ 0o111
		if f.Executable {
			mode = perm
		}
		h.SetMode(mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Content); err != nil {
			return err
		}
	}
	return zw.Close()
}
