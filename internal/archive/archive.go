// Package archive turns the archives that source-control hosts serve (tar,
// gzipped tar, zip) into an immutable in-memory [FS], safely, and writes a
// file tree to disk without ever leaving the destination ([WriteDir],
// exported as scm.WriteTree). Use WriteDir, not os.CopyFS, to write a
// snapshot: os.CopyFS follows symbolic links already in its destination.
//
// # What is refused
//
// A whole archive is refused, with an InvalidArgument *errcode.Error naming
// the entry, when any entry:
//
//   - has a name that is absolute, contains a ".." component or starts
//     with a Windows drive letter ("C:..."); names are cleaned ("./a//b/"
//     cleans to "a/b");
//   - is kept (inside the selected tree, after StripComponents and Dir) and
//     has a name that contains a backslash or a NUL byte or is not valid
//     UTF-8 (git allows such names, so an archive of a whole repository
//     may hold one outside the selected tree: it is skipped there, as
//     every entry outside is);
//   - is a character or block device, a FIFO, or an entry type this package
//     does not know;
//   - is a sparse file (GNU's tar formats): its holes are not in the
//     stream, so a tiny archive could make the reader write gigabytes of
//     zeros; no git host's archiver writes them;
//   - is a symbolic or hard link inside the selected tree (after
//     StripComponents and Dir) whose target is absolute or resolves outside
//     that tree. Links are checked lexically; a chain that leaves the tree
//     has at least one such link, so chains are refused too.
//
// Links whose target stays inside the tree are skipped: the snapshot never
// contains links, so nothing can be reached through them. Links outside the
// selected tree are skipped without looking at their target. A path that is
// both a file and a directory is refused. When a path appears twice, the
// later entry wins, as with tar.
//
// # Limits
//
// Each [Limits] field, when zero, takes its default: 10,000 files (and,
// separately, 10,000 directories), 256 MiB of file data, 64 MiB per file,
// paths of at most 256 elements and 4096 bytes (after StripComponents and
// Dir; an entry name longer than MaxPathBytes + len(Dir) + 4096 bytes is
// refused even outside Dir), and a decompressed archive stream of
// 4 × MaxBytes (1 GiB by default), which counts every byte read, including
// headers and entries skipped by Dir or Filter; the same bound applies to
// the file data of the entries kept, a path that appears several times
// counting each time (for a zip, whose kept entries alone are
// decompressed, it is the bound on decompression). Exceeding a limit returns an InvalidArgument
// *errcode.Error saying which limit to raise, as soon as it is crossed, so a
// gzip bomb costs at most the limit's worth of decompression.
//
// A file's size in its header is checked against the limits before its
// data is read, and only then is a buffer of that size allocated, so the
// snapshot's data never takes more memory than MaxBytes, with no second
// copy while it is read; the bytes actually read are counted, and an entry
// longer or shorter than its header says is refused.
//
// # Cost
//
// Reading is linear in the archive's size: each entry costs time in
// proportion to its header and data, whatever the depth of its path or the
// number of entries before it (a path is walked one element at a time, and
// no structure keyed by whole paths is built). The context is checked
// before every entry and on every read of the stream, so that a call
// returns promptly once it is cancelled or its deadline passes, whatever
// the archive holds.
//
// # Other errors
//
// A cancelled context returns Canceled or DeadlineExceeded, checked between
// entries and on every read. A failure of the source reader is returned as
// it is when it is an *errcode.Error, and as Unavailable otherwise. A corrupt
// or truncated archive is InvalidArgument. Dir naming nothing in the archive
// is NotFound.
package archive

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/errcode"
)

// Default limits. See [Limits].
const (
	DefaultMaxFiles     = 10_000
	DefaultMaxBytes     = 256 << 20
	DefaultMaxFileBytes = 64 << 20
	// DefaultMaxDepth is far deeper than real source trees nest, and deep
	// enough for any path a file system accepts in one call.
	DefaultMaxDepth = 256
	// DefaultMaxPathBytes is Linux's PATH_MAX.
	DefaultMaxPathBytes = 4096
)

