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

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/gitpath"
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
//   - symbolic links in fsys are skipped; other special files, names
//     with a backslash, a NUL byte or invalid UTF-8, and names git reads as
//     ".git" (any case, trailing dots or spaces, "git~1": see
//     internal/gitpath), are refused with InvalidArgument: a .git
//     directory or file in dest would hand its config and hooks to the
//     next git command run there.
//
// Unlike os.CopyFS, which follows symbolic links already in its
// destination (so that a link planted there, say "skeleton" pointing to
// ~/.ssh, makes it write outside the directory it was given), WriteDir
// refuses them.
//
// The cost is linear in the size of the tree, whatever its depth: each
// directory is opened once, relative to its parent (WriteDir holds one open
// directory per level of the path it is writing), and every file and
// directory is created by its name in its parent, never by a path resolved
// from dest.
//
// WriteDir checks ctx between entries and while copying. It does not remove
// what it wrote before an error.
func WriteDir(ctx context.Context, fsys fs.FS, dest string, opts *WriteOptions) error {
	var o WriteOptions
	if opts != nil {
		o = *opts
	}
	if err := ctx.Err(); err != nil {
		return contextError(err)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return writeError(err, "creating the destination")
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return writeError(err, "opening the destination")
	}
	defer root.Close()
	w := &writer{ctx: ctx, fsys: fsys, overwrite: o.Overwrite}
	return w.dir(root, ".")
}

// writer is one WriteDir call.
type writer struct {
	ctx       context.Context
	fsys      fs.FS
	overwrite bool
}

// dir writes the entries of directory name of fsys into root, which is
// that directory on disk, recursing into subdirectories.
func (w *writer) dir(root *os.Root, name string) error {
	entries, err := fs.ReadDir(w.fsys, name)
	if err != nil {
		return writeError(err, "reading the tree")
	}
	for _, d := range entries {
		if err := w.ctx.Err(); err != nil {
			return contextError(err)
		}
		base := d.Name()
		p := base
		if name != "." {
			p = name + "/" + base
		}
		if base == "." || strings.ContainsAny(base, "/\\\x00") || !fs.ValidPath(base) || !utf8.ValidString(base) {
			return invalidf("refusing to write %s: invalid name", abbrev(p))
		}
		if gitpath.IsDotGit(base) {
			// A repository's control directory (or a .git file naming
			// one): the next git command run in dest would take its
			// config and hooks. Git's fsck refuses the name, so no git
			// host serves it.
			return invalidf("refusing to write %s: git reads the name as .git, a repository's control directory", abbrev(p))
		}
		switch t := d.Type(); {
		case d.IsDir():
			if err := mkdir(root, base, p); err != nil {
				return err
			}
			sub, err := root.OpenRoot(base)
			if err != nil {
				return writeError(err, fmt.Sprintf("opening directory %s", abbrev(p)))
			}
			err = w.dir(sub, p)
			sub.Close()
			if err != nil {
				return err
			}
		case t&fs.ModeSymlink != 0:
		case t != 0:
			return invalidf("refusing to write %s: not a regular file (mode %v)", abbrev(p), t)
		default:
			if err := writeFile(w.ctx, root, w.fsys, p, base, w.overwrite); err != nil {
				return err
			}
		}
	}
	return nil
}

// mkdir creates directory base in root (p is its path in the tree, for
// errors), accepting an existing real directory but not a symbolic link
// or a file.
func mkdir(root *os.Root, base, p string) error {
	err := root.Mkdir(base, 0o755)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		if fi, lerr := root.Lstat(base); lerr == nil && fi.IsDir() {
			return nil
		}
		return &errcode.Error{Code: errcode.AlreadyExists,
			Msg: fmt.Sprintf("%s already exists in the destination and is not a directory (symbolic links are not followed)", abbrev(p))}
	}
	return writeError(err, fmt.Sprintf("creating directory %s", abbrev(p)))
}

// writeFile copies regular file name from fsys to base in root, the
// directory on disk that holds it.
func writeFile(ctx context.Context, root *os.Root, fsys fs.FS, name, base string, overwrite bool) error {
	src, err := fsys.Open(name)
	if err != nil {
		return writeError(err, fmt.Sprintf("opening %s", abbrev(name)))
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return writeError(err, fmt.Sprintf("reading %s", abbrev(name)))
	}
	if !fi.Mode().IsRegular() {
		return invalidf("refusing to write %s: not a regular file (mode %v)", abbrev(name), fi.Mode())
	}
	perm := fs.FileMode(0o644)
	if fi.Mode()&0o111 != 0 {
		perm = 0o755
	}
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	dst, err := root.OpenFile(base, flags, perm)
	if errors.Is(err, fs.ErrExist) {
		if !overwrite {
			return &errcode.Error{Code: errcode.AlreadyExists,
				Msg: fmt.Sprintf("%s already exists in the destination; set WriteOptions.Overwrite to replace it", abbrev(name))}
		}
		if old, lerr := root.Lstat(base); lerr == nil && old.IsDir() {
			return &errcode.Error{Code: errcode.AlreadyExists,
				Msg: fmt.Sprintf("%s is a directory in the destination", abbrev(name))}
		}
		if err := root.Remove(base); err != nil {
			return writeError(err, fmt.Sprintf("replacing %s", abbrev(name)))
		}
		dst, err = root.OpenFile(base, flags, perm)
	}
	if err != nil {
		return writeError(err, fmt.Sprintf("creating %s", abbrev(name)))
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
		return writeError(err, fmt.Sprintf("writing %s", abbrev(name)))
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
