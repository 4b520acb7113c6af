// Package fakebitbucketserver is a stateful fake of the Bitbucket Server /
// Data Center REST API, for tests and demos: an httptest server that answers
// Bitbucket's real paths (under an optional context path, e.g.
// /bitbucket/rest/api/1.0) with Bitbucket's bodies and headers, modelled on
// recorded traffic (jenkinsci/bitbucket-branch-source-plugin,
// cdancy/bitbucket-rest, atlassian-python-api) and Atlassian's Data Center
// 9.4 OpenAPI description.
//
// The fake holds projects, repositories (with a name and a slug), commits
// with real git blob ids, branches and pull requests. It serves:
//
//   - GET  projects/{key}/repos (paged: start, limit, isLastPage, nextPageStart)
//   - GET  projects/{key}/repos/{slug}
//   - GET  .../default-branch
//   - GET  .../branches (filterText, boostMatches, paged); POST .../branches
//   - GET  .../raw/{path}?at= (ETag, If-None-Match → 304)
//   - GET  .../browse/{path}?at=&type=true (FILE or DIRECTORY),
//     GET .../browse/{dir}?at= (a page of the directory's own entries
//     with their types, in "children"; not a file's lines) and
//     PUT .../browse/{path}
//     (multipart: content, message, branch, sourceCommitId, sourceBranch;
//     one file per commit, as the real server; it needs
//     X-Atlassian-Token: no-check)
//   - GET  .../files/{path}?at= (recursive, paged)
//   - GET  .../archive?at=&format=&path=&prefix= (zip, tar, tgz, tar.gz)
//   - POST rest/search/latest/search (Data Center's code search, see
//     [Server.SetSearch])
//   - git's smart HTTP push at the HTTP clone URL, scm/{project}/{repo}.git:
//     GET info/refs?service=git-receive-pack and POST git-receive-pack
//     (the GitHub fake's receive-pack, with the REST API's credentials)
//   - GET  .../pull-requests (at, direction, state, paged),
//     POST .../pull-requests (409 DuplicatePullRequestException with
//     existingPullRequest, 409 EmptyPullRequestException)
//
// Project keys are matched in any case and repositories by slug, as on the
// real server. Errors are Bitbucket's {"errors":[{"context","message",
// "exceptionName"}]} bodies. The API is served under both /rest/api/1.0 and
// /rest/api/latest.
//
// It counts requests and checks credentials (Bearer HTTP access tokens,
// or Basic username and password; a bad one gets Bitbucket's 401).
//
// Faults: [fake.Fault] with Path relative to the REST root (after the
// context path and /rest/api/1.0), e.g. "/projects/ACME/repos/basic/browse/".
// The answers, each with Bitbucket's error body:
//
//	FaultUnauthorized                       401 IncorrectPasswordAuthenticationException
//	FaultNotFound                           404 NoSuchRepositoryException
//	FaultUnprocessable                      400 ArgumentValidationException (Bitbucket's validation status)
//	FaultRateLimit                          429 RateLimitedException with Retry-After and X-RateLimit-* (Remaining 0)
//	FaultSecondaryRateLimit                 as FaultTooManyRequests
//	FaultTooManyRequests                    429 RateLimitedException with Retry-After
//	FaultTooManyRequestsNoRetryAfter        429 RateLimitedException, no Retry-After
//	FaultSecondaryRateLimitNoRetryAfter     as FaultTooManyRequestsNoRetryAfter
//	FaultRateLimitResetOnly                 as FaultTooManyRequestsNoRetryAfter (no reset header)
//	FaultServerError                        Status (500): a gateway's HTML page for 502-504, else ServiceException
//	FaultEchoCredentials                    Status (400) quoting the credentials; a proxy's page for 5xx
//	FaultSlow, FaultTruncatedBody,
//	FaultLostAnswer                         as [fake.Kit] does
//	FaultOpenPullRequest                    not produced: inject FaultServerError for POST .../pull-requests
//
// Modelled, not recorded: the exception names and messages of file-edit
// conflicts, and the answer for raw/{path} naming a directory (404, as for
// a missing path).
package fakebitbucketserver

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// Options configures a Server. A nil *Options means the defaults.
type Options struct {
	// ContextPath is the path Bitbucket is served under, e.g.
	// "/bitbucket"; "" serves it at the root.
	ContextPath string
	// Tokens are the HTTP access tokens the fake accepts as
	// "Authorization: Bearer T".
	Tokens []string
	// Users maps usernames to the passwords the fake accepts with Basic
	// authentication (an HTTP access token is accepted as a password
	// too). When Tokens and Users are both empty, every request is
	// treated as authenticated; otherwise a request without
	// Authorization is refused with 401, like a private instance.
	Users map[string]string

	// Now is the fake's clock; nil means time.Now.
	Now func() time.Time
	// User is the name of the authenticated user, the author of commits
	// and pull requests; default "fake-user".
	User string
}

