// Package memscm is an in-memory scmkit driver for embedders' unit tests: a
// [World] of repositories with branches, commits and pull requests, served
// to the portable *scm.Client through an [driver.Opener], without HTTP.
//
// Use it like this (see the package example, Example): make a world with
// [New], add repositories with [World.AddRepo] (checking its error), put
// [World.Opener] in scm.Options.Drivers, call the client, then assert on
// the world ([World.PullRequests], [World.File], [World.Requests]).
//
// The world does not care which integration a URL names: a memscm driver
// opened for github.com and one opened for gitlab.com see the same
// repositories (keyed by owner and name, case-insensitively). It passes the
// scm/scmtest conformance suite; failures that an HTTP fake would produce
// (401, 404, rate limits, slow answers) are produced through [World.Inject]
// or [Options.Faults].
//
// memscm counts one request per driver call (and per page), so that request
// budgets can be asserted with [World.Requests] as with an HTTP fake.
package memscm

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
)

// World is a set of in-memory repositories. The zero value is not usable;
// call [New]. A World is safe for concurrent use.
type World struct {
	mu       sync.Mutex
	repos    map[string]*repo // key: lower(owner) + "/" + lower(name)
	requests int
	faults   []*Fault
	seq      int // commit counter, makes commit ids unique
}

type blob struct {
	content    []byte
	executable bool
}

type commit struct {
	id     string
	parent string
	files  map[string]blob // path -> blob; immutable once stored
}

type repo struct {
	owner, name   string
	defaultBranch string
	private       bool
	archived      bool
	fork          bool
	branches      map[string]string // name -> commit id
	commits       map[string]*commit
	prs           []*PullRequest
}

// PullRequest is a pull request of the world, as [World.PullRequests]
// reports it.
type PullRequest struct {
	Number   int
	Base     string
	Branch   string
	Title    string
	Body     string
	Draft    bool
	Open     bool
	CommitID string
}

// New returns an empty world.
func New() *World { return &World{repos: map[string]*repo{}} }

// Files returns an fs.FS holding m (path to content, mode 0644), for
// [World.AddRepo].
func Files(m map[string]string) fs.FS {
	fsys := fstest.MapFS{}
	for p, c := range m {
		fsys[p] = &fstest.MapFile{Data: []byte(c), Mode: 0o644}
	}
	return fsys
}

// RepoOptions are a repository's flags for [World.AddRepoWith].
type RepoOptions struct {
	Private  bool
	Archived bool
	Fork     bool
}

// AddRepo adds repository owner/name with one commit holding the regular
// files of files (a file whose mode has an executable bit is executable)
// on branch defaultBranch ("" means "main"). It fails if the repository
// exists or a path is invalid.
func (w *World) AddRepo(owner, name, defaultBranch string, files fs.FS) error {
	return w.AddRepoWith(owner, name, defaultBranch, files, nil)
}

// AddRepoWith is [World.AddRepo] with flags; opts may be nil.
func (w *World) AddRepoWith(owner, name, defaultBranch string, files fs.FS, opts *RepoOptions) error {
	if owner == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("memscm: invalid repository %q/%q", owner, name)
	}
	if defaultBranch == "" {
		defaultBranch = "main"
	}
	if opts == nil {
		opts = &RepoOptions{}
	}
	snap := map[string]blob{}
	if files != nil {
		err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			b, err := fs.ReadFile(files, p)
			if err != nil {
				return err
			}
			snap[p] = blob{content: b, executable: info.Mode()&0o111 != 0}
			return nil
		})
		if err != nil {
			return fmt.Errorf("memscm: reading files of %s/%s: %w", owner, name, err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	k := key(owner, name)
	if _, ok := w.repos[k]; ok {
		return fmt.Errorf("memscm: repository %s/%s exists", owner, name)
	}
	r := &repo{owner: owner, name: name, defaultBranch: defaultBranch, private: opts.Private, archived: opts.Archived,
		fork: opts.Fork, branches: map[string]string{}, commits: map[string]*commit{}}
	c := w.newCommit(r, "", snap)
	r.branches[defaultBranch] = c.id
	w.repos[k] = r
	return nil
}

// CreateBranch creates branch from the head of ref (a branch or commit id;
// "" means the default branch).
func (w *World) CreateBranch(owner, name, branch, from string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.repos[key(owner, name)]
	if !ok {
		return fmt.Errorf("memscm: no repository %s/%s", owner, name)
	}
	if _, ok := r.branches[branch]; ok {
		return fmt.Errorf("memscm: branch %q exists", branch)
	}
	c, ok := r.resolve(from)
	if !ok {
		return fmt.Errorf("memscm: no ref %q", from)
	}
	r.branches[branch] = c.id
	return nil
}

// Branches returns the repository's branches and their head commits.
func (w *World) Branches(owner, name string) map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.repos[key(owner, name)]
	if !ok {
		return nil
	}
	return maps.Clone(r.branches)
}

