package scm

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
	"github.com/scmkit/scmkit/scm/driver"
)

// DefaultMaxTreeDepth is the default of TreeOptions.MaxDepth: far deeper
// than real source trees nest.
const DefaultMaxTreeDepth = archive.DefaultMaxDepth

// maxTreePathBytes caps the length of a path in a tree (Linux's PATH_MAX).
const maxTreePathBytes = archive.DefaultMaxPathBytes

// ReadTree reads the directory at rawURL (a web URL of a directory, e.g.
// https://github.com/acme/svc/tree/main/templates/service, or of a
// repository for its root) and returns it as an immutable in-memory
// snapshot rooted at that directory: template.ParseFS and fs.WalkDir work
// on it directly. To write it to disk, use [WriteTree], not os.CopyFS
// (which follows symbolic links already in its destination). opts may be
// nil.
//
// The tree is fetched as one archive where the provider allows it. Files
// keep their executable bit (mode 0755, others 0644); symbolic links and
// submodules are left out. A missing repository, ref or directory is
// NotFound; a tree with more files or bytes than the limits (after Filter),
// or a path deeper than TreeOptions.MaxDepth or longer than 4096 bytes, is
// InvalidArgument.
//
// Reading is linear in the size of what the host sends, however deep its
// paths, and holds one copy of the files: a tree at the byte limit takes
// about that many bytes of memory. The context is checked throughout, so
// ReadTree returns promptly when it is cancelled or its deadline passes,
// whatever the archive holds.
//
// With TreeOptions.IfNoneMatch (or WithETag) ReadTree first asks for the
// last commit that changed the directory, one small request on every
// adapter that implements driver.TreeVersioner (all four built-in ones).
// When it is the caller's ETag, ReadTree fails with NotModified and
// downloads nothing: an unchanged tree costs 1 request. Otherwise it reads
// the tree as usual, one request more than a plain read, and [TreeETag]
// gives the new ETag. On Bitbucket Cloud, a URL without a branch costs one
// more request (the main branch lookup), as for every read of such a URL.
func (c *Client) ReadTree(ctx context.Context, rawURL string, opts *TreeOptions) (_ fs.FS, err error) {
	const op = "scm.ReadTree"
	t := c.lookup(rawURL)
	ctx, done := c.auditStart(ctx, op, t, false)
	defer func() { done(err) }()
	cl, err := c.begin(ctx, op, t, false, true)
	if err != nil {
		return nil, err
	}
	var o TreeOptions
	if opts != nil {
		o = *opts
	}
	if o.IfNoneMatch != "" || o.WithETag {
		return c.readTreeETag(ctx, cl, &o)
	}
	fsys, commit, err := c.readTreeCommit(ctx, cl, cl.loc.Path, &o)
	return tagTree(fsys, "", commit), err
}

// readTree reads dir of cl's repository through the driver and builds the
// snapshot.
func (c *Client) readTree(ctx context.Context, cl *call, dir string, o *TreeOptions) (fs.FS, error) {
	fsys, _, err := c.readTreeCommit(ctx, cl, dir, o)
	return fsys, err
}

// readTreeCommit is readTree that also returns the commit the driver says
// the tree was read at ("" when it does not say).
func (c *Client) readTreeCommit(ctx context.Context, cl *call, dir string, o *TreeOptions) (fs.FS, string, error) {
	limits := archive.Limits{MaxFiles: o.MaxFiles, MaxBytes: o.MaxBytes}
	if limits.MaxFiles <= 0 {
		limits.MaxFiles = c.s.limits.MaxTreeFiles
	}
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = c.s.limits.MaxTreeBytes
	}
	limits.MaxFileBytes = limits.MaxBytes // the total caps each file
	limits.MaxDepth = o.MaxDepth
	if limits.MaxDepth <= 0 {
		limits.MaxDepth = DefaultMaxTreeDepth
	}
	limits.MaxPathBytes = maxTreePathBytes
	// A driver that reads file by file applies the limits and the filter
	// as it lists, so that an oversized tree fails early; they are applied
	// again below whatever the driver did.
	t, err := cl.d.ReadTree(ctx, cl.hc, &driver.TreeRequest{Repo: cl.repo(), Ref: cl.loc.Ref, Dir: dir, Anonymous: cl.anonymous,
		MaxFiles: limits.MaxFiles, MaxBytes: limits.MaxBytes, Filter: o.Filter, CredentialKey: cl.kindKey})
	if err != nil {
		return nil, "", c.wrap(ctx, cl, err)
	}
	var fsys *archive.FS
	switch {
	case t.Archive != nil:
		defer t.Archive.Body.Close()
		// archive.ReadTarGz reports a Dir with no entries as NotFound.
		fsys, err = archive.ReadTarGz(ctx, t.Archive.Body, &archive.Options{Limits: limits,
			StripComponents: t.Archive.StripComponents, Dir: t.Archive.Dir, Filter: o.Filter})
	case t.Files != nil:
		if dir != "" && len(t.Files) == 0 && t.Filtered == 0 {
			return nil, "", c.notFoundDir(cl, dir)
		}
		fsys, err = buildFS(t.Files, o.Filter, limits)
	default:
		return nil, "", &errcode.Error{Code: errcode.Unknown, Op: cl.op, Provider: string(cl.in.Kind), Host: cl.in.Host,
			Msg: "driver returned a tree with neither archive nor files"}
	}
	if err != nil {
		return nil, "", c.wrap(ctx, cl, err)
	}
	return fsys, t.CommitID, nil
}

func (c *Client) notFoundDir(cl *call, dir string) error {
	return &errcode.Error{Code: errcode.NotFound, Op: cl.op, Provider: string(cl.in.Kind), Host: cl.in.Host,
		Msg: fmt.Sprintf("directory %q not found in %s/%s", dir, cl.loc.Owner, cl.loc.Repo)}
}

// buildFS makes the snapshot of a tree given as files, applying filter and
// limits as archive.ReadTarGz does for archives.
func buildFS(files []driver.TreeFile, filter func(string, int64) bool, lim archive.Limits) (*archive.FS, error) {
	m := make(map[string]archive.File, len(files))
	var total int64
	for _, f := range files {
		size := int64(len(f.Content))
		if filter != nil && !filter(f.Path, size) {
			continue
		}
		if len(f.Path) > lim.MaxPathBytes {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "tree path %s is longer than %d bytes", quoteShort(f.Path), lim.MaxPathBytes)
		}
		if depth := strings.Count(f.Path, "/") + 1; depth > lim.MaxDepth {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "tree path %s is deeper than %d elements; raise TreeOptions.MaxDepth", quoteShort(f.Path), lim.MaxDepth)
		}
		if len(m) >= lim.MaxFiles {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "tree has more than %d files; raise TreeOptions.MaxFiles", lim.MaxFiles)
		}
		if size > lim.MaxFileBytes {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "tree file %q is larger than %d bytes", f.Path, lim.MaxFileBytes)
		}
		if total += size; total > lim.MaxBytes {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "tree holds more than %d bytes of files; raise TreeOptions.MaxBytes", lim.MaxBytes)
		}
		mode := fs.FileMode(0o644)
		if f.Executable {
			mode = 0o755
		}
		m[f.Path] = archive.File{Data: f.Content, Mode: mode}
	}
	return archive.NewFSOwned(m) // the driver's contents are ours: no second copy
}

// quoteShort quotes p, cut to its first 64 bytes followed by "..." when it
// is longer, so that an error never carries a huge path.
func quoteShort(p string) string {
	if len(p) <= 64 {
		return strconv.Quote(p)
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return strconv.Quote(p[:cut]) + "..."
}
