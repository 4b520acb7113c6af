package bitbucketserverscm

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// ReadFile reads a file with GET raw/{path}?at={ref}. Bitbucket answers
// 404 for a directory as for a missing file: one more request
// (browse?type=true) tells a directory (InvalidArgument) from a missing
// file (NotFound), unless r.DirAsMissing says the caller treats both
// alike (FindFiles): then it is NotFound, without that request.
func (d *Driver) ReadFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	c := &call{method: http.MethodGet, path: repoPath(r.Repo) + "/raw/" + httpx.EscapePath(r.Path), query: atQuery(r.Ref)}
	if r.IfNoneMatch != "" {
		c.header = http.Header{"If-None-Match": {r.IfNoneMatch}}
	}
	resp, err := d.send(ctx, hc, c)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound && !ae.Exception("NoSuchRepositoryException") &&
			!ae.Exception("NoSuchProjectException") && !ae.Exception("NoSuchCommitException") &&
			!ae.Exception("NoSuchChangesetException") {
			if !r.DirAsMissing && d.isDir(ctx, hc, r.Repo, r.Ref, r.Path) {
				return nil, &dirError{path: r.Path}
			}
		}
		return nil, err
	}
	body, err := httpx.ReadBody(resp, r.MaxBytes) // 0: httpx.DefaultMaxBody
	if err != nil {
		return nil, err
	}
	return &driver.File{Path: r.Path, Content: body, ETag: resp.Header.Get("ETag")}, nil
}

func atQuery(ref string) url.Values {
	if ref == "" {
		return nil
	}
	return url.Values{"at": {ref}}
}

// isDir reports whether p is a directory at ref (browse?type=true).
func (d *Driver) isDir(ctx context.Context, hc *http.Client, repo driver.Repo, ref, p string) bool {
	q := atQuery(ref)
	if q == nil {
		q = url.Values{}
	}
	q.Set("type", "true")
	var t struct {
		Type string `json:"type"`
	}
	if err := d.getJSON(ctx, hc, repoPath(repo)+"/browse/"+httpx.EscapePath(p), q, &t); err != nil {
		return false
	}
	return t.Type == "DIRECTORY"
}

// ReadTree streams GET archive?format=tgz&path={dir}&at={ref}: one request,
// the server keeps only the subdirectory.
func (d *Driver) ReadTree(ctx context.Context, hc *http.Client, r *driver.TreeRequest) (*driver.Tree, error) {
	q := url.Values{"format": {"tgz"}}
	if r.Ref != "" {
		q.Set("at", r.Ref)
	}
	if r.Dir != "" {
		q.Set("path", r.Dir)
	}
	resp, err := d.send(ctx, hc, &call{method: http.MethodGet, path: repoPath(r.Repo) + "/archive", query: q,
		header: http.Header{"Accept": {"application/octet-stream"}}})
	if err != nil {
		return nil, err
	}
	return &driver.Tree{Archive: &driver.Archive{Body: resp.Body, Dir: r.Dir}}, nil
}

type pageJSON[T any] struct {
	Values        []T  `json:"values"`
	IsLastPage    bool `json:"isLastPage"`
	NextPageStart *int `json:"nextPageStart"`
}

// ListFiles lists the files under r.Dir with GET files/{dir}?at={ref}.
// The list is Truncated after Options.MaxFilePages pages, or when a page
// that is not the last names no later start (the portable client then
// reads the tree instead).
func (d *Driver) ListFiles(ctx context.Context, hc *http.Client, r *driver.ListFilesRequest) (*driver.FileList, error) {
	p := repoPath(r.Repo) + "/files"
	if r.Dir != "" {
		p += "/" + httpx.EscapePath(r.Dir)
	}
	out := &driver.FileList{Paths: []string{}}
	start := 0
	for range d.opts.MaxFilePages {
		q := url.Values{"limit": {strconv.Itoa(d.opts.FilesPageSize)}}
		if start > 0 {
			q.Set("start", strconv.Itoa(start))
		}
		if r.Ref != "" {
			q.Set("at", r.Ref)
		}
		var page pageJSON[string]
		if err := d.getJSON(ctx, hc, p, q, &page); err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ((ae.Status == http.StatusNotFound && ae.Exception("NoSuchPathException")) ||
				(ae.Status == http.StatusBadRequest && ae.says("not a directory"))) {
				return out, nil // no such directory, or a file
			}
			return nil, err
		}
		for _, v := range page.Values {
			// A name that is not a valid relative path would put the
			// caller outside r.Dir: refused, as such an archive entry
			// refuses a tree.
			if !fs.ValidPath(v) || v == "." || strings.Contains(v, "\x00") {
				return nil, errcode.Newf(errcode.InvalidArgument, "", "the file list of %q names %s, which is not a path under it",
					r.Dir, strconv.QuoteToASCII(v[:min(len(v), 256)]))
			}
			if r.Dir != "" {
				v = r.Dir + "/" + v
			}
			out.Paths = append(out.Paths, v)
		}
		if page.IsLastPage {
			slices.Sort(out.Paths)
			return out, nil
		}
		if page.NextPageStart == nil || *page.NextPageStart <= start {
			break // more to come, but no way forward: the list is cut short
		}
		start = *page.NextPageStart
	}
	slices.Sort(out.Paths)
	out.Truncated = true
	return out, nil
}
