// Package repostore is the repository store of scmkit's fake provider
// servers: owners (workspaces, projects) holding repositories with
// branches, commits that each hold a full snapshot of their files (with
// git blob ids), and pull requests with their bookkeeping. Commit ids are
// made unique by a counter or, with [Store.GitIDs], are git's own.
//
// A Store is guarded by its own mutex. Its methods that take an owner and
// a slug (the seeding and reading methods a fake exposes to tests) lock
// it; the others, and every method of Repo, expect the caller to hold it,
// as a fake's handler does for the whole of a request.
//
// A [Site] is what the fakes' HTTP sides share around their Store (the
// Bitbucket fakes all of it, GitHub's its servers, routes and log):
// routes that are recorded, subject to faults and authenticated
// ([Credentials]), the common part of fault answers ([AnswerFault]), ETag
// checks ([NotModified]) and the permission routes' grants ([Access]).
package repostore

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

// Store holds the owners and their repositories.
type Store struct {
	sync.Mutex
	// Name prefixes the store's errors, e.g. "fakebitbucketcloud".
	Name string
	// Now is the clock of commits, repositories and pull requests.
	Now func() time.Time
	// Author and Email are the author of commits.
	Author, Email string
	// GitIDs makes commit ids git's own (the SHA-1 of the commit object,
	// over real tree objects, the author as committer) instead of ids made
	// unique by a counter.
	GitIDs bool
	// IDs, when not nil, numbers owners and repositories instead of the
	// store's counter (for a fake whose other records share the numbers).
	IDs func() int

	owners map[string]*Owner // by lower-case key
	seq    int
}

// Owner is a workspace, project or group: a namespace of repositories.
type Owner struct {
	Key, Name, Description string
	Type                   string // the provider's kind of owner, e.g. GitHub's "Organization" or "User"
	ID                     int
	Repos                  map[string]*Repo // by lower-case slug
}

// Repo is a repository. Branches map names to commit ids.
type Repo struct {
	Owner                   *Owner
	ID                      int
	Slug, Name, Description string
	Public, Archived, Fork  bool
	Project                 string // a project key inside the owner, for providers that have one
	DefaultBranch           string
	Created                 time.Time
	Branches                map[string]string
	Commits                 map[string]*Commit
	Pulls                   []*Pull
	// Refs are the refs other than branches (tags, ...) by full name, for
	// a provider that has them; nil until the fake sets one.
	Refs map[string]string
	// Objects are git objects for a provider that serves them by id (its
	// commits' trees and blobs, those written without a commit); nil
	// until the fake keeps one.
	Objects gitobj.Store
}

// Commit is a commit: its files are a full snapshot, never changed once
// stored.
type Commit struct {
	ID                     string
	Parents                []string
	Message, Author, Email string
	When                   time.Time
	Files                  map[string]Entry
	// Git is the commit object whose id ID is: with GitIDs, the one Put
	// made; or one the fake made itself (see Put).
	Git *gitobj.Commit
}

// Entry is a file of a commit.
type Entry struct {
	Content []byte
	Exec    bool
	Blob    string // git blob id; a submodule's commit id
	// Special is a git mode other than a file's: gitobj.ModeSymlink
	// (Content is the target) or gitobj.ModeCommit (a submodule).
	Special string
}

// Pull is a pull request from branch From to branch To.
type Pull struct {
	ID                 int
	Title, Description string
	From, To           string
	Draft, CloseSource bool
	State              string // "OPEN", "MERGED", "DECLINED"
	Created            time.Time
	Author             string // "" for the store's Author
	Node               int    // a provider-wide id besides ID, for a provider that has one
}

// Owner returns the owner with key (in any case), creating it with name
// (key when "") when missing.
func (s *Store) Owner(key, name string) *Owner {
	if o := s.FindOwner(key); o != nil {
		return o
	}
	if s.owners == nil {
		s.owners = map[string]*Owner{}
	}
	o := &Owner{Key: key, Name: cmp.Or(name, key), ID: s.newID(), Repos: map[string]*Repo{}}
	s.owners[strings.ToLower(key)] = o
	return o
}

// FindOwner returns the owner with key (in any case), or nil.
func (s *Store) FindOwner(key string) *Owner { return s.owners[strings.ToLower(key)] }

