// Package bitbucketserverscm is the scmkit adapter for Bitbucket Server and
// Bitbucket Data Center: a thin client of its REST API 1.0 on net/http, since
// no maintained Go client covers the endpoints scmkit needs (see
// go-peers.md §4.4). Register it with the portable client:
//
//	client, err := scm.NewClient(reg, resolver, &scm.Options{
//		Drivers: map[integrations.Kind]driver.Opener{
//			integrations.BitbucketServer: bitbucketserverscm.Opener,
//		},
//	})
//
// Every request goes through the *http.Client the portable client passes,
// which attaches the integration's credential (an HTTP access token as
// Bearer, or username and password as Basic) and applies scmkit's retry
// policy. The API base URL may carry a context path
// (https://host/bitbucket/rest/api/1.0); the web URLs the driver returns
// keep it.
//
// # Requests
//
//   - ReadFile: 1 request, GET raw/{path}?at={ref}, conditional with
//     If-None-Match. A missing path costs one more request (browse?type=true)
//     to tell a directory (InvalidArgument) from a missing file (NotFound).
//   - ReadTree: 1 request, GET archive?format=tgz&path={dir}&at={ref}: the
//     server cuts the subdirectory out.
//   - ListFiles: GET files/{dir}?at={ref}, 1,000 paths per page, at most
//     Options.MaxFilePages pages before reporting Truncated.
//   - ListRepositories: GET projects/{key}/repos?start=&limit=, following
//     isLastPage and nextPageStart one page per call. DefaultBranch comes
//     from the repository's defaultBranch field, which Bitbucket Data Center
//     9 returns; older servers leave it empty (reads then use the default
//     branch anyway).
//   - FindFiles (catalog discovery): POST {web}/rest/search/latest/search,
//     Data Center's code search, 100 hits per request, filtered to the exact
//     path; where search is not available, Unimplemented (remembered for
//     Options.SearchRecheck), and the portable client reads each repository.
//   - OpenPullRequest with N files on a new branch: N + 3 requests (find the
//     branch, create it, one PUT browse/{path} per file, open the pull
//     request), plus 1 when Base is empty (default-branch) and 1 per Update
//     change (to check that the file exists). With an existing branch: one
//     more to look for an open pull request. 10 files on a new branch from
//     the default branch: 14.
//
// # Commits are not atomic
//
// Bitbucket Server has no multi-file commit API: its only REST write is
// PUT browse/{path}, one file per commit. OpenPullRequest therefore makes
// one commit per change, each chained on the previous one by
// sourceCommitId, so that a concurrent change to the same file is detected
// (409, Conflict) instead of overwritten. If change k fails, the branch
// keeps the first k-1 commits and the error says so: it names the branch,
// how many files were committed and which one failed. Running
// OpenPullRequest again with the same changes resumes: a file whose
// content on the branch already equals the change is skipped (one extra
// read after Bitbucket's 409), so the second run commits only what is
// missing and then opens the pull request.
//
// The REST API can neither delete a file nor set a file mode: changes with
// Action Delete, and changes with Executable set, are refused with
// Unimplemented before any request. New files get mode 100644; updated
// files keep their mode.
//
// # Names and errors
//
// Project keys are upper-cased (a personal project "~user" is kept as it
// is), and a repository name that is not a slug is turned into the slug
// Bitbucket derives from it ("My Service" → "my-service"). Error bodies
// ({"errors":[{"context","message","exceptionName"}]}) become *APIError;
// [Driver.ErrorInfo] maps them to scmkit codes: 400 InvalidArgument,
// 401 Unauthorized, 403 PermissionDenied (RateLimited when the answer is a
// rate limit), 404 NotFound, 409 Conflict
// (AlreadyExists for DuplicatePullRequestException and existing files or
// refs), 429 RateLimited, 5xx Unavailable.
package bitbucketserverscm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
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
	DefaultFilesPageSize = 1000
	DefaultMaxFilePages  = 10
	DefaultReposPageSize = 1000
)

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 64 << 10

