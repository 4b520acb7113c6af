// Package fakegithub is a stateful fake of the GitHub REST and GraphQL
// APIs, for tests: an httptest server that answers GitHub's real paths with
// GitHub's bodies and headers (ETag, X-RateLimit-*, Link, Location, content
// types, error bodies), modelled on recorded traffic (octokit/fixtures) and
// GitHub's OpenAPI examples.
//
// The fake holds repositories with real git objects (blob, tree and commit
// ids are git's own hashes), branches and pull requests. It serves the API
// both at the root of its URL (the github.com shape, [Server.APIBaseURL])
// and under /api/v3 (GitHub Enterprise, [Server.GHEAPIBaseURL]), GraphQL at
// /graphql and /api/graphql. Tarball downloads redirect to a second host,
// "download" (codeload.github.com); a third, "raw", serves files as
// raw.githubusercontent.com does ([Server.RawBaseURL]). A renamed or
// transferred repository ([Server.RenameRepo]) answers its old name with
// 301 Moved Permanently to /repositories/{id}/..., as GitHub does.
//
// GraphQL queries are validated against GitHub's published schema (a
// subset, github-schema.graphql; GitHub Enterprise Server's with
// Options.EnterpriseServer) and refused as GitHub refuses them, with
// its pagination and node limits; they read repositories, git objects,
// refs, pull requests, and the organisations' members and teams seeded
// with [Server.AddOrgMember] and [Server.AddTeam].
//
// GitHub Apps: [Server.AddApp] registers an app by its public key and
// [Server.AddInstallation] installs it on an account. The app endpoints
// check the app's RS256 JWT as GitHub does; the installation tokens they
// mint are accepted by every other endpoint, limited to the installation's
// account, repositories and permissions, until they expire an hour later.
// OAuth apps and users ([Server.AddOAuthApp]) sign users in.
//
// The fake checks the Authorization header against Options.Tokens (a bad
// token gets GitHub's 401) and records every request ([fake.Request]). It
// answers the faults injected with Inject ([fake.Fault]; Host "" is the
// API, or "download" or "raw"; Path is relative to the API root, GraphQL's
// is "/graphql") as GitHub does:
//
//	FaultUnauthorized                    401 {"message":"Bad credentials"}
//	FaultNotFound                        404 {"message":"Not Found"}
//	FaultUnprocessable                   422 Validation Failed with one error
//	FaultRateLimit                       403 (or Status 429), X-RateLimit-Remaining 0, X-RateLimit-Reset RetryAfter (1 h) from now
//	FaultSecondaryRateLimit              403 (or Status 429), Retry-After RetryAfter (60 s), the secondary-limit message and doc URL
//	FaultSecondaryRateLimitNoRetryAfter  the same without Retry-After; X-RateLimit-Remaining stays above 0
//	FaultTooManyRequests                 429 with Retry-After RetryAfter (60 s)
//	FaultTooManyRequestsNoRetryAfter     429 without Retry-After
//	FaultRateLimitResetOnly              as FaultTooManyRequestsNoRetryAfter (GitHub has no reset-only 429)
//	FaultServerError                     Status (500); 502, 503 and 504 as the front end's HTML page
//	FaultEchoCredentials                 Status (400) quoting the credentials; 500 and above as a proxy's page
//	FaultSlow, FaultTruncatedBody,
//	FaultLostAnswer                      as [fake.Kit] does
//	FaultOpenPullRequest                 not answered (the conformance harness maps it to FaultServerError on POST .../pulls)
package fakegithub

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitrecv"
	"github.com/scmkit/scmkit/scm/scmtest/internal/oauthsrv"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// Options configures a Server. A nil *Options means the defaults.
