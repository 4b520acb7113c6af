package githubscm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// pathsPerQuery is how many path checks one GraphQL query carries.
const pathsPerQuery = 100

// gqlTarget is a commit as the prepare query reads it: its id, its tree
// id, and the entry of each checked path (absent when missing).
type gqlTarget struct {
	OID   string
	Tree  string
	Paths map[string]gqlEntry
}

// gqlEntry is a tree entry: its type ("blob", "tree" or "commit"), its
// object id and its git mode (0o100644 for a plain file).
type gqlEntry struct {
	Type string `json:"type"`
	OID  string `json:"oid"`
	Mode int    `json:"mode"`
}

func (t *gqlTarget) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	t.Paths = map[string]gqlEntry{}
	for k, v := range raw {
		switch {
		case k == "oid":
			if err := json.Unmarshal(v, &t.OID); err != nil {
				return err
			}
		case k == "tree":
			var tree struct {
				OID string `json:"oid"`
			}
			if err := json.Unmarshal(v, &tree); err != nil {
				return err
			}
			t.Tree = tree.OID
		case strings.HasPrefix(k, "f"):
			var e *gqlEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e != nil {
				t.Paths[k] = *e
			}
		}
	}
	return nil
}

type gqlRef struct {
	Name   string     `json:"name"`
	Target *gqlTarget `json:"target"`
	PRs    *struct {
		Nodes []struct {
			Number      int    `json:"number"`
			URL         string `json:"url"`
			BaseRefName string `json:"baseRefName"`
			HeadRefName string `json:"headRefName"`
			// CrossRepository is true for a pull request from this
			// branch into another repository (a fork's branch into its
			// upstream): not the one asked for.
			CrossRepository bool `json:"isCrossRepository"`
		} `json:"nodes"`
	} `json:"associatedPullRequests"`
}

type prepareData struct {
	Repository *struct {
		ID         string  `json:"id"`
		IsArchived bool    `json:"isArchived"`
		Base       *gqlRef `json:"base"`
		Head       *gqlRef `json:"head"`
		// Default is the default branch, asked for by name when the
		// base is given (Base is the default branch otherwise).
		Default *struct {
			Name string `json:"name"`
		} `json:"defaultBranchRef"`
	} `json:"repository"`
}

// pathChecks returns the paths whose existence decides whether the changes
// apply: every changed path and each of its parent directories.
func pathChecks(changes []driver.Change) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, ch := range changes {
		add(ch.Path)
		if ch.Action != driver.Delete {
			for d := path.Dir(ch.Path); d != "."; d = path.Dir(d) {
				add(d)
			}
		}
	}
	return out
}

// fileSelection selects the type, object id and mode of each path of
// paths (numbered from first) on a Commit, as aliases f<i>.
func fileSelection(first int, paths []string) string {
	var b strings.Builder
	for i := range paths {
		fmt.Fprintf(&b, " f%d: file(path: $p%d) { type oid mode }", first+i, first+i)
	}
	return b.String()
}

func pathVars(first int, paths []string, vars map[string]any) string {
	var b strings.Builder
	for i, p := range paths {
		fmt.Fprintf(&b, ", $p%d: String!", first+i)
		vars["p"+strconv.Itoa(first+i)] = p
	}
	return b.String()
}

// prepareQuery builds the one query that tells OpenPullRequest everything
// it needs before writing: the repository's node id, the base branch (or
// the default branch) and the head branch, each with its commit, tree and
// the entries (type, blob id, mode) of the first checked paths, and the
// open pull requests from the head branch. With a base given, it also
// names the default branch, which the head branch must not be.
func prepareQuery(hasBase bool, paths []string, vars map[string]any) string {
	sel := "target { oid ... on Commit { tree { oid }" + fileSelection(0, paths) + " } }"
	decl := "$owner: String!, $name: String!, $head: String!"
	base := "base: defaultBranchRef"
	if hasBase {
		decl += ", $base: String!"
		base = "defaultBranchRef { name }\n    base: ref(qualifiedName: $base)"
	}
	decl += pathVars(0, paths, vars)
	return "query PreparePullRequest(" + decl + ") {\n  repository(owner: $owner, name: $name) {\n    id isArchived\n" +
		"    " + base + " { name " + sel + " }\n" +
		"    head: ref(qualifiedName: $head) { name " + sel +
		" associatedPullRequests(states: [OPEN], first: 20) { nodes { number url baseRefName headRefName isCrossRepository } } }\n  }\n}"
}

