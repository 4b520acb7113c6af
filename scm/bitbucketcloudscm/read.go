package bitbucketcloudscm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	bitbucket "github.com/ktrysmt/go-bitbucket"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

// ReadFile reads GET .../src/{ref}/{path}. With no ref, it reads the main
// branch, remembered for Options.MainBranchTTL: a read that then fails
// reads the main branch again with the caller's credential, whose refusal
// it returns if there is one (see Options.MainBranchTTL).
func (d *Driver) ReadFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	var f *driver.File
	err := d.withRef(ctx, hc, r.Repo, r.Ref, func(ref string) error {
		var err error
		f, err = d.readFile(ctx, hc, r, ref)
		return err
	})
	return f, err
}

// readFile is ReadFile at ref.
func (d *Driver) readFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest, ref string) (*driver.File, error) {
	c := &call{method: http.MethodGet, url: d.api + d.repoPath(r.Repo) + "/src/" + url.PathEscape(ref) + "/" + httpx.EscapePath(r.Path),
		header: http.Header{"Accept": {"*/*"}}}
	if r.IfNoneMatch != "" {
		c.header.Set("If-None-Match", r.IfNoneMatch)
	}
	resp, err := d.send(ctx, hc, c)
	if err != nil {
		return nil, err
	}
	limit := r.MaxBytes
	if limit <= 0 {
		limit = httpx.DefaultMaxBody
	}
	listing := maybeListing(resp)
	if listing {
		limit = max(limit, 1<<20) // room for a directory listing
	}
	body, err := httpx.ReadBody(resp, limit)
	if err != nil {
		return nil, err
	}
	if listing && isListing(body, r.Path) {
		if r.DirAsMissing {
			return nil, errcode.Newf(errcode.NotFound, "", "%s is a directory, not a file", r.Path)
		}
		return nil, &dirError{path: r.Path}
	}
	if r.MaxBytes > 0 && int64(len(body)) > r.MaxBytes {
		return nil, errcode.Newf(errcode.InvalidArgument, "", "%s is larger than the %d-byte limit", r.Path, r.MaxBytes)
	}
	f := &driver.File{Path: r.Path, Content: body, ETag: resp.Header.Get("ETag")}
	if isCommitID(ref) {
		f.CommitID = ref
	}
	return f, nil
}

func isCommitID(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// maybeListing reports whether resp, the answer to GET .../src/{ref}/{path},
// may be the directory listing Bitbucket answers for a path naming a
// directory, rather than a file's raw content. Both can be
// application/json: a file's Content-Type comes from its name (a .json
// file's is application/json), not from its content, so that only
// rawContent tells them apart.
func maybeListing(resp *http.Response) bool {
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && !rawContent(resp)
}

// rawContent reports whether resp is a file's raw content: Bitbucket gives
// it "Content-Disposition: attachment" (so that browsers do not run it),
// and a listing none. An answer with it is a file, whatever its content
// looks like.
func rawContent(resp *http.Response) bool {
	disp, _, _ := strings.Cut(resp.Header.Get("Content-Disposition"), ";")
	return strings.EqualFold(strings.TrimSpace(disp), "attachment")
}

// isListing reports whether body is the directory listing of dir that
// Bitbucket answers for a path naming a directory (an answer
// maybeListing does not rule out).
func isListing(body []byte, dir string) bool {
	var page struct {
		Values []struct {
			Type string `json:"type"`
			Path string `json:"path"`
		} `json:"values"`
		Pagelen *int `json:"pagelen"`
	}
	if json.Unmarshal(body, &page) != nil || page.Pagelen == nil {
		return false
	}
	for _, v := range page.Values {
		if (v.Type != "commit_file" && v.Type != "commit_directory") || !strings.HasPrefix(v.Path, dir+"/") {
			return false
		}
	}
	return true
}

// ReadTree downloads the web host's archive of the whole tree at ref; the
// portable client keeps r.Dir. When the web host refuses the credential,
// it reads the tree through the API, file by file, and when that works
// remembers the refusal under r.CredentialKey for
// Options.ArchiveRefusalTTL: later trees read with that credential go
// straight to the API. With no ref it reads the main branch, as ReadFile
// does.
func (d *Driver) ReadTree(ctx context.Context, hc *http.Client, r *driver.TreeRequest) (*driver.Tree, error) {
	var t *driver.Tree
	err := d.withRef(ctx, hc, r.Repo, r.Ref, func(ref string) error {
		var err error
		t, err = d.readTree(ctx, hc, r, ref)
		return err
	})
	return t, err
}

// readTree is ReadTree at ref.
func (d *Driver) readTree(ctx context.Context, hc *http.Client, r *driver.TreeRequest, ref string) (*driver.Tree, error) {
	if d.archiveRefused(r.CredentialKey) {
		return d.treeFromAPI(ctx, hc, r, ref)
	}
	u := d.web + "/" + url.PathEscape(bbapi.Slug(r.Repo.Owner)) + "/" + url.PathEscape(bbapi.Slug(r.Repo.Name)) + "/get/" + url.PathEscape(ref) + ".tar.gz"
	resp, err := d.send(ctx, hc, &call{method: http.MethodGet, url: u, header: http.Header{"Accept": {"application/x-gzip, */*"}}})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && !ae.RateLimited && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
			t, err := d.treeFromAPI(ctx, hc, r, ref)
			if err == nil && r.CredentialKey != "" {
				// The API read what the archive refused: the archive
				// refuses the credential, not the repository.
				d.refusals.Put(r.CredentialKey, "", d.now(), d.opts.ArchiveRefusalTTL)
			}
			return t, err
		}
		return nil, err
	}
	return &driver.Tree{Archive: &driver.Archive{Body: resp.Body, StripComponents: 1, Dir: r.Dir}}, nil
}

