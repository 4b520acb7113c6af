// Package bitbucketcloudscm is the scmkit adapter for Bitbucket Cloud
// (bitbucket.org, REST API 2.0). Register it with the portable client:
//
//	client, err := scm.NewClient(reg, resolver, &scm.Options{
//		Drivers: map[integrations.Kind]driver.Opener{
//			integrations.BitbucketCloud: bitbucketcloudscm.Opener,
//		},
//	})
//
// Credentials come from the *http.Client the portable client passes, whose
// transport attaches what the resolver picked: an Atlassian API token
// (Basic, username and token), a repository, project or workspace access
// token (Bearer), an OAuth consumer's client-credentials token (Bearer,
// refreshed by the resolver), the signed-in user's OAuth token, or a legacy
// app password (Basic). The driver never sees a secret.
//
// # go-bitbucket, and where it is not used
//
// The driver uses github.com/ktrysmt/go-bitbucket where it serves: reading
// a repository's main branch (Repository.Get), finding an open pull request
// (PullRequests.List) and opening one (PullRequests.Create). go-bitbucket
// builds its requests without the caller's context and sends them with its
// own http.Client; the driver gives it, for each call, an http.Client
// whose transport is the portable client's with ctx injected into every
// outgoing request (req.WithContext), so that cancellation and deadlines
// reach the wire and no request outlives its call.
//
// Everything else calls the API directly with the same *http.Client,
// because go-bitbucket does not serve it: file reads need the ETag and
// If-None-Match, which go-bitbucket drops (it returns bytes only); its
// listings put refs and paths into URLs unescaped (a branch with "/", a
// path with "#" or spaces); its commit helpers read local files or cannot
// set parents and executable bits; its repository listing pages by number
// rather than following next links; and it has no archive download nor
// code search.
//
// # Requests
//
//   - ReadFile: 1 request, GET /repositories/{ws}/{repo}/src/{ref}/{path},
//     conditional with If-None-Match (a 304 costs the same one request).
//     With no ref, one more to read the main branch. A branch name with "/"
//     is sent with the slash escaped.
//   - ReadTree: 1 request at a known ref, the web host's archive
//     (https://bitbucket.org/{ws}/{repo}/get/{ref}.tar.gz; Bitbucket Cloud
//     has no sub-path archive, so the whole tree is downloaded and cut
//     client-side), 2 without a ref. If the archive download refuses the
//     credential (401 or 403: Atlassian's BCLOUD-23783 reports that access
//     tokens are refused there), ReadTree falls back to the API: the
//     listing (one request per 100 entries) plus one request per file kept.
//     The fallback applies the tree's filter and limits to the listing,
//     with the sizes it gives, before reading anything: files the filter
//     rejects are not read, and a tree over the limits fails with
//     InvalidArgument once the listing shows it.
//   - ListFiles: GET .../src/{ref}/{dir}/?max_depth=&pagelen=100, following
//     next links for at most Options.MaxFilePages pages before reporting
//     Truncated.
//   - ListRepositories: GET /repositories/{ws}?pagelen=100, one page per
//     call, following the next link (the cursor).
//   - FindFiles (catalog discovery): Bitbucket's code search across the
//     workspace, GET /workspaces/{ws}/search/code, 100 results per page,
//     keeping exact path matches. A workspace without code search answers
//     404 "Search is not enabled": FindFiles then fails with Unimplemented.
//     For such workspaces, open the driver with Opener(&Options{
//     NoCodeSearch: true}): the portable client then lists the
//     repositories and reads the file in each (FoundByReadFile).
//   - OpenPullRequest with text files on a new branch: 3 requests. One BBQL
//     query finds the branch and the base (refs/branches?q=name="b" OR
//     name="base"); one multipart POST /src with branch (and parents, the
//     base's head) creates the branch and the one commit holding every
//     change (deletions, binary content and executable bits included);
//     then the pull request is opened. When the branch exists, one more
//     request looks for an open pull request (returned with Existing set);
//     Create, Update and Delete changes cost one request each to check
//     that the file does (not) exist; an empty Base costs one more (the
//     main branch) unless every change is an Upsert on a new branch.
//     If the pull request cannot be opened once the commit is made, the
//     error (classified as the failure was: Unavailable, RateLimited, ...)
//     names the branch that holds the commit and the commit's id.
//
// # Names and errors
//
// Workspace and repository names are lower-cased and a name that is not a
// slug becomes the slug Bitbucket derives ("My Service" → "my-service").
// Error bodies ({"type":"error","error":{"message","detail"}}) become
// *APIError; [Driver.ErrorInfo] maps them: 400 InvalidArgument (AlreadyExists
// for a duplicate pull request, Conflict for one with no changes), 401
// Unauthorized, 403 PermissionDenied (RateLimited when the answer is a rate
// limit), 404 NotFound, 409 Conflict, 429 RateLimited, 5xx Unavailable.
// Rate limits keep their end time (Retry-After) in the error, for calls
// through go-bitbucket too.
package bitbucketcloudscm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// Defaults of [Options].
const (
	DefaultMaxFilePages = 10
	DefaultMaxDepth     = 50
	pageLen             = 100
	maxErrorBody        = 64 << 10
	maxJSONBody         = 32 << 20
)

