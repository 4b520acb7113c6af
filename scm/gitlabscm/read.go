package gitlabscm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// send makes a request that client-go built, through hc, without
// client-go's answer handling: the caller streams or caps the body. A
// non-2xx answer (other than 304) becomes a *gitlab.ErrorResponse with
// GitLab's message.
func send(hc *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotModified {
		return nil, responseError(resp)
	}
	return resp, nil
}

// ReadFile implements driver.Driver with one GET
// repository/files/:path/raw (see the package documentation).
func (d *Driver) ReadFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	if err := checkRepo(r.Repo); err != nil {
		return nil, err
	}
	gl := d.gl
	ctx = d.bind(ctx, hc)
	opt := &gitlab.GetRawFileOptions{}
	if r.Ref != "" {
		opt.Ref = gitlab.Ptr(r.Ref)
	}
	req, err := gl.NewRequest(http.MethodGet, projectAPI(r.Repo)+"/repository/files/"+gitlab.PathEscape(r.Path)+"/raw",
		opt, []gitlab.RequestOptionFunc{gitlab.WithContext(ctx)})
	if err != nil {
		return nil, err
	}
	if r.IfNoneMatch != "" {
		req.Header.Set("If-None-Match", r.IfNoneMatch)
	}
	resp, err := send(hc, req.Request)
	if err != nil {
		if fileNotFound(err) && !r.DirAsMissing && d.isDir(ctx, gl, r.Repo, r.Ref, r.Path) {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "%s names a directory of %s, not a file", r.Path, projectPath(r.Repo))
		}
		return nil, err
	}
	// The validator is the quoted blob id, which changes exactly when
	// the content does; GitLab's own ETag is used only without one.
	etag := resp.Header.Get("ETag")
	blobID := resp.Header.Get("X-Gitlab-Blob-Id")
	if blobID != "" {
		etag = `"` + blobID + `"`
	}
	if resp.StatusCode == http.StatusNotModified || (r.IfNoneMatch != "" && etagMatch(r.IfNoneMatch, etag)) {
		httpx.DrainClose(resp)
		return nil, &errcode.Error{Code: errcode.NotModified, Status: resp.StatusCode,
			Msg: r.Path + " is unchanged (ETag " + r.IfNoneMatch + ")"}
	}
	body, err := httpx.ReadBody(resp, r.MaxBytes)
	if err != nil {
		return nil, err
	}
	if want := resp.Header.Get("X-Gitlab-Content-Sha256"); want != "" {
		sum := sha256.Sum256(body)
		if !strings.EqualFold(hex.EncodeToString(sum[:]), want) {
			return nil, &errcode.Error{Code: errcode.Unavailable, Status: resp.StatusCode,
				Msg: r.Path + ": the content does not match its X-Gitlab-Content-Sha256 (a truncated or altered answer)"}
		}
	}
	return &driver.File{Path: r.Path, Content: body, ETag: etag, BlobID: blobID,
		CommitID: resp.Header.Get("X-Gitlab-Commit-Id")}, nil
}

// etagMatch compares entity tags weakly, as If-None-Match does.
func etagMatch(a, b string) bool {
	norm := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	return b != "" && norm(a) == norm(b)
}

// isDir reports whether p is a directory at ref: GitLab answers 404 File
// Not Found for both a directory and a missing file. Errors count as no.
func (d *Driver) isDir(ctx context.Context, gl *gitlab.Client, repo driver.Repo, ref, p string) bool {
	opt := &gitlab.ListTreeOptions{Path: gitlab.Ptr(p), ListOptions: gitlab.ListOptions{PerPage: 1}}
	if ref != "" {
		opt.Ref = gitlab.Ptr(ref)
	}
	nodes, _, err := gl.Repositories.ListTree(projectPath(repo), opt, gitlab.WithContext(ctx))
	return err == nil && len(nodes) > 0
}

