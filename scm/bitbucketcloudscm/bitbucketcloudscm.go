// Package bitbucketcloudscm is the scmkit adapter for Bitbucket Cloud
// (bitbucket.org, REST API 2.0). Register it with the portable client: put
// Opener(nil) (or Opener with [Options]) under integrations.BitbucketCloud
// in scm.Options.Drivers, as the package example (Example) does.
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
//     With no ref, one more to read the main branch, which the driver
//     then remembers for Options.MainBranchTTL (1 minute) for every
//     call that names no ref: ReadFile, ReadTree, ListFiles and
//     TreeVersion (a repository listing's or a code search's mainbranch
//     serves too). The memory is shared by all callers, but only names
//     the ref of a request the caller's own credential must pass: when
//     that request fails (anything but a 304), the main branch is read
//     again with the caller's credential, so that a caller who may not
//     read the repository gets her own refusal and never an error that
//     names the branch (a missing file then costs 2 requests, as without
//     the memory). A branch name with "/" is sent with the slash escaped.
//   - ReadTree: 1 request at a known ref (or a remembered main branch),
//     the web host's archive
//     (https://bitbucket.org/{ws}/{repo}/get/{ref}.tar.gz; Bitbucket Cloud
//     has no sub-path archive, so the whole tree is downloaded and cut
//     client-side), 2 without a ref. A folder therefore costs the whole
//     repository's archive: 21 MB received for a 30 KiB template folder
//     beside 20 MiB of incompressible files, 42 MB beside 40 MiB
//     (BenchmarkReadTreeBytes in scm/adapters). The API would read that
//     folder with 50 KB but 22 requests, and a 300-file folder with 304
//     requests instead of 1 (BenchmarkBitbucketCloudTemplateTree), so the
//     archive stays the first choice. If the archive download refuses the
//     credential (401 or 403: Atlassian's BCLOUD-23783 reports that access
//     tokens are refused there), ReadTree falls back to the API: the
//     listing (one request per 100 entries) plus one request per file kept
//     (symbolic links and submodules, which the listing marks, are left
//     out unread, as from an archive). When the API then reads the tree,
//     the refusal is remembered under the call's
//     driver.TreeRequest.CredentialKey (the credential and workspace) for
//     Options.ArchiveRefusalTTL (1 hour), and later trees read with that
//     credential skip the archive request.
//     The fallback applies the tree's filter and limits to the listing,
//     with the sizes it gives, before reading anything: files the filter
//     rejects are not read, and a tree over the limits fails with
//     InvalidArgument once the listing shows it.
//   - ListFiles: GET .../src/{ref}/{dir}/?max_depth=&pagelen=100, following
//     next links for at most Options.MaxFilePages pages before reporting
//     Truncated. Submodules are left out; a listing that names a path
//     outside dir (or not a valid path) is refused with InvalidArgument,
//     as is the API fallback of ReadTree. A dir that is a file, whose
//     "listing" is its content, gives no files in that one request: the
//     answer's "Content-Disposition: attachment" marks a file's content
//     (its Content-Type, from the file name, is application/json for a
//     .json file, as a listing's is), so that a JSON file shaped like a
//     listing is neither listed as a directory nor, by ReadFile, refused
//     as one. An answer without that mark and not a listing costs one
//     more request (?format=meta) to confirm it is a file.
//   - ListRepositories: GET /repositories/{ws}?pagelen=100, one page per
//     call, following the next link (the cursor). A page that lists a
//     repository of another workspace or with a name that is not one
//     path segment, or whose next link is not the same listing on the API
//     host, fails (Unknown), as does a code search page (FindFiles) whose
//     next link is not that search. ListFiles' next links are held to the
//     repository's /src on the API host.
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
//     request looks for an open pull request (returned with Existing set;
//     only one from this repository's branch: the listing holds forks'
//     pull requests too, told apart by source.repository.uuid; a page of
//     50 full of forks' ones from branches of the same name costs one
//     more request per next page, up to 20 pages, past which the call is
//     refused as Conflict with nothing written), and,
//     unless that one is returned as it is, one more reads the main
//     branch (GET the repository, afresh; with an empty Base it is the
//     base, read before the pull request is looked for), since a branch
//     that is the main branch is InvalidArgument whatever the base, with
//     nothing written (a new branch never is, and costs no such look-up);
//     Create, Update and Delete changes cost one listing per directory
//     that holds them to check that their files do (not) exist (GET
//     .../src/{ref}/{dir}/?q=path="a" OR path="b"; a query longer than
//     2,000 characters or 50 paths is split in several): 4 requests for
//     10 such changes in one directory; an empty Base costs the main
//     branch's look-up (always read afresh for a pull request, and once
//     only) on a new branch too, unless every change is an Upsert. When the branch exists without
//     an open pull request (a rerun after the pull request could not be
//     opened), the branch is compared with the changes before anything is
//     committed again: one such listing per directory (types, sizes and
//     executable bits) and one read per file whose size matches, stopping
//     at the first difference (a rerun of 10 text files: 15 requests, the
//     main branch's look-up included; a ?format=meta read per file took 9
//     more).
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
// for a duplicate pull request, Conflict for one with no changes; any
// other 4xx not named here is InvalidArgument too), 401 Unauthorized, 403
// PermissionDenied (RateLimited when the answer is a rate limit), 404
// NotFound, 409 Conflict, 412 Conflict, 429 RateLimited, 501
// Unimplemented, any other 5xx Unavailable.
// Rate limits keep their end time (Retry-After) in the error, for calls
// through go-bitbucket too.
package bitbucketcloudscm