// treeFromAPI reads the tree file by file: the fallback when the archive
// download refuses the credential. Symbolic links and submodules are left
// out (unread), as ReadTree leaves them out of an archive. It applies r's
// filter and limits to the listing, with the sizes the listing gives,
// before reading any file: a
// file the filter rejects is not read, and a tree over the limits fails
// with InvalidArgument as soon as the listing shows it, without listing
// further.
func (d *Driver) treeFromAPI(ctx context.Context, hc *http.Client, r *driver.TreeRequest, ref string) (*driver.Tree, error) {
	var (
		keep     []srcEntry
		total    int64
		filtered int
	)
	rel := func(p string) string {
		if r.Dir == "" {
			return p
		}
		return strings.TrimPrefix(p, r.Dir+"/")
	}
	truncated, err := d.listFiles(ctx, hc, r.Repo, ref, r.Dir, 1<<20, func(e srcEntry) error {
		if slices.Contains(e.Attributes, "link") {
			return nil // left out, as from the archive: its content is its target
		}
		if strings.Contains(e.Path, "\\") {
			// Refused, as an archive entry with such a name refuses the
			// archive (and as the snapshot would), before any read.
			return errcode.Newf(errcode.InvalidArgument, "", "tree path %s contains a backslash", strconv.QuoteToASCII(e.Path[:min(len(e.Path), 256)]))
		}
		if r.Filter != nil && !r.Filter(rel(e.Path), e.Size) {
			filtered++
			return nil
		}
		if r.MaxFiles > 0 && len(keep) >= r.MaxFiles {
			return errcode.Newf(errcode.InvalidArgument, "", "tree has more than %d files; raise TreeOptions.MaxFiles", r.MaxFiles)
		}
		if r.MaxBytes > 0 && e.Size > r.MaxBytes {
			return errcode.Newf(errcode.InvalidArgument, "", "tree file %q is larger than %d bytes", rel(e.Path), r.MaxBytes)
		}
		if total += e.Size; r.MaxBytes > 0 && total > r.MaxBytes {
			return errcode.Newf(errcode.InvalidArgument, "", "tree holds more than %d bytes of files; raise TreeOptions.MaxBytes", r.MaxBytes)
		}
		keep = append(keep, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if truncated {
		return nil, errcode.Newf(errcode.InvalidArgument, "", "the tree of %s is too large to read file by file", r.Dir)
	}
	files := make([]driver.TreeFile, 0, len(keep))
	var read int64
	for _, e := range keep {
		// The listing's sizes passed the limits; the reads are held to
		// what is left of MaxBytes in case the content says otherwise.
		limit := int64(httpx.DefaultMaxBody)
		if r.MaxBytes > 0 {
			limit = max(r.MaxBytes-read, 1) // ReadFile takes 0 as its default
		}
		f, err := d.ReadFile(ctx, hc, &driver.ReadFileRequest{Repo: r.Repo, Ref: ref, Path: e.Path, MaxBytes: limit})
		if err != nil {
			return nil, err
		}
		if read += int64(len(f.Content)); r.MaxBytes > 0 && read > r.MaxBytes {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "tree holds more than %d bytes of files; raise TreeOptions.MaxBytes", r.MaxBytes)
		}
		files = append(files, driver.TreeFile{Path: rel(e.Path), Content: f.Content, Executable: slices.Contains(e.Attributes, "executable")})
	}
	return &driver.Tree{Files: files, Filtered: filtered}, nil
}

type srcEntry struct {
	Type       string   `json:"type"`
	Path       string   `json:"path"`
	Size       int64    `json:"size"`
	Attributes []string `json:"attributes"`
}

// maxIdlePages is how many pages in a row without a file (directories
// only, 100 a page) end a /src listing with an error.
const maxIdlePages = 100

// listFiles calls each for every file (blob: submodules are left out)
// under dir at ref, recursively, refusing (InvalidArgument) a listing
// that names a path outside dir or not a valid path, for at most maxPages
// pages, and reports whether pages were left. A missing dir gives no
// files. An error from each stops the listing at once and is returned. A
// next link given before, or maxIdlePages pages in a row without a file,
// end the listing with an error. A dir that is a file gives no files:
// Bitbucket answers its content, marked as a file's (see rawContent),
// whatever that content is; unmarked, one more request (?format=meta)
// confirms it.
func (d *Driver) listFiles(ctx context.Context, hc *http.Client, repo driver.Repo, ref, dir string, maxPages int, each func(srcEntry) error) (bool, error) {
	base := d.api + d.repoPath(repo) + "/src/" + url.PathEscape(ref) + "/"
	u := base
	if dir != "" {
		u += httpx.EscapePath(dir) + "/"
	}
	u += "?" + url.Values{"max_depth": {strconv.Itoa(d.opts.MaxDepth)}, "pagelen": {strconv.Itoa(d.opts.PageLen)}}.Encode()
	seen := map[string]bool{u: true}
	idle := 0 // pages in a row that named no file
	for i := range maxPages {
		var page struct {
			Values []srcEntry `json:"values"`
			Next   string     `json:"next"`
		}
		isFile, err := d.getListing(ctx, hc, u, &page)
		if err == nil && !isFile && page.Values == nil {
			// JSON, but not a page (null, or an object without values):
			// not the end of a listing.
			err = &bbapi.DecodeError{Method: http.MethodGet, Path: bbapi.PathOf(u), Err: errors.New(`the answer has no "values"`)}
		}
		if isFile {
			if dir != "" && i == 0 {
				// Bitbucket answers the listing of a file with its
				// content, marked as such: no files under it, whatever
				// the content says.
				return false, nil
			}
			return false, fmt.Errorf("GET %s: the answer is a file's content, not a listing", bbapi.PathOf(u))
		}
		if err != nil {
			var (
				ae *APIError
				de *bbapi.DecodeError
			)
			if errors.As(err, &de) && dir != "" && i == 0 {
				// A file's content that came without its
				// Content-Disposition (a proxy may drop it): the file's
				// metadata tells. Anything else that is not a listing (a
				// proxy's page) stays an error.
				var meta struct {
					Type string `json:"type"`
				}
				if merr := d.getJSON(ctx, hc, base+httpx.EscapePath(dir)+"?format=meta", &meta); merr == nil && meta.Type == "commit_file" {
					return false, nil
				}
				return false, err
			}
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound && dir != "" && i == 0 {
				// A missing directory, or a missing repository or ref?
				// The root tells.
				var root struct{}
				if rerr := d.getJSON(ctx, hc, base+"?pagelen=1", &root); rerr != nil {
					return false, rerr
				}
				return false, nil
			}
			return false, err
		}
		idle++
		for _, v := range page.Values {
			if v.Type == "commit_file" {
				idle = 0
			}
			if v.Type != "commit_file" || slices.Contains(v.Attributes, "subrepository") {
				continue // a directory, or a submodule (its content is a commit id)
			}
			if !listedUnder(v.Path, dir) {
				// As an archive entry with such a name refuses the archive.
				return false, errcode.Newf(errcode.InvalidArgument, "", "the listing of %q names %s, which is not a path under it",
					dir, strconv.QuoteToASCII(v.Path[:min(len(v.Path), 256)]))
			}
			if err := each(v); err != nil {
				return false, err
			}
		}
		if page.Next == "" {
			return false, nil
		}
		// The next link may name the commit where the first page named
		// a branch: it is held to the repository's /src.
		if !d.sameResource(page.Next, d.api+d.repoPath(repo)+"/src/", true) {
			return false, fmt.Errorf("next link %s is not this repository's /src on the API host", bbapi.PathOf(page.Next))
		}
		// A server that pages in a circle, or on and on without naming a
		// file, would otherwise cost up to maxPages requests (ReadTree's
		// fallback has no smaller bound than its limits, which files
		// only reach).
		if seen[page.Next] {
			return false, errcode.Newf(errcode.Unknown, "", "the listing of %q gave a next link it had given before (its paging goes round in a circle); listing stopped", dir)
		}
		if idle >= maxIdlePages {
			return false, errcode.Newf(errcode.Unknown, "", "the listing of %q gave %d pages in a row without a file, each with a next page; listing stopped", dir, idle)
		}
		seen[page.Next] = true
		u = page.Next
	}
	return true, nil
}

// getListing makes a GET of rawURL, a /src listing, and decodes its
// answer into v, unless the answer is a file's raw content (see
// rawContent): then it reports isFile, reads nothing and decodes
// nothing. An answer that is neither gives a *bbapi.DecodeError.
func (d *Driver) getListing(ctx context.Context, hc *http.Client, rawURL string, v any) (isFile bool, err error) {
	resp, err := d.send(ctx, hc, &call{method: http.MethodGet, url: rawURL})
	if err != nil {
		return false, err
	}
	if rawContent(resp) {
		httpx.DrainClose(resp)
		return true, nil
	}
	b, err := httpx.ReadBody(resp, bbapi.MaxJSONBody)
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, &bbapi.DecodeError{Method: http.MethodGet, Path: bbapi.PathOf(rawURL), Err: err}
	}
	return false, nil
}

// ListFiles lists the files under r.Dir with the recursive /src listing.
// With no ref it lists the main branch, as ReadFile reads it.
func (d *Driver) ListFiles(ctx context.Context, hc *http.Client, r *driver.ListFilesRequest) (*driver.FileList, error) {
	var l *driver.FileList
	err := d.withRef(ctx, hc, r.Repo, r.Ref, func(ref string) error {
		var err error
		l, err = d.listFilesAt(ctx, hc, r, ref)
		return err
	})
	return l, err
}

// listFilesAt is ListFiles at ref.
func (d *Driver) listFilesAt(ctx context.Context, hc *http.Client, r *driver.ListFilesRequest, ref string) (*driver.FileList, error) {
	paths := []string{}
	truncated, err := d.listFiles(ctx, hc, r.Repo, ref, r.Dir, d.opts.MaxFilePages, func(e srcEntry) error {
		paths = append(paths, e.Path)
		return nil
	})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == 555 {
			return &driver.FileList{Paths: []string{}, Truncated: true}, nil // Bitbucket's recursion timeout
		}
		return nil, err
	}
	slices.Sort(paths)
	return &driver.FileList{Paths: paths, Truncated: truncated}, nil
}

