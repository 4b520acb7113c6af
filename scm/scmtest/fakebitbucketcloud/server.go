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
//   - GET  repositories/{workspace}/{repo}
//   - GET  .../src/{commit}/{path}: raw content with an ETag based on the
//     content and attributes (If-None-Match → 304), a directory listing
//     (max_depth, pagelen), or ?format=meta; a branch name with "/" may be
//     sent with the slash escaped (%2F) or as it is
//   - POST .../src: one commit of any number of files (multipart/form-data
//     or application/x-www-form-urlencoded; fields message, author,
//     parents, files (deletions), branch; x-attributes="executable");
//     201 with a Location header
//   - GET  .../refs/branches (q=name="a" OR name="b"), .../refs/branches/{name},
//     POST .../refs/branches
//   - GET  .../pullrequests (q=source.branch.name="x" AND
//     destination.branch.name="y" AND state="OPEN", state=), GET
//     .../pullrequests/{id}, POST .../pullrequests
//   - GET  workspaces/{workspace}/search/code (search_query with "text" and
//     path:X terms; 404 when Options.SearchDisabled)
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
// Faults: every scmtest.FaultKind; Bitbucket answers validation failures
// with 400 and rate limits with 429 ("Rate limit for this resource has been
// exceeded"), with or without Retry-After.
//
// Modelled, not recorded: the answer to a pull request that duplicates an
// open one (400, "There is already an open pull request ..."), deletions of
// missing files in POST src (ignored), and the exact messages of 409s.
package fakebitbucketcloud

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
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
	Files []File
}

// File is a file of a seeded repository or commit.
type File struct {
	Path       string
	Content    []byte
	Executable bool
}

// Commit describes a commit to add with [Server.Commit].
type Commit struct {
	Message string
	Files   []File
	Delete  []string
}

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

// Request is one request the fake received.
type Request struct {
	// Host is "api", "web" or "download".
	Host   string
	Method string
	// Path is the path as received, escaped, with the query.
	Path string
	// Route is the pattern that answered, or "".
	Route  string
	Header http.Header
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
	Routes      map[string]int
	Unrouted    int
}

// Fault is a failure to inject with [Server.Inject].
type Fault struct {
	Kind scmtest.FaultKind
	// Times is how many matching requests the fault applies to; 0 means
	// every matching request until ClearFaults.
	Times int
	// RetryAfter is the Retry-After of the rate-limit faults; 0 means
	// 60 s.
	RetryAfter time.Duration
	// Delay is, for FaultSlow, how long to wait before answering.
	Delay time.Duration
	// Status is the status of FaultServerError (500 when 0).
	Status int
	// Method restricts the fault to one HTTP method; "" matches any.
	Method string
	// Path restricts the fault to request paths starting with it, e.g.
	// "/2.0/repositories/acme/basic/src/"; "" matches any.
	Path string
	// Host restricts the fault to "api", "web" or "download"; "" matches
	// the API and web hosts.
	Host string
}

// Server is a fake Bitbucket Cloud. Its methods are safe for concurrent
// use.
type Server struct {
	opts               Options
	api, web, download *httptest.Server

	mu         sync.Mutex
	workspaces map[string]*workspace // by lower-case slug
	seq        int
	minted     map[string]time.Time // OAuth token → expiry
	redirect   bool
	downloads  map[string][]byte // download path → archive

	faults fake.Faults[Fault]
	log    fake.Log[Request, Stats]

	oauthSt oauthLazy // sign-in endpoints (oauth.go)
}

type workspace struct {
	slug  string
	uuid  string
	repos map[string]*repo // by lower-case slug
}

type repo struct {
	ws          *workspace
	slug, name  string
	uuid        string
	description string
	public      bool
	projectKey  string
	mainBranch  string
	created     time.Time
	branches    map[string]string
	commits     map[string]*commit
	pulls       []*pull
}

type commit struct {
	id      string
	parents []string
	message string
	author  string
	when    time.Time
	files   map[string]entry
}

type entry struct {
	content []byte
	exec    bool
	blob    string
}

type pull struct {
	id          int
	title       string
	description string
	source      string
	dest        string
	draft       bool
	state       string
	created     time.Time
	closeSource bool
	author      string // nickname of the signed-in user who opened it, "" for Options.User (oauth.go)
}

// New starts a fake Bitbucket Cloud. Call Close when done. It does not
// need a *testing.T, so a main program can serve it too.
func New(opts *Options) *Server {
	s := &Server{workspaces: map[string]*workspace{}, minted: map[string]time.Time{}, downloads: map[string][]byte{}}
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
	api, web := s.apiHandler(), s.webHandler()
	s.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/2.0" || strings.HasPrefix(r.URL.Path, "/2.0/") {
			api.ServeHTTP(w, r)
			return
		}
		web.ServeHTTP(w, r)
	}))
	s.web = s.api
	s.download = httptest.NewServer(s.downloadHandler())
	return s
}