import (
	"context"
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
	DefaultMaxFilePages = 10
	DefaultMaxDepth     = 50
	pageLen             = 100
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
	// MainBranchTTL is how long a repository's main branch, once read,
	// serves the calls that name no ref (ReadFile, ReadTree, ListFiles,
	// TreeVersion) instead of one more request each; 0 means
	// DefaultMainBranchTTL (1 minute), a negative value turns the memory
	// off. It is shared by every caller of the driver: a request made at
	// a remembered branch is still the caller's own, and when it fails
	// the branch is read again with the caller's credential (see
	// [Driver.ReadFile]). Pull requests always read the main branch
	// afresh.
	MainBranchTTL time.Duration
	// ArchiveRefusalTTL is how long ReadTree remembers that the web
	// host's archive download refused a credential (an access token, as
	// Atlassian's BCLOUD-23783 reports) and goes straight to the API for
	// it; 0 means DefaultArchiveRefusalTTL (1 hour), a negative value
	// turns the memory off. It is kept per credential and workspace
	// (driver.TreeRequest.CredentialKey), never across credentials.
	ArchiveRefusalTTL time.Duration
	// Now is the clock that turns Retry-After into a rate limit's
	// RetryAt and ages the memories above; nil means time.Now.
	Now func() time.Time
}

// Driver is the Bitbucket Cloud driver of one integration. It is safe for
// concurrent use. The zero Driver is not usable; make one with [New] (or
// [Opener]).
type Driver struct {
	api  string // e.g. https://api.bitbucket.org/2.0
	web  string // e.g. https://bitbucket.org
	opts Options
	rest bbapi.Client

	branches ttlmemo.Memo[string] // repository (repoKey) → main branch
	refusals ttlmemo.Memo[string] // CredentialKey → "" when the archive refused it
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

// perRepository is a Driver without FindFiles. It has every other method
// of Driver, the optional ones included (CreateRepository, GrantsAccess,
// TreeVersion): a test checks that no capability is lost.
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
	if _, err := bbapi.ParseBaseURL(op, in.ConfigPath, api); err != nil {
		return nil, err
	}
	web := strings.TrimRight(in.BaseURL, "/")
	if web == "" {
		web = "https://" + in.Host
	}
	d := &Driver{api: api, web: web}
	d.branches.Max, d.refusals.Max = maxMemo, maxMemo
	if opts != nil {
		d.opts = *opts
	}
	d.rest = bbapi.Client{Now: d.opts.Now, Error: newAPIError}
	if d.opts.MaxFilePages <= 0 {
		d.opts.MaxFilePages = DefaultMaxFilePages
	}
	if d.opts.MaxDepth <= 0 {
		d.opts.MaxDepth = DefaultMaxDepth
	}
	if d.opts.MainBranchTTL == 0 {
		d.opts.MainBranchTTL = DefaultMainBranchTTL
	}
	if d.opts.ArchiveRefusalTTL == 0 {
		d.opts.ArchiveRefusalTTL = DefaultArchiveRefusalTTL
	}
	if d.opts.PageLen <= 0 || d.opts.PageLen > pageLen {
		d.opts.PageLen = pageLen
	}
	return d, nil
}

func (d *Driver) repoPath(r driver.Repo) string {
	return "/repositories/" + url.PathEscape(bbapi.Slug(r.Owner)) + "/" + url.PathEscape(bbapi.Slug(r.Name))
}

// call is one request to the API or the web host.
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
	return d.rest.Send(ctx, hc, &bbapi.Request{Method: c.method, URL: c.url, Body: c.body, ContentType: c.ctype, Header: c.header})
}

// getJSON makes a GET of rawURL and decodes the JSON answer into v.
func (d *Driver) getJSON(ctx context.Context, hc *http.Client, rawURL string, v any) error {
	return d.rest.JSON(ctx, hc, &bbapi.Request{Method: http.MethodGet, URL: rawURL}, v)
}

// ownsURL reports whether u is on the API base URL.
func (d *Driver) ownsURL(u string) bool { return strings.HasPrefix(u, d.api+"/") }

// pageURL is the URL of the page a listing's cursor names: first for the
// first page (""), otherwise the cursor, a next link Bitbucket gave, which
// must be on the API base URL, so that a cursor never sends the
// credential elsewhere.
func (d *Driver) pageURL(cursor, first string) (string, error) {
	switch {
	case cursor == "":
		return first, nil
	case !d.ownsURL(cursor):
		return "", errcode.Newf(errcode.InvalidArgument, "", "page cursor is not a Bitbucket Cloud API URL")
	}
	return cursor, nil
}
