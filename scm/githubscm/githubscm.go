// Package githubscm is scmkit's adapter for GitHub and GitHub Enterprise
// Server, built on github.com/google/go-github/v66. Register it with the
// portable client: put Opener(nil) under integrations.GitHub in
// scm.Options.Drivers, as the package example (Example) does.
//
// # Requests per operation
//
// Every count is of HTTP requests to the integration's API host, the
// physical limit being one request per fact:
//
//   - ReadFile: 1 (GET contents with the raw media type). A conditional
//     re-read with an ETag is 1 request answered 304, which GitHub does not
//     count against the rate limit. BlobID is the git blob id of the
//     content, computed locally. An anonymous read (no credential resolved)
//     on an integration with a rawBaseUrl (github.com's default is
//     https://raw.githubusercontent.com) is instead 1 request to the raw
//     host, none to the API, conditional in the same way; there a
//     directory path is NotFound (see [Driver.ReadFile]).
//   - ReadTree of a directory below the root: 1 GraphQL query (the
//     ref's commit, and the directory's entries four levels deep with
//     every file's text), one more per four further levels, so a folder
//     costs its own bytes whatever the rest of the repository holds: a
//     30 KiB template folder of 21 text files beside 20 or 40 MiB of other
//     files is 1 request and about 37 KB received (was the whole tarball,
//     21 or 42 MB; BenchmarkReadTreeBytes in scm/adapters). One binary
//     or truncated (over 512,000 bytes) file of up to 1 MiB is read as
//     its blob: 1 request more (GET git/blobs/{sha}). The tarball is read
//     instead, at the commit the query found, for more such files or a
//     larger one, a linked file, a submodule, more than 1,000 files or 4
//     MiB of answers, more than 16 levels, or a GraphQL refusal (see
//     [Driver.ReadTree]).
//   - ReadTree of the root, and the fall-back: 1 (GET tarball, answered
//     302) plus the download from the redirect's host
//     (codeload.github.com), which receives no credential
//     (it is another host; the archive link carries its own temporary
//     token for private repositories). The download is sent as a redirect
//     hop, so no other integration's credential goes with it either, and a
//     redirect from an https API to plain http is refused (see
//     [Driver.ReadTree]).
//   - ListFiles (Search): 1 (GET git/trees/{ref}?recursive=1; "HEAD" for the
//     default branch).
//   - ListRepositories: 1 per page of 100 (orgs/{o}/repos; an owner that is a
//     user costs two more requests on the first page, the organization
//     endpoint's 404 and GET /user, then user/repos?affiliation=owner with
//     her own credential, her private repositories included, or
//     users/{u}/repos, her public ones, with any other).
//   - FindFiles (catalog discovery): 1 GraphQL query per 100 repositories,
//     asking only for the blob id, never the text: 10 requests for 1,000
//     repositories.
//   - OpenPullRequest: 1 GraphQL query (the repository id, default branch
//     or base branch, commit and tree ids, whether the branch exists, an
//     open pull request from it, each changed path's type, blob id and
//     mode, and, when a base is given, the default branch's name: a branch
//     that is the default branch is InvalidArgument whatever the base,
//     refused after this query with nothing written), then 1 GraphQL mutation document: createRef (a missing
//     branch), createCommitOnBranch (expecting the head the query saw;
//     left out when the branch already holds exactly the changes) and
//     createPullRequest: 2 requests for any number of text or binary
//     files on a new branch, plus 1 more GraphQL query per 100 changed
//     paths beyond the first 100. On a branch that already exists without
//     a pull request, the pull request is a mutation of its own, sent once
//     the commit succeeded (3 requests): GraphQL runs a document's later
//     fields even when one fails, and a refused commit must not leave a
//     pull request without the changes. A push to the branch in between
//     restarts the flow once. The headline of the commit is the message's
//     first non-blank line (the title when it has none).
//     Opening the same pull request again costs 1 request and changes
//     nothing. An archived repository (GitHub refuses every write to it)
//     is PermissionDenied after the query, with nothing sent to write,
//     unless the pull request is already open. createCommitOnBranch writes plain files (mode 100644) as
//     the credential's identity, so an executable file, a change to an
//     existing executable file or symlink, and Options.CommitAuthor take
//     the REST Git Data path instead: POST git/trees (text inline), POST
//     git/commits, POST git/refs (or PATCH) and POST pulls, 5 requests plus
//     1 POST git/blobs per binary file; so does a GitHub Enterprise Server
//     whose schema lacks the mutations (after its refusal: 1 more).
//   - CreateRepository: 3 for a tree of any size up to the client's
//     limits, binary and executable files included (was 4, plus 1 per
//     binary file): POST orgs/{org}/repos creates the repository empty,
//     then git's smart HTTP protocol pushes one root commit holding the
//     whole tree, GET {owner}/{repo}.git/info/refs?service=git-receive-pack
//     and POST {owner}/{repo}.git/git-receive-pack on the web host, with
//     the credential as Basic x-access-token (GitHub's git endpoints refuse
//     Bearer). The branch pushed first becomes the default, so another
//     default branch costs nothing; topics cost 1 more, each access grant
//     1 more, and an owner that is a user 2 more (the organization
//     endpoint's 404, and GET /user). See [Driver.CreateRepository].
//
// # Errors
//
// [Driver.ErrorInfo] is the one place where GitHub's answers become codes,
// by the table every HTTP client of scmkit uses: 400 is InvalidArgument;
// 401 is Unauthorized (its message says so when GitHub asks for a
// one-time password, X-GitHub-OTP); a 429, or a 403 with Retry-After or
// X-RateLimit-Remaining: 0 or a secondary-limit message, is RateLimited
// with RetryAt from Retry-After, else X-RateLimit-Reset (when no requests
// remain), else one minute on for a secondary limit, as GitHub advises;
// a 403 with the error code too_large (a file over the contents API's
// 100 MB) is InvalidArgument, as a file over the portable client's limit
// is; any other 403 is PermissionDenied; 404 is NotFound, which may also mean a private
// repository the credential cannot see (GitHub does not tell them apart);
// 409 is Conflict; 422 "already exists" is AlreadyExists, "not a fast
// forward" is Conflict, any other 422 is InvalidArgument; 304 is
// NotModified; 5xx is Unavailable.
//
// Error messages never carry a credential: URLs in errors lose the query
// parameters that may hold one (the archive link's token).
package githubscm

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// DefaultMaxResponseBytes is the default cap on a JSON answer: 64 MiB
// (GitHub's recursive tree listing is at most 7 MB).
const DefaultMaxResponseBytes = 64 << 20

