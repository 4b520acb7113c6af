package scm

import (
	"context"
	"errors"
	"io/fs"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

// WriteTreeOptions controls [WriteTree]. A nil *WriteTreeOptions means the
// defaults.
type WriteTreeOptions struct {
	// Overwrite replaces files that already exist in the destination. A
	// symbolic link in a file's place is removed and replaced, never
	// followed; a directory is never replaced by a file. Without
	// Overwrite, an existing file fails the write with AlreadyExists.
	Overwrite bool
}

// WriteTree writes the tree fsys (typically a snapshot from
// [Client.ReadTree]) to the directory dir, creating dir if needed. It is
// the way to put a snapshot on disk: use it rather than os.CopyFS.
//
// os.CopyFS follows symbolic links already present in its destination: if
// dir holds a link "skeleton" pointing to ~/.ssh (planted by an earlier
// template, another user or a checked-out repository), copying a tree with
// a "skeleton/" directory writes into ~/.ssh. WriteTree never leaves dir:
// every write goes through an os.Root opened on dir, a symbolic link where
// the tree has a directory fails with AlreadyExists, and files are created
// with O_EXCL, so a link in a file's place is not followed either.
//
// Files are written with mode 0644, or 0755 when any executable bit is set
// in fsys, whatever the umask; directories with 0755 (less the umask).
// Symbolic links in fsys are skipped; other special files, and names with
// a backslash, a NUL byte or invalid UTF-8, fail with InvalidArgument. The
// cost is linear in the size of the tree, whatever its depth: each
// directory is opened once, relative to its parent, and WriteTree holds one
// open directory per level of the path it is writing.
//
// WriteTree checks ctx between files and while copying (Canceled or
// DeadlineExceeded). It does not remove what it wrote before an error.
// Errors are *Error with Op "scm.WriteTree": PermissionDenied or Unknown
// for a file-system failure, AlreadyExists as described above.
func WriteTree(ctx context.Context, fsys fs.FS, dir string, opts *WriteTreeOptions) error {
	var o archive.WriteOptions
	if opts != nil {
		o.Overwrite = opts.Overwrite
	}
	err := archive.WriteDir(ctx, fsys, dir, &o)
	if err == nil {
		return nil
	}
	var e *errcode.Error
	if !errors.As(err, &e) {
		return &Error{Code: Unknown, Op: "scm.WriteTree", Err: err}
	}
	out := *e
	out.Op = "scm.WriteTree"
	return &out
}