// Options configure a [Driver]. A nil *Options means the defaults.
type Options struct {
	// MaxFilePages caps the pages ListFiles reads before it reports
	// Truncated; 0 means 10.
	MaxFilePages int
	// MaxDepth is the max_depth of ListFiles' recursive listing; 0 means
	// 50.
	MaxDepth int
	// PageLen is the pagelen of ListFiles' listing; 0 means 100, the
	// largest Bitbucket allows.
	PageLen int
	// NoCodeSearch makes [Opener] open drivers that do not implement
	// driver.FileFinder, for workspaces without code search: the portable
	// client then discovers files with one read per repository, and says
	// so (scm.FoundByReadFile).
	NoCodeSearch bool
}

// Driver is the Bitbucket Cloud driver of one integration. It is safe for
// concurrent use.
type Driver struct {
	api  string // e.g. https://api.bitbucket.org/2.0
	web  string // e.g. https://bitbucket.org
	opts Options
}

var (
	_ driver.Driver     = (*Driver)(nil)
	_ driver.FileFinder = (*Driver)(nil)
)

// Opener returns the driver.Opener of Bitbucket Cloud integrations, which
// opens drivers with opts (nil means the defaults). With opts.NoCodeSearch
// the drivers it opens have no FindFiles method.
func Opener(opts *Options) driver.Opener {
	return func(in *integrations.Integration) (driver.Driver, error) {
		d, err := New(in, opts)
		if err != nil {
			return nil, err
		}
		if d.opts.NoCodeSearch {
			return perRepository{d}, nil
		}
		return d, nil
	}
}

// perRepository is a Driver without FindFiles.
type perRepository struct{ d *Driver }

func (p perRepository) ReadFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	return p.d.ReadFile(ctx, hc, r)
}

func (p perRepository) ReadTree(ctx context.Context, hc *http.Client, r *driver.TreeRequest) (*driver.Tree, error) {
	return p.d.ReadTree(ctx, hc, r)
}

func (p perRepository) ListFiles(ctx context.Context, hc *http.Client, r *driver.ListFilesRequest) (*driver.FileList, error) {
	return p.d.ListFiles(ctx, hc, r)
}

func (p perRepository) ListRepositories(ctx context.Context, hc *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	return p.d.ListRepositories(ctx, hc, r)
}

func (p perRepository) OpenPullRequest(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest) (*driver.PullRequest, error) {
	return p.d.OpenPullRequest(ctx, hc, r)
}

func (p perRepository) ErrorInfo(err error) driver.ErrorInfo { return p.d.ErrorInfo(err) }

// New returns the driver of in, a Bitbucket Cloud integration.
func New(in *integrations.Integration, opts *Options) (*Driver, error) {
	const op = "bitbucketcloudscm.New"
	if in == nil || in.Kind != integrations.BitbucketCloud {
		return nil, errcode.New(errcode.InvalidArgument, op, "not a Bitbucket Cloud integration")
	}
	api := strings.TrimRight(in.APIBaseURL, "/")
	if api == "" {
		api = integrations.BitbucketCloudAPIURL
	}
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s: apiBaseUrl %q is not an absolute http(s) URL", in.ConfigPath, api)
	}
	web := strings.TrimRight(in.BaseURL, "/")
	if web == "" {
		web = "https://" + in.Host
	}
	d := &Driver{api: api, web: web}
	if opts != nil {
		d.opts = *opts
	}
	if d.opts.MaxFilePages <= 0 {
		d.opts.MaxFilePages = DefaultMaxFilePages
	}
	if d.opts.MaxDepth <= 0 {
		d.opts.MaxDepth = DefaultMaxDepth
	}
	if d.opts.PageLen <= 0 || d.opts.PageLen > pageLen {
		d.opts.PageLen = pageLen
	}
	return d, nil
}