// Limits bound what an archive may hold. Zero fields take the defaults
// described in the package documentation; negative values are invalid.
type Limits struct {
	// MaxFiles is the maximum number of files kept; the number of
	// directories is bounded by the same value. Default 10,000.
	MaxFiles int
	// MaxBytes is the maximum total size of the files kept. Default 256 MiB.
	MaxBytes int64
	// MaxFileBytes is the maximum size of one file. Default 64 MiB.
	MaxFileBytes int64
	// MaxDepth is the maximum number of elements of a kept entry's path
	// ("a/b/c" has 3), counted after StripComponents and Dir. Default
	// 256.
	MaxDepth int
	// MaxPathBytes is the maximum length in bytes of a kept entry's path,
	// counted after StripComponents and Dir. Default 4096.
	MaxPathBytes int
	// MaxArchiveBytes is the maximum size of the decompressed archive
	// stream (and of the compressed one), counting entries that are not
	// kept. Default 4 × MaxBytes. It also bounds the file data of all
	// kept entries, a path given several times counting each time.
	// ReadZip, which decompresses only the entries it keeps, applies it
	// to the size of the zip and to that data.
	MaxArchiveBytes int64
}

// Options selects what to keep from an archive. A nil *Options keeps
// everything within the default limits.
type Options struct {
	Limits Limits

	// StripComponents is the number of leading path components dropped
	// from every entry; entries with no more components than that are
	// skipped. GitHub's and GitLab's archives wrap the tree in one
	// directory ("owner-repo-sha/"), so 1 is the usual value.
	StripComponents int

	// Dir keeps only the entries under this slash-separated directory
	// (after stripping) and re-roots them there: with Dir
	// "templates/service", "templates/service/template.yaml" becomes
	// "template.yaml". "" or "." keeps everything.
	Dir string

	// Filter, when set, is called with the re-rooted path and the header
	// size of every regular file; returning false skips the file (its
	// data is not read into memory). Directories and links are not
	// filtered.
	Filter func(path string, size int64) bool
}

// config is Options resolved and validated.
type config struct {
	lim    Limits
	strip  int
	dir    string
	filter func(string, int64) bool
}

func resolve(opts *Options) (*config, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	l := o.Limits
	if l.MaxFiles < 0 || l.MaxBytes < 0 || l.MaxFileBytes < 0 || l.MaxArchiveBytes < 0 || l.MaxDepth < 0 || l.MaxPathBytes < 0 {
		return nil, invalidf("negative archive limit %+v", l)
	}
	if o.StripComponents < 0 {
		return nil, invalidf("negative StripComponents %d", o.StripComponents)
	}
	if l.MaxFiles == 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxPathBytes == 0 {
		l.MaxPathBytes = DefaultMaxPathBytes
	}
	if l.MaxArchiveBytes == 0 {
		l.MaxArchiveBytes = 4 * l.MaxBytes
		if l.MaxArchiveBytes < l.MaxBytes { // overflow
			l.MaxArchiveBytes = l.MaxBytes
		}
	}
	dir := strings.TrimSuffix(o.Dir, "/")
	if dir == "." {
		dir = ""
	}
	if dir != "" && (!fs.ValidPath(dir) || strings.ContainsAny(dir, "\\\x00")) {
		return nil, invalidf("invalid Dir %q: want a slash-separated relative path without . or .. elements", o.Dir)
	}
	return &config{lim: l, strip: o.StripComponents, dir: dir, filter: o.Filter}, nil
}

// ReadTarGz reads a gzip-compressed tar archive from r into a snapshot.
// See the package documentation for what is refused and the limits.
func ReadTarGz(ctx context.Context, r io.Reader, opts *Options) (*FS, error) {
	c, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	src := &source{r: r}
	compressed := &counter{ctx: ctx, r: src, limit: c.lim.MaxArchiveBytes, over: c.streamLimit("compressed archive")}
	zr, err := gzip.NewReader(bufio.NewReader(compressed))
	if err != nil {
		return nil, c.readError(ctx, src, err)
	}
	defer zr.Close()
	return c.readTar(ctx, src, &counter{ctx: ctx, r: zr, limit: c.lim.MaxArchiveBytes, over: c.streamLimit("decompressed archive")})
}