// File returns the content of p at ref ("" = the default branch) and
// whether it is executable; ok is false if there is no such file.
func (w *World) File(owner, name, ref, p string) (content []byte, executable, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, found := w.repos[key(owner, name)]
	if !found {
		return nil, false, false
	}
	c, found := r.resolve(ref)
	if !found {
		return nil, false, false
	}
	b, found := c.files[p]
	return slices.Clone(b.content), b.executable, found
}

// PullRequests returns the repository's pull requests, oldest first.
func (w *World) PullRequests(owner, name string) []PullRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.repos[key(owner, name)]
	if !ok {
		return nil
	}
	out := make([]PullRequest, len(r.prs))
	for i, p := range r.prs {
		out[i] = *p
	}
	return out
}

// Requests returns the number of driver calls (one per page for listings)
// served so far, by every driver of the world.
func (w *World) Requests() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests
}

// Fault makes driver calls fail or slow down, as an HTTP fake's injected
// faults do. Arm one with [World.Inject] or [Options.Faults].
type Fault struct {
	// Op is the driver method the fault applies to ("ReadFile",
	// "ReadTree", "ListFiles", "ListRepositories", "OpenPullRequest",
	// "FindFiles"); "" means every method.
	Op string
	// Code, when not OK, makes the call fail with an error that the
	// driver's ErrorInfo classifies as Code, Status and RetryAt.
	Code    errcode.Code
	Status  int
	RetryAt time.Time
	// Delay makes the call wait this long (or until its context ends)
	// before answering, or failing with Code.
	Delay time.Duration
	// Times is how many calls the fault applies to when armed with
	// Inject; 0 means every call until ClearFaults. Ignored in
	// Options.Faults, which always apply.
	Times int
}

// Inject arms f for the world's drivers.
func (w *World) Inject(f Fault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = append(w.faults, &f)
}

// ClearFaults disarms every fault armed with Inject.
func (w *World) ClearFaults() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = nil
}

// Options configure one driver of the world (see [World.Opener]). A nil
// *Options means the defaults.
type Options struct {
	// Faults apply to every call of this driver, e.g. a Code of
	// Unauthorized to stand for a client with a bad credential.
	Faults []Fault
	// ListFilesLimit, when > 0, cuts ListFiles answers to that many paths
	// and reports them Truncated, as GitHub's tree API does for large
	// repositories.
	ListFilesLimit int
	// PageSize is the number of repositories per ListRepositories page
	// when the request gives none; 0 means 100.
	PageSize int
}

// Opener returns a driver.Opener serving this world, for any integration
// kind: put it in scm.Options.Drivers.
func (w *World) Opener(opts *Options) driver.Opener {
	o := Options{}
	if opts != nil {
		o = *opts
		o.Faults = slices.Clone(opts.Faults)
	}
	return func(in *integrations.Integration) (driver.Driver, error) {
		if in == nil {
			return nil, errors.New("memscm: nil integration")
		}
		return &drv{w: w, in: in, opts: o}, nil
	}
}

func key(owner, name string) string { return strings.ToLower(owner) + "/" + strings.ToLower(name) }

// newCommit stores a commit; w.mu must be held.
func (w *World) newCommit(r *repo, parent string, files map[string]blob) *commit {
	w.seq++
	h := sha1.New()
	fmt.Fprintf(h, "commit %d parent %s\n", w.seq, parent)
	for _, p := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s %t %s\n", p, files[p].executable, driver.BlobID(files[p].content))
	}
	c := &commit{id: hex.EncodeToString(h.Sum(nil)), parent: parent, files: files}
	r.commits[c.id] = c
	return c
}