// Repo describes a repository to seed with [Server.AddRepo].
type Repo struct {
	// Project is the project key, e.g. "ACME" (stored upper-case), or
	// "~user" for a personal repository.
	Project string
	// Name is the repository's name, e.g. "My Service".
	Name string
	// Slug defaults to Slugify(Name).
	Slug string
	// DefaultBranch defaults to "main".
	DefaultBranch string
	Description   string
	Public        bool
	Archived      bool
	// Files are committed on DefaultBranch as one commit. With no files
	// the repository is empty: it has no branch and no commit.
	Files []fake.File
}

// Commit describes a commit to add with [Server.Commit]: its Message, the
// Files it writes (created or replaced) and the paths it Deletes.
type Commit = repostore.Change

// PullRequest describes a pull request of the fake.
type PullRequest struct {
	ID          int
	Title       string
	Description string
	FromBranch  string
	ToBranch    string
	FromCommit  string
	Draft       bool
	State       string // "OPEN", "DECLINED" or "MERGED"
	URL         string // web URL
}

// Stats counts requests.
type Stats struct {
	// Total counts every request received, those answered with a fault or
	// 304 included.
	Total int
	// NotModified counts requests answered 304.
	NotModified int
	// Routes counts requests per route, Unrouted those no route answered.
	Routes   map[string]int
	Unrouted int
}

// Server is a fake Bitbucket Server. Its methods are safe for concurrent
// use. Inject, ClearFaults and Requests come from its [fake.Kit].
type Server struct {
	fake.Kit[Stats] // Inject, ClearFaults, Requests, RequestsTo, ResetStats

	opts       Options
	srv        *httptest.Server
	st         *repostore.Site[Stats] // its mutex guards the fields below too
	searchMode SearchMode             // search.go
	gitHTTPOff bool                   // git.go
	access     repostore.Access       // groups, users and repository permissions (access.go)
}