// Owners returns the owners sorted by key.
func (s *Store) Owners() []*Owner {
	return slices.SortedFunc(maps.Values(s.owners), func(a, b *Owner) int { return strings.Compare(a.Key, b.Key) })
}

// SortedRepos returns o's repositories sorted by slug.
func (o *Owner) SortedRepos() []*Repo {
	return slices.SortedFunc(maps.Values(o.Repos), func(a, b *Repo) int { return strings.Compare(a.Slug, b.Slug) })
}

// Repo returns the repository slug (in any case) of owner.
func (s *Store) Repo(owner, slug string) (*Repo, error) {
	o := s.FindOwner(owner)
	if o == nil {
		return nil, fmt.Errorf("%s: no owner %s", s.Name, owner)
	}
	rp, ok := o.Repos[strings.ToLower(slug)]
	if !ok {
		return nil, fmt.Errorf("%s: no repository %s/%s", s.Name, owner, slug)
	}
	return rp, nil
}

// Create adds an empty repository to o from the description rp (Slug,
// Name, Description, Public, Archived, Project, DefaultBranch, "main" when
// ""), and returns it; it fails when o has a repository with that slug.
func (s *Store) Create(o *Owner, rp Repo) (*Repo, error) {
	if _, ok := o.Repos[strings.ToLower(rp.Slug)]; ok {
		return nil, fmt.Errorf("%s: repository %s/%s exists", s.Name, o.Key, rp.Slug)
	}
	n := rp
	n.Owner, n.ID, n.Created = o, s.newID(), s.Now()
	n.Name, n.DefaultBranch = cmp.Or(rp.Name, rp.Slug), cmp.Or(rp.DefaultBranch, "main")
	n.Branches, n.Commits, n.Pulls = map[string]string{}, map[string]*Commit{}, nil
	o.Repos[strings.ToLower(rp.Slug)] = &n
	return &n, nil
}

// newID returns the next number of an owner or a repository.
func (s *Store) newID() int {
	if s.IDs != nil {
		return s.IDs()
	}
	s.seq++
	return s.seq
}

// Add creates owner when missing, the repository rp in it and, when files
// is not empty, one commit of them on its default branch, whose id it
// returns.
func (s *Store) Add(owner string, rp Repo, files []fake.File) (string, error) {
	s.Lock()
	defer s.Unlock()
	n, err := s.Create(s.Owner(owner, ""), rp)
	if err != nil || len(files) == 0 {
		return "", err
	}
	return s.Write(n, n.DefaultBranch, nil, files, nil, "Initial commit")
}

// Write commits files (added or replaced) and del (removed) on top of
// base (nil for a root commit) as the store's author and points branch at
// the commit, whose id it returns.
func (s *Store) Write(rp *Repo, branch string, base *Commit, add []fake.File, del []string, msg string) (string, error) {
	files := base.Snapshot()
	for _, p := range del {
		delete(files, p)
	}
	for _, f := range add {
		if !fs.ValidPath(f.Path) || f.Path == "." {
			return "", fmt.Errorf("%s: invalid path %q", s.Name, f.Path)
		}
		files[f.Path] = NewEntry(slices.Clone(f.Content), f.Executable)
	}
	c := &Commit{Message: msg, Author: s.Author, Email: s.Email, When: s.Now(), Files: files}
	return s.Put(rp, branch, base, c), nil
}

// Put stores c (its Message, Author, Email, When and Files) as a child of
// base (nil for a root commit), giving it its parents and id, and points
// branch ("" for none) at it. It returns the id. A commit that has its ID
// already (one the fake made itself, e.g. pushed, with its Git object and
// Parents) is stored as it is.
func (s *Store) Put(rp *Repo, branch string, base, c *Commit) string {
	if base != nil && c.ID == "" {
		c.Parents = []string{base.ID}
	}
	switch {
	case c.ID != "":
	case s.GitIDs:
		_, tree := Trees(c.Files)
		// Like git commit, end the message with a newline.
		msg := strings.TrimSuffix(c.Message, "\n") + "\n"
		sig := gitobj.Signature{Name: c.Author, Email: c.Email, When: c.When}
		c.Git = &gitobj.Commit{Tree: tree, Parents: c.Parents, Message: msg, Author: sig, Committer: sig}
		c.ID = gitobj.CommitID(c.Git)
	default:
		s.seq++
		h := sha1.New()
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00%s\x00", rp.Slug, c.Parents, s.seq, c.Message)
		for _, p := range slices.Sorted(maps.Keys(c.Files)) {
			fmt.Fprintf(h, "%s %s %v\x00", p, c.Files[p].Blob, c.Files[p].Exec)
		}
		c.ID = hex.EncodeToString(h.Sum(nil))
	}
	rp.Commits[c.ID] = c
	if branch != "" {
		rp.Branches[branch] = c.ID
	}
	return c.ID
}

