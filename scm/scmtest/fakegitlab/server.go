// Package fakegitlab is a stateful fake of GitLab's REST (v4) and GraphQL
// APIs for tests and local demos: an httptest server answering GitLab's
// paths with GitLab's bodies and headers (error bodies such as
// {"message":"404 Project Not Found"}, X-Gitlab-* file headers, Link and
// X-Next-Page pagination, RateLimit-* headers), modelled on GitLab's JSON
// schemas, recorded bodies and source.
//
// It holds nested groups ("acme/platform/tools"), user namespaces, projects
// with git's own blob, tree and commit ids, branches, merge requests
// (those from a fork, seeded with [Server.AddMergeRequest], listed on the
// project they target as GitLab lists them), users and group members. Projects are addressed by numeric id or URL-encoded
// full path. [Options.RelativePath] serves an instance installed under a
// sub-path. Credentials (Authorization: Bearer T or PRIVATE-TOKEN: T) are
// checked against [Options.Tokens]; an anonymous request sees public
// projects only, with GitLab's reduced project answer (no visibility), and
// cannot write; an archived project refuses writes (403). GraphQL queries
// are validated against testdata/schema.graphql, GitLab's schema for the
// fields scmkit uses.
//
// The fake embeds [fake.Kit]: Inject, ClearFaults and Requests. A fault's
// Path is relative to the instance root ("/api/v4/projects/acme%2Fsvc",
// "/api/graphql"). It answers each [fake.FaultKind] as GitLab does:
//
//	FaultUnauthorized                    401 {"message":"401 Unauthorized"}
//	FaultNotFound                        404 {"message":"404 Project Not Found"}
//	FaultUnprocessable                   422 {"message":{"base":[...]}}
//	FaultRateLimit                       429 "Retry later", Retry-After, RateLimit-* (Remaining 0, Reset)
//	FaultRateLimitResetOnly              as FaultRateLimit without Retry-After
//	FaultSecondaryRateLimit,             429 Retry-After and {"message":{"error":"This endpoint has been
//	FaultTooManyRequests                     requested too many times. Try again later."}}
//	FaultTooManyRequestsNoRetryAfter,    429 "Retry later", no rate-limit header
//	FaultSecondaryRateLimitNoRetryAfter
//	FaultServerError                     Status (500 JSON; 502, 503, 504 GitLab's HTML page)
//	FaultEchoCredentials                 Status (400) whose message quotes the credentials
//	FaultSlow, FaultTruncatedBody,       carried out by fake.Kit
//	FaultLostAnswer
//
// FaultOpenPullRequest is not produced: inject FaultServerError on POST
// /api/v4/projects/:id/merge_requests instead.
package fakegitlab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/oauthsrv"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// Options configures a Server. A nil *Options means the defaults.
type Options struct {
	// Tokens are the credentials the fake accepts, as
	// "Authorization: Bearer T" or "PRIVATE-TOKEN: T". Any other
	// credential gets 401 {"message":"401 Unauthorized"}. Requests
	// without one are anonymous: they see public projects only and
	// cannot write. When Tokens is empty, every request is treated as
	// authenticated.
	Tokens []string
	// RelativePath is the sub-path GitLab is installed under, e.g.
	// "/gitlab"; "" serves GitLab at the root.
	RelativePath string
	// NoDeviceGrant answers the device authorization endpoint with 404,
	// as GitLab before 17.1 does.
	NoDeviceGrant bool
	// Now is the fake's clock; nil means time.Now. It dates commits and
	// merge requests and sets the RateLimit-Reset headers.
	Now func() time.Time
	// User is the username of the authenticated user (author of commits
	// and merge requests, and a user namespace); default "fake-user".
	User string
	// MaxPerPage caps per_page (GitLab's maximum is 100, the default 20).
	// 0 means 100.
	MaxPerPage int
	// RateLimit is the RateLimit-Limit the fake advertises on every
	// answer (requests per minute, as GitLab.com sends it); 0 means 2000.
	// The fake never enforces it: inject FaultRateLimit for a refusal.
	RateLimit int
	// NoKeyset makes the group and user project listings answer with
	// offset pagination (X-Next-Page, Link with page=) even when asked
	// for pagination=keyset, as instances that do not support keyset
	// pagination for them do.
	NoKeyset bool
	// MaxComplexity, when > 0, refuses GraphQL queries whose complexity
	// exceeds it with GitLab's error ("Query has complexity of N, which
	// exceeds max complexity of M"). The complexity follows GitLab's
	// rule: 1 per field plus its selection, a connection's cost growing
	// by 1% per item of its page (first, default 100), so that a page of
	// 100 doubles it. (GitLab's own limit is 250 for authenticated
	// requests.)
	MaxComplexity int
}