// ReadTar reads an uncompressed tar archive from r into a snapshot.
// See the package documentation for what is refused and the limits.
func ReadTar(ctx context.Context, r io.Reader, opts *Options) (*FS, error) {
	c, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	src := &source{r: r}
	return c.readTar(ctx, src, &counter{ctx: ctx, r: src, limit: c.lim.MaxArchiveBytes, over: c.streamLimit("archive")})
}

// streamLimit returns the error for a stream longer than MaxArchiveBytes.
func (c *config) streamLimit(what string) func() error {
	return func() error {
		return invalidf("%s is larger than %d bytes; raise Limits.MaxArchiveBytes", what, c.lim.MaxArchiveBytes)
	}
}

func (c *config) readTar(ctx context.Context, src *source, r io.Reader) (*FS, error) {
	tr := tar.NewReader(r)
	b := newBuilder(c.lim)
	b.ctx = ctx
	found := c.dir == ""
	for {
		if err := ctx.Err(); err != nil {
			return nil, contextError(err)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, c.readError(ctx, src, err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader { // GitHub's pax_global_header: the commit id
			continue
		}
		name, err := c.entryName(hdr.Name)
		if err != nil {
			return nil, err
		}
		var kind entryKind
		switch hdr.Typeflag {
		case tar.TypeGNUSparse:
			return nil, invalidf("archive entry %s is a sparse file", abbrev(name))
		case tar.TypeReg:
			if sparsePAX(hdr) {
				return nil, invalidf("archive entry %s is a sparse file", abbrev(name))
			}
			kind = kindFile
		case tar.TypeDir:
			kind = kindDir
		case tar.TypeSymlink:
			kind = kindSymlink
		case tar.TypeLink:
			kind = kindHardlink
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return nil, invalidf("archive entry %s is a device file or FIFO", abbrev(name))
		default:
			return nil, invalidf("archive entry %s has unsupported type %q", abbrev(name), hdr.Typeflag)
		}
		rel, keep, err := c.selected(name)
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		found = true
		switch kind {
		case kindDir:
			if err := b.addDir(rel, fs.FileMode(hdr.Mode), hdr.ModTime); err != nil {
				return nil, err
			}
		case kindSymlink, kindHardlink:
			if err := c.checkLink(kind, name, rel, hdr.Linkname); err != nil {
				return nil, err
			}
		case kindFile:
			slot, keep, err := c.fileSlot(b, rel, hdr.Size)
			if err != nil {
				return nil, err
			}
			if !keep {
				continue
			}
			data, err := readEntry(tr, hdr.Size)
			if err != nil {
				return nil, c.readError(ctx, src, err)
			}
			b.put(slot, data, fs.FileMode(hdr.Mode), hdr.ModTime)
		}
	}
	return c.result(b, found)
}

// sparsePAX reports whether hdr is a file in one of GNU's PAX sparse
// formats, which archive/tar reads as a regular file of its logical size,
// its holes made of zeros that are not in the stream.
func sparsePAX(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// ReadZip reads a zip archive of the given size from r into a snapshot. The
// caller holds the archive in memory or in a file, since zip needs random
// access. Only kept entries are decompressed; each is counted as it is
// read. See the package documentation for what is refused and the limits.
func ReadZip(ctx context.Context, r io.ReaderAt, size int64, opts *Options) (*FS, error) {
	c, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if size > c.lim.MaxArchiveBytes {
		return nil, invalidf("zip archive is larger than %d bytes; raise Limits.MaxArchiveBytes", c.lim.MaxArchiveBytes)
	}
	if err := ctx.Err(); err != nil {
		return nil, contextError(err)
	}
	// The central directory is read through ctxReaderAt, so that a huge
	// one stops being parsed once ctx is done.
	zr, err := zip.NewReader(ctxReaderAt{ctx, r}, size)
	if err != nil && ctx.Err() != nil {
		return nil, contextError(ctx.Err())
	}
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // our own name checks decide
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Msg: "corrupt zip archive", Err: err}
	}
	b := newBuilder(c.lim)
	b.ctx = ctx
	found := c.dir == ""
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return nil, contextError(err)
		}
		name, err := c.entryName(f.Name)
		if err != nil {
			return nil, err
		}
		mode := f.Mode()
		var kind entryKind
		switch {
		case mode.IsDir():
			kind = kindDir
		case mode&fs.ModeSymlink != 0:
			kind = kindSymlink
		case mode.IsRegular():
			kind = kindFile
		default:
			return nil, invalidf("archive entry %s is a device file, FIFO or socket (mode %v)", abbrev(name), mode)
		}
		rel, keep, err := c.selected(name)
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		found = true
		switch kind {
		case kindDir:
			if err := b.addDir(rel, mode.Perm(), f.Modified); err != nil {
				return nil, err
			}
		case kindSymlink:
			target, err := readZipEntry(ctx, f, 4096, func() error {
				return invalidf("archive entry %s is a symbolic link with an overlong target", abbrev(name))
			})
			if err != nil {
				return nil, err
			}
			if err := c.checkLink(kindSymlink, name, rel, string(target)); err != nil {
				return nil, err
			}
		case kindFile:
			slot, keep, err := c.fileSlot(b, rel, int64(min(f.UncompressedSize64, 1<<62)))
			if err != nil {
				return nil, err
			}
			if !keep {
				continue
			}
			data, err := readZipEntry(ctx, f, c.lim.MaxFileBytes, func() error {
				return invalidf("archive entry %s is larger than %d bytes; raise Limits.MaxFileBytes", abbrev(rel), c.lim.MaxFileBytes)
			})
			if err != nil {
				return nil, err
			}
			b.put(slot, data, mode.Perm(), f.Modified)
		}
	}
	return c.result(b, found)
}

