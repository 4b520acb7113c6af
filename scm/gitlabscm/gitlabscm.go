// Package gitlabscm is scmkit's adapter for GitLab (gitlab.com and
// self-managed instances, also under a sub-path such as
// https://HOST/gitlab), built on gitlab.com/gitlab-org/api/client-go (the
// v1 line). Register it with the portable client: put Opener(nil) under
// integrations.GitLab in scm.Options.Drivers, as the package example
// (Example) does.
//
// Projects live in nested groups: a repository's Owner is the namespace
// path ("acme/platform/tools") and its Name the project path; the driver
// addresses projects by their URL-encoded full path
// ("acme%2Fplatform%2Ftools%2Frepo"), never by a looked-up numeric id.
//
// # Credentials and client-go
//
// The credential comes from the *http.Client the portable client passes to
// every method (credentials.Transport adds "Authorization: Bearer T", which
// GitLab accepts for personal, project, group and OAuth tokens). Every
// request of a call is sent with that *http.Client: the driver holds one
// client-go client whose transport hands each request to the *http.Client
// carried by the request's context (cheaper than a client-go client per
// call, which costs some 170 allocations). client-go's own machinery is
// switched off: no auth source (client-go's NewClient("") would send an
// empty PRIVATE-TOKEN header), no retries (client-go wraps
// go-retryablehttp with 5 retries of its own; scmkit's retry policy is the
// only one), a no-op rate limiter (client-go would otherwise configure a
// limiter from the first answer's RateLimit-Limit and then throttle), and
// no URL warning log (client-go logs to slog.Default). Building the client
// makes no request.
//
// Two client-go behaviours are worked around: GraphQL.Do posts to
// /api/graphql at the host's root, dropping a sub-path, so GraphQL requests
// are built here against BaseURL+"/api/graphql"; and client-go answers every
// 404 with the bare ErrNotFound sentinel and reads whole bodies, so file and
// archive downloads are sent directly (built by client-go, streamed, read
// with a cap, their 404 bodies kept).
//
// # Requests per operation
//
// Every count is of HTTP requests to the GitLab host, the physical limit
// being one request per fact:
//
//   - ReadFile: 1 (GET repository/files/:path/raw?ref=). A conditional
//     re-read is 1 request, answered 304 by an instance that honours
//     If-None-Match there. The ETag is the quoted blob id from
//     X-Gitlab-Blob-Id (it changes exactly when the content does), not
//     GitLab's own ETag header, which the driver does not rely on; a 200
//     whose blob id matches If-None-Match is reported NotModified too
//     (the body is not read), so conditional reads are right whether or
//     not the instance honours If-None-Match. The content is checked
//     against X-Gitlab-Content-Sha256.
//     A 404 File Not Found costs 1 more request (GET repository/tree) to
//     tell a directory (InvalidArgument) from a missing file (NotFound),
//     except for discovery without search (FindFiles reading each
//     project), which skips both alike, and for a read with
//     scm.ReadFileOptions.DirAsMissing: NotFound, without that request.
//   - ReadTree: 1 (GET repository/archive.tar.gz?sha=&path=, streamed; the
//     archive's top directory is "<project>-<ref>-<sha>[-<path>]" and the
//     files keep their full paths under it). GitLab cuts the directory out
//     on the server, so a folder costs its own compressed bytes, whatever
//     the rest of the repository holds: a 30 KiB template folder of 21
//     text files beside 20 or 40 MiB of other files is 1 request and
//     about 5.7 KB received (BenchmarkReadTreeBytes in scm/adapters).
//   - ListFiles (Search): 1 (GET repository/tree?recursive=true&path=, 100
//     entries, keyset); a longer listing is reported truncated and the
//     portable client reads the archive instead (2 requests in all).
//   - ListRepositories: 1 per page of 100 (GET groups/:group/projects with
//     include_subgroups=true and keyset pagination by id, following Link
//     rel="next", or X-Next-Page when the instance answers with offsets);
//     an owner that is a user costs one more request on the first page
//     (a 404 from groups/, then users/:user/projects).
//   - FindFiles (catalog discovery): 1 GraphQL query per 100 projects,
//     subgroups included, asking each project's default branch for the
//     file's blob id (namespace(fullPath){projects(includeSubgroups:true,
//     first:100){nodes{repository{rootRef blobs(paths:[...]){nodes{path
//     oid}}}}}}): 10 requests for 1,000 projects. By GitLab's complexity
//     rule as the fake models it (1 per field, a page of 100 doubling a
//     connection's cost) the query costs 43, under GitLab's limit of 250;
//     should an instance refuse a page as too complex, the page size is
//     halved (at most 3 times) and kept for the following pages. Each
//     project's fork flag comes from Project.isForked (GitLab 16.9); an
//     older instance refuses the field, and is asked again without it,
//     once per driver (its projects are then not reported as forks).
//   - OpenPullRequest: 1 GraphQL query (default branch, whether the source
//     branch exists, an open merge request from it (the project's own:
//     sourceProjectId = targetProjectId, as a fork's merge request from a
//     branch of the same name is listed too), and which changed paths
//     exist on the branch or the base, so that each change becomes a create
//     or update action without a request per file), 1 POST
//     repository/commits with actions[] (and start_branch when the branch
//     is new: GitLab creates the branch and the commit together), 1 POST
//     merge_requests: 3 requests for any number of files (text or binary).
//     Opening it again costs 1 request and changes nothing. A race that
//     opens the merge request first (409) costs 1 more request (GET
//     merge_requests?source_branch=&target_branch=&state=opened). The
//     query reads the newest 20 open merge requests from the branch; when
//     all 20 are forks' (from branches of the same name), it reads on, 100
//     at a time, until the project's own or the end, up to 10 more pages, and
//     refuses (Conflict) before any write past them, so that forks cannot
//     hide the project's own merge request; the 409 look-up pages on
//     likewise (up to 11 pages of 100).
//     Why a query rather than the alternatives: GitLab's commit actions
//     have no upsert, and a "create" of an existing file (or an "update"
//     of a missing one) fails the whole commit, so each Upsert must be
//     decided beforehand; a repository/tree listing would cost a request
//     per directory and per page of 100 entries, while blobs(paths:) on
//     both refs answers for up to 100 paths per field, all fields in the
//     same request. The same answer refuses, before anything is written,
//     a Create of an existing file, an Update or Delete of a missing one,
//     a missing base branch, and a source branch that is the default
//     branch (rootRef), whatever the base: InvalidArgument, with no
//     request more. When the merge request cannot be opened
//     after the commit, the error names the branch and the commit that
//     hold the changes.
//
// # Errors
//
// [Driver.ErrorInfo] is the one place where GitLab's answers become codes.
// GitLab's error bodies are {"message": "..."}, {"message": {...}} or
// {"message": [...]} and {"error": "..."}; client-go's *gitlab.ErrorResponse
// carries them. 304 is NotModified; 401 Unauthorized; 403 PermissionDenied
// (RateLimited when it is a rate limit: Retry-After, RateLimit-Remaining:
// 0 or a rate-limit message, as every HTTP client of scmkit sees it); 404
// (404 Project Not Found, 404 File Not Found, ...) NotFound, which may also
// mean a private project the credential cannot see; 409, and 400 or 422
// whose message says "already exists", AlreadyExists; 400 "has changed"
// Conflict; other 400, 405, 406, 413 and 422 InvalidArgument; 429
// RateLimited with RetryAt from Retry-After or RateLimit-Reset; 5xx
// Unavailable. GraphQL errors (answered 200) are classified by message.
package gitlabscm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scmkit/scmkit/scm/internal/ttlmemo"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// DefaultMaxResponseBytes is the default cap on a JSON answer: 64 MiB.
const DefaultMaxResponseBytes = 64 << 20