// resolve finds the commit of ref: a branch, a commit id, or "" for the
// default branch.
func (r *repo) resolve(ref string) (*commit, bool) {
	if ref == "" {
		ref = r.defaultBranch
	}
	if id, ok := r.branches[ref]; ok {
		return r.commits[id], true
	}
	c, ok := r.commits[ref]
	return c, ok
}

// Error is the error a memscm driver returns; ErrorInfo reads its fields.
type Error struct {
	Code    errcode.Code
	Status  int
	RetryAt time.Time
	Msg     string
}

// Error returns the fault's message, with its status when set.
func (e *Error) Error() string {
	s := "memscm: " + e.Msg
	if e.Status != 0 {
		s += " (HTTP " + strconv.Itoa(e.Status) + ")"
	}
	return s
}

func errf(code errcode.Code, status int, format string, args ...any) error {
	return &Error{Code: code, Status: status, Msg: fmt.Sprintf(format, args...)}
}

// drv is one driver over a World.
type drv struct {
	w    *World
	in   *integrations.Integration
	opts Options
}

var _ driver.FileFinder = (*drv)(nil)

// begin counts a call, applies faults and the context. It returns the
// repository named by owner/name when name is not "".
func (d *drv) begin(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.w.mu.Lock()
	d.w.requests++
	var apply []Fault
	for _, f := range d.opts.Faults {
		if f.Op == "" || f.Op == op {
			apply = append(apply, f)
		}
	}
	kept := d.w.faults[:0]
	for _, f := range d.w.faults {
		if f.Op == "" || f.Op == op {
			apply = append(apply, *f)
			if f.Times > 0 {
				f.Times--
				if f.Times == 0 {
					continue
				}
			}
		}
		kept = append(kept, f)
	}
	d.w.faults = kept
	d.w.mu.Unlock()
	for _, f := range apply {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if f.Code != errcode.OK {
			return &Error{Code: f.Code, Status: f.Status, RetryAt: f.RetryAt, Msg: "injected fault: " + f.Code.String()}
		}
	}
	return ctx.Err()
}

// repo returns the repository; w.mu must be held.
func (d *drv) repo(r driver.Repo) (*repo, error) {
	rp, ok := d.w.repos[key(r.Owner, r.Name)]
	if !ok {
		return nil, errf(errcode.NotFound, http.StatusNotFound, "repository %s/%s not found", r.Owner, r.Name)
	}
	return rp, nil
}

// commitAt returns the repository r and the commit ref names in it ("" =
// the default branch); w.mu must be held.
func (d *drv) commitAt(r driver.Repo, ref string) (*repo, *commit, error) {
	rp, err := d.repo(r)
	if err != nil {
		return nil, nil, err
	}
	c, ok := rp.resolve(ref)
	if !ok {
		return nil, nil, errf(errcode.NotFound, http.StatusNotFound, "ref %q not found in %s/%s", ref, rp.owner, rp.name)
	}
	return rp, c, nil
}