type Options struct {
	// Tokens are the credentials the fake accepts, sent as
	// "Authorization: Bearer T" or "token T". Any other Authorization
	// header gets 401 Bad credentials. Requests without one are
	// anonymous: they see public repositories only, cannot write, and
	// GraphQL refuses them. When Tokens is empty, every request is
	// treated as authenticated. Installation tokens minted by the fake's
	// GitHub Apps (see [Server.AddApp]) are accepted in addition, within
	// their installation's limits, until they expire.
	Tokens []string
	// TreeLimit, when > 0, is the number of entries after which a
	// recursive GET git/trees answers truncated: true (GitHub's limit is
	// 100,000 entries or 7 MB).
	TreeLimit int
	// ContentsLimit, when > 0, replaces GitHub's 100 MB: GET contents
	// refuses a larger file with 403 and the error code too_large, in
	// every media type; from a hundredth of it (GitHub's 1 MB), the JSON
	// media type refuses the file too and the object one answers it
	// without content (encoding "none").
	ContentsLimit int
	// BlobETags makes GET contents in the raw media type answer the
	// file's git blob id, quoted, as its ETag, whoever asks, as the
	// recorded answer of 2022 does (octokit-fixtures get-content). By
	// default every ETag depends on the request's Authorization, as
	// GitHub support describes its API ("It's currently expected for
	// ETags to be auth token specific", eclipse-csi/otterdog issue #201,
	// 2024): an If-None-Match carrying another token's ETag is answered
	// 200, counted. Last-Modified and If-Modified-Since do not depend on
	// the token either way.
	BlobETags bool
	// Now is the fake's clock; nil means time.Now. It dates commits and
	// the rate-limit headers.
	Now func() time.Time
	// User is the login of the authenticated user, used as the author of
	// commits and pull requests; default "fake-user".
	User string
	// EnterpriseServer makes GraphQL GitHub Enterprise Server's: its
	// schema has User.suspendedAt ([Server.SuspendUser]), which
	// github.com's refuses.
	EnterpriseServer bool
}

// OwnerType says whether an owner is an organization or a user.
type OwnerType string

// The owner types, as GitHub spells them.
const (
	Organization OwnerType = "Organization"
	User         OwnerType = "User"
)

// Repo describes a repository to seed with [Server.AddRepo].
type Repo struct {
	Owner string
	Name  string
	// DefaultBranch defaults to "main".
	DefaultBranch string
	Description   string
	Private       bool
	Archived      bool
	Fork          bool
	// Files are committed on DefaultBranch as one commit. With no files
	// the repository is empty: it has no branch and no commit.
	Files []File
}

// File is a file of a seeded repository or commit.
type File struct {
	Path       string
	Content    []byte
	Executable bool
	// Symlink makes the file a symbolic link whose target is Content.
	Symlink bool
}

// Commit describes a commit to add with [Server.Commit].
type Commit struct {
	Message string
	Files   []File   // written (created or replaced)
	Delete  []string // removed
}

// CommitInfo describes a commit.
type CommitInfo struct {
	SHA     string
	Tree    string
	Parents []string
	Message string
}

// Pull describes a pull request.
type Pull struct {
	Number  int
	Title   string
	Body    string
	Head    string // branch name
	Base    string // branch name
	HeadSHA string
	Draft   bool
	State   string // "open" or "closed"
	URL     string // web URL
}

// Stats counts requests.
type Stats struct {
	// API counts requests to the API host (REST and GraphQL), those
	// answered 304 Not Modified included.
	API int
	// NotModified counts API and raw-content requests answered 304.
	NotModified int
	// Download counts requests to the download host.
	Download int
	// Raw counts requests to the raw-content host, those answered 304
	// Not Modified included.
	Raw int
	// Routes counts API, download and raw-content requests per route
	// (raw-content requests under "GET /{owner}/{repo}/{ref}/{path...}").
	Routes map[string]int
	// Unrouted counts requests that matched no route (answered 404).
	Unrouted int
	// BlobTexts counts GraphQL Blob.text fields answered (file contents
	// downloaded through GraphQL).
	BlobTexts int
}

// Server is a fake GitHub. Its methods are safe for concurrent use.
type Server struct {
	opts               Options
	api, download, raw *httptest.Server

	site          *repostore.Site[Stats]     // the repositories, servers and request log; its mutex guards the world
	moved         map[string]*repostore.Repo // by old lower-case "owner/name"
	nextID        int64
	downloadToken map[string]string // temporary token → repository key
	apps          map[int64]*app
	installs      map[int64]*installation  // by installation id
	instTokens    map[string]*installToken // minted installation tokens
	oauthSt       oauthsrv.Lazy[OAuthUser] // sign-in endpoints (oauth.go)
	prFail        prFailure                // FailPullRequestMutation (mutation.go)

	fake.Kit[Stats] // Inject, ClearFaults, Requests, RequestsTo, ResetStats

	org    orgWorld    // organisation members and teams (org.go)
	access accessWorld // repository grants (access.go)
	push   pushWorld   // rules that refuse pushes (gitpush.go)

	rateMu sync.Mutex
	rate   rateState
}