// Slug returns the slug for a workspace or repository name: the name,
// lower-cased, when it is already a slug, otherwise each run of characters
// other than ASCII letters, digits, ".", "_" and "-" becomes one "-"
// ("My Service" gives "my-service").
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = true
	}
	return strings.Trim(b.String(), "-")
}

func (d *Driver) repoPath(r driver.Repo) string {
	return "/repositories/" + url.PathEscape(Slug(r.Owner)) + "/" + url.PathEscape(Slug(r.Name))
}

// ---- errors ----

// APIError is an error answer of Bitbucket Cloud.
type APIError struct {
	Method string
	// Path is the request's path, without query.
	Path    string
	Status  int
	Message string
	Detail  string
	// RateLimited reports that the answer is a rate limit (any 429, or a
	// 403 that httpx.RateLimitInfo recognises as one).
	RateLimited bool
	// RetryAt is when a rate limit ends, where the answer says.
	RetryAt time.Time
}

// Error describes the answer.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Detail != "" && e.Detail != e.Message {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *APIError) says(sub string) bool {
	return strings.Contains(strings.ToLower(e.Message+" "+e.Detail), strings.ToLower(sub))
}

// dirError reports a file path that names a directory.
type dirError struct{ path string }

func (e *dirError) Error() string { return fmt.Sprintf("%q is a directory, not a file", e.path) }

// checkError reports a change whose file does (not) exist.
type checkError struct {
	code errcode.Code
	msg  string
}

func (e *checkError) Error() string { return e.msg }

// searchDisabledError reports a workspace without code search.
type searchDisabledError struct{ err *APIError }

func (e *searchDisabledError) Error() string {
	return "code search is not enabled for this workspace (turn it on at https://bitbucket.org/search); " +
		"discover files per repository instead: " + e.err.Error()
}
func (e *searchDisabledError) Unwrap() error { return e.err }

// ErrorInfo classifies an error returned by this driver's methods. It is
// the one place where Bitbucket Cloud errors map to codes.
func (d *Driver) ErrorInfo(err error) driver.ErrorInfo {
	var (
		se *searchDisabledError
		ae *APIError
		ce *errcode.Error
		de *dirError
		ke *checkError
	)
	switch {
	case errors.As(err, &se):
		return driver.ErrorInfo{Code: errcode.Unimplemented, Status: se.err.Status}
	case errors.As(err, &ke):
		return driver.ErrorInfo{Code: ke.code}
	case errors.As(err, &ae):
		return driver.ErrorInfo{Code: statusCode(ae), Status: ae.Status, RetryAt: ae.RetryAt}
	case errors.As(err, &ce):
		return driver.ErrorInfo{Code: ce.Code, Status: ce.Status, RetryAt: ce.RetryAt}
	case errors.As(err, &de):
		return driver.ErrorInfo{Code: errcode.InvalidArgument}
	case errors.Is(err, context.Canceled):
		return driver.ErrorInfo{Code: errcode.Canceled}
	case errors.Is(err, context.DeadlineExceeded):
		return driver.ErrorInfo{Code: errcode.DeadlineExceeded}
	}
	// A broken connection or an answer cut short (go-bitbucket's own
	// reads fail with io.ErrUnexpectedEOF): Unavailable, as on every
	// adapter.
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return driver.ErrorInfo{Code: errcode.Unavailable}
	}
	return driver.ErrorInfo{Code: errcode.Unknown}
}