// maxJSONBody caps a JSON answer (a page of repositories or pull requests).
const maxJSONBody = 32 << 20

// Options configure a [Driver]. A nil *Options means the defaults.
type Options struct {
	// FilesPageSize is the page size of ListFiles; 0 means 1,000.
	FilesPageSize int
	// MaxFilePages caps the pages ListFiles reads before it reports
	// Truncated (the portable client then reads the tree instead); 0
	// means 10.
	MaxFilePages int
	// NoCodeSearch stops FindFiles from using the server's code search:
	// discovery then reads each repository (scm.FoundByReadFile).
	NoCodeSearch bool
	// SearchRecheck is how long the driver remembers that the server has
	// no usable code search before trying it again; 0 means
	// DefaultSearchRecheck (1 hour).
	SearchRecheck time.Duration
	// Now is the clock of SearchRecheck; nil means time.Now.
	Now func() time.Time
}

// Driver is the Bitbucket Server driver of one integration. It is safe for
// concurrent use.
type Driver struct {
	api  string // REST API base URL, no trailing slash
	web  string // web base URL, context path included
	host string
	opts Options

	search searchMemo // see search.go
}

var _ driver.Driver = (*Driver)(nil)

// Opener returns the driver.Opener of Bitbucket Server integrations, which
// opens drivers with opts (nil means the defaults).
func Opener(opts *Options) driver.Opener {
	return func(in *integrations.Integration) (driver.Driver, error) { return New(in, opts) }
}

// New returns the driver of in, a Bitbucket Server integration.
func New(in *integrations.Integration, opts *Options) (*Driver, error) {
	const op = "bitbucketserverscm.New"
	if in == nil || in.Kind != integrations.BitbucketServer {
		return nil, errcode.New(errcode.InvalidArgument, op, "not a Bitbucket Server integration")
	}
	api := strings.TrimRight(in.APIBaseURL, "/")
	if api == "" {
		api = "https://" + in.Host + "/rest/api/1.0"
	}
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s: apiBaseUrl %q is not an absolute http(s) URL", in.ConfigPath, api)
	}
	d := &Driver{api: api, web: webBase(u), host: in.Host}
	if opts != nil {
		d.opts = *opts
	}
	if d.opts.FilesPageSize <= 0 {
		d.opts.FilesPageSize = DefaultFilesPageSize
	}
	if d.opts.MaxFilePages <= 0 {
		d.opts.MaxFilePages = DefaultMaxFilePages
	}
	return d, nil
}

// webBase derives the web base URL from the API base URL by dropping
// /rest/api/1.0 (or /rest/api/latest): https://host/bitbucket/rest/api/1.0
// gives https://host/bitbucket.
func webBase(api *url.URL) string {
	p := strings.TrimRight(api.EscapedPath(), "/")
	for _, suffix := range []string{"/rest/api/1.0", "/rest/api/latest"} {
		if s, ok := strings.CutSuffix(p, suffix); ok {
			p = s
			break
		}
	}
	return api.Scheme + "://" + api.Host + p
}

// ProjectKey normalises a project key as the driver sends it: upper-case,
// except a personal project "~user", which is kept as it is.
func ProjectKey(owner string) string {
	if strings.HasPrefix(owner, "~") {
		return owner
	}
	return strings.ToUpper(owner)
}

// Slug returns the repository slug for name: name itself, lower-cased, when
// it is already a slug, otherwise the slug Bitbucket derives from a
// repository name (each run of characters other than ASCII letters,
// digits, ".", "_" and "-" becomes one "-", leading and trailing "-"
// dropped): "My Service" gives "my-service".
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

// repoPath is the API path of a repository.
func repoPath(r driver.Repo) string {
	return "/projects/" + url.PathEscape(ProjectKey(r.Owner)) + "/repos/" + url.PathEscape(Slug(r.Name))
}

func headRef(branch string) string { return "refs/heads/" + branch }

// ---- errors ----