// ReadTree implements driver.Driver with one GET
// repository/archive.tar.gz?sha=&path=, streamed.
func (d *Driver) ReadTree(ctx context.Context, hc *http.Client, r *driver.TreeRequest) (*driver.Tree, error) {
	if err := checkRepo(r.Repo); err != nil {
		return nil, err
	}
	gl := d.gl
	ctx = d.bind(ctx, hc)
	opt := &gitlab.ArchiveOptions{}
	if r.Ref != "" {
		opt.SHA = gitlab.Ptr(r.Ref)
	}
	if r.Dir != "" {
		opt.Path = gitlab.Ptr(r.Dir)
	}
	req, err := gl.NewRequest(http.MethodGet, projectAPI(r.Repo)+"/repository/archive.tar.gz", opt,
		[]gitlab.RequestOptionFunc{gitlab.WithContext(ctx)})
	if err != nil {
		return nil, err
	}
	resp, err := send(hc, req.Request)
	if err != nil {
		return nil, err
	}
	// Every entry is under one top directory,
	// "<project>-<ref>-<sha>[-<path>]/", with its full repository path.
	return &driver.Tree{Archive: &driver.Archive{Body: resp.Body, StripComponents: 1, Dir: r.Dir},
		CommitID: archiveCommit(resp, r)}, nil
}

var shaRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?`)

// archiveCommit reads the commit id from the archive's file name,
// "<project>-<ref>-<sha>[-<path>].tar.gz", when the ref is known.
func archiveCommit(resp *http.Response, r *driver.TreeRequest) string {
	if r.Ref == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	rest, ok := strings.CutPrefix(params["filename"], r.Repo.Name+"-"+strings.ReplaceAll(r.Ref, "/", "-")+"-")
	if !ok {
		return ""
	}
	return shaRE.FindString(rest)
}

// treePageSize is GitLab's maximum page size.
const treePageSize = 100

// ListFiles implements driver.Driver with one GET
// repository/tree?recursive=true (100 entries); a longer listing is
// reported Truncated. A tree that names a file under r.Dir with a path
// that is not a valid relative one ("..", a leading "/") is refused with
// InvalidArgument.
func (d *Driver) ListFiles(ctx context.Context, hc *http.Client, r *driver.ListFilesRequest) (*driver.FileList, error) {
	if err := checkRepo(r.Repo); err != nil {
		return nil, err
	}
	gl := d.gl
	ctx = d.bind(ctx, hc)
	opt := &gitlab.ListTreeOptions{Recursive: gitlab.Ptr(true),
		ListOptions: gitlab.ListOptions{PerPage: treePageSize, Pagination: "keyset"}}
	if r.Dir != "" {
		opt.Path = gitlab.Ptr(r.Dir)
	}
	if r.Ref != "" {
		opt.Ref = gitlab.Ptr(r.Ref)
	}
	nodes, resp, err := gl.Repositories.ListTree(projectPath(r.Repo), opt, gitlab.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if nodes == nil {
		// An answer of null, which client-go takes for an empty tree (an
		// empty directory is []).
		return nil, errcode.Newf(errcode.Unknown, "", "GitLab answered no tree for %s", projectPath(r.Repo))
	}
	list := &driver.FileList{Paths: []string{}, Truncated: resp.NextLink != "" || resp.NextPage > 0}
	for _, n := range nodes {
		if n.Type != "blob" || (r.Dir != "" && !strings.HasPrefix(n.Path, r.Dir+"/")) {
			continue
		}
		// A path that is not a valid relative one would put the caller
		// outside r.Dir: refused, as such an archive entry refuses a tree.
		if !fs.ValidPath(n.Path) || n.Path == "." || strings.Contains(n.Path, "\x00") {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "the tree of %s names %s, which is not a valid path",
				projectPath(r.Repo), strconv.QuoteToASCII(limitLen(n.Path)))
		}
		list.Paths = append(list.Paths, n.Path)
	}
	slices.Sort(list.Paths)
	return list, nil
}