// Visibility is a project's visibility level.
type Visibility string

// The visibility levels, as GitLab spells them.
const (
	Private  Visibility = "private"
	Internal Visibility = "internal"
	Public   Visibility = "public"
)

// Project describes a project to seed with [Server.AddProject].
type Project struct {
	// Namespace is the full path of the group ("acme/platform"), created
	// with its parents if missing, or the name of a user namespace
	// created with Options.User.
	Namespace string
	// Path is the project's path (its URL name).
	Path string
	// Name is the display name; default Path.
	Name string
	// DefaultBranch defaults to "main".
	DefaultBranch string
	Description   string
	// Visibility defaults to Private.
	Visibility Visibility
	Archived   bool
	// ForkedFrom is the full path of the project this one is a fork
	// of ("" for none): REST answers it as forked_from_project, GraphQL
	// as isForked.
	ForkedFrom string
	// Files are committed on DefaultBranch as one commit. With no files
	// the repository is empty: it has no branch and no commit.
	Files []File
}

// File is a file of a seeded project or of a commit.
type File = fake.File

// Commit describes a commit to add with [Server.Commit]: its Message, the
// Files it writes (created or replaced) and the paths it Deletes.
type Commit = repostore.Change

// MergeRequest describes a merge request.
type MergeRequest struct {
	IID          int
	Title        string
	Description  string
	SourceBranch string
	TargetBranch string
	// SHA is the head commit of the source branch.
	SHA   string
	Draft bool
	// State is "opened", "closed" or "merged".
	State  string
	WebURL string
	// SourceProject is the full path of the project holding
	// SourceBranch: "" for the merge request's own project, else a fork
	// of it. GitLab lists a fork's merge request on the project it
	// targets, with the fork's id as its source_project_id
	// (sourceProjectId in GraphQL).
	SourceProject string
}

// Stats counts requests.
type Stats struct {
	// Total counts every request, those answered 304 or by a fault
	// included.
	Total int
	// NotModified counts requests answered 304.
	NotModified int
	// GraphQL counts GraphQL requests.
	GraphQL int
	// Routes counts requests per route.
	Routes map[string]int
	// Unrouted counts requests that matched no route (answered 404).
	Unrouted int
}

// namespace is a group or a user namespace.
type namespace struct {
	id       int64
	fullPath string
	name     string
	kind     string // "group" or "user"
	parent   *namespace
}

// project is a project: its description (Files unused) and its world.
type project struct {
	Project
	id      int64
	ns      *namespace
	created time.Time
	repo    *repostore.Repo // branches and commits (only DefaultBranch, Branches and Commits are set)
	mrs     []*mergeRequest
}

// mergeRequest is a merge request: its description (SHA, Draft and
// WebURL are computed when asked) and its bookkeeping.
type mergeRequest struct {
	MergeRequest
	source               *project // the project holding SourceBranch; nil for the merge request's own
	id                   int64
	created, updated     time.Time
	author               string
	removeSource, squash bool
}

// Server is a fake GitLab. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *httptest.Server
	mux  *http.ServeMux

	mu         sync.Mutex            // guards the world
	git        *repostore.Store      // writes the projects' commits, with git's ids
	namespaces map[string]*namespace // by lower-case full path
	projects   map[string]*project   // by lower-case full path
	byID       map[int64]*project
	nextID     int64

	fake.Kit[Stats] // Inject, ClearFaults, Requests, RequestsTo, ResetStats
	core            *fake.Core[Stats]
	stop            chan struct{}

	org    orgWorld          // users and group memberships (org.go)
	grants map[int64][]Grant // project shares and members by project id (access.go)

	oauthSt oauthsrv.Lazy[OAuthUser] // sign-in endpoints (oauth.go)

	closeOnce sync.Once

	rateMu   sync.Mutex // guards the rate window
	window   time.Time
	observed int
}