// NewEntry returns the entry of a file with content.
func NewEntry(content []byte, exec bool) Entry {
	return Entry{Content: content, Exec: exec, Blob: gitobj.BlobID(content)}
}

// Snapshot returns a copy of c's files, to change into a new commit's; a
// nil commit has none.
func (c *Commit) Snapshot() map[string]Entry {
	if c == nil {
		return map[string]Entry{}
	}
	return maps.Clone(c.Files)
}

// Mode is the entry's git mode.
func (e Entry) Mode() string {
	if e.Special != "" {
		return e.Special
	}
	if e.Exec {
		return gitobj.ModeExec
	}
	return gitobj.ModeFile
}

// Trees writes the git trees of files to a store, and returns it and the
// root tree's id.
func Trees(files map[string]Entry) (gitobj.Store, string) {
	flat := make(map[string]gitobj.FlatEntry, len(files))
	for p, e := range files {
		flat[p] = gitobj.FlatEntry{Mode: e.Mode(), SHA: e.Blob}
	}
	st := gitobj.Store{}
	return st, st.WriteFlat(flat)
}

// With runs fn on the repository slug of owner with the store locked.
func (s *Store) With(owner, slug string, fn func(*Repo) error) error {
	s.Lock()
	defer s.Unlock()
	rp, err := s.Repo(owner, slug)
	if err != nil {
		return err
	}
	return fn(rp)
}

// Change describes a commit to add with [Store.Commit].
type Change struct {
	Message string
	Files   []fake.File // written (created or replaced)
	Delete  []string    // removed
}

// Commit adds the commit c on branch (created from the default branch
// when missing) and returns its id.
func (s *Store) Commit(owner, slug, branch string, c Change) (id string, err error) {
	err = s.With(owner, slug, func(rp *Repo) error {
		id, err = s.Write(rp, branch, rp.Commits[cmp.Or(rp.Branches[branch], rp.Branches[rp.DefaultBranch])], c.Files, c.Delete, c.Message)
		return err
	})
	return id, err
}

// Branch returns the commit id branch points at.
func (s *Store) Branch(owner, slug, branch string) (id string, ok bool) {
	s.With(owner, slug, func(rp *Repo) error { id, ok = rp.Branches[branch]; return nil }) //nolint:errcheck // ok says it
	return id, ok
}

// Files returns every file at ref ("" for the default branch), sorted by
// path.
func (s *Store) Files(owner, slug, ref string) (out []fake.File, err error) {
	err = s.With(owner, slug, func(rp *Repo) error {
		c := rp.Resolve(ref)
		if c == nil {
			return fmt.Errorf("%s: no ref %q in %s/%s", s.Name, ref, owner, slug)
		}
		for _, p := range slices.Sorted(maps.Keys(c.Files)) {
			out = append(out, fake.File{Path: p, Content: slices.Clone(c.Files[p].Content), Executable: c.Files[p].Exec})
		}
		return nil
	})
	return out, err
}

// Commits returns the ids of the commits on the first-parent chain of
// ref, newest first.
func (s *Store) Commits(owner, slug, ref string) (ids []string, err error) {
	err = s.With(owner, slug, func(rp *Repo) error {
		for _, c := range rp.History(rp.Resolve(ref), "") {
			ids = append(ids, c.ID)
		}
		return nil
	})
	return ids, err
}