// readZipEntry reads one zip entry, at most max bytes; a longer entry
// returns over(). The buffer is allocated once, at the size the header
// declares (already checked against the limits by the caller); Go's zip
// reader refuses an entry whose data is longer than that, and its checksum
// is verified at the end.
func readZipEntry(ctx context.Context, f *zip.File, max int64, over func() error) ([]byte, error) {
	if f.UncompressedSize64 > uint64(max) {
		return nil, over()
	}
	rc, err := f.Open()
	if err != nil {
		// Open reads the entry's local header through the context-bound
		// reader: a deadline met there is the caller's, not a corrupt entry.
		return nil, zipEntryError(ctx, f, err)
	}
	defer rc.Close()
	data := make([]byte, f.UncompressedSize64)
	r := &counter{ctx: ctx, r: rc, limit: max, over: over}
	_, err = io.ReadFull(r, data)
	if err == nil {
		var probe [1]byte
		var n int
		n, err = r.Read(probe[:])
		switch {
		case n > 0:
			err = over()
		case err == io.EOF:
			err = nil
		case err == nil:
			err = io.ErrNoProgress
		}
	}
	if err != nil {
		return nil, zipEntryError(ctx, f, err)
	}
	return data, nil
}

// zipEntryError classifies a failure to read the zip entry f: the
// library's own errors as they are, the context's end as the context's
// error, anything else as a corrupt entry (InvalidArgument).
func zipEntryError(ctx context.Context, f *zip.File, err error) error {
	var ce *errcode.Error
	switch {
	case errors.As(err, &ce):
		return err
	case ctx.Err() != nil:
		return contextError(ctx.Err())
	}
	return &errcode.Error{Code: errcode.InvalidArgument, Msg: fmt.Sprintf("corrupt zip entry %s", abbrev(f.Name)), Err: unexpectedEOF(err)}
}

type entryKind int

const (
	kindFile entryKind = iota
	kindDir
	kindSymlink
	kindHardlink
)

// cleanName validates an entry name and returns it cleaned: no "./"
// prefix, no trailing slash, no empty or "." elements. The top directory
// itself ("./") cleans to ".".
func cleanName(name string) (string, error) {
	c, err := placeName(name)
	if err != nil {
		return "", err
	}
	if err := nameBytes(name); err != nil {
		return "", err
	}
	return c, nil
}