// checkQuery builds a query for more path checks on one commit.
func checkQuery(first int, paths []string, vars map[string]any) string {
	return "query CheckPaths($owner: String!, $name: String!, $oid: GitObjectID!" + pathVars(first, paths, vars) + ") {\n" +
		"  repository(owner: $owner, name: $name) {\n    object(oid: $oid) { ... on Commit {" + fileSelection(first, paths) + " } }\n  }\n}"
}

// OpenPullRequest implements driver.Driver. See the package documentation
// for its requests. It never opens a second pull request for the same
// branch and base: an open one found by the first query is returned (with
// the changes committed first when r.UpdateExisting), and one opened
// concurrently is found after GitHub's "already exists" answer. A retry
// after a partial failure does not commit the same changes twice: a commit
// whose tree equals its parent's is not made.
func (d *Driver) OpenPullRequest(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest) (*driver.PullRequest, error) {
	if err := checkRepo(r.Repo); err != nil {
		return nil, err
	}
	if err := d.needAPI(); err != nil {
		return nil, err
	}
	return d.openPR(ctx, d.client(hc), r, true)
}

// openPR is OpenPullRequest; retry says whether a branch created by
// someone else between the first query and the branch's creation may
// restart the flow once (it then finds the branch, and its pull request).
func (d *Driver) openPR(ctx context.Context, gh *github.Client, r *driver.PullRequestRequest, retry bool) (*driver.PullRequest, error) {
	checks := pathChecks(r.Changes)
	first := checks[:min(len(checks), pathsPerQuery)]
	vars := map[string]any{"owner": r.Repo.Owner, "name": r.Repo.Name, "head": "refs/heads/" + r.Branch}
	if r.Base != "" {
		vars["base"] = "refs/heads/" + r.Base
	}
	var data prepareData
	if err := d.graphql(ctx, gh, prepareQuery(r.Base != "", first, vars), vars, &data); err != nil {
		return nil, err
	}
	if data.Repository == nil {
		return nil, errcode.Newf(errcode.NotFound, "", "repository %s/%s not found", r.Repo.Owner, r.Repo.Name)
	}
	base, head := data.Repository.Base, data.Repository.Head
	if base == nil || base.Target == nil {
		if r.Base == "" {
			// InvalidArgument, as the GitLab driver answers it.
			return nil, errcode.Newf(errcode.InvalidArgument, "", "repository %s/%s has no default branch (it is empty): give a base branch for the pull request", r.Repo.Owner, r.Repo.Name)
		}
		return nil, errcode.Newf(errcode.NotFound, "", "base branch %q not found in %s/%s", r.Base, r.Repo.Owner, r.Repo.Name)
	}
	if head != nil && head.Target == nil {
		head = nil
	}
	baseName := base.Name
	if baseName == r.Branch {
		return nil, errcode.Newf(errcode.InvalidArgument, "", "branch %q is the base branch", r.Branch)
	}
	if def := data.Repository.Default; def != nil && def.Name == r.Branch {
		// Whatever the base, the commit would go on the default branch
		// unreviewed (and the pull request from it may well open): the
		// query named it, so refusing costs no request.
		return nil, errcode.Newf(errcode.InvalidArgument, "",
			"branch %q is the default branch of %s/%s: a pull request needs a branch of its own; nothing was written", r.Branch, r.Repo.Owner, r.Repo.Name)
	}
	out := &driver.PullRequest{Base: baseName, Branch: r.Branch}
	if head != nil && head.PRs != nil {
		for _, pr := range head.PRs.Nodes {
			if pr.BaseRefName == baseName && pr.HeadRefName == r.Branch && !pr.CrossRepository {
				out.Number, out.URL, out.Existing = pr.Number, pr.URL, true
				break
			}
		}
	}
	if out.Existing && !r.UpdateExisting {
		out.CommitID = head.Target.OID
		return out, nil
	}
	if data.Repository.IsArchived {
		// GitHub refuses every write to an archived repository: say why
		// before trying one, as the GitLab driver does.
		return nil, errcode.Newf(errcode.PermissionDenied, "",
			"repository %s/%s is archived (read-only): unarchive it to open a pull request", r.Repo.Owner, r.Repo.Name)
	}

	// The commit goes on the branch when it exists, else on the base.
	parent := base.Target
	if head != nil {
		parent = head.Target
	}
	entries := make(map[string]gqlEntry, len(checks))
	for i, p := range first {
		entries[p] = parent.Paths["f"+strconv.Itoa(i)]
	}
	for start := pathsPerQuery; start < len(checks); start += pathsPerQuery {
		chunk := checks[start:min(len(checks), start+pathsPerQuery)]
		cv := map[string]any{"owner": r.Repo.Owner, "name": r.Repo.Name, "oid": parent.OID}
		var more struct {
			Repository *struct {
				Object *gqlTarget `json:"object"`
			} `json:"repository"`
		}
		if err := d.graphql(ctx, gh, checkQuery(start, chunk, cv), cv, &more); err != nil {
			return nil, err
		}
		if more.Repository == nil || more.Repository.Object == nil {
			return nil, errcode.Newf(errcode.Conflict, "", "commit %s of %s/%s vanished", parent.OID, r.Repo.Owner, r.Repo.Name)
		}
		for i, p := range chunk {
			entries[p] = more.Repository.Object.Paths["f"+strconv.Itoa(start+i)]
		}
	}
	st := &prState{repoID: data.Repository.ID, base: base, head: head, baseName: baseName, parent: parent, entries: entries, out: out}
	if d.author == nil && !needsREST(r.Changes, entries) {
		pr, err := d.openPRGraphQL(ctx, gh, r, st, retry)
		if err != errNoMutations {
			return pr, err
		}
		// A GitHub Enterprise Server without these mutations: REST, once.
	}
	return d.openPRREST(ctx, gh, r, st, retry)
}