func statusCode(e *APIError) errcode.Code {
	switch s := e.Status; {
	case s == http.StatusNotModified:
		return errcode.NotModified
	case s == http.StatusBadRequest:
		switch {
		case e.says("already an open pull request"), e.says("already exists"):
			return errcode.AlreadyExists
		case e.says("no changes to be pulled"):
			return errcode.Conflict
		}
		return errcode.InvalidArgument
	case s == http.StatusUnauthorized:
		return errcode.Unauthorized
	case s == http.StatusForbidden && e.RateLimited:
		return errcode.RateLimited
	case s == http.StatusForbidden:
		return errcode.PermissionDenied
	case s == http.StatusNotFound, s == http.StatusGone:
		return errcode.NotFound
	case s == http.StatusConflict, s == http.StatusPreconditionFailed:
		return errcode.Conflict
	case s == http.StatusTooManyRequests:
		return errcode.RateLimited
	case s == http.StatusNotImplemented:
		return errcode.Unimplemented
	case s >= 500:
		return errcode.Unavailable
	case s >= 400:
		return errcode.InvalidArgument
	}
	return errcode.Unknown
}

// ---- HTTP ----

type call struct {
	method string
	url    string // absolute
	body   []byte
	ctype  string
	header http.Header
}

// send makes the request and returns a 2xx response; any other answer
// (a 304 included) becomes *APIError.
func (d *Driver) send(ctx context.Context, hc *http.Client, c *call) (*http.Response, error) {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		return nil, errcode.Newf(errcode.InvalidArgument, "", "building %s %s: %v", c.method, pathOf(c.url), err)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, httpx.CallError(c.method, pathOf(c.url), err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	return nil, apiError(c.method, c.url, resp)
}

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.EscapedPath()
}

// apiError reads an error answer and closes it.
func apiError(method, rawURL string, resp *http.Response) error {
	e := &APIError{Method: method, Path: pathOf(rawURL), Status: resp.StatusCode}
	if t, limited := httpx.RateLimitInfo(resp, time.Now()); limited {
		e.RateLimited, e.RetryAt = true, t
	}
	if resp.StatusCode == http.StatusNotModified {
		httpx.DrainClose(resp)
		return e
	}
	b, err := httpx.ReadBody(resp, maxErrorBody)
	if err != nil {
		httpx.DrainClose(resp)
		return e
	}
	e.Message, e.Detail = errorBody(b)
	return e
}

// errorBody extracts Bitbucket's error message and detail.
func errorBody(b []byte) (msg, detail string) {
	var body struct {
		Error struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
		OAuthError string `json:"error_description"`
	}
	if json.Unmarshal(b, &body) == nil {
		return body.Error.Message, body.Error.Detail
	}
	return "", ""
}

func (d *Driver) getJSON(ctx context.Context, hc *http.Client, rawURL string, v any) error {
	resp, err := d.send(ctx, hc, &call{method: http.MethodGet, url: rawURL})
	if err != nil {
		return err
	}
	b, err := httpx.ReadBody(resp, maxJSONBody)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: decoding the answer: %w", pathOf(rawURL), err)
	}
	return nil
}

// ---- ReadFile ----

// ReadFile reads GET .../src/{ref}/{path}.
func (d *Driver) ReadFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	ref, err := d.ref(ctx, hc, r.Repo, r.Ref)
	if err != nil {
		return nil, err
	}
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
	isJSON := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
	if isJSON {
		limit = max(limit, 1<<20) // room for a directory listing
	}
	body, err := httpx.ReadBody(resp, limit)
	if err != nil {
		return nil, err
	}
	if isJSON && isListing(body, r.Path) {
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

// isListing reports whether body is the directory listing of dir that
// Bitbucket answers for a path naming a directory.
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

// ref returns ref, or the repository's main branch when ref is "".
func (d *Driver) ref(ctx context.Context, hc *http.Client, repo driver.Repo, ref string) (string, error) {
	if ref != "" {
		return ref, nil
	}
	return d.mainBranch(ctx, hc, repo)
}

// ---- ReadTree ----

// ReadTree downloads the web host's archive of the whole tree at ref; the
// portable client keeps r.Dir. When the web host refuses the credential,
// it reads the tree through the API, file by file.
func (d *Driver) ReadTree(ctx context.Context, hc *http.Client, r *driver.TreeRequest) (*driver.Tree, error) {
	ref, err := d.ref(ctx, hc, r.Repo, r.Ref)
	if err != nil {
		return nil, err
	}
	u := d.web + "/" + url.PathEscape(Slug(r.Repo.Owner)) + "/" + url.PathEscape(Slug(r.Repo.Name)) + "/get/" + url.PathEscape(ref) + ".tar.gz"
	resp, err := d.send(ctx, hc, &call{method: http.MethodGet, url: u, header: http.Header{"Accept": {"application/x-gzip, */*"}}})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && !ae.RateLimited && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
			return d.treeFromAPI(ctx, hc, r, ref)
		}
		return nil, err
	}
	return &driver.Tree{Archive: &driver.Archive{Body: resp.Body, StripComponents: 1, Dir: r.Dir}}, nil
}