// New starts a fake GitHub. Call Close when done.
func New(opts *Options) *Server {
	s := &Server{
		moved:         map[string]*repostore.Repo{},
		downloadToken: map[string]string{},
		apps:          map[int64]*app{},
		installs:      map[int64]*installation{},
		instTokens:    map[string]*installToken{},
		nextID:        1000,
	}
	if opts != nil {
		s.opts = *opts
		s.opts.Tokens = slices.Clone(opts.Tokens)
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	s.opts.User = cmp.Or(s.opts.User, "fake-user")
	s.site, s.Kit = repostore.NewSite[Stats]("fakegithub", s.now, s.opts.User, s.answer, make(chan struct{}))
	s.site.IDs = func() int { return int(s.newID()) }
	s.site.Count = func(st *Stats, host string) {
		switch host {
		case "download":
			st.Download++
		case "raw":
			st.Raw++
		default:
			st.API++
		}
	}
	s.api, s.download, s.raw = s.site.Start(s.apiHandler()), s.site.Start(s.downloadHandler()), s.site.Start(s.rawHandler())
	return s
}

// Close shuts the servers down, ending slow answers at once.
func (s *Server) Close() { s.site.Close() }

// URL returns the web base URL, e.g. "http://127.0.0.1:1234" (html_url
// values start with it).
func (s *Server) URL() string { return s.api.URL }

// Host returns the host (and port) of the API and web server.
func (s *Server) Host() string { return strings.TrimPrefix(s.api.URL, "http://") }

// APIBaseURL returns the API base URL in github.com's shape: the server's
// root, without a trailing slash.
func (s *Server) APIBaseURL() string { return s.api.URL }

// GHEAPIBaseURL returns the API base URL in GitHub Enterprise's shape,
// URL()+"/api/v3".
func (s *Server) GHEAPIBaseURL() string { return s.api.URL + "/api/v3" }

// RawBaseURL returns the base URL of the raw-content host (the
// raw.githubusercontent.com stand-in), a different host from the API and
// the download host, without a trailing slash: the value for an
// integration's rawBaseUrl.
func (s *Server) RawBaseURL() string { return s.raw.URL }

// Client returns an *http.Client for the servers, with no credential.
func (s *Server) Client() *http.Client { return s.api.Client() }

func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Second) }

func key(a, b string) string { return strings.ToLower(a) + "/" + strings.ToLower(b) }

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

// AddOwner creates an owner (organization or user) with no repository; it
// is a no-op when the owner exists.
func (s *Server) AddOwner(login string, typ OwnerType) {
	s.site.Lock()
	defer s.site.Unlock()
	s.ownerLocked(login, typ)
}

func (s *Server) ownerLocked(login string, typ OwnerType) *repostore.Owner {
	o := s.site.Owner(login, "")
	o.Type = cmp.Or(o.Type, string(typ))
	return o
}

// repoLocked returns the repository owner/name, or nil.
func (s *Server) repoLocked(owner, name string) *repostore.Repo {
	rp, _ := s.site.Repo(owner, name)
	return rp
}

// reposOf returns o's repositories in creation order.
func reposOf(o *repostore.Owner) []*repostore.Repo {
	return slices.SortedFunc(maps.Values(o.Repos), func(a, b *repostore.Repo) int { return a.ID - b.ID })
}

// AddRepo creates a repository, its owner (an organization) if needed,
// and, when r.Files is not empty, one commit on the default branch. It
// returns that commit's id ("" for an empty repository).
func (s *Server) AddRepo(r Repo) (string, error) {
	if r.Owner == "" || r.Name == "" {
		return "", errors.New("fakegithub: AddRepo: owner and name are required")
	}
	s.site.Lock()
	defer s.site.Unlock()
	rp, err := s.createLocked(s.ownerLocked(r.Owner, Organization), repostore.Repo{Slug: r.Name, Description: r.Description,
		Public: !r.Private, Archived: r.Archived, Fork: r.Fork, DefaultBranch: r.DefaultBranch})
	if err != nil || len(r.Files) == 0 {
		return "", err
	}
	id, err := s.commitLocked(rp, rp.DefaultBranch, Commit{Message: "Initial commit", Files: r.Files})
	if err != nil {
		delete(rp.Owner.Repos, strings.ToLower(rp.Slug)) // bad files add no repository
	}
	return id, err
}