// ErrorMessage is one entry of Bitbucket's error body.
type ErrorMessage struct {
	Context       string `json:"context"`
	Message       string `json:"message"`
	ExceptionName string `json:"exceptionName"`
}

// APIError is an error answer of the Bitbucket Server REST API.
type APIError struct {
	Method string
	// Path is the request's path below the API base URL, without query.
	Path   string
	Status int
	Errors []ErrorMessage
	// RateLimited reports that the answer is a rate limit (any 429, or a
	// 403 that httpx.RateLimitInfo recognises as one).
	RateLimited bool
	// RetryAt is when a rate limit ends, where the answer says.
	RetryAt time.Time
	// existing is the existingPullRequest of a
	// DuplicatePullRequestException, raw.
	existing json.RawMessage
}

// Error describes the answer: method, path, status and Bitbucket's
// messages.
func (e *APIError) Error() string {
	var msgs []string
	for _, m := range e.Errors {
		if m.Message != "" {
			if m.Context != "" {
				msgs = append(msgs, m.Context+": "+m.Message)
			} else {
				msgs = append(msgs, m.Message)
			}
		}
	}
	s := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if len(msgs) > 0 {
		s += ": " + strings.Join(msgs, "; ")
	}
	return s
}

// says reports whether one of the answer's messages contains sub, in any
// case.
func (e *APIError) says(sub string) bool {
	return slices.ContainsFunc(e.Errors, func(m ErrorMessage) bool {
		return strings.Contains(strings.ToLower(m.Message), strings.ToLower(sub))
	})
}

// Exception reports whether the answer holds an error whose exceptionName
// ends with name (e.g. "NoSuchPathException").
func (e *APIError) Exception(name string) bool {
	return slices.ContainsFunc(e.Errors, func(m ErrorMessage) bool { return strings.HasSuffix(m.ExceptionName, name) })
}

// dirError reports a file path that names a directory.
type dirError struct{ path string }

func (e *dirError) Error() string { return fmt.Sprintf("%q is a directory, not a file", e.path) }

// unsupportedError reports a change the REST API cannot make.
type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string { return e.msg }

// existsError reports a Create change whose file exists with other content.
type existsError struct {
	path string
	err  error
}

func (e *existsError) Error() string {
	return fmt.Sprintf("file %q already exists with other content (the change is Create): %v", e.path, e.err)
}
func (e *existsError) Unwrap() error { return e.err }

// missingError reports an Update or a base branch that names nothing.
type missingError struct{ msg string }

func (e *missingError) Error() string { return e.msg }

// PartialCommitError reports an OpenPullRequest that failed after it had
// committed some of the changes: the branch holds the first Committed
// changes, one commit each. OpenPullRequest returns it inside an
// *errcode.Error that carries its cause's code; errors.As finds it.
type PartialCommitError struct {
	Branch    string
	Committed int    // changes committed (or already present) on Branch
	Total     int    // changes requested
	Failed    string // the path whose commit failed, "" if the pull request failed
	Head      string // the branch's last known commit, "" if unknown
	Err       error
}