// treeFromAPI reads the tree file by file: the fallback when the archive
// download refuses the credential. It applies r's filter and limits to the
// listing, with the sizes the listing gives, before reading any file: a
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

// ---- ListFiles ----

type srcEntry struct {
	Type       string   `json:"type"`
	Path       string   `json:"path"`
	Size       int64    `json:"size"`
	Attributes []string `json:"attributes"`
}

// listFiles calls each for every file under dir at ref, recursively, for
// at most maxPages pages, and reports whether pages were left. A missing
// dir gives no files. An error from each stops the listing at once and is
// returned.
func (d *Driver) listFiles(ctx context.Context, hc *http.Client, repo driver.Repo, ref, dir string, maxPages int, each func(srcEntry) error) (bool, error) {
	base := d.api + d.repoPath(repo) + "/src/" + url.PathEscape(ref) + "/"
	u := base
	if dir != "" {
		u += httpx.EscapePath(dir) + "/"
	}
	u += "?" + url.Values{"max_depth": {strconv.Itoa(d.opts.MaxDepth)}, "pagelen": {strconv.Itoa(d.opts.PageLen)}}.Encode()
	for i := range maxPages {
		var page struct {
			Values []srcEntry `json:"values"`
			Next   string     `json:"next"`
		}
		if err := d.getJSON(ctx, hc, u, &page); err != nil {
			var ae *APIError
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
		for _, v := range page.Values {
			if v.Type != "commit_file" {
				continue
			}
			if err := each(v); err != nil {
				return false, err
			}
		}
		if page.Next == "" {
			return false, nil
		}
		if !d.ownsURL(page.Next) {
			return false, fmt.Errorf("next link %s is not on the API host", pathOf(page.Next))
		}
		u = page.Next
	}
	return true, nil
}

// ownsURL reports whether u is on the API base URL.
func (d *Driver) ownsURL(u string) bool { return strings.HasPrefix(u, d.api+"/") }

// ListFiles lists the files under r.Dir with the recursive /src listing.
func (d *Driver) ListFiles(ctx context.Context, hc *http.Client, r *driver.ListFilesRequest) (*driver.FileList, error) {
	ref, err := d.ref(ctx, hc, r.Repo, r.Ref)
	if err != nil {
		return nil, err
	}
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

// ---- ListRepositories ----

type repoJSON struct {
	Slug       string `json:"slug"`
	FullName   string `json:"full_name"`
	IsPrivate  bool   `json:"is_private"`
	Mainbranch *struct {
		Name string `json:"name"`
	} `json:"mainbranch"`
	Parent *json.RawMessage `json:"parent"`
	Links  struct {
		HTML struct {
			Href string `json:"href"`
		} `json:"html"`
		Clone []struct {
			Name string `json:"name"`
			Href string `json:"href"`
		} `json:"clone"`
	} `json:"links"`
}

func (d *Driver) repository(v *repoJSON) driver.Repository {
	owner, slug, _ := strings.Cut(v.FullName, "/")
	if v.Slug != "" {
		slug = v.Slug
	}
	r := driver.Repository{Owner: owner, Name: slug, WebURL: v.Links.HTML.Href, Private: v.IsPrivate, Fork: v.Parent != nil}
	if r.WebURL == "" {
		r.WebURL = d.web + "/" + url.PathEscape(owner) + "/" + url.PathEscape(slug)
	}
	if v.Mainbranch != nil {
		r.DefaultBranch = v.Mainbranch.Name
	}
	for _, c := range v.Links.Clone {
		if c.Name == "https" {
			if u, err := url.Parse(c.Href); err == nil {
				u.User = nil // Bitbucket puts the caller's username there
				r.CloneURL = u.String()
			}
		}
	}
	return r
}

// ListRepositories returns one page of GET /repositories/{ws}; the cursor
// is Bitbucket's next link.
func (d *Driver) ListRepositories(ctx context.Context, hc *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	u := r.Cursor
	if u == "" {
		n := r.PageSize
		if n <= 0 || n > pageLen {
			n = pageLen
		}
		u = d.api + "/repositories/" + url.PathEscape(Slug(r.Owner)) + "?pagelen=" + strconv.Itoa(n)
	} else if !d.ownsURL(u) {
		return nil, errcode.Newf(errcode.InvalidArgument, "", "page cursor is not a Bitbucket Cloud API URL")
	}
	var page struct {
		Values []repoJSON `json:"values"`
		Next   string     `json:"next"`
	}
	if err := d.getJSON(ctx, hc, u, &page); err != nil {
		return nil, err
	}
	out := &driver.RepositoryPage{Repositories: make([]driver.Repository, 0, len(page.Values)), Next: page.Next}
	for i := range page.Values {
		out.Repositories = append(out.Repositories, d.repository(&page.Values[i]))
	}
	return out, nil
}

// ---- FindFiles ----

// FindFiles finds r.Path on the main branch of the workspace's
// repositories with Bitbucket's code search. A workspace without code
// search gives an error classified Unimplemented.
func (d *Driver) FindFiles(ctx context.Context, hc *http.Client, r *driver.FindFilesRequest) (*driver.FoundPage, error) {
	u := r.Cursor
	if u == "" {
		pathTerm := r.Path
		if strings.ContainsAny(pathTerm, " \"") {
			pathTerm = strconv.Quote(pathTerm)
		}
		q := url.Values{
			"search_query": {strconv.Quote(path.Base(r.Path)) + " path:" + pathTerm},
			"pagelen":      {strconv.Itoa(pageLen)},
			"fields":       {"+values.file.commit.repository.mainbranch.name,+values.file.commit.repository.is_private"},
		}
		u = d.api + "/workspaces/" + url.PathEscape(Slug(r.Owner)) + "/search/code?" + q.Encode()
	} else if !d.ownsURL(u) {
		return nil, errcode.Newf(errcode.InvalidArgument, "", "page cursor is not a Bitbucket Cloud API URL")
	}
	var page struct {
		Values []struct {
			File struct {
				Path   string `json:"path"`
				Commit struct {
					Hash       string   `json:"hash"`
					Repository repoJSON `json:"repository"`
				} `json:"commit"`
			} `json:"file"`
		} `json:"values"`
		Next string `json:"next"`
	}
	if err := d.getJSON(ctx, hc, u, &page); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.says("search is not enabled") {
			return nil, &searchDisabledError{err: ae}
		}
		return nil, err
	}
	out := &driver.FoundPage{Next: page.Next}
	seen := map[string]bool{}
	for _, v := range page.Values {
		if v.File.Path != r.Path {
			continue // a partial path match
		}
		repo := d.repository(&v.File.Commit.Repository)
		if seen[repo.Owner+"/"+repo.Name] {
			continue
		}
		seen[repo.Owner+"/"+repo.Name] = true
		out.Results = append(out.Results, driver.Found{Repository: repo, Found: true})
	}
	return out, nil
}

// ---- OpenPullRequest ----

type branchJSON struct {
	Name   string `json:"name"`
	Target struct {
		Hash string `json:"hash"`
	} `json:"target"`
}

// bbqlString quotes s for Bitbucket's query language.
func bbqlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// OpenPullRequest commits every change as one commit with one multipart
// POST /src (which creates the branch) and opens the pull request.
func (d *Driver) OpenPullRequest(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest) (*driver.PullRequest, error) {
	rp := d.api + d.repoPath(r.Repo)
	needChecks := slices.ContainsFunc(r.Changes, func(c driver.Change) bool { return c.Action != driver.Upsert })
	base := r.Base
	if base == "" && needChecks {
		var err error
		if base, err = d.mainBranch(ctx, hc, r.Repo); err != nil {
			return nil, err
		}
	}

	// One query finds the branch and the base.
	q := "name = " + bbqlString(r.Branch)
	if base != "" && base != r.Branch {
		q += " OR name = " + bbqlString(base)
	}
	var page struct {
		Values []branchJSON `json:"values"`
	}
	if err := d.getJSON(ctx, hc, rp+"/refs/branches?"+url.Values{"q": {q}, "pagelen": {"10"}}.Encode(), &page); err != nil {
		return nil, err
	}
	var branchHead, baseHead string
	for _, b := range page.Values {
		switch b.Name {
		case r.Branch:
			branchHead = b.Target.Hash
		case base:
			baseHead = b.Target.Hash
		}
	}
	if base != "" && baseHead == "" && base != r.Branch {
		return nil, &checkError{code: errcode.NotFound, msg: fmt.Sprintf("base branch %q not found", base)}
	}

	var existing *pullJSON
	if branchHead != "" {
		if base == "" {
			var err error
			if base, err = d.mainBranch(ctx, hc, r.Repo); err != nil {
				return nil, err
			}
		}
		var err error
		if existing, err = d.findPull(ctx, hc, r.Repo, r.Branch, base); err != nil {
			return nil, err
		}
		if existing != nil && !r.UpdateExisting {
			return d.pullRequest(existing, base, r.Branch, true), nil
		}
	}

	if branchHead != "" {
		// A rerun after a failure that came after the commit finds the
		// branch holding exactly the changes: open (or return) the pull
		// request without committing them again.
		holds, err := d.branchHolds(ctx, hc, r, branchHead)
		if err != nil {
			return nil, err
		}
		if holds {
			if existing != nil {
				return d.pullRequest(existing, base, r.Branch, true), nil
			}
			pr, err := d.createPull(ctx, hc, r, base)
			if err != nil {
				return nil, d.committedError(r, base, branchHead, err)
			}
			pr.CommitID = cmpOr(pr.CommitID, branchHead)
			return pr, nil
		}
	}

	parent := branchHead
	if parent == "" {
		parent = baseHead // "" with an empty Base: Bitbucket starts from the main branch
	}
	if needChecks {
		if err := d.checkChanges(ctx, hc, r, cmpOr(parent, base)); err != nil {
			return nil, err
		}
	}
	commitID, err := d.commit(ctx, hc, r, parent)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		pr := d.pullRequest(existing, base, r.Branch, true)
		pr.CommitID = commitID
		return pr, nil
	}
	pr, err := d.createPull(ctx, hc, r, base)
	if err != nil {
		return nil, d.committedError(r, base, commitID, err)
	}
	pr.CommitID = commitID
	return pr, nil
}