// mainBranch reads the repository's main branch (go-bitbucket
// Repository.Get) with the caller's credential, and remembers it.
func (d *Driver) mainBranch(ctx context.Context, hc *http.Client, repo driver.Repo) (string, error) {
	c, err := d.bb(ctx, hc)
	if err != nil {
		return "", err
	}
	ro := &bitbucket.RepositoryOptions{Owner: bbapi.Slug(repo.Owner), RepoSlug: bbapi.Slug(repo.Name)}
	r, err := c.Repositories.Repository.Get(ro.WithContext(ctx))
	if err != nil {
		return "", c.error(ctx, http.MethodGet, d.repoPath(repo), err)
	}
	if r.Mainbranch.Name == "" {
		d.branches.Forget(repoKey(repo.Owner, repo.Name))
		return "", &checkError{code: errcode.NotFound, msg: "the repository has no main branch (it is empty)"}
	}
	d.rememberMainBranch(repo.Owner, repo.Name, r.Mainbranch.Name)
	return r.Mainbranch.Name, nil
}

// listedUnder reports whether p, a path a /src listing names, is a valid
// path (fs.ValidPath, no NUL) below dir ("" is the root).
func listedUnder(p, dir string) bool {
	return fs.ValidPath(p) && p != "." && !strings.Contains(p, "\x00") && (dir == "" || strings.HasPrefix(p, dir+"/"))
}
