// Package fakebitbucketcloud is a stateful fake of Bitbucket Cloud, for
// tests and demos: httptest servers that answer the real paths of the REST
// API 2.0 (api.bitbucket.org), of the web host's archive downloads
// (bitbucket.org/{workspace}/{repo}/get/{ref}.tar.gz) and of the OAuth token
// endpoint, with Bitbucket's bodies and headers, modelled on recorded
// traffic (jenkinsci/bitbucket-branch-source-plugin, atlassian-python-api)
// and Atlassian's API description (swagger.json). The API (under /2.0) and
// the web host's paths are served by one httptest server.
//
// The fake holds workspaces, repositories, commits with real git blob ids,
// branches and pull requests. It serves, under /2.0:
//
//   - GET  repositories/{workspace} (pagelen up to 100, page, next links)
//   - GET  repositories/{workspace}/{repo}, POST (creates it, empty)
//   - GET  .../src/{commit}/{path}: raw content with an ETag based on the
//     content and attributes (If-None-Match → 304), a directory listing
//     (max_depth, pagelen, and q with path = "p" and type = "commit_file"
//     terms joined by one of AND or OR, applied to every level before
//     paging), or ?format=meta; a branch name with "/" may be
//     sent with the slash escaped (%2F) or as it is
//   - POST .../src: one commit of any number of files (multipart/form-data
//     or application/x-www-form-urlencoded; fields message, author,
//     parents, files (deletions), branch; x-attributes="executable");
//     201 with a Location header
//   - GET  .../refs/branches (q=name="a" OR name="b"), .../refs/branches/{name}
//   - GET  .../commits/{revision} (path, pagelen; the first page only)
//   - GET  .../pullrequests (q=source.branch.name="x" AND
//     destination.branch.name="y" AND state="OPEN", state=), GET
//     .../pullrequests/{id}, POST .../pullrequests
//   - GET  workspaces/{workspace}/search/code (search_query with "text" and
//     path:X terms; 404 when Options.SearchDisabled)
//   - GET  user and user/emails (see [Server.SetOAuthUser])
//
// and, on the web host, GET /{workspace}/{repo}/get/{ref}.tar.gz (and
// .zip), whose entries sit under "{workspace}-{repo}-{12-hex commit}/". With
// [Server.RedirectDownloads] the web host answers archive downloads with a
// 302 to a third server on another host (like Bitbucket's download
// storage), which records the headers it receives.
//
// Credentials: Bearer tokens (repository, project and workspace access
// tokens, OAuth access tokens), Basic username and API token (or legacy
// app password), and OAuth consumers whose client-credentials grant at
// /site/oauth2/access_token (on the web host) mints Bearer tokens. A bad
// credential gets Bitbucket's 401.
//
// Faults: [fake.Fault] with Host "" (the main server: the API and the web
// host's paths), "api" (under /2.0), "web" or "download", and Path as
// sent, e.g. "/2.0/repositories/acme/basic/src/". The answers:
//
//	FaultUnauthorized                       401 "Token is invalid, expired, or not supported ..."
//	FaultNotFound                           404 "Repository not found"
//	FaultUnprocessable                      400 with a field error (Bitbucket's validation status)
//	FaultRateLimit                          429 with Retry-After and X-RateLimit-NearLimit: true
//	FaultSecondaryRateLimit                 429 with Retry-After, as FaultTooManyRequests
//	FaultTooManyRequests                    429 "Rate limit for this resource has been exceeded", Retry-After
//	FaultTooManyRequestsNoRetryAfter        429, no Retry-After
//	FaultSecondaryRateLimitNoRetryAfter     as FaultTooManyRequestsNoRetryAfter
//	FaultRateLimitResetOnly                 as FaultTooManyRequestsNoRetryAfter (no reset header)
//	FaultServerError                        Status (500): a gateway's HTML page for 502-504, else an error body
//	FaultEchoCredentials                    Status (400) quoting the credentials; a proxy's page for 5xx
//	FaultSlow, FaultTruncatedBody,
//	FaultLostAnswer                         as [fake.Kit] does
//	FaultOpenPullRequest                    not produced: inject FaultServerError for POST .../pullrequests
//
// Modelled, not recorded: the answer to a pull request that duplicates an
// open one (400, "There is already an open pull request ..."), deletions of
// missing files in POST src (ignored), and the exact messages of 409s.
package fakebitbucketcloud

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/oauthsrv"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// Options configures a Server. A nil *Options means the defaults.
type Options struct {
	// Tokens are the Bearer tokens the fake accepts (access tokens).
	Tokens []string
	// Users maps a username (an Atlassian account email for API tokens)
	// to the API token or app password accepted with Basic auth.
	Users map[string]string
	// Consumers maps OAuth consumer keys to their secrets; a
	// client-credentials grant mints a Bearer token valid for TokenTTL.
	Consumers map[string]string
	// TokenTTL is the lifetime of minted OAuth tokens; 0 means 2 hours.
	// When Tokens, Users and Consumers are all empty, every request is
	// treated as authenticated; otherwise a request without
	// Authorization is refused with 401.
	TokenTTL time.Duration

	// SearchDisabled makes code search answer 404, as for a workspace
	// that has not turned search on.
	SearchDisabled bool
	// ArchiveRefusesBearer makes the web host refuse Bearer tokens for
	// archive downloads (403), as Atlassian's BCLOUD-23783 reports for
	// access tokens.
	ArchiveRefusesBearer bool
	// Now is the fake's clock; nil means time.Now.
	Now func() time.Time
	// User is the display name of the authenticated user; default
	// "Fake User".
	User string
}