// openPRREST is the REST half of OpenPullRequest (Git Data and pulls),
// for what createCommitOnBranch cannot express.
func (d *Driver) openPRREST(ctx context.Context, gh *github.Client, r *driver.PullRequestRequest, st *prState, retry bool) (*driver.PullRequest, error) {
	head, baseName, parent, out := st.head, st.baseName, st.parent, st.out
	types := make(map[string]string, len(st.entries))
	for p, e := range st.entries {
		types[p] = e.Type
	}
	tr := r
	precond := checkChanges(r.Changes, types)
	if precond != nil {
		if head == nil {
			return nil, precond
		}
		// The branch exists and a change's precondition fails on it: a
		// rerun after a failure that came after the commit finds its own
		// Create done and its Delete gone. If the branch already holds
		// exactly the changes, the tree built on it is its own tree, and
		// there is nothing to commit; otherwise the precondition stands.
		cp := *r
		cp.Changes = slices.DeleteFunc(slices.Clone(r.Changes), func(ch driver.Change) bool {
			return ch.Action == driver.Delete && types[ch.Path] == ""
		})
		tr = &cp
	}

	entries, err := d.treeEntries(ctx, gh, tr)
	if err != nil {
		return nil, err
	}
	tree, _, err := gh.Git.CreateTree(ctx, r.Repo.Owner, r.Repo.Name, parent.Tree, entries)
	if err != nil {
		if precond != nil {
			return nil, precond
		}
		return nil, redact(err)
	}
	if precond != nil && tree.GetSHA() != parent.Tree {
		return nil, precond
	}
	commitID := parent.OID
	if tree.GetSHA() != parent.Tree {
		msg := r.CommitMessage
		if msg == "" {
			msg = r.Title
		}
		c := &github.Commit{Message: &msg, Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: &parent.OID}}}
		if d.author != nil {
			c.Author = &github.CommitAuthor{Name: &d.author.Name, Email: &d.author.Email}
			c.Committer = c.Author
		}
		commit, _, err := gh.Git.CreateCommit(ctx, r.Repo.Owner, r.Repo.Name, c, nil)
		if err != nil {
			return nil, redact(err)
		}
		commitID = commit.GetSHA()
	}
	out.CommitID = commitID
	ref := "refs/heads/" + r.Branch
	switch {
	case head == nil:
		_, _, err := gh.Git.CreateRef(ctx, r.Repo.Owner, r.Repo.Name, &github.Reference{Ref: &ref, Object: &github.GitObject{SHA: &commitID}})
		if err != nil {
			if d.ErrorInfo(err).Code != errcode.AlreadyExists {
				return nil, redact(err)
			}
			// The branch appeared since the first query (a concurrent
			// call): start again, once, on that branch.
			if retry {
				return d.openPR(ctx, gh, r, false)
			}
			return nil, &errcode.Error{Code: errcode.Conflict, Status: statusOf(err),
				Msg: fmt.Sprintf("branch %q was created in %s/%s by someone else meanwhile; retry", r.Branch, r.Repo.Owner, r.Repo.Name), Err: redact(err)}
		}
	case commitID != head.Target.OID:
		_, _, err := gh.Git.UpdateRef(ctx, r.Repo.Owner, r.Repo.Name, &github.Reference{Ref: &ref, Object: &github.GitObject{SHA: &commitID}}, false)
		if err != nil {
			return nil, redact(err)
		}
	}
	if out.Existing {
		return out, nil
	}
	pr, _, err := gh.PullRequests.Create(ctx, r.Repo.Owner, r.Repo.Name, &github.NewPullRequest{
		Title: &r.Title, Head: &r.Branch, Base: &baseName, Body: &r.Body, Draft: &r.Draft,
	})
	if err != nil {
		if d.ErrorInfo(err).Code != errcode.AlreadyExists {
			return nil, redact(err)
		}
		// Opened concurrently: return that one.
		found, ferr := d.findOpen(ctx, gh, r, baseName)
		if ferr != nil {
			return nil, ferr
		}
		if found == nil {
			return nil, redact(err)
		}
		found.CommitID = commitID
		return found, nil
	}
	out.Number, out.URL = pr.GetNumber(), pr.GetHTMLURL()
	return out, nil
}