// createLocked adds the empty repository rp to o.
func (s *Server) createLocked(o *repostore.Owner, rp repostore.Repo) (*repostore.Repo, error) {
	if s.repoLocked(o.Key, rp.Slug) != nil {
		return nil, fmt.Errorf("fakegithub: AddRepo: %s/%s exists", o.Key, rp.Slug)
	}
	n, err := s.site.Create(o, rp)
	if err == nil {
		n.Objects = gitobj.Store{}
	}
	return n, err
}

// AddFS is AddRepo with the files of fsys (executable when any execute
// bit is set).
func (s *Server) AddFS(r Repo, fsys fs.FS) (string, error) {
	files, err := fake.ReadFS(fsys, false)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		r.Files = append(r.Files, File{Path: f.Path, Content: f.Content, Executable: f.Executable})
	}
	return s.AddRepo(r)
}

// Commit adds a commit on branch (created from the default branch when
// missing) and returns its id.
func (s *Server) Commit(owner, name, branch string, c Commit) (string, error) {
	s.site.Lock()
	defer s.site.Unlock()
	rp, err := s.site.Repo(owner, name)
	if err != nil {
		return "", err
	}
	return s.commitLocked(rp, branch, c)
}

// commitLocked commits c, by Options.User, on branch (created from the
// default branch when missing).
func (s *Server) commitLocked(rp *repostore.Repo, branch string, c Commit) (string, error) {
	base := rp.Commits[cmp.Or(rp.Branches[branch], rp.Branches[rp.DefaultBranch])]
	files := map[string]gitobj.FlatEntry{}
	if base != nil {
		files = rp.Objects.Flatten(base.Git.Tree)
	}
	for _, f := range c.Files {
		if !validTreePath(f.Path) {
			return "", fmt.Errorf("fakegithub: invalid path %q", f.Path)
		}
		mode := gitobj.ModeFile
		switch {
		case f.Symlink:
			mode = gitobj.ModeSymlink
		case f.Executable:
			mode = gitobj.ModeExec
		}
		files[f.Path] = gitobj.FlatEntry{Mode: mode, SHA: rp.Objects.PutBlob(f.Content)}
	}
	for _, p := range c.Delete {
		if _, ok := files[p]; !ok {
			return "", fmt.Errorf("fakegithub: delete %q: no such file", p)
		}
		delete(files, p)
	}
	sig := s.signature(s.opts.User)
	gc := &gitobj.Commit{Tree: rp.Objects.WriteFlat(files), Message: cmp.Or(c.Message, "Update"), Author: sig, Committer: sig}
	if base != nil {
		gc.Parents = []string{base.ID}
	}
	return gitrecv.PutCommit(&s.site.Store, rp, "refs/heads/"+branch, gc, ""), nil
}

// CreateBranch points a new branch at the commit ref resolves to.
func (s *Server) CreateBranch(owner, name, branch, ref string) (string, error) {
	s.site.Lock()
	defer s.site.Unlock()
	rp, c, err := s.resolveLocked(owner, name, ref)
	if err != nil {
		return "", err
	}
	rp.Branches[branch] = c.ID
	return c.ID, nil
}

// resolveLocked returns the repository owner/name and the commit ref
// resolves to in it.
func (s *Server) resolveLocked(owner, name, ref string) (*repostore.Repo, *repostore.Commit, error) {
	rp, err := s.site.Repo(owner, name)
	if err != nil {
		return nil, nil, err
	}
	if c := rp.Resolve(ref); c != nil {
		return rp, c, nil
	}
	return nil, nil, fmt.Errorf("fakegithub: no ref %q in %s/%s", ref, owner, name)
}

