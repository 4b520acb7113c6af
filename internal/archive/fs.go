package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// FS is an immutable in-memory snapshot of a file tree. It implements
// fs.FS, fs.ReadFileFS, fs.ReadDirFS, fs.StatFS and fs.SubFS, and is safe
// for concurrent use. Directories implied by a file's path exist even when
// the source listed no entry for them (mode 0755, zero modification time).
// The snapshot holds regular files and directories only: never symbolic
// links, devices or other special files.
//
// The zero FS is an empty tree.
//
// Looking a path up walks it one element at a time from the view's top
// directory (a binary search in each directory's sorted entries), so its
// cost is linear in the path's length whatever the tree's depth.
type FS struct {
	root *node // the directory this view is rooted at; nil for the zero FS
}

// File describes one entry given to [NewFS].
type File struct {
	Data    []byte      // contents of a regular file; copied by NewFS
	Mode    fs.FileMode // permission bits (the executable bit matters), plus fs.ModeDir for an explicit, possibly empty, directory
	ModTime time.Time   // modification time
}

// NewFS builds a snapshot from files, keyed by slash-separated paths that
// satisfy fs.ValidPath and contain no backslash. Parent directories are
// implied. It returns an InvalidArgument *errcode.Error for an invalid path,
// a mode other than a regular file or a directory, or a path that is both a
// file and a directory.
func NewFS(files map[string]File) (*FS, error) { return newFS(files, true) }

// NewFSOwned is [NewFS] without the copy: the snapshot keeps the Data
// slices it is given, which the caller must not modify afterwards. It
// spares a second copy of every file when the caller's data is its own.
func NewFSOwned(files map[string]File) (*FS, error) { return newFS(files, false) }

func newFS(files map[string]File, copyData bool) (*FS, error) {
	b := newBuilder(Limits{MaxFiles: -1})
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic errors
	for _, name := range names {
		f := files[name]
		if name == "." || !fs.ValidPath(name) || strings.ContainsAny(name, "\\\x00") {
			return nil, invalidf("NewFS: invalid path %s", abbrev(name))
		}
		var err error
		switch f.Mode.Type() {
		case 0:
			data := f.Data
			if copyData {
				data = bytes.Clone(data)
			}
			err = b.addFile(name, data, f.Mode.Perm(), f.ModTime)
		case fs.ModeDir:
			err = b.addDir(name, f.Mode.Perm(), f.ModTime)
		default:
			err = invalidf("NewFS: %s has mode %v; only regular files and directories are allowed", abbrev(name), f.Mode)
		}
		if err != nil {
			return nil, err
		}
	}
	return b.fs(), nil
}

// node is one file or directory. It is its own fs.FileInfo and fs.DirEntry.
type node struct {
	name    string
	mode    fs.FileMode
	modTime time.Time
	data    []byte
	entries []*node // directories: children sorted by name
}

func (n *node) Name() string               { return n.name }
func (n *node) Size() int64                { return int64(len(n.data)) }
func (n *node) Mode() fs.FileMode          { return n.mode }
func (n *node) ModTime() time.Time         { return n.modTime }
func (n *node) IsDir() bool                { return n.mode.IsDir() }
func (n *node) Sys() any                   { return nil }
func (n *node) Type() fs.FileMode          { return n.mode.Type() }
func (n *node) Info() (fs.FileInfo, error) { return n, nil }
func (n *node) String() string             { return fs.FormatFileInfo(n) }

// rootInfo reports a view's top directory under the name ".".
type rootInfo struct{ *node }

func (r rootInfo) Name() string               { return "." }
func (r rootInfo) Info() (fs.FileInfo, error) { return r, nil }
func (r rootInfo) String() string             { return fs.FormatFileInfo(r) }

var errNotDir = errors.New("not a directory")

// lookup returns the node at name, or a *fs.PathError for op.
func (f *FS) lookup(op, name string) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if f.root == nil {
		if name == "." {
			return &node{name: ".", mode: fs.ModeDir | 0o755}, nil
		}
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	n := f.root
	if name == "." {
		return n, nil
	}
	for rest := name; rest != ""; {
		var elem string
		elem, rest, _ = strings.Cut(rest, "/")
		if !n.IsDir() {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		i, ok := slices.BinarySearchFunc(n.entries, elem, func(c *node, e string) int { return strings.Compare(c.name, e) })
		if !ok {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		n = n.entries[i]
	}
	return n, nil
}

func info(n *node, name string) fs.FileInfo {
	if name == "." {
		return rootInfo{n}
	}
	return n
}

// Open opens the named file or directory.
func (f *FS) Open(name string) (fs.File, error) {
	n, err := f.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if n.IsDir() {
		return &openDir{n: n, name: name}, nil
	}
	return &openFile{n: n, name: name}, nil
}

// ReadFile returns a copy of the named file's contents.
func (f *FS) ReadFile(name string) ([]byte, error) {
	n, err := f.lookup("readfile", name)
	if err != nil {
		return nil, err
	}
	if n.IsDir() {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	return bytes.Clone(n.data), nil
}

// ReadDir returns the named directory's entries sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !n.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	return dirEntries(n.entries), nil
}

// Stat returns the named file's or directory's FileInfo.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	n, err := f.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return info(n, name), nil
}

// Sub returns the snapshot rooted at dir, which must be a directory. It
// shares the data of f and copies nothing.
func (f *FS) Sub(dir string) (fs.FS, error) {
	n, err := f.lookup("sub", dir)
	if err != nil {
		return nil, err
	}
	if !n.IsDir() {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: errNotDir}
	}
	if dir == "." {
		return f, nil
	}
	return &FS{root: n}, nil
}