// Repo describes a repository to seed with [Server.AddRepo].
type Repo struct {
	Workspace string
	// Slug is the repository's slug, e.g. "my-service".
	Slug string
	// Name defaults to Slug.
	Name string
	// MainBranch defaults to "main".
	MainBranch  string
	Description string
	Public      bool
	// ProjectKey defaults to "PROJ".
	ProjectKey string
	// Files are committed on MainBranch as one commit. With no files the
	// repository is empty.
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
	Source      string
	Destination string
	Draft       bool
	State       string // "OPEN", "MERGED", "DECLINED"
	URL         string
}

// Stats counts requests.
type Stats struct {
	// API counts requests under /2.0, Web the other requests to the main
	// server (archives, the token endpoint); Download those to the
	// download host.
	API, Web, Download int
	// NotModified counts requests answered 304.
	NotModified int
	// TokenGrants counts OAuth tokens minted.
	TokenGrants int
	// Routes counts requests per route, Unrouted those no route answered.
	Routes   map[string]int
	Unrouted int
}

// Server is a fake Bitbucket Cloud. Its methods are safe for concurrent
// use. Inject, ClearFaults and Requests come from its [fake.Kit].
type Server struct {
	fake.Kit[Stats] // Inject, ClearFaults, Requests, RequestsTo, ResetStats
	core            *fake.Core[Stats]

	opts          Options
	api, download *httptest.Server
	stop          chan struct{}
	st            *repostore.Site[Stats] // its mutex guards the fields below too

	redirect  bool
	downloads map[string][]byte        // download path → archive
	user      *OAuthUser               // who signs in
	oauthSt   oauthsrv.Lazy[OAuthUser] // OAuth consumers and tokens (oauth.go)
	access    accessWorld              // groups and repository permissions (access.go)
}

// New starts a fake Bitbucket Cloud. Call Close when done. It does not
// need a *testing.T, so a main program can serve it too.
func New(opts *Options) *Server {
	s := &Server{downloads: map[string][]byte{}, stop: make(chan struct{})}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	if s.opts.User == "" {
		s.opts.User = "Fake User"
	}
	if s.opts.TokenTTL <= 0 {
		s.opts.TokenTTL = 2 * time.Hour
	}
	s.st, s.Kit = repostore.NewSite[Stats]("fakebitbucketcloud", s.now, s.opts.User, s.answerFault, s.stop)
	s.core = s.st.Core
	s.st.Host, s.st.Count = hostOf, count
	s.st.Auth = repostore.Credentials{Anyone: len(s.opts.Tokens) == 0 && len(s.opts.Users) == 0 && len(s.opts.Consumers) == 0,
		Tokens: s.opts.Tokens, Users: s.opts.Users, Minted: s.minted}
	s.st.Refuse, s.st.OwnerParam, s.st.NoOwner, s.st.NotFound = s.refuse, "ws", s.noWorkspace, s.noRepo
	s.api = s.st.Start(s.handler())
	s.download = s.st.Start(s.downloadHandler())
	return s
}

// Close shuts the servers down.
func (s *Server) Close() { s.st.Close() }

// URL returns the web base URL (the bitbucket.org stand-in), e.g.
// "http://127.0.0.1:1234".
func (s *Server) URL() string { return s.api.URL }