// Resolve turns a ref into a commit: "" and "HEAD" are the default
// branch; then a ref as [Repo.FullRef] finds it, a commit id or an
// abbreviation of at least 7 hex digits. It returns nil when ref names
// nothing.
func (rp *Repo) Resolve(ref string) *Commit {
	if ref == "" || ref == "HEAD" {
		ref = rp.DefaultBranch
	}
	if _, id, ok := rp.FullRef(ref); ok {
		return rp.Commits[id]
	}
	if c, ok := rp.Commits[ref]; ok {
		return c
	}
	if len(ref) >= 7 && gitobj.IsHex(ref) {
		for id, c := range rp.Commits {
			if strings.HasPrefix(id, ref) {
				return c
			}
		}
	}
	return nil
}

// Ref returns the commit id of the ref named full: refs/heads/<branch>
// or one of Refs.
func (rp *Repo) Ref(full string) (string, bool) {
	if b, ok := strings.CutPrefix(full, "refs/heads/"); ok {
		id, ok := rp.Branches[b]
		return id, ok
	}
	id, ok := rp.Refs[full]
	return id, ok
}

// SetRef points the ref named full at the commit id, or deletes it when
// id is "".
func (rp *Repo) SetRef(full, id string) {
	refs := rp.Refs
	if b, ok := strings.CutPrefix(full, "refs/heads/"); ok {
		refs, full = rp.Branches, b
	} else if refs == nil {
		rp.Refs = map[string]string{}
		refs = rp.Refs
	}
	if id == "" {
		delete(refs, full)
	} else {
		refs[full] = id
	}
}

// AllRefs returns every ref, branches included, by full name.
func (rp *Repo) AllRefs() map[string]string {
	out := maps.Clone(rp.Refs)
	if out == nil {
		out = map[string]string{}
	}
	for b, id := range rp.Branches {
		out["refs/heads/"+b] = id
	}
	return out
}

// FullRef returns the full name of the ref that name names (a full ref
// name, a branch or a tag, looked up in that order) and its commit id.
func (rp *Repo) FullRef(name string) (full, id string, ok bool) {
	for _, full := range []string{name, "refs/heads/" + name, "refs/tags/" + name} {
		if id, ok := rp.Ref(full); ok && strings.HasPrefix(full, "refs/") {
			return full, id, true
		}
	}
	return "", "", false
}

// Parent returns c's first parent, or nil.
func (rp *Repo) Parent(c *Commit) *Commit {
	if len(c.Parents) == 0 {
		return nil
	}
	return rp.Commits[c.Parents[0]]
}

// History returns the first-parent chain from c, newest first, keeping
// only the commits that changed something under dir when dir is not "".
func (rp *Repo) History(c *Commit, dir string) []*Commit {
	var out []*Commit
	for ; c != nil; c = rp.Parent(c) {
		if dir == "" || slices.ContainsFunc(Changed(c, rp.Parent(c)), func(p string) bool { return Within(p, dir) }) {
			out = append(out, c)
		}
	}
	return out
}

// Changed returns the paths whose files differ (added, removed, or changed
// in content or mode) between commits a and b; a nil commit has none.
func Changed(a, b *Commit) []string {
	var fa, fb map[string]Entry
	if a != nil {
		fa = a.Files
	}
	if b != nil {
		fb = b.Files
	}
	var out []string
	for p, e := range fa {
		if !fb[p].Same(e) {
			out = append(out, p)
		}
	}
	for p := range fb {
		if _, ok := fa[p]; !ok {
			out = append(out, p)
		}
	}
	return out
}

// Same reports whether e and o have the same content and mode.
func (e Entry) Same(o Entry) bool { return e.Blob == o.Blob && e.Mode() == o.Mode() }

// Within reports whether path p is dir or below it; every path is within
// "".
func Within(p, dir string) bool { return dir == "" || p == dir || strings.HasPrefix(p, dir+"/") }

// IsAncestor reports whether commit a is reachable from commit b.
func (rp *Repo) IsAncestor(a, b string) bool {
	seen := map[string]bool{}
	for todo := []string{b}; len(todo) > 0; {
		id := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if id == a {
			return true
		}
		if c := rp.Commits[id]; c != nil && !seen[id] {
			seen[id] = true
			todo = append(todo, c.Parents...)
		}
	}
	return false
}

// PullProblem is why a pull request cannot be opened.
type PullProblem int

