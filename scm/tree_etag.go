package scm

import (
	"context"
	"io/fs"
	"strings"

	"github.com/scmkit/scmkit/internal/archive"
	"github.com/scmkit/scmkit/internal/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// TreeETag returns the ETag of a tree returned by [Client.ReadTree] with
// TreeOptions.IfNoneMatch or TreeOptions.WithETag set: the id of the last
// commit that changed the directory (as Backstage's readTree etag), to pass
// as TreeOptions.IfNoneMatch next time. It returns "" for any other fs.FS,
// and for a tree whose adapter cannot tell.
func TreeETag(fsys fs.FS) string {
	if t, ok := fsys.(*etagTree); ok {
		return t.etag
	}
	return ""
}

// etagTree is a tree snapshot that knows its ETag. Embedding keeps the
// snapshot's ReadFile, ReadDir, Stat and Sub.
type etagTree struct {
	*archive.FS
	etag string
}

// readTreeETag is ReadTree with a conditional check: one request for the
// last commit touching the directory, then (unless it is the caller's
// ETag) the usual read. A driver without driver.TreeVersioner reads the
// tree in full and gives no ETag.
func (c *Client) readTreeETag(ctx context.Context, cl *call, o *TreeOptions) (fs.FS, error) {
	tv, ok := cl.d.(driver.TreeVersioner)
	if !ok {
		return c.readTree(ctx, cl, cl.loc.Path, o)
	}
	id, err := tv.TreeVersion(ctx, cl.hc, &driver.TreeVersionRequest{Repo: cl.repo(), Ref: cl.loc.Ref, Dir: cl.loc.Path})
	if err != nil {
		return nil, c.wrap(ctx, cl, err)
	}
	if id != "" && o.IfNoneMatch != "" && sameETag(o.IfNoneMatch, id) {
		return nil, &errcode.Error{Code: errcode.NotModified, Op: cl.op, Provider: string(cl.in.Kind), Host: cl.in.Host,
			Msg: "directory unchanged since commit " + id}
	}
	// The directory is read at the ref, not at id: a change landing in
	// between gives a tree newer than its ETag, so the next conditional
	// read downloads again (never the reverse).
	fsys, err := c.readTree(ctx, cl, cl.loc.Path, o)
	if err != nil || id == "" {
		return fsys, err
	}
	if a, ok := fsys.(*archive.FS); ok {
		return &etagTree{FS: a, etag: id}, nil
	}
	return fsys, nil
}

// sameETag compares a caller's ETag with a commit id, accepting the
// quoted and weak forms an HTTP cache may have stored.
func sameETag(given, id string) bool {
	given = strings.TrimPrefix(strings.TrimSpace(given), "W/")
	given = strings.Trim(given, `"`)
	return given == id
}