// RenameRepo renames the repository owner/name to newOwner/newName (a
// transfer when the owner changes, to an organisation created if needed).
// As on GitHub, the old name then redirects to the repository (see
// [Server.APIBaseURL]'s /repositories/{id}) until a repository takes it.
func (s *Server) RenameRepo(owner, name, newOwner, newName string) error {
	s.site.Lock()
	defer s.site.Unlock()
	rp, err := s.site.Repo(owner, name)
	if err != nil {
		return err
	}
	if s.repoLocked(newOwner, newName) != nil {
		return fmt.Errorf("fakegithub: RenameRepo: %s/%s exists", newOwner, newName)
	}
	delete(rp.Owner.Repos, strings.ToLower(name))
	rp.Owner, rp.Slug, rp.Name = s.ownerLocked(newOwner, Organization), newName, newName
	rp.Owner.Repos[strings.ToLower(newName)] = rp
	s.moved[key(owner, name)] = rp
	return nil
}

// withCommit runs fn, with the store locked, on the commit ref resolves
// to in owner/name.
func (s *Server) withCommit(owner, name, ref string, fn func(c *repostore.Commit)) error {
	s.site.Lock()
	defer s.site.Unlock()
	_, c, err := s.resolveLocked(owner, name, ref)
	if err == nil {
		fn(c)
	}
	return err
}

// Ref returns the commit id a branch, tag, full ref name or commit id
// resolves to ("" or "HEAD" is the default branch).
func (s *Server) Ref(owner, name, ref string) (id string, ok bool) {
	ok = s.withCommit(owner, name, ref, func(c *repostore.Commit) { id = c.ID }) == nil
	return id, ok
}

// GetCommit describes the commit ref resolves to.
func (s *Server) GetCommit(owner, name, ref string) (ci CommitInfo, ok bool) {
	ok = s.withCommit(owner, name, ref, func(c *repostore.Commit) {
		ci = CommitInfo{SHA: c.ID, Tree: c.Git.Tree, Parents: slices.Clone(c.Parents), Message: c.Message}
	}) == nil
	return ci, ok
}

// Files returns every file at ref, sorted by path.
func (s *Server) Files(owner, name, ref string) (out []File, err error) {
	err = s.withCommit(owner, name, ref, func(c *repostore.Commit) {
		out = make([]File, 0, len(c.Files))
		for _, p := range slices.Sorted(maps.Keys(c.Files)) {
			e := c.Files[p]
			out = append(out, File{Path: p, Content: e.Content, Executable: e.Exec, Symlink: e.Special == gitobj.ModeSymlink})
		}
	})
	return out, err
}

// Pulls returns a repository's pull requests in creation order.
func (s *Server) Pulls(owner, name string) []Pull {
	s.site.Lock()
	defer s.site.Unlock()
	rp := s.repoLocked(owner, name)
	if rp == nil {
		return nil
	}
	out := make([]Pull, 0, len(rp.Pulls))
	for _, p := range rp.Pulls {
		out = append(out, Pull{Number: p.ID, Title: p.Title, Body: p.Description, Head: p.From, Base: p.To,
			HeadSHA: rp.Branches[p.From], Draft: p.Draft, State: "open",
			URL: s.api.URL + "/" + rp.Owner.Key + "/" + rp.Slug + "/pull/" + strconv.Itoa(p.ID)})
	}
	return out
}

// Stats returns the request counts.
func (s *Server) Stats() Stats {
	st, routes, unrouted := s.site.Core.Log().Stats()
	st.Routes, st.Unrouted = routes, unrouted
	return st
}

// ---- request plumbing ----

// caller is what the fake knows of a request: the API path prefix the
// client used ("", "/api/v3", or "/api" for GraphQL), whether it is
// authenticated, and the installation token it carries, if any.
type caller struct {
	prefix string
	authed bool
	token  *installToken
}

type callerKey struct{}

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

func withCaller(r *http.Request, c caller) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
}

func authenticated(r *http.Request) bool { return callerOf(r).authed }

func tokenOf(r *http.Request) *installToken { return callerOf(r).token }

// apiURL is the API base URL as the client used it.
func apiURL(r *http.Request) string { return "http://" + r.Host + callerOf(r).prefix }

// docREST is the documentation URL of GitHub's generic errors.
const docREST = "https://docs.github.com/rest"