// Error says what was written where, and how to finish.
func (e *PartialCommitError) Error() string {
	var b strings.Builder
	if e.Failed != "" {
		fmt.Fprintf(&b, "branch %q: %d of %d files committed before file %d (%s) failed", e.Branch, e.Committed, e.Total, e.Committed+1, e.Failed)
	} else {
		fmt.Fprintf(&b, "branch %q: all %d files committed but the pull request was not opened", e.Branch, e.Total)
	}
	if e.Head != "" {
		fmt.Fprintf(&b, " (branch head %s)", e.Head)
	}
	b.WriteString("; Bitbucket Server commits one file per request, so the branch holds a partial change until " +
		"OpenPullRequest is run again with the same changes (files already on the branch are skipped): ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *PartialCommitError) Unwrap() error { return e.Err }

// partial returns pe inside an *errcode.Error classified as its cause, so
// that the portable client keeps pe (and its message) even when the cause
// is itself an *errcode.Error, as the client's transport returns for a
// rate limit it will not wait for or a network failure.
func (d *Driver) partial(pe *PartialCommitError) error {
	info := d.ErrorInfo(pe.Err)
	return &errcode.Error{Code: info.Code, Status: info.Status, RetryAt: info.RetryAt, Err: pe}
}

// ErrorInfo classifies an error returned by this driver's methods. It is
// the one place where Bitbucket Server errors map to codes.
func (d *Driver) ErrorInfo(err error) driver.ErrorInfo {
	var (
		ae *APIError
		ce *errcode.Error
		de *dirError
		ue *unsupportedError
		ee *existsError
		me *missingError
	)
	switch {
	case errors.As(err, &ee):
		info := d.ErrorInfo(ee.err)
		info.Code = errcode.AlreadyExists
		return info
	case errors.As(err, &ae):
		return driver.ErrorInfo{Code: statusCode(ae), Status: ae.Status, RetryAt: ae.RetryAt}
	case errors.As(err, &ce):
		return driver.ErrorInfo{Code: ce.Code, Status: ce.Status, RetryAt: ce.RetryAt}
	case errors.As(err, &de):
		return driver.ErrorInfo{Code: errcode.InvalidArgument}
	case errors.As(err, &ue):
		return driver.ErrorInfo{Code: errcode.Unimplemented}
	case errors.As(err, &me):
		return driver.ErrorInfo{Code: errcode.NotFound}
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
	case s == http.StatusBadRequest, s == http.StatusUnprocessableEntity, s == http.StatusRequestEntityTooLarge:
		return errcode.InvalidArgument
	case s == http.StatusUnauthorized:
		return errcode.Unauthorized
	case s == http.StatusForbidden && e.RateLimited:
		return errcode.RateLimited
	case s == http.StatusForbidden:
		return errcode.PermissionDenied
	case s == http.StatusNotFound, s == http.StatusGone:
		return errcode.NotFound
	case s == http.StatusConflict:
		if e.Exception("DuplicatePullRequestException") || e.Exception("DuplicateRefException") ||
			e.Exception("AlreadyExistsException") {
			return errcode.AlreadyExists
		}
		return errcode.Conflict
	case s == http.StatusPreconditionFailed:
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

// call is one request: method, path below the API base URL (escaped),
// query, body and headers.
type call struct {
	method string
	path   string
	query  url.Values
	body   []byte
	ctype  string
	header http.Header
}

// send makes the request and returns a 2xx (or, with If-None-Match, a
// 304 as *APIError) response; any other answer becomes *APIError.
func (d *Driver) send(ctx context.Context, hc *http.Client, c *call) (*http.Response, error) {
	u := d.api + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u, body)
	if err != nil {
		return nil, errcode.Newf(errcode.InvalidArgument, "", "building %s %s: %v", c.method, c.path, err)
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
		return nil, httpx.CallError(c.method, c.path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	return nil, d.apiError(c, resp)
}

// apiError reads an error answer into *APIError and closes it.
func (d *Driver) apiError(c *call, resp *http.Response) error {
	e := &APIError{Method: c.method, Path: c.path, Status: resp.StatusCode}
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
	var body struct {
		Errors []struct {
			ErrorMessage
			ExistingPullRequest json.RawMessage `json:"existingPullRequest"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &body) == nil {
		for _, m := range body.Errors {
			e.Errors = append(e.Errors, m.ErrorMessage)
			if len(m.ExistingPullRequest) > 0 && string(m.ExistingPullRequest) != "null" {
				e.existing = m.ExistingPullRequest
			}
		}
	}
	return e
}

// getJSON makes a GET and decodes the JSON answer into v.
func (d *Driver) getJSON(ctx context.Context, hc *http.Client, path string, q url.Values, v any) error {
	return d.doJSON(ctx, hc, &call{method: http.MethodGet, path: path, query: q}, v)
}

func (d *Driver) doJSON(ctx context.Context, hc *http.Client, c *call, v any) error {
	resp, err := d.send(ctx, hc, c)
	if err != nil {
		return err
	}
	b, err := httpx.ReadBody(resp, maxJSONBody)
	if err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", c.method, c.path, err)
	}
	return nil
}

// ---- ReadFile ----

// ReadFile reads a file with GET raw/{path}?at={ref}.
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
			if d.isDir(ctx, hc, r.Repo, r.Ref, r.Path) {
				return nil, &dirError{path: r.Path}
			}
		}
		return nil, err
	}
	max := r.MaxBytes
	if max <= 0 {
		max = httpx.DefaultMaxBody
	}
	body, err := httpx.ReadBody(resp, max)
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

// ---- ReadTree ----

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

// ---- ListFiles ----

type pageJSON[T any] struct {
	Values        []T  `json:"values"`
	IsLastPage    bool `json:"isLastPage"`
	NextPageStart *int `json:"nextPageStart"`
}

// ListFiles lists the files under r.Dir with GET files/{dir}?at={ref}.
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
			if r.Dir != "" {
				v = r.Dir + "/" + v
			}
			out.Paths = append(out.Paths, v)
		}
		if page.IsLastPage || page.NextPageStart == nil || *page.NextPageStart <= start {
			slices.Sort(out.Paths)
			return out, nil
		}
		start = *page.NextPageStart
	}
	slices.Sort(out.Paths)
	out.Truncated = true
	return out, nil
}

// ---- ListRepositories ----

type linkJSON struct {
	Href string `json:"href"`
	Name string `json:"name"`
}

type repoJSON struct {
	Slug          string `json:"slug"`
	Name          string `json:"name"`
	Public        bool   `json:"public"`
	Archived      bool   `json:"archived"`
	DefaultBranch string `json:"defaultBranch"`
	Project       struct {
		Key string `json:"key"`
	} `json:"project"`
	Origin *json.RawMessage `json:"origin"`
	Links  struct {
		Clone []linkJSON `json:"clone"`
		Self  []linkJSON `json:"self"`
	} `json:"links"`
}

// ListRepositories returns one page of GET projects/{key}/repos.
func (d *Driver) ListRepositories(ctx context.Context, hc *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	limit := r.PageSize
	if limit <= 0 || limit > DefaultReposPageSize {
		limit = DefaultReposPageSize
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if r.Cursor != "" {
		if n, err := strconv.Atoi(r.Cursor); err != nil || n < 0 {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "invalid page cursor %q", r.Cursor)
		}
		q.Set("start", r.Cursor)
	}
	var page pageJSON[repoJSON]
	if err := d.getJSON(ctx, hc, "/projects/"+url.PathEscape(ProjectKey(r.Owner))+"/repos", q, &page); err != nil {
		return nil, err
	}
	out := &driver.RepositoryPage{Repositories: make([]driver.Repository, 0, len(page.Values))}
	for _, v := range page.Values {
		out.Repositories = append(out.Repositories, d.repository(&v))
	}
	if !page.IsLastPage && page.NextPageStart != nil {
		out.Next = strconv.Itoa(*page.NextPageStart)
	}
	return out, nil
}

func (d *Driver) repository(v *repoJSON) driver.Repository {
	repo := driver.Repository{Owner: v.Project.Key, Name: v.Slug, DefaultBranch: v.DefaultBranch, Private: !v.Public,
		Archived: v.Archived, Fork: v.Origin != nil,
		WebURL: d.web + "/projects/" + url.PathEscape(v.Project.Key) + "/repos/" + url.PathEscape(v.Slug)}
	if strings.HasPrefix(v.Project.Key, "~") {
		repo.WebURL = d.web + "/users/" + url.PathEscape(strings.TrimPrefix(v.Project.Key, "~")) + "/repos/" + url.PathEscape(v.Slug)
	}
	if len(v.Links.Self) > 0 {
		repo.WebURL = strings.TrimSuffix(v.Links.Self[0].Href, "/browse")
	}
	for _, l := range v.Links.Clone {
		if l.Name == "http" || l.Name == "https" {
			repo.CloneURL = l.Href
		}
	}
	return repo
}

// ---- OpenPullRequest ----

type branchJSON struct {
	ID           string `json:"id"`
	DisplayID    string `json:"displayId"`
	LatestCommit string `json:"latestCommit"`
}

type pullJSON struct {
	ID      int `json:"id"`
	FromRef struct {
		ID           string `json:"id"`
		DisplayID    string `json:"displayId"`
		LatestCommit string `json:"latestCommit"`
	} `json:"fromRef"`
	ToRef struct {
		ID        string `json:"id"`
		DisplayID string `json:"displayId"`
	} `json:"toRef"`
	Links struct {
		Self []linkJSON `json:"self"`
	} `json:"links"`
}

// OpenPullRequest commits the changes on r.Branch, one PUT browse/{path}
// per change chained by sourceCommitId, and opens the pull request. See
// the package documentation for why this is not atomic and how a failed
// run is resumed.
func (d *Driver) OpenPullRequest(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest) (*driver.PullRequest, error) {
	if err := checkChanges(r.Changes); err != nil {
		return nil, err
	}
	rp := repoPath(r.Repo)
	base := r.Base
	if base == "" {
		var ref branchJSON
		if err := d.getJSON(ctx, hc, rp+"/default-branch", nil, &ref); err != nil {
			return nil, err
		}
		base = ref.DisplayID
	}
	head, exists, err := d.findBranch(ctx, hc, rp, r.Branch)
	if err != nil {
		return nil, err
	}
	var existing *pullJSON
	if exists {
		if existing, err = d.findPull(ctx, hc, rp, r.Branch, base); err != nil {
			return nil, err
		}
		if existing != nil && !r.UpdateExisting {
			return d.pullRequest(existing, r.Repo, base, r.Branch, true), nil
		}
	} else {
		var b branchJSON
		err := d.doJSON(ctx, hc, &call{method: http.MethodPost, path: rp + "/branches", ctype: "application/json",
			body: mustJSON(map[string]string{"name": r.Branch, "startPoint": headRef(base)})}, &b)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound && !ae.Exception("NoSuchRepositoryException") &&
				!ae.Exception("NoSuchProjectException") {
				return nil, &missingError{msg: fmt.Sprintf("base branch %q not found: %v", base, err)}
			}
			return nil, err
		}
		head = b.LatestCommit
	}

	headKnown := true
	for i, ch := range r.Changes {
		newHead, skipped, err := d.commitFile(ctx, hc, rp, r, ch, head)
		if err != nil && !headKnown && isConflict(err) {
			// A change skipped since head was learnt may have been our
			// own commit whose answer was lost: the branch then moved past
			// head. Learn its head and try this change once more.
			if tip, ok, ferr := d.findBranch(ctx, hc, rp, r.Branch); ferr == nil && ok {
				head, headKnown = tip, true
				newHead, skipped, err = d.commitFile(ctx, hc, rp, r, ch, head)
			}
		}
		if err != nil {
			pe := &PartialCommitError{Branch: r.Branch, Committed: i, Total: len(r.Changes), Failed: ch.Path, Err: err}
			if headKnown {
				pe.Head = head
			}
			return nil, d.partial(pe)
		}
		if skipped {
			headKnown = false // the branch may have moved past head
			continue
		}
		head = newHead
	}

	if existing != nil {
		pr := d.pullRequest(existing, r.Repo, base, r.Branch, true)
		if headKnown {
			pr.CommitID = head
		}
		return pr, nil
	}
	pr, err := d.createPull(ctx, hc, rp, r, base)
	if err != nil {
		pe := &PartialCommitError{Branch: r.Branch, Committed: len(r.Changes), Total: len(r.Changes), Err: err}
		if headKnown {
			pe.Head = head
		}
		return nil, d.partial(pe)
	}
	if headKnown && !pr.Existing {
		pr.CommitID = head
	}
	return pr, nil
}

// isConflict reports whether err is a 409 answer.
func isConflict(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusConflict
}

// checkChanges refuses what the REST API cannot do, before any request.
func checkChanges(changes []driver.Change) error {
	var del, exec []string
	for _, ch := range changes {
		if ch.Action == driver.Delete {
			del = append(del, ch.Path)
		}
		if ch.Executable && ch.Action != driver.Delete {
			exec = append(exec, ch.Path)
		}
	}
	var msgs []string
	if len(del) > 0 {
		msgs = append(msgs, "Bitbucket Server's REST API cannot delete files (asked to delete "+strings.Join(del, ", ")+")")
	}
	if len(exec) > 0 {
		msgs = append(msgs, "Bitbucket Server's REST API cannot set the executable bit (asked for "+strings.Join(exec, ", ")+")")
	}
	if len(msgs) > 0 {
		return &unsupportedError{msg: strings.Join(msgs, "; ") + "; nothing was written"}
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("bitbucketserverscm: " + err.Error())
	}
	return b
}

// findBranch looks branch up with GET branches?filterText=, keeping only
// an exact match.
func (d *Driver) findBranch(ctx context.Context, hc *http.Client, rp, branch string) (head string, ok bool, err error) {
	q := url.Values{"filterText": {branch}, "boostMatches": {"true"}, "limit": {"100"}}
	var page pageJSON[branchJSON]
	if err := d.getJSON(ctx, hc, rp+"/branches", q, &page); err != nil {
		return "", false, err
	}
	for _, b := range page.Values {
		if b.DisplayID == branch || b.ID == headRef(branch) {
			return b.LatestCommit, true, nil
		}
	}
	return "", false, nil
}

// findPull returns the open pull request from branch to base, or nil.
func (d *Driver) findPull(ctx context.Context, hc *http.Client, rp, branch, base string) (*pullJSON, error) {
	q := url.Values{"at": {headRef(branch)}, "direction": {"OUTGOING"}, "state": {"OPEN"}, "limit": {"100"}}
	var page pageJSON[pullJSON]
	if err := d.getJSON(ctx, hc, rp+"/pull-requests", q, &page); err != nil {
		return nil, err
	}
	for i := range page.Values {
		p := &page.Values[i]
		if p.ToRef.ID == headRef(base) && p.FromRef.ID == headRef(branch) {
			return p, nil
		}
	}
	return nil, nil
}

func (d *Driver) pullRequest(p *pullJSON, repo driver.Repo, base, branch string, existing bool) *driver.PullRequest {
	pr := &driver.PullRequest{Number: p.ID, Base: base, Branch: branch, CommitID: p.FromRef.LatestCommit, Existing: existing}
	if len(p.Links.Self) > 0 {
		pr.URL = p.Links.Self[0].Href
	} else {
		pr.URL = fmt.Sprintf("%s/projects/%s/repos/%s/pull-requests/%d", d.web, url.PathEscape(ProjectKey(repo.Owner)),
			url.PathEscape(Slug(repo.Name)), p.ID)
	}
	return pr
}

// commitFile writes one change with PUT browse/{path} on top of head. It
// returns the new commit id, or skipped when the branch already holds the
// change (a resumed run, or a change that changes nothing).
func (d *Driver) commitFile(ctx context.Context, hc *http.Client, rp string, r *driver.PullRequestRequest, ch driver.Change, head string) (string, bool, error) {
	filePath := rp + "/browse/" + httpx.EscapePath(ch.Path)
	if ch.Action == driver.Update {
		var t struct {
			Type string `json:"type"`
		}
		err := d.getJSON(ctx, hc, filePath, url.Values{"at": {head}, "type": {"true"}}, &t)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			return "", false, &missingError{msg: fmt.Sprintf("file %q does not exist on branch %q (the change is Update)", ch.Path, r.Branch)}
		case err != nil:
			return "", false, err
		case t.Type != "FILE":
			return "", false, &dirError{path: ch.Path}
		}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fields := [][2]string{{"branch", r.Branch}, {"message", r.CommitMessage}}
	if ch.Action != driver.Create {
		fields = append(fields, [2]string{"sourceCommitId", head})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return "", false, err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="content"; filename=%q`, lastSegment(ch.Path)))
	h.Set("Content-Type", "application/octet-stream")
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", false, err
	}
	if _, err := part.Write(ch.Content); err != nil {
		return "", false, err
	}
	if err := mw.Close(); err != nil {
		return "", false, err
	}
	var commit struct {
		ID string `json:"id"`
	}
	err = d.doJSON(ctx, hc, &call{method: http.MethodPut, path: filePath, body: buf.Bytes(), ctype: mw.FormDataContentType(),
		header: http.Header{"X-Atlassian-Token": {"no-check"}}}, &commit)
	if err == nil {
		return commit.ID, false, nil
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		// The answer may have been lost after the server committed the
		// file (its retries then met 409s, lost too, or the connection
		// kept failing): what counts is what the branch holds.
		if ctx.Err() == nil && d.ErrorInfo(err).Code == errcode.Unavailable {
			if same, rerr := d.sameContent(ctx, hc, rp, r.Branch, ch); rerr == nil && same {
				return "", true, nil
			}
		}
		return "", false, err
	}
	// 409: the file exists (Create), changed since head, or would not
	// change. If the branch already holds exactly this content, the change
	// is done: skip it. This is what makes a second run resume, and a
	// retry whose first answer was lost succeed.
	same, rerr := d.sameContent(ctx, hc, rp, r.Branch, ch)
	switch {
	case rerr != nil:
		return "", false, err
	case same:
		return "", true, nil
	case ch.Action == driver.Create:
		return "", false, &existsError{path: ch.Path, err: err}
	}
	return "", false, err
}

// sameContent reports whether ch.Path on branch holds ch.Content.
func (d *Driver) sameContent(ctx context.Context, hc *http.Client, rp, branch string, ch driver.Change) (bool, error) {
	resp, err := d.send(ctx, hc, &call{method: http.MethodGet, path: rp + "/raw/" + httpx.EscapePath(ch.Path),
		query: url.Values{"at": {headRef(branch)}}})
	if err != nil {
		return false, err
	}
	b, err := httpx.ReadBody(resp, int64(len(ch.Content))+1)
	if err != nil {
		var ce *errcode.Error
		if errors.As(err, &ce) && ce.Code == errcode.InvalidArgument {
			return false, nil // larger than the change
		}
		return false, err
	}
	return bytes.Equal(b, ch.Content), nil
}

func lastSegment(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// createPull opens the pull request; a DuplicatePullRequestException
// returns the existing one.
func (d *Driver) createPull(ctx context.Context, hc *http.Client, rp string, r *driver.PullRequestRequest, base string) (*driver.PullRequest, error) {
	repoRef := map[string]any{"slug": Slug(r.Repo.Name), "project": map[string]string{"key": ProjectKey(r.Repo.Owner)}}
	body := map[string]any{
		"title":       r.Title,
		"description": r.Body,
		"state":       "OPEN",
		"open":        true,
		"closed":      false,
		"fromRef":     map[string]any{"id": headRef(r.Branch), "repository": repoRef},
		"toRef":       map[string]any{"id": headRef(base), "repository": repoRef},
	}
	if r.Draft {
		body["draft"] = true
	}
	var p pullJSON
	err := d.doJSON(ctx, hc, &call{method: http.MethodPost, path: rp + "/pull-requests", ctype: "application/json",
		body: mustJSON(body)}, &p)
	if err == nil {
		return d.pullRequest(&p, r.Repo, base, r.Branch, false), nil
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || !ae.Exception("DuplicatePullRequestException") {
		return nil, err
	}
	if len(ae.existing) > 0 && json.Unmarshal(ae.existing, &p) == nil && p.ID > 0 {
		return d.pullRequest(&p, r.Repo, base, r.Branch, true), nil
	}
	found, ferr := d.findPull(ctx, hc, rp, r.Branch, base)
	if ferr != nil || found == nil {
		return nil, err
	}
	return d.pullRequest(found, r.Repo, base, r.Branch, true), nil
}