// placeName checks what decides where an entry goes, for every entry: a
// relative name (not absolute, no Windows drive letter) without a ".."
// element. It returns the name cleaned, as cleanName does.
func placeName(name string) (string, error) {
	switch {
	case name == "":
		return "", invalidf("archive entry with an empty name")
	case name[0] == '/':
		return "", invalidf("archive entry %s: absolute path", abbrev(name))
	case hasDriveLetter(name):
		return "", invalidf("archive entry %s: Windows drive letter", abbrev(name))
	}
	for elem := range strings.SplitSeq(name, "/") {
		if elem == ".." {
			return "", invalidf("archive entry %s: path contains \"..\"", abbrev(name))
		}
	}
	c := path.Clean(name)
	if c != "." && (c[0] == '/' || c == ".." || strings.HasPrefix(c, "../")) {
		return "", invalidf("archive entry %s: invalid path", abbrev(name))
	}
	return c, nil
}

// nameBytes refuses the bytes no kept entry's name may hold: bytes that
// are not UTF-8, a backslash or a NUL. Git allows them (all but NUL), so
// an archive of a whole repository may hold such a name outside the
// selected tree: it is checked only for the entries kept.
func nameBytes(name string) error {
	switch {
	case !utf8.ValidString(name):
		return invalidf("archive entry %s: name is not valid UTF-8", abbrev(name))
	case strings.ContainsAny(name, "\\\x00"):
		return invalidf("archive entry %s: name contains a backslash or NUL", abbrev(name))
	}
	return nil
}

func hasDriveLetter(s string) bool {
	return len(s) >= 2 && s[1] == ':' && ('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z')
}

// entryName checks an entry's raw name, before any other work on it, and
// returns it cleaned: its length and where it goes (placeName). The bytes
// of a name kept are checked by selected.
func (c *config) entryName(raw string) (string, error) {
	if err := c.checkNameLength(raw); err != nil {
		return "", err
	}
	return placeName(raw)
}

// selected places a cleaned name in the selected tree: keep is false for
// an entry outside it (see rebase); a kept one must have a name of valid
// bytes (nameBytes) and be within the path limits.
func (c *config) selected(name string) (rel string, keep bool, err error) {
	rel, keep = c.rebase(name)
	if !keep {
		return "", false, nil
	}
	if err := nameBytes(name); err != nil {
		return "", false, err
	}
	if err := c.checkPath(name, rel); err != nil {
		return "", false, err
	}
	return rel, true, nil
}

// fileSlot reserves the place of a regular file of the given size at rel,
// within the limits. keep is false when the filter leaves the file out.
// The selected directory itself cannot be a file.
func (c *config) fileSlot(b *builder, rel string, size int64) (s fileSlot, keep bool, err error) {
	if rel == "." {
		return fileSlot{}, false, invalidf("Dir %q is a file in the archive", c.dir)
	}
	if c.filter != nil && !c.filter(rel, size) {
		return fileSlot{}, false, nil
	}
	s, err = b.slot(rel, size)
	return s, err == nil, err
}

// result returns the snapshot b built, or NotFound when Dir is set and no
// entry lies in it.
func (c *config) result(b *builder, found bool) (*FS, error) {
	if !found {
		return nil, &errcode.Error{Code: errcode.NotFound, Msg: fmt.Sprintf("directory %q not found in the archive", c.dir)}
	}
	return b.fs(), nil
}

// rebase applies StripComponents and Dir to a cleaned name. keep is false
// for entries outside the selection; rel is "." for the selected directory
// itself.
func (c *config) rebase(name string) (rel string, keep bool) {
	if name == "." {
		return "", false
	}
	rest := name
	for range c.strip {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return "", false
		}
		rest = rest[i+1:]
	}
	switch {
	case c.dir == "":
		return rest, true
	case rest == c.dir:
		return ".", true
	case len(rest) > len(c.dir) && rest[len(c.dir)] == '/' && strings.HasPrefix(rest, c.dir):
		return rest[len(c.dir)+1:], true
	}
	return "", false
}

// checkNameLength refuses, before any other work on it, an entry whose
// name is longer than any kept path can be: MaxPathBytes, plus Dir, plus
// 4096 bytes for the components StripComponents drops. Real archives never
// come close; a hostile one gets no further work per huge name.
func (c *config) checkNameLength(name string) error {
	if max := c.lim.MaxPathBytes + len(c.dir) + 4096; len(name) > max {
		return invalidf("archive entry %s: name longer than %d bytes (the MaxPathBytes limit, plus Dir and 4096 bytes for stripped components)",
			abbrev(name), max)
	}
	return nil
}

