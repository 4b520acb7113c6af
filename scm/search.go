package scm

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// Search lists the files of one repository that match the glob in the path
// of rawURL, e.g. https://github.com/acme/svc/blob/main/templates/**/*.yaml.
// The pattern is matched per path segment with path.Match; a "**" segment
// matches any number of segments (zero included); a pattern may hold at
// most 4 of them. Braces are not special. opts may be nil.
//
// Search does not fetch content: results carry each file's URL, for
// [Client.ReadFile]. It lists the files under the pattern's fixed leading
// directories with one request (two on some providers); when the provider
// cuts that listing short, it reads the directory as a tree instead
// (ReadTree's limits apply). A missing repository or ref is NotFound; a
// missing directory gives no results. Results are sorted by path.
func (c *Client) Search(ctx context.Context, rawURL string, opts *SearchOptions) (_ []SearchResult, err error) {
	const op = "scm.Search"
	t := c.lookup(rawURL)
	ctx, done := c.auditStart(ctx, op, t, false)
	defer func() { done(err) }()
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	cl, err := c.begin(ctx, op, t, false, true)
	if err != nil {
		return nil, err
	}
	pattern := cl.loc.Path
	if !checkGlob(pattern) {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(cl.in.Kind), Host: cl.in.Host,
			Msg: fmt.Sprintf("invalid search pattern %q", pattern)}
	}
	dir := globPrefix(pattern)
	list, err := cl.d.ListFiles(ctx, cl.hc, &driver.ListFilesRequest{Repo: cl.repo(), Ref: cl.loc.Ref, Dir: dir})
	if err != nil {
		return nil, c.wrap(ctx, cl, err)
	}
	var paths []string
	if !list.Truncated {
		paths = list.Paths
	} else {
		c.s.log.DebugContext(ctx, "scm: file list truncated, reading the tree", "host", cl.in.Host, "owner", cl.loc.Owner,
			"repo", cl.loc.Repo, "dir", dir)
		// Only the matching files are kept (and, by drivers that read file
		// by file, read at all).
		match := func(p string, _ int64) bool { return matchGlob(pattern, path.Join(dir, p)) }
		fsys, err := c.readTree(ctx, cl, dir, &TreeOptions{Filter: match})
		if err != nil {
			if errcode.CodeOf(err) == errcode.NotFound {
				return []SearchResult{}, nil
			}
			return nil, err
		}
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			paths = append(paths, path.Join(dir, p))
			return nil
		})
		if err != nil {
			return nil, &errcode.Error{Code: errcode.Unknown, Op: op, Provider: string(cl.in.Kind), Host: cl.in.Host, Err: err}
		}
	}
	// Sorted before matching and MaxResults: a tree is walked directory
	// by directory ("t/a/x" before "t/a-b"), and a listing's order is the
	// provider's.
	paths = slices.Clone(paths)
	slices.Sort(paths)
	results := []SearchResult{}
	for _, p := range paths {
		if !matchGlob(pattern, p) {
			continue
		}
		loc := cl.loc
		loc.Path, loc.Tree = p, false
		u, err := c.s.reg.URL(loc)
		if err != nil {
			return nil, c.wrap(ctx, cl, err)
		}
		results = append(results, SearchResult{URL: u, Path: p})
		if o.MaxResults > 0 && len(results) == o.MaxResults {
			break
		}
	}
	return results, nil
}
