// Package bitbucketserverscm is the scmkit adapter for Bitbucket Server and
// Bitbucket Data Center: a thin client of its REST API 1.0 on net/http, since
// no maintained Go client covers the endpoints scmkit needs (see
// go-peers.md §4.4). Register it with the portable client: put Opener(nil)
// (or Opener with [Options]) under integrations.BitbucketServer in
// scm.Options.Drivers, as the package example (Example) does.
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
//     to tell a directory (InvalidArgument) from a missing file (NotFound),
//     except for discovery (FindFiles without code search), which treats
//     both alike (100 repositories, 20 holding the file: 101 requests, was
//     181), and for a read with scm.ReadFileOptions.DirAsMissing.
//   - ReadTree: 1 request, GET archive?format=tgz&path={dir}&at={ref}: the
//     server cuts the subdirectory out, so a folder costs its own
//     compressed bytes, whatever the rest of the repository holds: a
//     30 KiB template folder of 21 text files beside 20 or 40 MiB of other
//     files is about 5.4 KB received (BenchmarkReadTreeBytes in scm/adapters).
//   - ListFiles: GET files/{dir}?at={ref}, 1,000 paths per page, at most
//     Options.MaxFilePages pages before reporting Truncated.
//   - ListRepositories: GET projects/{key}/repos?start=&limit=, following
//     isLastPage and nextPageStart one page per call. DefaultBranch comes
//     from the repository's defaultBranch field, which Bitbucket Data Center
//     9 returns; older servers leave it empty (reads then use the default
//     branch anyway, and discovery's URLs name no ref:
//     .../browse/catalog-info.yaml without at=, at no extra request).
//   - FindFiles (catalog discovery): POST {web}/rest/search/latest/search,
//     Data Center's code search, 100 hits per request, filtered to the exact
//     path; where search is not available, Unimplemented (remembered for
//     Options.SearchRecheck), and the portable client reads each repository.
//   - CreateRepository with N files: 3 requests (POST projects/{key}/repos,
//     then git's smart HTTP push of one root commit to
//     {web}/scm/{project}/{slug}.git: GET info/refs, POST
//     git-receive-pack), executable files kept, plus 1 per access grant.
//   - OpenPullRequest with N files on a new branch: N + 3 requests (find the
//     branch, create it, one PUT browse/{path} per file, open the pull
//     request), plus 1 when Base is empty (default-branch, remembered
//     per repository for Options.DefaultBranchTTL, 1 minute) and, to check
//     that the files of Update changes exist before anything is written
//     (the branch included), 1 per directory holding them: GET
//     browse/{dir} (the directory's own entries with their types, not
//     recursive) for a directory holding two or more (10 Update changes
//     in one directory: 14 requests, was 23), browse?type=true for one
//     holding one. A directory of more than 1,000 entries may cost more
//     pages, and then k Update changes in it cost at most k+1 requests
//     (k+1 only when a page read names none of them). With an existing branch: one more to look for
//     an open pull request, and, when Base is named and none is open, one
//     more to check that Base exists before any commit. 10 files on a new
//     branch from the default branch: 14. A branch that is the default
//     branch is InvalidArgument whatever Base, before any write: with an
//     empty Base, before any request but the default-branch look-up; with
//     a Base, from the isDefault flag of the listing that finds the
//     branch, with no request more.
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
// [Driver.ErrorInfo] maps them to scmkit codes: 400 InvalidArgument (as
// is any other 4xx not named here), 401 Unauthorized (PermissionDenied
// with an AuthorisationException when the answer names the user in
// X-AUSERNAME: a good credential without the permission; an anonymous
// request gets the same exception and stays Unauthorized), 403
// PermissionDenied (RateLimited when the answer is a rate limit), 404
// NotFound, 409 Conflict (AlreadyExists for DuplicatePullRequestException
// and existing files or refs), 412 Conflict, 429 RateLimited, 501
// Unimplemented, any other 5xx Unavailable.
package bitbucketserverscm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
	"github.com/scmkit/scmkit/scm/internal/ttlmemo"
)

// Defaults of [Options].
const (
	DefaultFilesPageSize = 1000
	DefaultMaxFilePages  = 10
	DefaultReposPageSize = 1000
)

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
	// DefaultBranchTTL is how long OpenPullRequest remembers a
	// repository's default branch (for a request with an empty Base); 0
	// means DefaultBranchTTL (1 minute), a negative value turns the memo
	// off (one GET default-branch per call).
	DefaultBranchTTL time.Duration
	// Now is the clock of SearchRecheck, DefaultBranchTTL, a rate limit's
	// RetryAt and the initial commit CreateRepository pushes; nil means
	// time.Now.
	Now func() time.Time
}

// Driver is the Bitbucket Server driver of one integration. It is safe for
// concurrent use. The zero Driver is not usable; make one with [New] (or
// [Opener]).
type Driver struct {
	api  string // REST API base URL, no trailing slash
	web  string // web base URL, context path included
	host string
	opts Options
	rest bbapi.Client

	search   searchMemo           // see search.go
	branches ttlmemo.Memo[string] // repository API path → default branch; see defaultbranch.go
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
	u, err := bbapi.ParseBaseURL(op, in.ConfigPath, api)
	if err != nil {
		return nil, err
	}
	d := &Driver{api: api, web: webBase(u), host: in.Host}
	d.branches.Max = maxDefaultBranches
	if opts != nil {
		d.opts = *opts
	}
	d.rest = bbapi.Client{Now: d.opts.Now, Error: newAPIError}
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

// projectKey normalises a project key as the driver sends it: upper-case,
// except a personal project "~user", which is kept as it is.
func projectKey(owner string) string {
	if strings.HasPrefix(owner, "~") {
		return owner
	}
	return strings.ToUpper(owner)
}

// repoPath is the API path of a repository.
func repoPath(r driver.Repo) string {
	return "/projects/" + url.PathEscape(projectKey(r.Owner)) + "/repos/" + url.PathEscape(bbapi.Slug(r.Name))
}

func headRef(branch string) string { return "refs/heads/" + branch }

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

// request is c sent to u, its URL without the query.
func (c *call) request(u string) *bbapi.Request {
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	return &bbapi.Request{Method: c.method, URL: u, Path: c.path, Body: c.body, ContentType: c.ctype, Header: c.header}
}

// send makes the request below the API base URL and returns a 2xx
// response; any other answer (a 304 included) becomes *APIError.
func (d *Driver) send(ctx context.Context, hc *http.Client, c *call) (*http.Response, error) {
	return d.rest.Send(ctx, hc, c.request(d.api+c.path))
}

// getJSON makes a GET and decodes the JSON answer into v.
func (d *Driver) getJSON(ctx context.Context, hc *http.Client, path string, q url.Values, v any) error {
	return d.doJSON(ctx, hc, &call{method: http.MethodGet, path: path, query: q}, v)
}

// doJSON makes the request below the API base URL and decodes the JSON
// answer into v (nil: drops it).
func (d *Driver) doJSON(ctx context.Context, hc *http.Client, c *call, v any) error {
	return d.rest.JSON(ctx, hc, c.request(d.api+c.path), v)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("bitbucketserverscm: " + err.Error())
	}
	return b
}