func (s *Server) apiHandler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.site.Record(r, "api", "")
		s.writeError(w, r, http.StatusNotFound, "Not Found", docREST)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		prefix := ""
		switch p := r.URL.Path; {
		case p == "/api/graphql":
			prefix, r.URL.Path, r.URL.RawPath = "/api", "/graphql", ""
		case p == "/api/v3" || strings.HasPrefix(p, "/api/v3/"):
			prefix = "/api/v3"
			r.URL.Path = cmp.Or(strings.TrimPrefix(p, prefix), "/")
			r.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, prefix)
		}
		// /repositories/{id}/... is the repository with that id, where a
		// renamed repository's old name redirects.
		if rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/repositories/"); ok {
			id, tail, _ := strings.Cut(rest, "/")
			if rp := s.repoByID(id); rp != nil {
				p := strings.TrimSuffix("/repos/"+url.PathEscape(rp.Owner.Key)+"/"+url.PathEscape(rp.Slug)+"/"+tail, "/")
				r.URL.RawPath = p
				r.URL.Path, _ = url.PathUnescape(p)
			}
		}
		mux.ServeHTTP(w, withCaller(r, caller{prefix: prefix}))
	})
}

func (s *Server) repoByID(id string) *repostore.Repo {
	s.site.Lock()
	defer s.site.Unlock()
	return s.findRepo(func(rp *repostore.Repo) bool { return strconv.Itoa(rp.ID) == id })
}

// findRepo returns the repository that match matches, or nil.
func (s *Server) findRepo(match func(*repostore.Repo) bool) *repostore.Repo {
	for _, o := range s.site.Owners() {
		for _, rp := range o.Repos {
			if match(rp) {
				return rp
			}
		}
	}
	return nil
}

// handle registers an API route wrapped with recording, faults and the
// check of a token (Options.Tokens or an installation token).
func (s *Server) handle(mux *http.ServeMux, pattern string, fn http.HandlerFunc) {
	s.site.Route(mux, pattern, func(w http.ResponseWriter, r *http.Request) {
		r, good := s.authorize(r)
		c := callerOf(r)
		switch {
		case !good:
			s.writeError(w, r, http.StatusUnauthorized, "Bad credentials", docREST)
		case r.Method != http.MethodGet && r.Method != http.MethodHead && !c.authed:
			s.writeError(w, r, http.StatusUnauthorized, "Requires authentication", docREST)
		case c.token != nil && !s.integrationAllowed(r, pattern, c.token):
			s.writeError(w, r, http.StatusForbidden, msgNotAccessible, docREST)
		case !s.redirectMoved(w, r):
			fn(w, r)
		}
	})
}

// authorize returns r carrying its caller's credential (see checkAuth),
// and false when its Authorization header is not acceptable.
func (s *Server) authorize(r *http.Request) (*http.Request, bool) {
	c := callerOf(r)
	authed, good, it := s.checkAuth(r)
	c.authed, c.token = authed, it
	return withCaller(r, c), good
}

// redirectMoved answers a request for a repository by a name it no
// longer has (see RenameRepo) as GitHub does: 301 Moved Permanently (307
// for a method other than GET and HEAD, to be repeated as is) to the same
// path under /repositories/{id}.
func (s *Server) redirectMoved(w http.ResponseWriter, r *http.Request) bool {
	owner, name := r.PathValue("owner"), r.PathValue("repo")
	s.site.Lock()
	rp, taken := s.moved[key(owner, name)], s.repoLocked(owner, name) != nil
	s.site.Unlock()
	if name == "" || rp == nil || taken || !canSee(r, rp) {
		return false
	}
	parts := strings.SplitN(r.URL.EscapedPath(), "/", 5) // "", "repos", owner, repo, tail
	loc := apiURL(r) + "/repositories/" + strconv.FormatInt(int64(rp.ID), 10)
	if len(parts) == 5 {
		loc += "/" + parts[4]
	}
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	status := http.StatusMovedPermanently
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		status = http.StatusTemporaryRedirect
	}
	w.Header().Set("Location", loc)
	s.writeJSON(w, r, status, map[string]any{"message": http.StatusText(status), "url": loc,
		"documentation_url": "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects"})
	return true
}