// DefaultNamespaceTTL is how long a driver remembers a namespace's numeric
// id for CreateRepository by default.
const DefaultNamespaceTTL = 10 * time.Minute

// maxErrorBytes caps the body of an error answer.
const maxErrorBytes = 1 << 20

// Options configures the GitLab driver. A nil *Options means the defaults.
type Options struct {
	// MaxResponseBytes caps each JSON answer (tree listings, project
	// pages, GraphQL results); a larger one fails with InvalidArgument.
	// 0 means DefaultMaxResponseBytes. File contents and archives are
	// capped by the portable client's limits instead.
	MaxResponseBytes int64
	// CommitAuthor, when set, is the author of the commits
	// OpenPullRequest makes (author_name, author_email). nil lets GitLab
	// use the credential's user.
	CommitAuthor *Signature
	// UserAgent is sent with every request; "" means "scmkit".
	UserAgent string
	// Now is the clock that turns Retry-After into RetryAt and ages the
	// remembered namespace ids; nil means time.Now.
	Now func() time.Time
	// NamespaceTTL is how long CreateRepository remembers the numeric id
	// of a namespace (group, subgroup or user) it looked up, so that the
	// next project created there skips the look-up: 2 requests instead of
	// 3. 0 means DefaultNamespaceTTL; a negative value turns the memory
	// off. The id is checked against the created project's namespace, and
	// forgotten when GitLab refuses it (see Driver.CreateRepository).
	NamespaceTTL time.Duration
}