// committedError reports a pull request that could not be opened after
// the changes were committed: it names the branch that holds them and the
// commit, and keeps err's classification (an *errcode.Error, so that the
// portable client keeps the message whatever err is).
func (d *Driver) committedError(r *driver.PullRequestRequest, base, commitID string, err error) error {
	info := d.ErrorInfo(err)
	commit := "commit " + commitID
	if commitID == "" {
		commit = "commit id not reported"
	}
	into := "the main branch"
	if base != "" {
		into = strconv.Quote(base)
	}
	return &errcode.Error{Code: info.Code, Status: info.Status, RetryAt: info.RetryAt, Err: err,
		Msg: fmt.Sprintf("the changes are committed on branch %q (%s) of %s/%s, but the pull request into %s could not be opened; "+
			"open it from that branch, or call OpenPullRequest again", r.Branch, commit, Slug(r.Repo.Owner), Slug(r.Repo.Name), into)}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkChanges checks, at ref, that Create changes name no file and that
// Update and Delete changes name one: one request per such change.
func (d *Driver) checkChanges(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest, ref string) error {
	for _, ch := range r.Changes {
		if ch.Action == driver.Upsert {
			continue
		}
		var meta struct {
			Type string `json:"type"`
		}
		u := d.api + d.repoPath(r.Repo) + "/src/" + url.PathEscape(ref) + "/" + httpx.EscapePath(ch.Path) + "?format=meta"
		err := d.getJSON(ctx, hc, u, &meta)
		var ae *APIError
		exists := err == nil
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		case err != nil:
			return err
		case meta.Type == "commit_directory":
			return &checkError{code: errcode.InvalidArgument, msg: fmt.Sprintf("%q is a directory", ch.Path)}
		}
		switch {
		case ch.Action == driver.Create && exists:
			return &checkError{code: errcode.AlreadyExists, msg: fmt.Sprintf("file %q already exists (the change is Create); nothing was written", ch.Path)}
		case ch.Action != driver.Create && !exists:
			return &checkError{code: errcode.NotFound, msg: fmt.Sprintf("file %q does not exist (the change is %s); nothing was written", ch.Path, actionName(ch.Action))}
		}
	}
	return nil
}

