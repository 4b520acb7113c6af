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
//   - GET  .../default-branch and the deprecated .../branches/default
//   - GET  .../branches (filterText, boostMatches, paged); POST .../branches
//   - GET  .../raw/{path}?at= (ETag, If-None-Match → 304)
//   - GET  .../browse/{path}?at=[&type=true] and PUT .../browse/{path}
//     (multipart: content, message, branch, sourceCommitId, sourceBranch;
//     one file per commit, as the real server; it needs
//     X-Atlassian-Token: no-check)
//   - GET  .../files/{path}?at= (recursive, paged)
//   - GET  .../archive?at=&format=&path=&prefix= (zip, tar, tgz, tar.gz)
//   - POST rest/search/latest/search (Data Center's code search, see
//     [Server.SetSearch])
//   - GET  .../pull-requests (at, direction, state, paged), GET .../pull-requests/{id},
//     POST .../pull-requests (409 DuplicatePullRequestException with
//     existingPullRequest, 409 EmptyPullRequestException)
//
// Project keys are matched in any case and repositories by slug, as on the
// real server. Errors are Bitbucket's {"errors":[{"context","message",
// "exceptionName"}]} bodies. The API is served under both /rest/api/1.0 and
// /rest/api/latest.
//
// It counts requests, checks credentials (Bearer HTTP access tokens, or
// Basic username and password; a bad one gets Bitbucket's 401) and injects
// the faults of scmtest.FaultKind: 401, 404, validation failures (400, the
// status Bitbucket uses), 429 with and without Retry-After, 5xx, slow
// answers that honour the request's context, and truncated bodies.
//
// Modelled, not recorded: the exception names and messages of file-edit
// conflicts, and the answer for raw/{path} naming a directory (404, as for
// a missing path).
package fakebitbucketserver

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
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
	// Slug defaults to the slug Bitbucket derives from Name (lower-case,
	// runs of other characters than letters, digits, ".", "_" and "-"
	// replaced by "-").
	Slug string
	// DefaultBranch defaults to "main".
	DefaultBranch string
	Description   string
	Public        bool
	Archived      bool
	// Files are committed on DefaultBranch as one commit. With no files
	// the repository is empty: it has no branch and no commit.
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
	Files   []File   // written (created or replaced)
	Delete  []string // removed
}

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

// Request is one request the fake received.
type Request struct {
	Method string
	// Path is the path as received, escaped, with the query.
	Path string
	// Route is the pattern that answered, e.g.
	// "GET /projects/{key}/repos/{slug}/raw/{path...}", or "" when none did.
	Route string
	// Header is a copy of every header received.
	Header http.Header
}

// Stats counts requests.
type Stats struct {
	// Total counts every request received, those answered with a fault or
	// 304 included.
	Total int
	// NotModified counts requests answered 304.
	NotModified int
	// Routes counts requests per route.
	Routes map[string]int
	// Unrouted counts requests that matched no route.
	Unrouted int
}

// Fault is a failure to inject with [Server.Inject].
type Fault struct {
	// Kind is the failure, as the conformance suite names it.
	Kind scmtest.FaultKind
	// Times is how many matching requests the fault applies to; 0 means
	// every matching request until ClearFaults.
	Times int
	// RetryAfter is, for the rate-limit faults, the Retry-After value;
	// 0 means 60 s.
	RetryAfter time.Duration
	// Delay is, for FaultSlow, how long to wait before answering.
	Delay time.Duration
	// Status is the status of FaultServerError (500 when 0).
	Status int
	// Method restricts the fault to one HTTP method; "" matches any.
	Method string
	// Path restricts the fault to request paths (after the context path
	// and /rest/api/1.0) starting with it, e.g. "/projects/ACME/repos/basic/browse/";
	// "" matches any.
	Path string
}

// Server is a fake Bitbucket Server. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	projects map[string]*project // by upper-case key
	nextID   int
	seq      int // makes commit ids unique

	faults fake.Faults[Fault]
	log    fake.Log[Request, Stats]

	searchMode SearchMode // see search.go
}

type project struct {
	key         string
	name        string
	description string
	id          int
	repos       map[string]*repo // by slug
}