// checkPath refuses a kept entry whose path, rel (relative to the selected
// tree), is deeper or longer than the limits. Counting is linear in the
// path's length.
func (c *config) checkPath(name, rel string) error {
	if len(rel) > c.lim.MaxPathBytes {
		return invalidf("archive entry %s: path longer than %d bytes (the MaxPathBytes limit)", abbrev(name), c.lim.MaxPathBytes)
	}
	if depth := strings.Count(rel, "/") + 1; depth > c.lim.MaxDepth {
		return invalidf("archive entry %s: path deeper than %d elements; raise the MaxDepth limit", abbrev(name), c.lim.MaxDepth)
	}
	return nil
}

// abbrev quotes name, cut to its first 64 bytes (on a rune boundary)
// followed by "..." when it is longer, so that an error never carries a
// huge path.
func abbrev(name string) string {
	if len(name) <= 64 {
		return strconv.Quote(name)
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return strconv.Quote(name[:cut]) + "..."
}

// checkLink refuses a link, found at rel in the selected tree, whose target
// is absolute or resolves outside the tree. A symbolic link's target is
// relative to the link's directory; a hard link's is a name in the archive.
func (c *config) checkLink(kind entryKind, name, rel, target string) error {
	what := "symbolic link"
	if kind == kindHardlink {
		what = "hard link"
	}
	if rel == "." {
		return invalidf("Dir %q is a %s in the archive", c.dir, what)
	}
	outside := func() error {
		return invalidf("archive entry %s is a %s to %s, outside the extracted tree", abbrev(name), what, abbrev(target))
	}
	if target == "" || !utf8.ValidString(target) || strings.ContainsAny(target, "\\\x00") ||
		target[0] == '/' || hasDriveLetter(target) {
		return outside()
	}
	if kind == kindHardlink {
		t, err := cleanName(target)
		if err != nil {
			return outside()
		}
		if r, ok := c.rebase(t); !ok || r == "." {
			return outside()
		}
		return nil
	}
	resolved := path.Join(path.Dir(rel), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return outside()
	}
	return nil
}

// readEntry reads a tar entry of the given header size, which the caller
// has checked against the limits: the buffer is allocated once, at that
// size. It refuses an entry that yields more or fewer bytes than its
// header declared.
func readEntry(r io.Reader, size int64) ([]byte, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, unexpectedEOF(err)
	}
	var probe [1]byte
	if n, _ := r.Read(probe[:]); n > 0 {
		return nil, invalidf("archive entry is longer than its header says (%d bytes)", size)
	}
	return data, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readError classifies an error met while reading the archive.
func (c *config) readError(ctx context.Context, src *source, err error) error {
	var ce *errcode.Error
	switch {
	case errors.As(err, &ce):
		return err
	case ctx.Err() != nil:
		return contextError(ctx.Err())
	case src.err != nil:
		if errors.As(src.err, &ce) {
			return src.err
		}
		return &errcode.Error{Code: errcode.Unavailable, Msg: "reading the archive", Err: src.err}
	}
	return &errcode.Error{Code: errcode.InvalidArgument, Msg: "corrupt or truncated archive", Err: err}
}

func contextError(err error) error {
	code := errcode.Canceled
	if errors.Is(err, context.DeadlineExceeded) {
		code = errcode.DeadlineExceeded
	}
	return &errcode.Error{Code: code, Msg: "reading the archive", Err: err}
}

// source records the first error of the caller's reader, to tell a failed
// download from a corrupt archive.
type source struct {
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// counter counts the bytes read through it, fails with over() once more
// than limit have been read, and checks the context on every read.
type counter struct {
	ctx   context.Context
	r     io.Reader
	n     int64
	limit int64
	over  func() error
	err   error
}

func (c *counter) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		c.err = c.over()
		return 0, c.err
	}
	return n, err
}

// ctxReaderAt fails every read once ctx is done.
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}