func dirEntries(nodes []*node) []fs.DirEntry {
	out := make([]fs.DirEntry, len(nodes))
	for i, n := range nodes {
		out[i] = n
	}
	return out
}

// openFile is an open regular file: fs.File, io.ReaderAt and io.Seeker.
type openFile struct {
	n      *node
	name   string
	off    int64
	closed bool
}

func (o *openFile) Stat() (fs.FileInfo, error) {
	if o.closed {
		return nil, &fs.PathError{Op: "stat", Path: o.name, Err: fs.ErrClosed}
	}
	return info(o.n, o.name), nil
}

func (o *openFile) Read(p []byte) (int, error) {
	if o.closed {
		return 0, &fs.PathError{Op: "read", Path: o.name, Err: fs.ErrClosed}
	}
	if o.off >= int64(len(o.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, o.n.data[o.off:])
	o.off += int64(n)
	return n, nil
}

func (o *openFile) ReadAt(p []byte, off int64) (int, error) {
	if o.closed {
		return 0, &fs.PathError{Op: "read", Path: o.name, Err: fs.ErrClosed}
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: o.name, Err: fs.ErrInvalid}
	}
	if off >= int64(len(o.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, o.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (o *openFile) Seek(offset int64, whence int) (int64, error) {
	if o.closed {
		return 0, &fs.PathError{Op: "seek", Path: o.name, Err: fs.ErrClosed}
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += int64(len(o.n.data))
	default:
		return 0, &fs.PathError{Op: "seek", Path: o.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: o.name, Err: fs.ErrInvalid}
	}
	o.off = offset
	return offset, nil
}

func (o *openFile) Close() error {
	if o.closed {
		return &fs.PathError{Op: "close", Path: o.name, Err: fs.ErrClosed}
	}
	o.closed = true
	return nil
}

// openDir is an open directory: fs.ReadDirFile.
type openDir struct {
	n      *node
	name   string
	off    int
	closed bool
}

func (d *openDir) Stat() (fs.FileInfo, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "stat", Path: d.name, Err: fs.ErrClosed}
	}
	return info(d.n, d.name), nil
}

func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: fs.ErrInvalid}
}

func (d *openDir) ReadDir(count int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	rest := d.n.entries[d.off:]
	if count > 0 {
		if len(rest) == 0 {
			return nil, io.EOF
		}
		rest = rest[:min(count, len(rest))]
	}
	d.off += len(rest)
	return dirEntries(rest), nil
}

func (d *openDir) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

// builder assembles a snapshot, enforcing the file and byte limits.
//
// Every operation walks its path one element at a time from the top,
// finding each child in kids by (parent, name): the work per entry is
// linear in the length of its path, however deep, and no string longer
// than one element is ever hashed.
type builder struct {
	ctx   context.Context // checked while creating many directories; nil for NewFS
	lim   Limits          // MaxFiles < 0: no limits
	root  *node
	kids  map[childKey]*node
	dirs  []*node // every directory, the top included, to sort at the end
	files int
	bytes int64
	// read is the file data of every entry given a slot, those a later
	// entry of the same path replaced included: bounded by
	// MaxArchiveBytes, so that repeating one path cannot repeat the work
	// without end.
	read int64
}

// childKey names the child name of directory parent.
type childKey struct {
	parent *node
	name   string
}

func newBuilder(lim Limits) *builder {
	root := &node{name: ".", mode: fs.ModeDir | 0o755}
	return &builder{lim: lim, root: root, kids: map[childKey]*node{}, dirs: []*node{root}}
}

func (b *builder) limited() bool { return b.lim.MaxFiles >= 0 }