func isDir(files map[string]blob, dir string) bool {
	if dir == "" {
		return true
	}
	for p := range files {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// ReadFile implements driver.Driver.
func (d *drv) ReadFile(ctx context.Context, _ *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	if err := d.begin(ctx, "ReadFile"); err != nil {
		return nil, err
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	_, c, err := d.commitAt(r.Repo, r.Ref)
	if err != nil {
		return nil, err
	}
	b, ok := c.files[r.Path]
	if !ok {
		if isDir(c.files, r.Path) && !r.DirAsMissing {
			return nil, errf(errcode.InvalidArgument, http.StatusUnprocessableEntity, "%s is a directory", r.Path)
		}
		return nil, errf(errcode.NotFound, http.StatusNotFound, "file %s not found", r.Path)
	}
	id := driver.BlobID(b.content)
	etag := `"` + id + `"`
	if r.IfNoneMatch != "" && r.IfNoneMatch == etag {
		return nil, errf(errcode.NotModified, http.StatusNotModified, "%s not modified", r.Path)
	}
	if r.MaxBytes > 0 && int64(len(b.content)) > r.MaxBytes {
		return nil, errf(errcode.InvalidArgument, 0, "%s is %d bytes, more than the limit of %d", r.Path, len(b.content), r.MaxBytes)
	}
	return &driver.File{Path: r.Path, Content: slices.Clone(b.content), ETag: etag, BlobID: id, CommitID: c.id}, nil
}

// ReadTree implements driver.Driver; it answers with a list of files.
func (d *drv) ReadTree(ctx context.Context, _ *http.Client, r *driver.TreeRequest) (*driver.Tree, error) {
	if err := d.begin(ctx, "ReadTree"); err != nil {
		return nil, err
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	_, c, err := d.commitAt(r.Repo, r.Ref)
	if err != nil {
		return nil, err
	}
	if !isDir(c.files, r.Dir) {
		return nil, errf(errcode.NotFound, http.StatusNotFound, "directory %s not found", r.Dir)
	}
	t := &driver.Tree{CommitID: c.id, Files: []driver.TreeFile{}}
	for _, p := range slices.Sorted(maps.Keys(c.files)) {
		rel, ok := under(p, r.Dir)
		if !ok {
			continue
		}
		b := c.files[p]
		t.Files = append(t.Files, driver.TreeFile{Path: rel, Content: slices.Clone(b.content), Executable: b.executable})
	}
	return t, nil
}

func under(p, dir string) (string, bool) {
	if dir == "" {
		return p, true
	}
	return strings.CutPrefix(p, dir+"/")
}

// ListFiles implements driver.Driver.
func (d *drv) ListFiles(ctx context.Context, _ *http.Client, r *driver.ListFilesRequest) (*driver.FileList, error) {
	if err := d.begin(ctx, "ListFiles"); err != nil {
		return nil, err
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	_, c, err := d.commitAt(r.Repo, r.Ref)
	if err != nil {
		return nil, err
	}
	l := &driver.FileList{CommitID: c.id, Paths: []string{}}
	for _, p := range slices.Sorted(maps.Keys(c.files)) {
		if _, ok := under(p, r.Dir); ok {
			if d.opts.ListFilesLimit > 0 && len(l.Paths) == d.opts.ListFilesLimit {
				l.Truncated = true
				break
			}
			l.Paths = append(l.Paths, p)
		}
	}
	return l, nil
}

// ListRepositories implements driver.Driver. The cursor is the index of
// the page's first repository in name order.
func (d *drv) ListRepositories(ctx context.Context, _ *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	if err := d.begin(ctx, "ListRepositories"); err != nil {
		return nil, err
	}
	start := 0
	if r.Cursor != "" {
		n, err := strconv.Atoi(r.Cursor)
		if err != nil || n < 0 {
			return nil, errf(errcode.InvalidArgument, http.StatusBadRequest, "bad cursor %q", r.Cursor)
		}
		start = n
	}
	size := r.PageSize
	if size <= 0 {
		size = d.opts.PageSize
	}
	if size <= 0 {
		size = 100
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	all := d.ownerRepos(r.Owner)
	if len(all) == 0 {
		return nil, errf(errcode.NotFound, http.StatusNotFound, "owner %s not found", r.Owner)
	}
	page := &driver.RepositoryPage{Repositories: []driver.Repository{}}
	end := min(start+size, len(all))
	for _, rp := range all[min(start, end):end] {
		page.Repositories = append(page.Repositories, d.describe(rp))
	}
	if end < len(all) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

// ownerRepos returns the owner's repositories in name order; w.mu must be
// held.
func (d *drv) ownerRepos(owner string) []*repo {
	var out []*repo
	for _, rp := range d.w.repos {
		if strings.EqualFold(rp.owner, owner) {
			out = append(out, rp)
		}
	}
	slices.SortFunc(out, func(a, b *repo) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	return out
}

func (d *drv) describe(rp *repo) driver.Repository {
	web := d.in.BaseURL + "/" + rp.owner + "/" + rp.name
	return driver.Repository{Owner: rp.owner, Name: rp.name, DefaultBranch: rp.defaultBranch, WebURL: web,
		CloneURL: web + ".git", Private: rp.private, Archived: rp.archived, Fork: rp.fork}
}

// FindFiles implements driver.FileFinder: one page per call, every
// repository of the owner in one page.
func (d *drv) FindFiles(ctx context.Context, _ *http.Client, r *driver.FindFilesRequest) (*driver.FoundPage, error) {
	if err := d.begin(ctx, "FindFiles"); err != nil {
		return nil, err
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	all := d.ownerRepos(r.Owner)
	if len(all) == 0 {
		return nil, errf(errcode.NotFound, http.StatusNotFound, "owner %s not found", r.Owner)
	}
	page := &driver.FoundPage{}
	for _, rp := range all {
		c, _ := rp.resolve("")
		f := driver.Found{Repository: d.describe(rp)}
		if b, ok := c.files[r.Path]; ok {
			f.Found, f.BlobID = true, driver.BlobID(b.content)
		}
		page.Results = append(page.Results, f)
	}
	return page, nil
}

// OpenPullRequest implements driver.Driver.
func (d *drv) OpenPullRequest(ctx context.Context, _ *http.Client, r *driver.PullRequestRequest) (*driver.PullRequest, error) {
	if err := d.begin(ctx, "OpenPullRequest"); err != nil {
		return nil, err
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	rp, err := d.repo(r.Repo)
	if err != nil {
		return nil, err
	}
	base := r.Base
	if base == "" {
		base = rp.defaultBranch
	}
	if _, ok := rp.branches[base]; !ok {
		return nil, errf(errcode.NotFound, http.StatusNotFound, "base branch %q not found", base)
	}
	if base == r.Branch {
		// As every driver: the commit would go on the base itself.
		return nil, errf(errcode.InvalidArgument, http.StatusUnprocessableEntity, "branch %q is the base branch", r.Branch)
	}
	if r.Branch == rp.defaultBranch {
		// As every driver, whatever the base: the commit would go on the
		// default branch, unreviewed.
		return nil, errf(errcode.InvalidArgument, http.StatusUnprocessableEntity,
			"branch %q is the repository's default branch: a pull request needs a branch of its own", r.Branch)
	}
	var existing *PullRequest
	for _, p := range rp.prs {
		if p.Open && p.Base == base && p.Branch == r.Branch {
			existing = p
		}
	}
	if existing != nil && !r.UpdateExisting {
		return d.prOut(rp, existing, true), nil
	}
	headID, ok := rp.branches[r.Branch]
	if !ok {
		headID = rp.branches[base]
	}
	files := maps.Clone(rp.commits[headID].files)
	for _, ch := range r.Changes {
		_, exists := files[ch.Path]
		switch ch.Action {
		case driver.Create:
			if exists {
				return nil, errf(errcode.AlreadyExists, http.StatusUnprocessableEntity, "%s exists", ch.Path)
			}
		case driver.Update, driver.Delete:
			if !exists {
				return nil, errf(errcode.NotFound, http.StatusNotFound, "%s not found", ch.Path)
			}
		}
		if ch.Action == driver.Delete {
			delete(files, ch.Path)
			continue
		}
		if isDir(files, ch.Path) && ch.Path != "" {
			return nil, errf(errcode.Conflict, http.StatusConflict, "%s is a directory", ch.Path)
		}
		for dir := path.Dir(ch.Path); dir != "."; dir = path.Dir(dir) {
			if _, ok := files[dir]; ok {
				return nil, errf(errcode.Conflict, http.StatusConflict, "%s is a file", dir)
			}
		}
		files[ch.Path] = blob{content: slices.Clone(ch.Content), executable: ch.Executable}
	}
	c := d.w.newCommit(rp, headID, files)
	rp.branches[r.Branch] = c.id
	if existing != nil {
		existing.CommitID = c.id
		return d.prOut(rp, existing, true), nil
	}
	p := &PullRequest{Number: len(rp.prs) + 1, Base: base, Branch: r.Branch, Title: r.Title, Body: r.Body,
		Draft: r.Draft, Open: true, CommitID: c.id}
	rp.prs = append(rp.prs, p)
	return d.prOut(rp, p, false), nil
}

func (d *drv) prOut(rp *repo, p *PullRequest, existing bool) *driver.PullRequest {
	return &driver.PullRequest{Number: p.Number, URL: d.in.BaseURL + "/" + rp.owner + "/" + rp.name + "/pull/" + strconv.Itoa(p.Number),
		Base: p.Base, Branch: p.Branch, CommitID: p.CommitID, Existing: existing}
}

// ErrorInfo implements driver.Driver.
func (d *drv) ErrorInfo(err error) driver.ErrorInfo {
	var e *Error
	if errors.As(err, &e) {
		return driver.ErrorInfo{Code: e.Code, Status: e.Status, RetryAt: e.RetryAt}
	}
	return driver.FailureInfo(err)
}
