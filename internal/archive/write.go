package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/internal/errcode"
)

// WriteOptions configures [WriteDir]. A nil *WriteOptions means the zero
// value.
type WriteOptions struct {
	// Overwrite replaces files that already exist in the destination. An
	// existing symbolic link is removed and replaced, never followed. An
	// existing directory is never replaced by a file. Without Overwrite,
	// an existing file is an AlreadyExists error.
	Overwrite bool
}

// WriteDir writes the tree fsys to the directory dest, creating dest if
// needed. All writes go through an os.Root opened on dest, so nothing is
// written outside it. Beyond that:
//
//   - symbolic links are never followed: a symbolic link already in dest
//     where the tree has a directory is an AlreadyExists error, and files
//     are created with O_EXCL (so a link in their place is not followed);
//   - files are written with mode 0644, or 0755 when any executable bit is
//     set in fsys, whatever the umask; directories with 0755 (less umask);
//   - symbolic links in fsys are skipped; other special files, and names
//     with a backslash, a NUL byte or invalid UTF-8, are refused with
//     InvalidArgument.
//
// WriteDir checks ctx between entries and while copying. It does not remove
// what it wrote before an error.
func WriteDir(ctx context.Context, fsys fs.FS, dest string, opts *WriteOptions) error {
	var o WriteOptions
	if opts != nil {
		o = *opts
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return writeError(err, "creating the destination")
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return writeError(err, "opening the destination")
	}
	defer root.Close()
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return writeError(err, "reading the tree")
		}
		if err := ctx.Err(); err != nil {
			return contextError(err)
		}
		if name == "." {
			return nil
		}
		if !fs.ValidPath(name) || strings.ContainsAny(name, "\\\x00") || !utf8.ValidString(name) {
			return invalidf("refusing to write %q: invalid name", name)
		}
		switch t := d.Type(); {
		case d.IsDir():
			return mkdir(root, name)
		case t&fs.ModeSymlink != 0:
			return nil
		case t != 0:
			return invalidf("refusing to write %q: not a regular file (mode %v)", name, t)
		}
		return writeFile(ctx, root, fsys, name, o.Overwrite)
	})
}

// mkdir creates directory name in root, accepting an existing real
// directory but not a symbolic link or a file.
func mkdir(root *os.Root, name string) error {
	err := root.Mkdir(name, 0o755)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		if fi, lerr := root.Lstat(name); lerr == nil && fi.IsDir() {
			return nil
		}
		return &errcode.Error{Code: errcode.AlreadyExists,
			Msg: fmt.Sprintf("%q already exists in the destination and is not a directory (symbolic links are not followed)", name)}
	}
	return writeError(err, fmt.Sprintf("creating directory %q", name))
}

// writeFile copies regular file name from fsys to root.
func writeFile(ctx context.Context, root *os.Root, fsys fs.FS, name string, overwrite bool) error {
	src, err := fsys.Open(name)
	if err != nil {
		return writeError(err, fmt.Sprintf("opening %q", name))
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return writeError(err, fmt.Sprintf("reading %q", name))
	}
	if !fi.Mode().IsRegular() {
		return invalidf("refusing to write %q: not a regular file (mode %v)", name, fi.Mode())
	}
	perm := fs.FileMode(0o644)
	if fi.Mode()&0o111 != 0 {
		perm = 0o755
	}
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	dst, err := root.OpenFile(name, flags, perm)
	if errors.Is(err, fs.ErrExist) {
		if !overwrite {
			return &errcode.Error{Code: errcode.AlreadyExists,
				Msg: fmt.Sprintf("%q already exists in the destination; set WriteOptions.Overwrite to replace it", name)}
		}
		if old, lerr := root.Lstat(name); lerr == nil && old.IsDir() {
			return &errcode.Error{Code: errcode.AlreadyExists,
				Msg: fmt.Sprintf("%q is a directory in the destination", name)}
		}
		if err := root.Remove(name); err != nil {
			return writeError(err, fmt.Sprintf("replacing %q", name))
		}
		dst, err = root.OpenFile(name, flags, perm)
	}
	if err != nil {
		return writeError(err, fmt.Sprintf("creating %q", name))
	}
	_, err = io.Copy(dst, ctxReader{ctx, src})
	if err == nil {
		err = dst.Chmod(perm) // exact mode, whatever the umask
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return contextError(ctx.Err())
		}
		return writeError(err, fmt.Sprintf("writing %q", name))
	}
	return nil
}

// writeError wraps a file-system error of WriteDir.
func writeError(err error, what string) error {
	var ce *errcode.Error
	if errors.As(err, &ce) {
		return err
	}
	code := errcode.Unknown
	switch {
	case errors.Is(err, fs.ErrPermission):
		code = errcode.PermissionDenied
	case errors.Is(err, fs.ErrExist):
		code = errcode.AlreadyExists
	}
	return &errcode.Error{Code: code, Msg: what, Err: err}
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