// branchHolds reports whether the branch, at head, already holds exactly
// the changes: each written file with the same content and executable bit,
// each deleted file absent. It stops at the first difference: one request
// for a branch that does not hold the first change, at most two per change
// otherwise (the file's metadata, then its content when the size matches).
func (d *Driver) branchHolds(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest, head string) (bool, error) {
	src := d.api + d.repoPath(r.Repo) + "/src/" + url.PathEscape(head) + "/"
	for _, ch := range r.Changes {
		var meta struct {
			Type       string   `json:"type"`
			Size       int64    `json:"size"`
			Attributes []string `json:"attributes"`
		}
		err := d.getJSON(ctx, hc, src+httpx.EscapePath(ch.Path)+"?format=meta", &meta)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			if ch.Action == driver.Delete {
				continue
			}
			return false, nil
		case err != nil:
			return false, err
		case ch.Action == driver.Delete, meta.Type != "commit_file", meta.Size != int64(len(ch.Content)),
			slices.Contains(meta.Attributes, "executable") != ch.Executable:
			return false, nil
		}
		resp, err := d.send(ctx, hc, &call{method: http.MethodGet, url: src + httpx.EscapePath(ch.Path), header: http.Header{"Accept": {"*/*"}}})
		if err != nil {
			return false, err
		}
		b, err := httpx.ReadBody(resp, int64(len(ch.Content))+1)
		if err != nil {
			var ce *errcode.Error
			if errors.As(err, &ce) && ce.Code == errcode.InvalidArgument {
				return false, nil // longer than the change
			}
			return false, err
		}
		if !bytes.Equal(b, ch.Content) {
			return false, nil
		}
	}
	return true, nil
}