// Signature names a commit author.
type Signature struct {
	Name  string
	Email string
}

// Driver is the GitLab driver for one integration. It implements
// driver.Driver and driver.FileFinder and is safe for concurrent use. The
// zero Driver is not usable; make one with [New] (or [Opener]).
type Driver struct {
	in           *integrations.Integration
	api          string   // REST API base URL, ending in /api/v4, no trailing slash
	graphqlURL   *url.URL // BaseURL + /api/graphql
	maxBody      int64
	author       *Signature
	userAgent    string
	now          func() time.Time
	gl           *gitlab.Client
	namespaces   ttlmemo.Memo[int64] // lower-case full path → namespace id, for namespaceTTL
	namespaceTTL time.Duration       // negative: none remembered
	// noIsForked is set once the instance refused Project.isForked
	// (older than GitLab 16.9): FindFiles stops asking for it.
	noIsForked atomic.Bool
}

var (
	_ driver.Driver     = (*Driver)(nil)
	_ driver.FileFinder = (*Driver)(nil)
)

// Opener returns a driver.Opener for GitLab integrations that opens
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

// New returns the driver for a GitLab integration. The REST API is at
// in.APIBaseURL, which must end in /api/v4 (https://gitlab.com/api/v4,
// https://HOST/gitlab/api/v4), and GraphQL beside it at /api/graphql.
func New(in *integrations.Integration, opts *Options) (*Driver, error) {
	const op = "gitlabscm.New"
	if in == nil || in.Kind != integrations.GitLab {
		return nil, errcode.New(errcode.InvalidArgument, op, "not a GitLab integration")
	}
	bad := func(format string, a ...any) error {
		return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: in.ConfigPath + ": " + fmt.Sprintf(format, a...)}
	}
	api := strings.TrimRight(in.APIBaseURL, "/")
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, bad("apiBaseUrl %q is not an http(s) URL", in.APIBaseURL)
	}
	prefix, ok := strings.CutSuffix(u.Path, "/api/v4")
	if !ok {
		return nil, bad("apiBaseUrl %q does not end in /api/v4 (e.g. https://%s/api/v4)", in.APIBaseURL, u.Host)
	}
	gql := *u
	gql.Path, gql.RawPath = prefix+"/api/graphql", ""
	d := &Driver{in: in, api: api, graphqlURL: &gql, maxBody: DefaultMaxResponseBytes, userAgent: "scmkit", now: time.Now}
	d.namespaces.Max, d.namespaceTTL = maxNamespaceIDs, DefaultNamespaceTTL
	if opts != nil {
		if opts.NamespaceTTL != 0 {
			d.namespaceTTL = opts.NamespaceTTL
		}
		if opts.MaxResponseBytes > 0 {
			d.maxBody = opts.MaxResponseBytes
		}
		if opts.CommitAuthor != nil {
			a := *opts.CommitAuthor
			d.author = &a
		}
		if opts.UserAgent != "" {
			d.userAgent = opts.UserAgent
		}
		if opts.Now != nil {
			d.now = opts.Now
		}
	}
	if d.gl, err = d.newClient(); err != nil {
		return nil, err
	}
	return d, nil
}

// noLimit is a rate limiter that never waits: scmkit's retry policy
// handles GitLab's limits.
type noLimit struct{}

func (noLimit) Wait(context.Context) error { return nil }

// newClient returns the driver's client-go client, with client-go's own
// auth, retries, rate limiter and logging switched off. Its requests go
// through callTransport, to the per-call *http.Client that bind puts in
// each request's context. It makes no request.
func (d *Driver) newClient() (*gitlab.Client, error) {
	hc := &http.Client{Transport: callTransport{},
		// The per-call client follows redirects with its own policy.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	gl, err := gitlab.NewAuthSourceClient(gitlab.Unauthenticated{},
		// First, so that a warning about the base URL is not written to
		// slog.Default by the option after it.
		gitlab.WithURLWarningLogger(slog.New(slog.DiscardHandler)),
		gitlab.WithHTTPClient(hc),
		gitlab.WithBaseURL(d.api),
		gitlab.WithoutRetries(),
		gitlab.WithCustomLimiter(noLimit{}),
		gitlab.WithUserAgent(d.userAgent),
	)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Provider: string(d.in.Kind), Host: d.in.Host,
			Msg: d.in.ConfigPath + ": cannot use apiBaseUrl " + d.api, Err: err}
	}
	return gl, nil
}

// hcKey is the context key of a call's *http.Client.
type hcKey struct{}