type repo struct {
	proj          *project
	id            int
	name, slug    string
	description   string
	public        bool
	archived      bool
	defaultBranch string
	branches      map[string]string  // name → commit id
	commits       map[string]*commit // by id
	pulls         []*pull
}

type commit struct {
	id      string
	parent  string
	message string
	author  string
	when    time.Time
	files   map[string]entry // full snapshot
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
	from, to    string // branch names
	draft       bool
	state       string
	created     time.Time
	author      string
}

// New starts a fake Bitbucket Server. Call Close when done. It does not
// need a *testing.T, so a main program can serve it too.
func New(opts *Options) *Server {
	s := &Server{projects: map[string]*project{}}
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
	s.srv = httptest.NewServer(s.handler())
	return s
}

// Close shuts the server down and closes its connections.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

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
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = true
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projectLocked(key, name)
}

func (s *Server) projectLocked(key, name string) *project {
	k := projectKey(key)
	if p, ok := s.projects[k]; ok {
		return p
	}
	s.nextID++
	if name == "" {
		name = k
	}
	p := &project{key: k, name: name, id: s.nextID, repos: map[string]*repo{}}
	s.projects[k] = p
	return p
}

// AddRepo creates a repository, its project if needed, and, when r.Files
// is not empty, one commit on the default branch, whose id it returns.
func (s *Server) AddRepo(r Repo) (string, error) {
	if r.Project == "" || r.Name == "" {
		return "", errors.New("fakebitbucketserver: AddRepo needs a project and a name")
	}
	slug := r.Slug
	if slug == "" {
		slug = Slugify(r.Name)
	}
	if slug == "" {
		return "", fmt.Errorf("fakebitbucketserver: no slug for repository name %q", r.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projectLocked(r.Project, "")
	if _, ok := p.repos[slug]; ok {
		return "", fmt.Errorf("fakebitbucketserver: repository %s/%s exists", p.key, slug)
	}
	s.nextID++
	rp := &repo{proj: p, id: s.nextID, name: r.Name, slug: slug, description: r.Description, public: r.Public,
		archived: r.Archived, defaultBranch: r.DefaultBranch, branches: map[string]string{}, commits: map[string]*commit{}}
	if rp.defaultBranch == "" {
		rp.defaultBranch = "main"
	}
	p.repos[slug] = rp
	if len(r.Files) == 0 {
		return "", nil
	}
	files, err := applyFiles(nil, r.Files, nil)
	if err != nil {
		return "", err
	}
	id := s.commitLocked(rp, "", files, "Initial commit")
	rp.branches[rp.defaultBranch] = id
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
	for _, f := range add {
		if !fs.ValidPath(f.Path) || f.Path == "." {
			return nil, fmt.Errorf("fakebitbucketserver: invalid path %q", f.Path)
		}
		files[f.Path] = entry{content: slices.Clone(f.Content), exec: f.Executable, blob: BlobID(f.Content)}
	}
	for _, p := range del {
		delete(files, p)
	}
	return files, nil
}

// BlobID returns the git blob id of content, as git hash-object computes it.
func BlobID(content []byte) string { return gitobj.BlobID(content) }

func (s *Server) commitLocked(rp *repo, parent string, files map[string]entry, msg string) string {
	s.seq++
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\x00", rp.slug, parent, s.seq, msg)
	for _, p := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s %s %v\x00", p, files[p].blob, files[p].exec)
	}
	id := hex.EncodeToString(h.Sum(nil))
	rp.commits[id] = &commit{id: id, parent: parent, message: msg, author: s.opts.User, when: s.now(), files: files}
	return id
}

func (s *Server) repoLocked(key, slug string) (*repo, error) {
	p, ok := s.projects[projectKey(key)]
	if !ok {
		return nil, fmt.Errorf("fakebitbucketserver: no project %s", key)
	}
	rp, ok := p.repos[slug]
	if !ok {
		return nil, fmt.Errorf("fakebitbucketserver: no repository %s/%s", key, slug)
	}
	return rp, nil
}

// Commit adds a commit on branch (created from the default branch when
// missing) and returns its id.
func (s *Server) Commit(key, slug, branch string, c Commit) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(key, slug)
	if err != nil {
		return "", err
	}
	parent, ok := rp.branches[branch]
	if !ok {
		parent = rp.branches[rp.defaultBranch]
	}
	var base map[string]entry
	if c := rp.commits[parent]; c != nil {
		base = c.files
	}
	files, err := applyFiles(base, c.Files, c.Delete)
	if err != nil {
		return "", err
	}
	id := s.commitLocked(rp, parent, files, c.Message)
	rp.branches[branch] = id
	return id, nil
}