// Close shuts the servers down.
func (s *Server) Close() {
	for _, srv := range []*httptest.Server{s.api, s.download} {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// URL returns the web base URL (the bitbucket.org stand-in), e.g.
// "http://127.0.0.1:1234".
func (s *Server) URL() string { return s.web.URL }

// Host returns the web host and port, the integration's host.
func (s *Server) Host() string { return strings.TrimPrefix(s.web.URL, "http://") }

// APIBaseURL returns the REST API base URL (the api.bitbucket.org/2.0
// stand-in). The fake serves the API and the web host's paths on one
// host, so that both share the scheme of an httptest server.
func (s *Server) APIBaseURL() string { return s.api.URL + "/2.0" }

// TokenURL returns the OAuth token endpoint, on the web host.
func (s *Server) TokenURL() string { return s.web.URL + "/site/oauth2/access_token" }

// DownloadURL returns the base URL of the download host.
func (s *Server) DownloadURL() string { return s.download.URL }

// Client returns an *http.Client for the servers, with no credential.
func (s *Server) Client() *http.Client { return s.api.Client() }

// RedirectDownloads makes the web host answer every later archive
// download with a 302 to the download host (on is true), or serve it
// itself (on is false, the default).
func (s *Server) RedirectDownloads(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirect = on
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

func (s *Server) workspaceLocked(slug string) *workspace {
	k := strings.ToLower(slug)
	if w, ok := s.workspaces[k]; ok {
		return w
	}
	s.seq++
	w := &workspace{slug: slug, uuid: uuid(fmt.Sprint("ws", s.seq)), repos: map[string]*repo{}}
	s.workspaces[k] = w
	return w
}

// uuid returns a stable Bitbucket-style "{...}" UUID for seed.
func uuid(seed string) string {
	h := sha1.Sum([]byte(seed))
	x := hex.EncodeToString(h[:16])
	return "{" + x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32] + "}"
}

// AddWorkspace creates a workspace with no repository; it is a no-op when
// it exists.
func (s *Server) AddWorkspace(slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workspaceLocked(slug)
}

// AddRepo creates a repository, its workspace if needed, and, when r.Files
// is not empty, one commit on the main branch, whose id it returns.
func (s *Server) AddRepo(r Repo) (string, error) {
	if r.Workspace == "" || r.Slug == "" {
		return "", errors.New("fakebitbucketcloud: AddRepo needs a workspace and a slug")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workspaceLocked(r.Workspace)
	if _, ok := w.repos[strings.ToLower(r.Slug)]; ok {
		return "", fmt.Errorf("fakebitbucketcloud: repository %s/%s exists", r.Workspace, r.Slug)
	}
	s.seq++
	rp := &repo{ws: w, slug: r.Slug, name: r.Name, uuid: uuid(fmt.Sprint("repo", s.seq)), description: r.Description,
		public: r.Public, projectKey: r.ProjectKey, mainBranch: r.MainBranch, created: s.now(),
		branches: map[string]string{}, commits: map[string]*commit{}}
	if rp.name == "" {
		rp.name = r.Slug
	}
	if rp.mainBranch == "" {
		rp.mainBranch = "main"
	}
	if rp.projectKey == "" {
		rp.projectKey = "PROJ"
	}
	w.repos[strings.ToLower(r.Slug)] = rp
	if len(r.Files) == 0 {
		return "", nil
	}
	files, err := applyFiles(nil, r.Files, nil)
	if err != nil {
		return "", err
	}
	id := s.commitLocked(rp, nil, files, "Initial commit")
	rp.branches[rp.mainBranch] = id
	return id, nil
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

func applyFiles(base map[string]entry, add []File, del []string) (map[string]entry, error) {
	files := maps.Clone(base)
	if files == nil {
		files = map[string]entry{}
	}
	for _, p := range del {
		delete(files, p)
	}
	for _, f := range add {
		if !fs.ValidPath(f.Path) || f.Path == "." {
			return nil, fmt.Errorf("fakebitbucketcloud: invalid path %q", f.Path)
		}
		files[f.Path] = entry{content: slices.Clone(f.Content), exec: f.Executable, blob: BlobID(f.Content)}
	}
	return files, nil
}

// BlobID returns the git blob id of content.
func BlobID(content []byte) string { return gitobj.BlobID(content) }

func (s *Server) commitLocked(rp *repo, parents []string, files map[string]entry, msg string) string {
	s.seq++
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%v\x00%d\x00%s\x00", rp.slug, parents, s.seq, msg)
	for _, p := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s %s %v\x00", p, files[p].blob, files[p].exec)
	}
	id := hex.EncodeToString(h.Sum(nil))
	rp.commits[id] = &commit{id: id, parents: parents, message: msg, author: s.opts.User, when: s.now(), files: files}
	return id
}

func (s *Server) repoLocked(ws, slug string) (*repo, error) {
	w, ok := s.workspaces[strings.ToLower(ws)]
	if !ok {
		return nil, fmt.Errorf("fakebitbucketcloud: no workspace %s", ws)
	}
	rp, ok := w.repos[strings.ToLower(slug)]
	if !ok {
		return nil, fmt.Errorf("fakebitbucketcloud: no repository %s/%s", ws, slug)
	}
	return rp, nil
}

// Commit adds a commit on branch (created from the main branch when
// missing) and returns its id.
func (s *Server) Commit(ws, slug, branch string, c Commit) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(ws, slug)
	if err != nil {
		return "", err
	}
	parent, ok := rp.branches[branch]
	if !ok {
		parent = rp.branches[rp.mainBranch]
	}
	var base map[string]entry
	var parents []string
	if pc := rp.commits[parent]; pc != nil {
		base, parents = pc.files, []string{parent}
	}
	files, err := applyFiles(base, c.Files, c.Delete)
	if err != nil {
		return "", err
	}
	id := s.commitLocked(rp, parents, files, c.Message)
	rp.branches[branch] = id
	return id, nil
}

// Branch returns the commit id branch points at.
func (s *Server) Branch(ws, slug, branch string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(ws, slug)
	if err != nil {
		return "", false
	}
	id, ok := rp.branches[branch]
	return id, ok
}

// Files returns every file at ref ("" for the main branch), sorted.
func (s *Server) Files(ws, slug, ref string) ([]File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(ws, slug)
	if err != nil {
		return nil, err
	}
	c := rp.resolve(ref)
	if c == nil {
		return nil, fmt.Errorf("fakebitbucketcloud: no ref %q in %s/%s", ref, ws, slug)
	}
	var out []File
	for _, p := range slices.Sorted(maps.Keys(c.files)) {
		e := c.files[p]
		out = append(out, File{Path: p, Content: slices.Clone(e.content), Executable: e.exec})
	}
	return out, nil
}

// Commits returns the ids of the commits on the first-parent chain of ref,
// newest first.
func (s *Server) Commits(ws, slug, ref string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(ws, slug)
	if err != nil {
		return nil, err
	}
	var out []string
	for c := rp.resolve(ref); c != nil; c = rp.parent(c) {
		out = append(out, c.id)
	}
	return out, nil
}

func (rp *repo) parent(c *commit) *commit {
	if len(c.parents) == 0 {
		return nil
	}
	return rp.commits[c.parents[0]]
}

// PullRequests returns a repository's pull requests in creation order.
func (s *Server) PullRequests(ws, slug string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(ws, slug)
	if err != nil {
		return nil
	}
	var out []PullRequest
	for _, p := range rp.pulls {
		out = append(out, PullRequest{ID: p.id, Title: p.title, Description: p.description, Source: p.source,
			Destination: p.dest, Draft: p.draft, State: p.state, URL: s.prWebURL(rp, p.id)})
	}
	return out
}

func (s *Server) prWebURL(rp *repo, id int) string {
	return fmt.Sprintf("%s/%s/%s/pull-requests/%d", s.URL(), rp.ws.slug, rp.slug, id)
}

// Inject arms a fault.
func (s *Server) Inject(f Fault) { s.faults.Arm(f, f.Times) }

// ClearFaults disarms every fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request { return s.log.Requests() }

// DownloadRequests returns the requests the download host received.
func (s *Server) DownloadRequests() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Host == "download" {
			out = append(out, r)
		}
	}
	return out
}

