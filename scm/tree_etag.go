package scm

import (
	"context"
	"io/fs"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
	"github.com/scmkit/scmkit/scm/driver"
)

// TreeETag returns the ETag of a tree returned by [Client.ReadTree] with
// TreeOptions.IfNoneMatch or TreeOptions.WithETag set: the id of the last
// commit that changed the directory (as Backstage's readTree etag), to pass
// as TreeOptions.IfNoneMatch next time. It returns "" for any other fs.FS,
// and for a tree whose adapter cannot tell.
func TreeETag(fsys fs.FS) string {
	if t, ok := fsys.(*taggedTree); ok {
		return t.etag
	}
	return ""
}

// TreeCommitID returns the id of the commit a tree returned by
// [Client.ReadTree] was read at, where the provider gives it without an
// extra request (GitHub, for a branch or commit read with a credential;
// GitLab, when the URL names a branch or commit), or the
// tree's ETag when it has one (the directory is the same at both
// commits). It returns "" otherwise.
func TreeCommitID(fsys fs.FS) string {
	if t, ok := fsys.(*taggedTree); ok {
		return t.commit
	}
	return ""
}

// taggedTree is a tree snapshot that knows its ETag and commit. Embedding
// keeps the snapshot's ReadFile, ReadDir, Stat and Sub.
type taggedTree struct {
	*archive.FS
	etag, commit string
}

// tagTree attaches etag and commit to fsys when either is known.
func tagTree(fsys fs.FS, etag, commit string) fs.FS {
	a, ok := fsys.(*archive.FS)
	if !ok || (etag == "" && commit == "") {
		return fsys
	}
	if commit == "" {
		commit = etag
	}
	return &taggedTree{FS: a, etag: etag, commit: commit}
}

// readTreeETag is ReadTree with a conditional check: one request for the
// last commit touching the directory, then (unless it is the caller's
// ETag) the usual read. A driver without driver.TreeVersioner reads the
// tree in full and gives no ETag.
//
// A plain ReadTree (no IfNoneMatch, no WithETag) does not come here, and
// the client keeps no trees to answer it from: the check saves a download
// only for a caller that holds the tree already. Keeping trees in the
// client would mean holding up to Limits.MaxTreeBytes (256 MiB by
// default) per (repository, ref, directory, options) entry, with
// TreeOptions.Filter, a func, not part of any key; and the check in front
// of every read would make a first or changed read cost 2 requests
// instead of 1 (BenchmarkReadTreeETag's changed against
// BenchmarkGitHubReadTree), while on GitLab and Bitbucket the check is
// counted even when answered 304. A caller that re-reads templates keeps
// them and passes their TreeETag as IfNoneMatch: 1 request, free on
// GitHub when the directory is unchanged.
func (c *Client) readTreeETag(ctx context.Context, cl *call, o *TreeOptions) (fs.FS, error) {
	tv, ok := cl.d.(driver.TreeVersioner)
	if !ok {
		fsys, commit, err := c.readTreeCommit(ctx, cl, cl.loc.Path, o)
		return tagTree(fsys, "", commit), err
	}
	// The version request is revalidated through the page cache, if
	// any: an unchanged directory's answer is a 304, which on GitHub
	// does not count against the rate limit.
	id, err := tv.TreeVersion(asRevalidated(ctx), cl.hc, &driver.TreeVersionRequest{Repo: cl.repo(), Ref: cl.loc.Ref, Dir: cl.loc.Path})
	if err != nil {
		return nil, c.wrap(ctx, cl, err)
	}
	if id != "" && o.IfNoneMatch != "" && sameETag(o.IfNoneMatch, id) {
		return nil, &errcode.Error{Code: errcode.NotModified, Op: cl.op, Provider: string(cl.in.Kind), Host: cl.in.Host,
			Msg: "directory unchanged since the given ETag"} // the id is the server's text: not echoed
	}
	// The directory is read at the ref, not at id: a change landing in
	// between gives a tree newer than its ETag, so the next conditional
	// read downloads again (never the reverse).
	fsys, commit, err := c.readTreeCommit(ctx, cl, cl.loc.Path, o)
	if err != nil {
		return nil, err
	}
	return tagTree(fsys, id, commit), nil
}

// sameETag compares a caller's ETag with a commit id, accepting the
// quoted and weak forms an HTTP cache may have stored.
func sameETag(given, id string) bool {
	given = strings.TrimPrefix(strings.TrimSpace(given), "W/")
	given = strings.Trim(given, `"`)
	return given == id
}