// Branch returns the commit id branch points at.
func (s *Server) Branch(key, slug, branch string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(key, slug)
	if err != nil {
		return "", false
	}
	id, ok := rp.branches[branch]
	return id, ok
}

// Files returns every file at ref (a branch, a commit id, or "" for the
// default branch), sorted by path.
func (s *Server) Files(key, slug, ref string) ([]File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(key, slug)
	if err != nil {
		return nil, err
	}
	c := rp.resolve(ref)
	if c == nil {
		return nil, fmt.Errorf("fakebitbucketserver: no ref %q in %s/%s", ref, key, slug)
	}
	var out []File
	for _, p := range slices.Sorted(maps.Keys(c.files)) {
		e := c.files[p]
		out = append(out, File{Path: p, Content: slices.Clone(e.content), Executable: e.exec})
	}
	return out, nil
}

// Commits returns the ids of the commits reachable from ref, newest first.
func (s *Server) Commits(key, slug, ref string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(key, slug)
	if err != nil {
		return nil, err
	}
	var out []string
	for c := rp.resolve(ref); c != nil; c = rp.commits[c.parent] {
		out = append(out, c.id)
	}
	return out, nil
}

// PullRequests returns a repository's pull requests in creation order.
func (s *Server) PullRequests(key, slug string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(key, slug)
	if err != nil {
		return nil
	}
	var out []PullRequest
	for _, p := range rp.pulls {
		out = append(out, PullRequest{ID: p.id, Title: p.title, Description: p.description, FromBranch: p.from,
			ToBranch: p.to, FromCommit: rp.branches[p.from], Draft: p.draft, State: p.state, URL: s.prWebURL(rp, p.id)})
	}
	return out
}

// DeclinePullRequest declines an open pull request.
func (s *Server) DeclinePullRequest(key, slug string, id int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, err := s.repoLocked(key, slug)
	if err != nil {
		return err
	}
	for _, p := range rp.pulls {
		if p.id == id {
			p.state = "DECLINED"
			return nil
		}
	}
	return fmt.Errorf("fakebitbucketserver: no pull request %d", id)
}

func (s *Server) prWebURL(rp *repo, id int) string {
	return fmt.Sprintf("%s/projects/%s/repos/%s/pull-requests/%d", s.URL(), rp.proj.key, rp.slug, id)
}

// Inject arms a fault.
func (s *Server) Inject(f Fault) { s.faults.Arm(f, f.Times) }

// ClearFaults disarms every fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request { return s.log.Requests() }

// Stats returns the request counts.
func (s *Server) Stats() Stats {
	st, routes, unrouted := s.log.Stats()
	st.Routes, st.Unrouted = routes, unrouted
	return st
}

// ResetStats forgets the requests received so far.
func (s *Server) ResetStats() { s.log.Reset() }

// resolve turns a ref into a commit: "" is the default branch; then a full
// branch name (refs/heads/x), a branch, a (possibly abbreviated) commit id.
func (rp *repo) resolve(ref string) *commit {
	if ref == "" {
		ref = rp.defaultBranch
	}
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		ref = b
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

// under returns the paths under dir ("" for all), sorted.
func under(files map[string]entry, dir string) []string {
	var out []string
	for p := range files {
		if dir == "" || strings.HasPrefix(p, dir+"/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// cleanPath turns a request path into a repository path: "" for the root.
func cleanPath(p string) (string, bool) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", true
	}
	if !fs.ValidPath(p) {
		return "", false
	}
	return path.Clean(p), true
}