func actionName(a driver.ChangeAction) string {
	switch a {
	case driver.Create:
		return "Create"
	case driver.Update:
		return "Update"
	case driver.Delete:
		return "Delete"
	}
	return "Upsert"
}

// commit makes one commit of every change on r.Branch with a multipart
// POST /src and returns its id. parent, when set, is the commit the new
// one must follow: the branch's tip (Bitbucket answers 409 if the branch
// moved) or, for a new branch, the base's head.
func (d *Driver) commit(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest, parent string) (string, error) {
	var buf bytes.Buffer
	boundary := multipartBoundary(r.Changes)
	w := &formWriter{buf: &buf, boundary: boundary}
	w.field("message", r.CommitMessage)
	w.field("branch", r.Branch)
	if parent != "" {
		w.field("parents", parent)
	}
	for _, ch := range r.Changes {
		if ch.Action == driver.Delete {
			w.field("files", ch.Path)
		}
	}
	for _, ch := range r.Changes {
		if ch.Action != driver.Delete {
			w.file(ch.Path, ch.Content, ch.Executable)
		}
	}
	w.close()
	resp, err := d.send(ctx, hc, &call{method: http.MethodPost, url: d.api + d.repoPath(r.Repo) + "/src", body: buf.Bytes(),
		ctype: "multipart/form-data; boundary=" + boundary})
	if err != nil {
		return "", err
	}
	loc := resp.Header.Get("Location")
	httpx.DrainClose(resp)
	id := loc[strings.LastIndexByte(loc, '/')+1:]
	if !isCommitID(id) {
		id = ""
	}
	return id, nil
}

// ---- pull requests (go-bitbucket) ----

type pullJSON struct {
	ID     int `json:"id"`
	Source struct {
		Branch struct {
			Name string `json:"name"`
		} `json:"branch"`
		Commit struct {
			Hash string `json:"hash"`
		} `json:"commit"`
	} `json:"source"`
	Destination struct {
		Branch struct {
			Name string `json:"name"`
		} `json:"branch"`
	} `json:"destination"`
	Links struct {
		HTML struct {
			Href string `json:"href"`
		} `json:"html"`
	} `json:"links"`
}

func (d *Driver) pullRequest(p *pullJSON, base, branch string, existing bool) *driver.PullRequest {
	pr := &driver.PullRequest{Number: p.ID, URL: p.Links.HTML.Href, Base: cmpOr(p.Destination.Branch.Name, base),
		Branch: cmpOr(p.Source.Branch.Name, branch), CommitID: p.Source.Commit.Hash, Existing: existing}
	return pr
}

// remarshal converts go-bitbucket's interface{} results into v.
func remarshal(in, v any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