// New starts a fake GitLab. It needs no *testing.T, so a main program can
// serve it too. Call Close when done.
func New(opts *Options) *Server {
	s := &Server{namespaces: map[string]*namespace{}, projects: map[string]*project{}, byID: map[int64]*project{}, nextID: 100,
		grants: map[int64][]Grant{}, org: orgWorld{byName: map[string]*orgUser{}, members: map[string][]*orgMembership{},
			descr: map[string]string{}, scopes: map[string][]string{}}}
	if opts != nil {
		s.opts = *opts
		s.opts.Tokens = slices.Clone(opts.Tokens)
	}
	s.opts.RelativePath = strings.TrimSuffix("/"+strings.Trim(s.opts.RelativePath, "/"), "/") // "/gitlab" or ""
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	s.opts.User = cmp.Or(s.opts.User, "fake-user")
	s.opts.MaxPerPage = cmp.Or(max(s.opts.MaxPerPage, 0), 100)
	s.opts.RateLimit = cmp.Or(max(s.opts.RateLimit, 0), 2000)
	s.mux, s.stop = http.NewServeMux(), make(chan struct{})
	s.git = &repostore.Store{Name: "fakegitlab", Now: s.now, Author: s.opts.User, Email: s.opts.User + "@example.com", GitIDs: true}
	s.routes()
	s.addUser(s.opts.User)
	s.Kit, s.core = fake.NewKit[Stats](s.answer, s.stop)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close shuts the server down.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.stop) })
	s.srv.Close()
}

// Host returns the host and port of the server.
func (s *Server) Host() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// URL returns the web base URL (Backstage's baseUrl): the server's root
// plus RelativePath, e.g. "http://127.0.0.1:1234/gitlab". Project web_url
// values start with it.
func (s *Server) URL() string { return s.srv.URL + s.opts.RelativePath }

// APIBaseURL returns the REST API base URL (Backstage's apiBaseUrl),
// URL()+"/api/v4".
func (s *Server) APIBaseURL() string { return s.URL() + "/api/v4" }

// Client returns an *http.Client for the server, with no credential.
func (s *Server) Client() *http.Client { return s.srv.Client() }

func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

// AddGroup creates the group at fullPath ("acme/platform") and its
// missing parents. It fails if a user namespace has that path.
func (s *Server) AddGroup(fullPath string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.groupLocked(fullPath)
	return err
}

func (s *Server) groupLocked(fullPath string) (*namespace, error) {
	fullPath = strings.Trim(fullPath, "/")
	if fullPath == "" {
		return nil, errors.New("fakegitlab: empty group path")
	}
	switch ns := s.namespaces[strings.ToLower(fullPath)]; {
	case ns != nil && ns.kind != "group":
		return nil, fmt.Errorf("fakegitlab: %s is a user namespace", fullPath)
	case ns != nil:
		return ns, nil
	}
	var parent *namespace
	if dir := path.Dir(fullPath); dir != "." {
		var err error
		if parent, err = s.groupLocked(dir); err != nil {
			return nil, err
		}
	}
	ns := &namespace{id: s.newID(), fullPath: fullPath, name: path.Base(fullPath), kind: "group", parent: parent}
	s.namespaces[strings.ToLower(fullPath)] = ns
	return ns, nil
}

// addUser creates a user namespace; it is a no-op when it exists.
func (s *Server) addUser(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.namespaces[strings.ToLower(username)] == nil {
		s.namespaces[strings.ToLower(username)] = &namespace{id: s.newID(), fullPath: username, name: username, kind: "user"}
	}
}