// The problems, in the order CheckPull looks for them.
const (
	PullOK         PullProblem = iota
	PullNoBranch               // a branch is missing (or "")
	PullSameBranch             // from and to are the same branch
	PullDuplicate              // an open pull request has the same branches
	PullNoChanges              // to already has every commit of from
)

// CheckPull says whether a pull request from branch from to branch to can
// be opened; for PullNoBranch it returns the missing branch, for
// PullDuplicate the open pull request.
func (rp *Repo) CheckPull(from, to string) (PullProblem, string, *Pull) {
	for _, b := range []string{from, to} {
		if _, ok := rp.Branches[b]; !ok || b == "" {
			return PullNoBranch, b, nil
		}
	}
	if from == to {
		return PullSameBranch, "", nil
	}
	for _, p := range rp.Pulls {
		if p.State == "OPEN" && p.From == from && p.To == to {
			return PullDuplicate, "", p
		}
	}
	if rp.IsAncestor(rp.Branches[from], rp.Branches[to]) {
		return PullNoChanges, "", nil
	}
	return PullOK, "", nil
}

// Open adds p to rp as its next pull request, open and created now.
func (s *Store) Open(rp *Repo, p Pull) *Pull {
	p.ID, p.State, p.Created = len(rp.Pulls)+1, "OPEN", s.Now()
	rp.Pulls = append(rp.Pulls, &p)
	return &p
}

// Pull returns the pull request id, or nil.
func (rp *Repo) Pull(id int) *Pull {
	for _, p := range rp.Pulls {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Children returns the directories and the files right below dir ("" for
// the root) in files, each sorted, as full paths.
func Children(files map[string]Entry, dir string) (dirs, plain []string) {
	prefix := dir + "/"
	if dir == "" {
		prefix = ""
	}
	seen := map[string]bool{}
	for p := range files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		name, _, sub := strings.Cut(rest, "/")
		if sub && !seen[name] {
			dirs = append(dirs, prefix+name)
		} else if !sub {
			plain = append(plain, p)
		}
		seen[name] = true
	}
	slices.Sort(dirs)
	slices.Sort(plain)
	return dirs, plain
}

// Under returns the paths of files below dir ("" for all), sorted.
func Under(files map[string]Entry, dir string) []string {
	var out []string
	for p := range files {
		if dir == "" || strings.HasPrefix(p, dir+"/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// ValidBranchName is a simplified git check-ref-format.
func ValidBranchName(n string) bool {
	if n == "" || n == "@" || strings.HasPrefix(n, "-") || strings.HasPrefix(n, "/") || strings.HasSuffix(n, "/") ||
		strings.HasSuffix(n, ".lock") || strings.HasSuffix(n, ".") ||
		strings.Contains(n, "..") || strings.Contains(n, "//") || strings.Contains(n, "@{") {
		return false
	}
	return !strings.ContainsFunc(n, func(c rune) bool { return c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) })
}

// Pack returns the files of c below any of paths (every file when paths
// is empty; "" is the root) under prefix as an archive in format "zip",
// "tar" or "tar.gz". Directories and executable files get perm; with
// zipComment a zip's comment is the commit id.
func Pack(c *Commit, format, prefix string, perm fs.FileMode, zipComment bool, paths ...string) ([]byte, error) {
	a := &fake.Archive{Commit: c.ID, Prefix: prefix, ModTime: c.When}
	for _, fp := range Under(c.Files, "") {
		if len(paths) == 0 || slices.ContainsFunc(paths, func(p string) bool { return Within(fp, p) }) {
			a.Files = append(a.Files, fake.File{Path: fp, Content: c.Files[fp].Content, Executable: c.Files[fp].Exec})
		}
	}
	// buf.Bytes() is taken after the archive is written: in a return
	// list it would be evaluated before the call that writes it.
	var buf bytes.Buffer
	var err error
	switch format {
	case "zip":
		err = a.WriteZip(&buf, perm, zipComment)
	case "tar":
		err = a.WriteTar(&buf, perm)
	default:
		gz := gzip.NewWriter(&buf)
		err = errors.Join(a.WriteTar(gz, perm), gz.Close())
	}
	return buf.Bytes(), err
}