// findOpen returns the open pull request from the repository's own
// r.Branch to base, or nil. GitHub's head filter (owner:branch) does not
// name the repository: a fork under the same owner, with a branch of the
// same name, matches it too, so the head's repository must be the base's.
func (d *Driver) findOpen(ctx context.Context, gh *github.Client, r *driver.PullRequestRequest, base string) (*driver.PullRequest, error) {
	prs, _, err := gh.PullRequests.List(ctx, r.Repo.Owner, r.Repo.Name, &github.PullRequestListOptions{
		State: "open", Head: r.Repo.Owner + ":" + r.Branch, Base: base})
	if err != nil {
		return nil, redact(err)
	}
	for _, pr := range prs {
		headRepo, baseRepo := pr.GetHead().GetRepo().GetID(), pr.GetBase().GetRepo().GetID()
		if pr.GetHead().GetRef() == r.Branch && pr.GetBase().GetRef() == base && headRepo != 0 && headRepo == baseRepo {
			return &driver.PullRequest{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Base: base, Branch: r.Branch,
				CommitID: pr.GetHead().GetSHA(), Existing: true}, nil
		}
	}
	return nil, nil
}

// checkChanges applies each change's precondition to the types of the
// paths in the parent commit ("" for a missing path).
func checkChanges(changes []driver.Change, types map[string]string) error {
	for _, ch := range changes {
		t := types[ch.Path]
		switch ch.Action {
		case driver.Create:
			if t != "" {
				return errcode.Newf(errcode.AlreadyExists, "", "%s exists", ch.Path)
			}
		case driver.Update, driver.Delete:
			if t == "" {
				return errcode.Newf(errcode.NotFound, "", "%s not found", ch.Path)
			}
		}
		if t == "tree" {
			return errcode.Newf(errcode.Conflict, "", "%s is a directory", ch.Path)
		}
		if ch.Action == driver.Delete {
			continue
		}
		for dir := path.Dir(ch.Path); dir != "."; dir = path.Dir(dir) {
			if dt := types[dir]; dt != "" && dt != "tree" {
				return errcode.Newf(errcode.Conflict, "", "%s is a file", dir)
			}
		}
	}
	return nil
}

// isText reports whether content can go inline in a tree as a JSON string
// unchanged: valid UTF-8 without NUL bytes.
func isText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

// treeEntries turns the changes into tree entries: text inline, binary
// content as blobs created first (one request each), deletions as null
// shas.
func (d *Driver) treeEntries(ctx context.Context, gh *github.Client, r *driver.PullRequestRequest) ([]*github.TreeEntry, error) {
	entries := make([]*github.TreeEntry, 0, len(r.Changes))
	blob := "blob"
	for _, ch := range r.Changes {
		mode := "100644"
		if ch.Executable {
			mode = "100755"
		}
		e := &github.TreeEntry{Path: &ch.Path, Mode: &mode, Type: &blob}
		switch {
		case ch.Action == driver.Delete:
			// SHA and Content nil: go-github sends "sha": null.
		case isText(ch.Content):
			content := string(ch.Content)
			e.Content = &content
		default:
			enc := base64.StdEncoding.EncodeToString(ch.Content)
			encoding := "base64"
			b, _, err := gh.Git.CreateBlob(ctx, r.Repo.Owner, r.Repo.Name, &github.Blob{Content: &enc, Encoding: &encoding})
			if err != nil {
				return nil, redact(err)
			}
			e.SHA = b.SHA
		}
		entries = append(entries, e)
	}
	return entries, nil
}