// AddProject creates a project, its group if needed, and, when p.Files is
// not empty, one commit on the default branch. It returns that commit's id
// ("" for an empty repository) and the project's numeric id.
func (s *Server) AddProject(p Project) (commitID string, id int64, err error) {
	if p.Namespace == "" || p.Path == "" {
		return "", 0, errors.New("fakegitlab: AddProject: namespace and path are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	full := strings.Trim(p.Namespace, "/") + "/" + p.Path
	if s.projects[strings.ToLower(full)] != nil {
		return "", 0, fmt.Errorf("fakegitlab: AddProject: %s exists", full)
	}
	ns := s.namespaces[strings.ToLower(strings.Trim(p.Namespace, "/"))]
	if ns == nil {
		if ns, err = s.groupLocked(p.Namespace); err != nil {
			return "", 0, err
		}
	}
	pr := s.newProject(ns, p)
	if len(p.Files) > 0 {
		if commitID, err = s.git.Write(pr.repo, pr.DefaultBranch, nil, p.Files, nil, "Initial commit"); err != nil {
			return "", 0, err
		}
	}
	s.projects[strings.ToLower(full)], s.byID[pr.id] = pr, pr
	return commitID, pr.id, nil
}

// newProject returns the empty project p in ns, with GitLab's defaults.
func (s *Server) newProject(ns *namespace, p Project) *project {
	p.Name, p.DefaultBranch, p.Visibility, p.Files = cmp.Or(p.Name, p.Path), cmp.Or(p.DefaultBranch, "main"), cmp.Or(p.Visibility, Private), nil
	return &project{Project: p, id: s.newID(), ns: ns, created: s.now(), repo: &repostore.Repo{DefaultBranch: p.DefaultBranch,
		Branches: map[string]string{}, Commits: map[string]*repostore.Commit{}}}
}

// AddFS is AddProject with the regular files of fsys (executable when any
// execute bit is set).
func (s *Server) AddFS(p Project, fsys fs.FS) (commitID string, id int64, err error) {
	files, err := fake.ReadFS(fsys, true)
	if err != nil {
		return "", 0, err
	}
	p.Files = append(p.Files, files...)
	return s.AddProject(p)
}

func (pr *project) fullPath() string { return pr.ns.fullPath + "/" + pr.Path }

// sshURL is the project's git URL over SSH, on the host the client used.
func (pr *project) sshURL(r *http.Request) string {
	return "git@" + strings.Split(r.Host, ":")[0] + ":" + pr.fullPath() + ".git"
}

// rootRef is the default branch, or null for an empty repository.
func (pr *project) rootRef() any {
	if len(pr.repo.Branches) == 0 {
		return nil
	}
	return pr.DefaultBranch
}

// withProject runs fn on the project at fullPath with s.mu held.
func (s *Server) withProject(fullPath string, fn func(pr *project) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.projects[strings.ToLower(strings.Trim(fullPath, "/"))]
	if pr == nil {
		return fmt.Errorf("fakegitlab: no project %s", fullPath)
	}
	return fn(pr)
}

// Commit adds a commit on branch (created from the default branch when
// missing) of the project at fullPath and returns its id.
func (s *Server) Commit(fullPath, branch string, c Commit) (id string, err error) {
	err = s.withProject(fullPath, func(pr *project) error {
		parent := pr.repo.Commits[cmp.Or(pr.repo.Branches[branch], pr.repo.Branches[pr.DefaultBranch])]
		if i := slices.IndexFunc(c.Delete, func(p string) bool { return parent == nil || parent.Files[p].Blob == "" }); i >= 0 {
			return fmt.Errorf("fakegitlab: delete %q: no such file", c.Delete[i])
		}
		id, err = s.git.Write(pr.repo, branch, parent, c.Files, c.Delete, cmp.Or(c.Message, "Update"))
		return err
	})
	return id, err
}

// Branch returns the commit id branch points to.
func (s *Server) Branch(fullPath, branch string) (id string, ok bool) {
	s.withProject(fullPath, func(pr *project) error { id, ok = pr.repo.Branches[branch]; return nil }) //nolint:errcheck // ok says it
	return id, ok
}

// Files returns every file at ref (a branch or a commit id; "" is the
// default branch), sorted by path.
func (s *Server) Files(fullPath, ref string) (out []File, err error) {
	err = s.withProject(fullPath, func(pr *project) error {
		c := pr.repo.Resolve(ref)
		if c == nil {
			return fmt.Errorf("fakegitlab: no ref %q in %s", ref, fullPath)
		}
		for _, p := range slices.Sorted(maps.Keys(c.Files)) {
			out = append(out, File{Path: p, Content: slices.Clone(c.Files[p].Content), Executable: c.Files[p].Exec})
		}
		return nil
	})
	return out, err
}

// Commits returns the ids of the commits on the first-parent chain of ref
// (a branch or a commit id; "" is the default branch), newest first.
func (s *Server) Commits(fullPath, ref string) (ids []string, err error) {
	err = s.withProject(fullPath, func(pr *project) error {
		for _, c := range pr.repo.History(pr.repo.Resolve(ref), "") {
			ids = append(ids, c.ID)
		}
		return nil
	})
	return ids, err
}

// AddMergeRequest opens a merge request into the project at fullPath, as
// a user who can push to its source would, and returns its iid. Its
// SourceProject (a fork of the project, or "" for the project itself)
// must hold SourceBranch, the project TargetBranch. Title defaults to
// "Merge request"; State to "opened". SHA, Draft, WebURL and IID are
// computed.
func (s *Server) AddMergeRequest(fullPath string, mr MergeRequest) (iid int, err error) {
	err = s.withProject(fullPath, func(pr *project) error {
		src := pr
		if mr.SourceProject != "" {
			src = s.projects[strings.ToLower(strings.Trim(mr.SourceProject, "/"))]
			if src == nil {
				return fmt.Errorf("fakegitlab: AddMergeRequest: no project %s", mr.SourceProject)
			}
			if src != pr && !strings.EqualFold(src.ForkedFrom, pr.fullPath()) {
				return fmt.Errorf("fakegitlab: AddMergeRequest: %s is not a fork of %s", mr.SourceProject, fullPath)
			}
		}
		if _, ok := src.repo.Branches[mr.SourceBranch]; !ok {
			return fmt.Errorf("fakegitlab: AddMergeRequest: no branch %q in %s", mr.SourceBranch, src.fullPath())
		}
		if _, ok := pr.repo.Branches[mr.TargetBranch]; !ok {
			return fmt.Errorf("fakegitlab: AddMergeRequest: no branch %q in %s", mr.TargetBranch, fullPath)
		}
		now := s.now()
		m := &mergeRequest{MergeRequest: MergeRequest{IID: len(pr.mrs) + 1, Title: cmp.Or(mr.Title, "Merge request"),
			Description: mr.Description, SourceBranch: mr.SourceBranch, TargetBranch: mr.TargetBranch, State: cmp.Or(mr.State, "opened")},
			id: s.newID(), created: now, updated: now, author: s.opts.User}
		if src != pr {
			m.source, m.SourceProject = src, src.fullPath()
		}
		pr.mrs = append(pr.mrs, m)
		iid = m.IID
		return nil
	})
	return iid, err
}

// sourceOf is the project holding m's source branch (pr, m's target, or
// a fork of it).
func sourceOf(pr *project, m *mergeRequest) *project {
	if m.source != nil {
		return m.source
	}
	return pr
}

// MergeRequests returns a project's merge requests in creation order.
func (s *Server) MergeRequests(fullPath string) (out []MergeRequest) {
	s.withProject(fullPath, func(pr *project) error { //nolint:errcheck // none for a missing project
		for _, m := range pr.mrs {
			mr := m.MergeRequest
			mr.SHA, mr.Draft = sourceOf(pr, m).repo.Branches[m.SourceBranch], isDraft(m.Title)
			mr.WebURL = s.URL() + "/" + pr.fullPath() + "/-/merge_requests/" + strconv.Itoa(m.IID)
			out = append(out, mr)
		}
		return nil
	})
	return out
}

// Stats returns the request counts.
func (s *Server) Stats() Stats {
	st, routes, unrouted := s.core.Log().Stats()
	st.Routes, st.Unrouted = routes, unrouted
	return st
}

// isDraft reports whether a merge request's title marks it a draft.
func isDraft(title string) bool { return draftRE.MatchString(title) }

var draftRE = regexp.MustCompile(`(?i)^(draft:|\[draft\]|\(draft\))`)

// ---- request plumbing ----

type ctxKey int

const authKey ctxKey = iota // bool: the request is authenticated

func authenticated(r *http.Request) bool {
	ok, _ := r.Context().Value(authKey).(bool)
	return ok
}

// webURL is the instance's web base URL as the client reached it.
func (s *Server) webURL(r *http.Request) string { return "http://" + r.Host + s.opts.RelativePath }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	escaped := r.URL.EscapedPath()
	rel, ok := strings.CutPrefix(escaped, s.opts.RelativePath)
	if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
		s.record(r, "")
		writeText(w, http.StatusNotFound, "404 page not found\n")
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawPath = rel
	r2.URL.Path, _ = url.PathUnescape(rel)
	if _, pattern := s.mux.Handler(r2); pattern == "" {
		s.record(r, "")
		if strings.HasPrefix(rel, "/api/") {
			s.writeJSON(w, r2, http.StatusNotFound, map[string]any{"error": "404 Not Found"})
			return
		}
		writeText(w, http.StatusNotFound, "404 page not found\n")
		return
	}
	s.mux.ServeHTTP(w, r2)
}

func (s *Server) record(r *http.Request, route string) {
	s.core.Record(r, "api", route, func(st *Stats) {
		st.Total++
		if strings.HasSuffix(route, "/api/graphql") {
			st.GraphQL++
		}
	})
}

// handle registers a route wrapped with recording, faults and auth.
func (s *Server) handle(pattern string, fn http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.record(r, pattern)
		s.core.Serve(w, r, "api", "api", func(w http.ResponseWriter, r *http.Request) {
			authed, good := s.checkAuth(r)
			if !good {
				s.message(w, r, http.StatusUnauthorized, "401 Unauthorized")
				return
			}
			fn(w, r.WithContext(context.WithValue(r.Context(), authKey, authed)))
		})
	})
}