// Host returns the web host and port, the integration's host.
func (s *Server) Host() string { return strings.TrimPrefix(s.api.URL, "http://") }

// APIBaseURL returns the REST API base URL (the api.bitbucket.org/2.0
// stand-in). The fake serves the API and the web host's paths on one
// host, so that both share the scheme of an httptest server.
func (s *Server) APIBaseURL() string { return s.api.URL + "/2.0" }

// TokenURL returns the OAuth token endpoint, on the web host.
func (s *Server) TokenURL() string { return s.api.URL + "/site/oauth2/access_token" }

// Client returns an *http.Client for the servers, with no credential.
func (s *Server) Client() *http.Client { return s.api.Client() }

// RedirectDownloads makes the web host answer every later archive
// download with a 302 to the download host (on is true), or serve it
// itself (on is false, the default).
func (s *Server) RedirectDownloads(on bool) {
	s.st.Lock()
	defer s.st.Unlock()
	s.redirect = on
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

// uuid returns a stable Bitbucket-style "{...}" UUID for seed.
func uuid(seed ...any) string {
	h := sha1.Sum([]byte(fmt.Sprint(seed...)))
	x := hex.EncodeToString(h[:16])
	return "{" + x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32] + "}"
}

// AddWorkspace creates a workspace with no repository; it is a no-op when
// it exists.
func (s *Server) AddWorkspace(slug string) {
	s.st.Lock()
	defer s.st.Unlock()
	s.st.Owner(slug, "")
}

// AddRepo creates a repository, its workspace if needed, and, when r.Files
// is not empty, one commit on the main branch, whose id it returns.
func (s *Server) AddRepo(r Repo) (string, error) {
	if r.Workspace == "" || r.Slug == "" {
		return "", errors.New("fakebitbucketcloud: AddRepo needs a workspace and a slug")
	}
	return s.st.Add(r.Workspace, repostore.Repo{Slug: r.Slug, Name: r.Name, Description: r.Description, Public: r.Public,
		Project: cmp.Or(r.ProjectKey, "PROJ"), DefaultBranch: r.MainBranch}, r.Files)
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

// Commit adds a commit on branch (created from the main branch when
// missing) and returns its id.
func (s *Server) Commit(ws, slug, branch string, c Commit) (string, error) {
	return s.st.Commit(ws, slug, branch, c)
}

// Branch returns the commit id branch points at.
func (s *Server) Branch(ws, slug, branch string) (string, bool) { return s.st.Branch(ws, slug, branch) }

// Files returns every file at ref ("" for the main branch), sorted.
func (s *Server) Files(ws, slug, ref string) ([]fake.File, error) { return s.st.Files(ws, slug, ref) }

// Commits returns the ids of the commits on the first-parent chain of ref,
// newest first.
func (s *Server) Commits(ws, slug, ref string) ([]string, error) { return s.st.Commits(ws, slug, ref) }

// PullRequests returns a repository's pull requests in creation order.
func (s *Server) PullRequests(ws, slug string) []PullRequest {
	var out []PullRequest
	s.st.With(ws, slug, func(rp *repostore.Repo) error { //nolint:errcheck // a missing repository has none
		for _, p := range rp.Pulls {
			out = append(out, PullRequest{ID: p.ID, Title: p.Title, Description: p.Description, Source: p.From,
				Destination: p.To, Draft: p.Draft, State: p.State, URL: s.prWebURL(rp, p.ID)})
		}
		return nil
	})
	return out
}

func (s *Server) prWebURL(rp *repostore.Repo, id int) string {
	return fmt.Sprintf("%s/pull-requests/%d", s.webRepoURL(rp), id)
}

// Stats returns the request counts.
func (s *Server) Stats() Stats {
	st, routes, unrouted := s.core.Log().Stats()
	st.Routes, st.Unrouted = routes, unrouted
	return st
}

// SetMainBranch makes branch, which must exist, the main branch of
// ws/slug, as a rename of the main branch in Bitbucket's settings does.
func (s *Server) SetMainBranch(ws, slug, branch string) error {
	return s.st.With(ws, slug, func(rp *repostore.Repo) error {
		if _, ok := rp.Branches[branch]; !ok {
			return fmt.Errorf("fakebitbucketcloud: no branch %q in %s/%s", branch, ws, slug)
		}
		rp.DefaultBranch = branch
		return nil
	})
}