// New starts a fake Bitbucket Server. Call Close when done. It does not
// need a *testing.T, so a main program can serve it too.
func New(opts *Options) *Server {
	s := &Server{}
	if opts != nil {
		s.opts = *opts
	}
	s.opts.ContextPath = strings.TrimRight(s.opts.ContextPath, "/")
	if s.opts.ContextPath != "" && !strings.HasPrefix(s.opts.ContextPath, "/") {
		s.opts.ContextPath = "/" + s.opts.ContextPath
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	if s.opts.User == "" {
		s.opts.User = "fake-user"
	}
	s.st, s.Kit = repostore.NewSite[Stats]("fakebitbucketserver", s.now, s.opts.User, s.answerFault, make(chan struct{}))
	s.st.Count = func(st *Stats, _ string) { st.Total++ }
	s.st.Auth = repostore.Credentials{Anyone: len(s.opts.Tokens) == 0 && len(s.opts.Users) == 0,
		Tokens: s.opts.Tokens, Users: s.opts.Users, TokenPasswords: true}
	s.st.Refuse, s.st.OwnerParam, s.st.NoOwner, s.st.NotFound = s.refuse, "key", s.noProject, s.noRepo
	s.srv = s.st.Start(s.handler())
	return s
}

// Close shuts the server down and closes its connections.
func (s *Server) Close() { s.st.Close() }

// URL returns the web base URL, context path included, e.g.
// "http://127.0.0.1:1234/bitbucket".
func (s *Server) URL() string { return s.srv.URL + s.opts.ContextPath }

// Host returns the host and port of the server.
func (s *Server) Host() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// APIBaseURL returns the REST API base URL, URL()+"/rest/api/1.0", as
// integrations.bitbucketServer[].apiBaseUrl spells it.
func (s *Server) APIBaseURL() string { return s.URL() + "/rest/api/1.0" }

// Client returns an *http.Client for the server, with no credential.
func (s *Server) Client() *http.Client { return s.srv.Client() }

func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// Slugify returns the slug Bitbucket derives from a repository name:
// lower-case, each run of characters other than ASCII letters, digits, ".",
// "_" and "-" replaced by one "-", without leading or trailing "-".
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// projectKey normalises a project key: upper-case, except a personal
// project "~user", whose user slug is lower-case.
func projectKey(k string) string {
	if strings.HasPrefix(k, "~") {
		return strings.ToLower(k)
	}
	return strings.ToUpper(k)
}

// AddProject creates a project; it is a no-op when the project exists.
func (s *Server) AddProject(key, name string) {
	s.st.Lock()
	defer s.st.Unlock()
	s.st.Owner(projectKey(key), name)
}

// AddRepo creates a repository, its project if needed, and, when r.Files
// is not empty, one commit on the default branch, whose id it returns.
func (s *Server) AddRepo(r Repo) (string, error) {
	if r.Project == "" || r.Name == "" {
		return "", errors.New("fakebitbucketserver: AddRepo needs a project and a name")
	}
	if r.Slug == "" {
		r.Slug = Slugify(r.Name)
	}
	if r.Slug == "" {
		return "", fmt.Errorf("fakebitbucketserver: no slug for repository name %q", r.Name)
	}
	return s.st.Add(projectKey(r.Project), repostore.Repo{Slug: r.Slug, Name: r.Name, Description: r.Description,
		Public: r.Public, Archived: r.Archived, DefaultBranch: r.DefaultBranch}, r.Files)
}

// AddFS is AddRepo with the files of fsys (executable when any execute
// bit is set).
func (s *Server) AddFS(r Repo, fsys fs.FS) (string, error) {
	files, err := fake.ReadFS(fsys, false)
	if err != nil {
		return "", err
	}
	r.Files = append(r.Files, files...)
	return s.AddRepo(r)
}

// Commit adds a commit on branch (created from the default branch when
// missing) and returns its id.
func (s *Server) Commit(key, slug, branch string, c Commit) (string, error) {
	return s.st.Commit(key, slug, branch, c)
}

// Branch returns the commit id branch points at.
func (s *Server) Branch(key, slug, branch string) (string, bool) {
	return s.st.Branch(key, slug, branch)
}

// RenameBranch renames branch from to to (a repository setting that
// named it, the default branch, follows), as a push that moves a branch
// and deletes the old one does; from must exist and to must not.
func (s *Server) RenameBranch(key, slug, from, to string) error {
	return s.st.With(key, slug, func(rp *repostore.Repo) error {
		id, ok := rp.Branches[from]
		if _, taken := rp.Branches[to]; !ok || taken || !repostore.ValidBranchName(to) {
			return fmt.Errorf("cannot rename branch %q to %q", from, to)
		}
		delete(rp.Branches, from)
		rp.Branches[to] = id
		if rp.DefaultBranch == from {
			rp.DefaultBranch = to
		}
		return nil
	})
}

// Files returns every file at ref (a branch, a commit id, or "" for the
// default branch), sorted by path.
func (s *Server) Files(key, slug, ref string) ([]fake.File, error) { return s.st.Files(key, slug, ref) }

// Commits returns the ids of the commits reachable from ref, newest first.
func (s *Server) Commits(key, slug, ref string) ([]string, error) {
	return s.st.Commits(key, slug, ref)
}

// PullRequests returns a repository's pull requests in creation order.
func (s *Server) PullRequests(key, slug string) []PullRequest {
	var out []PullRequest
	s.st.With(key, slug, func(rp *repostore.Repo) error { //nolint:errcheck // a missing repository has none
		for _, p := range rp.Pulls {
			out = append(out, PullRequest{ID: p.ID, Title: p.Title, Description: p.Description, FromBranch: p.From,
				ToBranch: p.To, FromCommit: rp.Branches[p.From], Draft: p.Draft, State: p.State, URL: s.prWebURL(rp, p.ID)})
		}
		return nil
	})
	return out
}

func (s *Server) prWebURL(rp *repostore.Repo, id int) string {
	return fmt.Sprintf("%s/projects/%s/repos/%s/pull-requests/%d", s.URL(), rp.Owner.Key, rp.Slug, id)
}

// Stats returns the request counts.
func (s *Server) Stats() Stats {
	st, routes, unrouted := s.st.Core.Log().Stats()
	st.Routes, st.Unrouted = routes, unrouted
	return st
}