// dir returns the directory at p ("." for the top), creating it and its
// parents as needed.
func (b *builder) dir(p string) (*node, error) {
	n := b.root
	if p == "." {
		return n, nil
	}
	for i, end := 0, 0; end < len(p); i++ {
		if i%1024 == 1023 && b.ctx != nil {
			if err := b.ctx.Err(); err != nil {
				return nil, contextError(err)
			}
		}
		next := strings.IndexByte(p[end:], '/')
		if next < 0 {
			next = len(p)
		} else {
			next += end
		}
		name := p[end:next]
		child, ok := b.kids[childKey{n, name}]
		switch {
		case !ok:
			if b.limited() && len(b.dirs)-1 >= b.lim.MaxFiles {
				return nil, invalidf("archive has more than %d directories; raise Limits.MaxFiles", b.lim.MaxFiles)
			}
			// A copy: name may point into a huge entry name (a long
			// stripped prefix, say) that the snapshot must not retain.
			child = &node{name: strings.Clone(name), mode: fs.ModeDir | 0o755}
			b.kids[childKey{n, child.name}] = child
			n.entries = append(n.entries, child)
			b.dirs = append(b.dirs, child)
		case !child.IsDir():
			return nil, invalidf("%s is both a file and a directory", abbrev(p[:next]))
		}
		n = child
		end = next + 1
	}
	return n, nil
}

// addDir records an explicit directory entry with its mode and time. The
// root (p ".", the selected directory itself) keeps its own.
func (b *builder) addDir(p string, perm fs.FileMode, mtime time.Time) error {
	if p == "." {
		return nil
	}
	n, err := b.dir(p)
	if err != nil {
		return err
	}
	n.mode = fs.ModeDir | perm&fs.ModePerm
	n.modTime = mtime
	return nil
}

// fileSlot is where a file is about to be stored: its parent directory,
// its name there, and the file it replaces, if any.
type fileSlot struct {
	parent *node
	name   string
	old    *node
}

// slot checks that a file of size bytes at p fits the limits, before its
// data is read, and returns where to store it, creating its parent
// directories. An existing file at p is released at once, so that the old
// and the new contents are never held together. The path is walked once.
func (b *builder) slot(p string, size int64) (fileSlot, error) {
	if b.limited() && size > b.lim.MaxFileBytes {
		return fileSlot{}, invalidf("archive entry %s is larger than %d bytes; raise Limits.MaxFileBytes", abbrev(p), b.lim.MaxFileBytes)
	}
	dir, base := ".", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, base = p[:i], p[i+1:]
	}
	parent, err := b.dir(dir)
	if err != nil {
		return fileSlot{}, err
	}
	old := b.kids[childKey{parent, base}]
	if old != nil && old.IsDir() {
		return fileSlot{}, invalidf("%s is both a file and a directory", abbrev(p))
	}
	if b.limited() {
		var oldSize int64
		if old != nil {
			oldSize = old.Size()
		} else if b.files >= b.lim.MaxFiles {
			return fileSlot{}, invalidf("archive has more than %d files; raise Limits.MaxFiles", b.lim.MaxFiles)
		}
		if b.bytes-oldSize+size > b.lim.MaxBytes {
			return fileSlot{}, invalidf("archive holds more than %d bytes of files; raise Limits.MaxBytes", b.lim.MaxBytes)
		}
		if size > b.lim.MaxArchiveBytes-b.read {
			return fileSlot{}, invalidf("archive's entries hold more than %d bytes of file data, a path given again counting each time; raise Limits.MaxArchiveBytes", b.lim.MaxArchiveBytes)
		}
		b.read += size
	}
	if old != nil {
		b.bytes -= old.Size()
		old.data = nil
	}
	return fileSlot{parent: parent, name: base, old: old}, nil
}

// put stores a file's data in the slot slot returned; a later entry for
// the same path replaces an earlier one, as tar does.
func (b *builder) put(s fileSlot, data []byte, perm fs.FileMode, mtime time.Time) {
	b.bytes += int64(len(data))
	if s.old != nil {
		s.old.data, s.old.mode, s.old.modTime = data, perm&fs.ModePerm, mtime
		return
	}
	n := &node{name: strings.Clone(s.name), mode: perm & fs.ModePerm, modTime: mtime, data: data}
	b.kids[childKey{s.parent, n.name}] = n
	s.parent.entries = append(s.parent.entries, n)
	b.files++
}

// addFile records a regular file whose data is at hand.
func (b *builder) addFile(p string, data []byte, perm fs.FileMode, mtime time.Time) error {
	s, err := b.slot(p, int64(len(data)))
	if err != nil {
		return err
	}
	b.put(s, data, perm, mtime)
	return nil
}

// fs sorts every directory and returns the snapshot.
func (b *builder) fs() *FS {
	for _, n := range b.dirs {
		if len(n.entries) > 1 {
			slices.SortFunc(n.entries, func(x, y *node) int { return strings.Compare(x.name, y.name) })
		}
	}
	return &FS{root: b.root}
}

// invalidf returns an InvalidArgument *errcode.Error.
func invalidf(format string, args ...any) *errcode.Error {
	return &errcode.Error{Code: errcode.InvalidArgument, Msg: fmt.Sprintf(format, args...)}
}