// checkAuth returns whether the request is authenticated, whether its
// Authorization header (if any) is acceptable, and the installation token
// it carries, if any. Installation tokens minted by the fake are checked
// (an expired one gets 401) even when Options.Tokens is empty.
func (s *Server) checkAuth(r *http.Request) (authed, good bool, it *installToken) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	bearer := strings.EqualFold(scheme, "bearer") || strings.EqualFold(scheme, "token")
	if bearer {
		if valid, known := s.oauthTokenCheck(tok); known { // a signed-in user's token (oauth.go)
			return valid, valid, nil
		}
		s.site.Lock()
		it = s.instTokens[tok]
		s.site.Unlock()
		if it != nil && !s.opts.Now().Before(it.expires) {
			return false, false, nil
		}
		if it != nil {
			return true, true, it
		}
	}
	switch {
	case len(s.opts.Tokens) == 0:
		return true, true, nil
	case h == "":
		return false, true, nil
	}
	ok := bearer && slices.Contains(s.opts.Tokens, tok)
	return ok, ok, nil
}

// answer writes GitHub's answer for an armed fault (fake.Kit carries out
// the slow, truncated and lost answers).
func (s *Server) answer(w http.ResponseWriter, r *http.Request, f fake.Fault) bool {
	r, _ = s.authorize(r) // the rate-limit headers are those of the caller
	const secondary = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID "
	if f.Kind == fake.FaultSecondaryRateLimit || f.Kind == fake.FaultTooManyRequests {
		w.Header().Set("Retry-After", fmt.Sprint(int(cmp.Or(f.RetryAfter, time.Minute)/time.Second)))
	}
	switch f.Kind {
	case fake.FaultUnauthorized:
		s.writeError(w, r, http.StatusUnauthorized, "Bad credentials", docREST)
	case fake.FaultNotFound:
		s.writeError(w, r, http.StatusNotFound, "Not Found", docREST)
	case fake.FaultUnprocessable:
		s.validation(w, r, "https://docs.github.com/rest/reference/issues#create-a-label", map[string]any{"resource": "Label", "code": "invalid", "field": "color"})
	case fake.FaultRateLimit:
		setHeaders(w.Header(), "X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "0", "X-RateLimit-Used", "5000",
			"X-RateLimit-Reset", fmt.Sprint(s.now().Add(cmp.Or(f.RetryAfter, time.Hour)).Unix()), "X-RateLimit-Resource", resource(r))
		s.writeError(w, r, cmp.Or(f.Status, http.StatusForbidden),
			"API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID "+requestID()+".",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-rate-limits")
	case fake.FaultSecondaryRateLimit, fake.FaultSecondaryRateLimitNoRetryAfter:
		s.writeError(w, r, cmp.Or(f.Status, http.StatusForbidden), secondary+requestID()+".",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
	case fake.FaultTooManyRequests, fake.FaultTooManyRequestsNoRetryAfter, fake.FaultRateLimitResetOnly:
		s.writeError(w, r, http.StatusTooManyRequests, "Too Many Requests", docREST)
	case fake.FaultServerError:
		st := cmp.Or(f.Status, http.StatusInternalServerError)
		if !fake.GatewayError(w, st, "") {
			s.writeError(w, r, st, "Server Error", "")
		}
	case fake.FaultEchoCredentials:
		st := cmp.Or(f.Status, http.StatusBadRequest)
		if echo := fake.EchoCredentials(r); !fake.EchoPage(w, st, echo) {
			s.writeError(w, r, st, "Problems parsing the request: "+echo, docREST)
		}
	default:
		return false
	}
	return true
}

// requestID returns a GitHub-shaped request id.
func requestID() string {
	var b [8]byte
	rand.Read(b[:])
	x := strings.ToUpper(hex.EncodeToString(b[:]))
	return x[0:4] + ":" + x[4:8] + ":" + x[8:14] + ":" + x[14:16]
}

func resource(r *http.Request) string {
	if r.URL.Path == "/graphql" {
		return "graphql"
	}
	return "core"
}

// cleanRel reports whether p is a clean relative path.
func cleanRel(p string) bool {
	return p == "" || (path.Clean(p) == p && !strings.HasPrefix(p, "/") && p != ".")
}