// bind returns ctx carrying hc (with JSON answers capped), for the
// client-go requests of one call. Building a client-go client per call
// would cost some 170 allocations; one shared client routed per call
// costs two.
func (d *Driver) bind(ctx context.Context, hc *http.Client) context.Context {
	return context.WithValue(ctx, hcKey{}, d.capped(hc))
}

// callTransport sends a client-go request with the *http.Client that
// bind put in its context, so every request of a call goes through the
// portable client's credential and retry policy.
type callTransport struct{}

func (callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	hc, _ := req.Context().Value(hcKey{}).(*http.Client)
	if hc == nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errcode.New(errcode.Unknown, "gitlabscm", "a request was made without the call's *http.Client")
	}
	resp, err := hc.Do(req)
	if err != nil {
		// http.Client.Do returns the last response with the error when it
		// gives up on redirects; a RoundTripper must return one or the
		// other, or client-go's http.Client writes "RoundTripper returned
		// a response & error" to the standard logger.
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		resp = nil
	} else if asksCaller(resp) != "" {
		// client-go's message would not say what the answer asks.
		return nil, responseError(resp)
	} else {
		dropBadLinks(resp.Header)
	}
	// The caller's http.Client wraps the error in *url.Error again.
	var ue *url.Error
	if errors.As(err, &ue) && err == error(ue) {
		err = ue.Err
	}
	return resp, err
}

// dropBadLinks removes from h's Link header the links client-go cannot
// parse: client-go (populateLinkValues) panics on a link whose first
// parameter has no "=" (`<u>; rel`, or a bare ";"), so a broken server or
// proxy would crash the caller. The links it can parse are kept as they
// are; with none, the header is removed.
func dropBadLinks(h http.Header) {
	link := h.Get("Link")
	if link == "" {
		return
	}
	var keep []string
	for l := range strings.SplitSeq(link, ",") {
		parts := strings.Split(l, ";")
		if len(parts) < 2 || strings.Contains(parts[1], "=") {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		h.Del("Link")
		return
	}
	h.Set("Link", strings.Join(keep, ","))
}

// capped returns a copy of hc whose JSON answers are capped at
// Options.MaxResponseBytes and error answers at maxErrorBytes; reading past
// a cap fails with InvalidArgument.
func (d *Driver) capped(hc *http.Client) *http.Client {
	return httpx.CapClient(hc, httpx.BodyCaps{JSON: d.maxBody, Error: maxErrorBytes, Setting: "gitlabscm.Options.MaxResponseBytes"})
}

// validSegment reports whether s can be one segment of a GitLab namespace
// or project path: GitLab allows letters, digits, '_', '-' and '.', not
// starting with '-' and not "." or "..".
func validSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func checkOwner(owner string) error {
	for _, seg := range strings.Split(owner, "/") {
		if !validSegment(seg) {
			return errcode.Newf(errcode.InvalidArgument, "", "%q is not a valid GitLab group or user path", owner)
		}
	}
	return nil
}

func checkRepo(r driver.Repo) error {
	if err := checkOwner(r.Owner); err != nil {
		return err
	}
	if !validSegment(r.Name) {
		return errcode.Newf(errcode.InvalidArgument, "", "%q is not a valid GitLab project path", r.Name)
	}
	return nil
}

// private reports whether a project's visibility keeps it from the
// public: "private" or "internal". An absent visibility is unknown, not
// private: GitLab leaves it out of the answer to an anonymous request
// (BasicProjectDetails), and a driver.Repository has no "unknown", so
// such a project is reported not Private rather than guessed private.
func private(visibility string) bool {
	return visibility == string(gitlab.PrivateVisibility) || visibility == string(gitlab.InternalVisibility)
}

// projectPath is the full path of a project, "group/subgroup/project".
func projectPath(r driver.Repo) string { return r.Owner + "/" + r.Name }

// projectAPI is the API path of a project, relative to the API base URL:
// "projects/" and the URL-encoded full path.
func projectAPI(r driver.Repo) string { return "projects/" + gitlab.PathEscape(projectPath(r)) }

// repository converts a client-go project.
func repository(p *gitlab.Project) driver.Repository {
	r := driver.Repository{Name: p.Path, DefaultBranch: p.DefaultBranch, WebURL: p.WebURL, CloneURL: p.HTTPURLToRepo,
		Private: private(string(p.Visibility)), Archived: p.Archived, Fork: p.ForkedFromProject != nil}
	if p.Namespace != nil {
		r.Owner = p.Namespace.FullPath
	}
	if i := strings.LastIndex(p.PathWithNamespace, "/"); r.Owner == "" && i > 0 {
		r.Owner = p.PathWithNamespace[:i]
	}
	return r
}