// checkAuth returns whether the request is authenticated and whether its
// credential (if any) is acceptable. Like GitLab, it treats an empty
// PRIVATE-TOKEN header as absent.
func (s *Server) checkAuth(r *http.Request) (authed, good bool) {
	if t, known := s.userToken(r); known { // a signed-in user's token (oauth.go)
		return t != nil, t != nil
	}
	if len(s.opts.Tokens) == 0 {
		return true, true
	}
	var tok string
	switch h := r.Header.Get("Authorization"); {
	case h != "":
		scheme, t, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "bearer") {
			return false, false
		}
		tok = t
	case r.Header.Get("Private-Token") != "":
		tok = r.Header.Get("Private-Token")
	default:
		return false, true
	}
	ok := slices.Contains(s.opts.Tokens, tok)
	return ok, ok
}

// answer writes GitLab's answer for an armed fault (fake.Kit carries out
// the slow, truncated and lost answers).
func (s *Server) answer(w http.ResponseWriter, r *http.Request, f fake.Fault) bool {
	wait := cmp.Or(f.RetryAfter, time.Minute)
	secs := strconv.Itoa(int((wait + time.Second - 1) / time.Second))
	// The reset epoch is rounded up: never before the limit resets.
	reset := time.Unix(int64((time.Duration(s.opts.Now().UnixNano())+wait+time.Second-1)/time.Second), 0)
	h := w.Header()
	switch f.Kind {
	case fake.FaultUnauthorized:
		s.message(w, r, http.StatusUnauthorized, "401 Unauthorized")
	case fake.FaultNotFound:
		s.message(w, r, http.StatusNotFound, "404 Project Not Found")
	case fake.FaultUnprocessable:
		s.message(w, r, http.StatusUnprocessableEntity, map[string]any{"base": []string{"The change requests could not be processed"}})
	case fake.FaultRateLimit, fake.FaultRateLimitResetOnly:
		if f.Kind == fake.FaultRateLimit {
			h.Set("Retry-After", secs)
		}
		s.rateHeaders(h, s.opts.RateLimit+1, 0, reset)
		writeText(w, http.StatusTooManyRequests, "Retry later\n")
	case fake.FaultSecondaryRateLimit, fake.FaultTooManyRequests:
		h.Set("Retry-After", secs)
		s.message(w, r, http.StatusTooManyRequests, map[string]any{"error": "This endpoint has been requested too many times. Try again later."})
	case fake.FaultTooManyRequestsNoRetryAfter, fake.FaultSecondaryRateLimitNoRetryAfter:
		writeText(w, http.StatusTooManyRequests, "Retry later\n")
	case fake.FaultServerError:
		st := cmp.Or(f.Status, http.StatusInternalServerError)
		page := fmt.Sprintf("<!DOCTYPE html>\n<html><head><title>GitLab is not responding (%d)</title></head><body><h1>%d</h1><p>GitLab is not responding.</p></body></html>\n", st, st)
		if !fake.GatewayError(w, st, page) {
			s.message(w, r, st, strconv.Itoa(st)+" Internal Server Error")
		}
	case fake.FaultEchoCredentials:
		st := cmp.Or(f.Status, http.StatusBadRequest)
		if echo := fake.EchoCredentials(r); !fake.EchoPage(w, st, echo) {
			s.message(w, r, st, strconv.Itoa(st)+" Bad request - "+echo)
		}
	default:
		return false
	}
	return true
}