// Stats returns the request counts.
func (s *Server) Stats() Stats {
	st, routes, unrouted := s.log.Stats()
	st.Routes, st.Unrouted = routes, unrouted
	return st
}

// ResetStats forgets the requests received so far.
func (s *Server) ResetStats() { s.log.Reset() }

// resolve turns a ref into a commit: "" and "HEAD" are the main branch;
// then a branch, a (possibly abbreviated) commit id.
func (rp *repo) resolve(ref string) *commit {
	if ref == "" || ref == "HEAD" {
		ref = rp.mainBranch
	}
	if id, ok := rp.branches[ref]; ok {
		return rp.commits[id]
	}
	if c, ok := rp.commits[ref]; ok {
		return c
	}
	if len(ref) >= 7 && gitobj.IsHex(ref) {
		for id, c := range rp.commits {
			if strings.HasPrefix(id, ref) {
				return c
			}
		}
	}
	return nil
}

// isAncestor reports whether commit a is reachable from b.
func (rp *repo) isAncestor(a, b string) bool {
	seen := map[string]bool{}
	var walk func(id string) bool
	walk = func(id string) bool {
		if id == a {
			return true
		}
		if seen[id] {
			return false
		}
		seen[id] = true
		c := rp.commits[id]
		if c == nil {
			return false
		}
		for _, p := range c.parents {
			if walk(p) {
				return true
			}
		}
		return false
	}
	return walk(b)
}