// maxErrorBytes caps the body of an error answer, as go-github does.
const maxErrorBytes = 1 << 20

// Options configures the GitHub driver. A nil *Options means the defaults.
type Options struct {
	// MaxResponseBytes caps each JSON answer (tree listings, repository
	// pages, GraphQL results); a larger one fails with InvalidArgument.
	// 0 means DefaultMaxResponseBytes. File contents are capped by the
	// portable client's limits instead.
	MaxResponseBytes int64
	// CommitAuthor, when set, is the author and committer of the commits
	// OpenPullRequest makes. nil lets GitHub use the credential's
	// identity (the user, or the GitHub App's bot). GraphQL's
	// createCommitOnBranch cannot name an author: with CommitAuthor set,
	// OpenPullRequest commits through REST Git Data (5 requests, not 2).
	// CreateRepository pushes its initial commit with git, which must
	// name an author: CommitAuthor, or "scmkit <scmkit@scmkit.invalid>"
	// when nil. New refuses a name or email holding '<', '>', a newline or
	// a NUL byte (InvalidArgument): git refuses such a commit.
	CommitAuthor *Signature
	// UserAgent is sent with every request; "" means "scmkit".
	UserAgent string
	// Now is the clock that turns Retry-After into RetryAt, and dates the
	// initial commit CreateRepository pushes (its author and committer
	// time); nil means time.Now.
	Now func() time.Time
}

// Signature names a commit author.
type Signature struct {
	Name  string
	Email string
}

// Driver is the GitHub driver for one integration. It implements
// driver.Driver and driver.FileFinder and is safe for concurrent use. The
// zero Driver is not usable; make one with [New] (or [Opener]).
type Driver struct {
	in         *integrations.Integration
	base       *url.URL // API base URL with a trailing slash
	upload     *url.URL
	graphqlURL string
	maxBody    int64
	author     *Signature
	userAgent  string
	now        func() time.Time
}

// needAPI fails when the integration has no apiBaseUrl (raw reads only).
func (d *Driver) needAPI() error {
	if d.base != nil {
		return nil
	}
	return &errcode.Error{Code: errcode.InvalidArgument, Provider: string(d.in.Kind), Host: d.in.Host,
		Msg: d.in.ConfigPath + " has no apiBaseUrl, so only file reads through rawBaseUrl work: set apiBaseUrl (for GitHub Enterprise Server usually https://" + d.in.Host + "/api/v3) to use the GitHub API"}
}

var (
	_ driver.Driver     = (*Driver)(nil)
	_ driver.FileFinder = (*Driver)(nil)
)

// Opener returns a driver.Opener for GitHub integrations that opens
// drivers with opts (nil means the defaults).
func Opener(opts *Options) driver.Opener {
	return func(in *integrations.Integration) (driver.Driver, error) {
		d, err := New(in, opts)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
}

// New returns the driver for a GitHub integration. The REST API is at
// in.APIBaseURL (https://api.github.com, or https://HOST/api/v3 for GitHub
// Enterprise Server) and GraphQL beside it (https://api.github.com/graphql,
// https://HOST/api/graphql).
func New(in *integrations.Integration, opts *Options) (*Driver, error) {
	const op = "githubscm.New"
	if in == nil || in.Kind != integrations.GitHub {
		return nil, errcode.New(errcode.InvalidArgument, op, "not a GitHub integration")
	}
	if in.APIBaseURL == "" {
		if in.RawBaseURL != "" {
			// A GitHub Enterprise entry with rawBaseUrl only, as Backstage
			// allows: file reads go to the raw host; every other call
			// fails, saying to set apiBaseUrl.
			return &Driver{in: in, maxBody: DefaultMaxResponseBytes, userAgent: "scmkit", now: time.Now}, nil
		}
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: in.ConfigPath + ": apiBaseUrl is required to use the GitHub API"}
	}
	base, err := url.Parse(strings.TrimRight(in.APIBaseURL, "/") + "/")
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil || base.RawQuery != "" {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: fmt.Sprintf("%s: apiBaseUrl %q is not an http(s) URL", in.ConfigPath, in.APIBaseURL)}
	}
	d := &Driver{in: in, base: base, maxBody: DefaultMaxResponseBytes, userAgent: "scmkit", now: time.Now}
	if opts != nil {
		if opts.MaxResponseBytes > 0 {
			d.maxBody = opts.MaxResponseBytes
		}
		if opts.CommitAuthor != nil {
			a := *opts.CommitAuthor
			if strings.ContainsAny(a.Name, "<>\n\x00") || strings.ContainsAny(a.Email, "<>\n\x00") {
				return nil, errcode.Newf(errcode.InvalidArgument, op,
					"Options.CommitAuthor (name %q, email %q): a name or email with '<', '>', a newline or a NUL byte makes a commit git refuses", a.Name, a.Email)
			}
			d.author = &a
		}
		if opts.UserAgent != "" {
			d.userAgent = opts.UserAgent
		}
		if opts.Now != nil {
			d.now = opts.Now
		}
	}
	// GitHub Enterprise Server: https://HOST/api/v3/ → /api/graphql and
	// /api/uploads/; github.com: api.github.com/graphql and
	// uploads.github.com.
	up := *base
	switch prefix, ok := strings.CutSuffix(base.Path, "/api/v3/"); {
	case ok:
		d.graphqlURL = base.Scheme + "://" + base.Host + prefix + "/api/graphql"
		up.Path = prefix + "/api/uploads/"
	default:
		d.graphqlURL = strings.TrimSuffix(base.String(), "/") + "/graphql"
		if base.Host == "api.github.com" {
			up.Host = "uploads.github.com"
		}
	}
	d.upload = &up
	return d, nil
}

// client returns a go-github client for one call, sending every request
// through hc (which attaches credentials and retries) with answers capped
// in size. It is cheap: no request is made.
func (d *Driver) client(hc *http.Client) *github.Client {
	gh := github.NewClient(d.capped(hc))
	gh.BaseURL, gh.UploadURL, gh.UserAgent = d.base, d.upload, d.userAgent
	return gh
}

// capped returns a copy of hc whose JSON answers are capped at
// Options.MaxResponseBytes and error answers at maxErrorBytes; reading past
// a cap fails with InvalidArgument.
func (d *Driver) capped(hc *http.Client) *http.Client {
	return httpx.CapClient(hc, httpx.BodyCaps{JSON: d.maxBody, Error: maxErrorBytes, Setting: "githubscm.Options.MaxResponseBytes"})
}

// validName reports whether s can be a GitHub owner or repository name
// in a URL path: letters, digits, '-', '_' and '.', and not "." or "..".
func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func checkRepo(r driver.Repo) error {
	if !validName(r.Owner) || !validName(r.Name) {
		return errcode.Newf(errcode.InvalidArgument, "", "%q/%q is not a valid GitHub repository name", r.Owner, r.Name)
	}
	return nil
}

func checkOwner(owner string) error {
	if !validName(owner) {
		return errcode.Newf(errcode.InvalidArgument, "", "%q is not a valid GitHub owner", owner)
	}
	return nil
}

// repoPath is the API path of a repository, relative to the base URL.
func repoPath(r driver.Repo) string { return "repos/" + r.Owner + "/" + r.Name }
