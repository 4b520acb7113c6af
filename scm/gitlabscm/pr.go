package gitlabscm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// blobChunk is how many paths one blobs(paths:) field asks for: GitLab
// pages connections at 100 nodes.
const blobChunk = 100

// prQuery builds the preflight query of OpenPullRequest: the default
// branch, whether the branch exists, the open merge requests from it, and
// which of the changed paths exist on the branch and on the base (one
// blobs field per chunk of 100 paths, aliased b<i> and h<i>).
func prQuery(chunks int, withBase bool) string {
	var b strings.Builder
	b.WriteString("query($path: ID!, $branch: String!")
	if withBase {
		b.WriteString(", $base: String!")
	}
	for i := range chunks {
		fmt.Fprintf(&b, ", $p%d: [String!]!", i)
	}
	b.WriteString(") {\n  project(fullPath: $path) {\n    webUrl\n    archived\n    repository {\n      rootRef\n")
	b.WriteString("      branchNames(searchPattern: $branch, offset: 0, limit: 1)\n")
	if withBase {
		b.WriteString("      baseNames: branchNames(searchPattern: $base, offset: 0, limit: 1)\n")
	}
	for i := range chunks {
		if withBase {
			fmt.Fprintf(&b, "      b%d: blobs(paths: $p%d, ref: $base) { nodes { path } }\n", i, i)
		} else {
			fmt.Fprintf(&b, "      b%d: blobs(paths: $p%d) { nodes { path } }\n", i, i)
		}
		fmt.Fprintf(&b, "      h%d: blobs(paths: $p%d, ref: $branch) { nodes { path oid mode } }\n", i, i)
	}
	b.WriteString("    }\n    mergeRequests(sourceBranches: [$branch], state: opened")
	if withBase {
		b.WriteString(", targetBranches: [$base]")
	}
	b.WriteString(", first: 20) {\n      " + mrFields + "\n    }\n  }\n}")
	return b.String()
}

// mrFields are the fields read of a page of open merge requests.
const mrFields = "nodes { iid webUrl sourceBranch targetBranch diffHeadSha sourceProjectId targetProjectId }\n      pageInfo { hasNextPage endCursor }"

// moreMRPages bounds the pages of 100 merge requests read after the
// preflight's first 20 when none of those is the project's own: forks'
// merge requests from branches of the same name can fill any page, so
// the listing is read on (newest first) until ours or its end, up to
// 20 + moreMRPages*100 merge requests. Past the bound, OpenPullRequest
// refuses before any write rather than take ours for missing. Pages are
// read only when the one before is full of others' merge requests: none
// in the common case.
const moreMRPages = 10

// moreMRsQuery reads the next page of the preflight's merge requests: the
// same filters (so that its cursor holds), 100 at a time.
func moreMRsQuery(withBase bool) string {
	var b strings.Builder
	b.WriteString("query($path: ID!, $branch: String!, $after: String")
	if withBase {
		b.WriteString(", $base: String!")
	}
	b.WriteString(") {\n  project(fullPath: $path) {\n    mergeRequests(sourceBranches: [$branch], state: opened")
	if withBase {
		b.WriteString(", targetBranches: [$base]")
	}
	b.WriteString(", first: 100, after: $after) {\n      " + mrFields + "\n    }\n  }\n}")
	return b.String()
}

type blobNodes struct {
	Nodes []struct {
		Path string `json:"path"`
		OID  string `json:"oid"`
		Mode string `json:"mode"`
	} `json:"nodes"`
}

// blobInfo is a changed path's blob on the branch.
type blobInfo struct{ oid, mode string }

type prMergeRequest struct {
	IID          string `json:"iid"`
	WebURL       string `json:"webUrl"`
	SourceBranch string `json:"sourceBranch"`
	TargetBranch string `json:"targetBranch"`
	DiffHeadSha  string `json:"diffHeadSha"`
	// SourceProjectID and TargetProjectID tell the project's own merge
	// requests from forks': project.mergeRequests lists every merge
	// request whose target is the project, those from any fork's branch
	// of the same name included. sourceProjectId is null when the source
	// project is gone.
	SourceProjectID *int64 `json:"sourceProjectId"`
	TargetProjectID int64  `json:"targetProjectId"`
}

// own reports whether the merge request's source branch is in the project
// it targets: one the scaffolder may have opened. A fork's merge request
// from a branch of the same name is someone else's (anyone who can fork
// the project can open one).
func (mr *prMergeRequest) own() bool {
	return mr.SourceProjectID != nil && *mr.SourceProjectID == mr.TargetProjectID
}

type prResult struct {
	Project *struct {
		WebURL     string `json:"webUrl"`
		Archived   bool   `json:"archived"`
		Repository *struct {
			RootRef     *string  `json:"rootRef"`
			BranchNames []string `json:"branchNames"`
			BaseNames   []string `json:"baseNames"`
		} `json:"repository"`
		MergeRequests mrPage `json:"mergeRequests"`
	} `json:"project"`
}

// mrPage is a page of open merge requests.
type mrPage struct {
	Nodes    []prMergeRequest `json:"nodes"`
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
}

// ours returns the project's own merge request from branch into base on
// the page, or nil.
func (p *mrPage) ours(branch, base string) *prMergeRequest {
	for i, mr := range p.Nodes {
		if mr.SourceBranch == branch && mr.TargetBranch == base && mr.own() {
			return &p.Nodes[i]
		}
	}
	return nil
}

// preflight is what OpenPullRequest learns from its query (and the
// further pages of merge requests, when read).
type preflight struct {
	archived     bool // the project is read-only
	base         string
	branchExists bool
	onBranch     map[string]bool // changed paths that are files on the branch
	onBase       map[string]bool // ... on the base
	branchBlobs  map[string]blobInfo
	existing     *prMergeRequest
}

// holds reports whether the branch exists and already holds exactly the
// changes: every written file with the same blob id (the git hash of the
// content) and mode, every deleted file absent. A rerun after a failure
// that came after the commit finds it so, and must not commit again.
func (pf *preflight) holds(r *driver.PullRequestRequest) bool {
	if !pf.branchExists {
		return false
	}
	for _, ch := range r.Changes {
		b, ok := pf.branchBlobs[ch.Path]
		if ch.Action == driver.Delete {
			if ok {
				return false
			}
			continue
		}
		mode := "100644"
		if ch.Executable {
			mode = "100755"
		}
		if !ok || b.oid == "" || b.oid != gitBlobID(ch.Content, len(b.oid)) || (b.mode != "" && b.mode != mode) {
			return false
		}
	}
	return true
}

// gitBlobID is the git object id of a blob holding content: SHA-1, or
// SHA-256 for a repository whose ids have 64 hex digits.
func gitBlobID(content []byte, idLen int) string {
	if idLen == 64 {
		return driver.BlobIDSHA256(content)
	}
	return driver.BlobID(content)
}

func (d *Driver) preflight(ctx context.Context, gl *gitlab.Client, r *driver.PullRequestRequest) (*preflight, error) {
	paths := make([]string, len(r.Changes))
	for i, ch := range r.Changes {
		paths[i] = ch.Path
	}
	chunks := (len(paths) + blobChunk - 1) / blobChunk
	vars := map[string]any{"path": projectPath(r.Repo), "branch": r.Branch}
	if r.Base != "" {
		vars["base"] = r.Base
	}
	for i := range chunks {
		vars["p"+strconv.Itoa(i)] = paths[i*blobChunk : min((i+1)*blobChunk, len(paths))]
	}
	// The repository object holds the aliased blobs fields next to the
	// named ones: decode it twice.
	var raw struct {
		Project *struct {
			Repository map[string]json.RawMessage `json:"repository"`
		} `json:"project"`
	}
	var res prResult
	var data json.RawMessage
	if err := d.graphql(ctx, gl, prQuery(chunks, r.Base != ""), vars, &data); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if res.Project == nil || res.Project.Repository == nil || raw.Project == nil {
		return nil, errcode.Newf(errcode.NotFound, "", "project %s not found on %s (or the credential cannot see it)",
			projectPath(r.Repo), d.in.Host)
	}
	repo := res.Project.Repository
	pf := &preflight{archived: res.Project.Archived, base: r.Base, onBranch: map[string]bool{}, onBase: map[string]bool{}, branchBlobs: map[string]blobInfo{}}
	if pf.base == "" {
		if repo.RootRef == nil {
			return nil, errcode.Newf(errcode.InvalidArgument, "",
				"project %s has no branch yet: give a base branch for the merge request", projectPath(r.Repo))
		}
		pf.base = *repo.RootRef
	}
	if pf.base == r.Branch {
		// The commit would land on the base itself (the default branch,
		// when Base is empty) before GitLab refuses the merge request:
		// refused before any write.
		return nil, errcode.Newf(errcode.InvalidArgument, "", "branch %q is the base branch of the merge request%s: nothing was written",
			r.Branch, defaultNote(r.Base, projectPath(r.Repo)))
	}
	if repo.RootRef != nil && *repo.RootRef == r.Branch {
		// Whatever the base, the commit would land on the default branch
		// unreviewed (and the merge request from it may well open): the
		// query already named the default branch, so refusing costs no
		// request.
		return nil, errcode.Newf(errcode.InvalidArgument, "", "branch %q is the default branch of %s: a merge request needs a branch of its own; nothing was written",
			r.Branch, projectPath(r.Repo))
	}
	if r.Base != "" && !slices.Contains(repo.BaseNames, r.Base) {
		return nil, errcode.Newf(errcode.NotFound, "", "base branch %q does not exist in %s", r.Base, projectPath(r.Repo))
	}
	pf.branchExists = slices.Contains(repo.BranchNames, r.Branch)
	for i := range chunks {
		for prefix, set := range map[string]map[string]bool{"b": pf.onBase, "h": pf.onBranch} {
			var bn blobNodes
			if v, ok := raw.Project.Repository[prefix+strconv.Itoa(i)]; ok {
				if err := json.Unmarshal(v, &bn); err != nil {
					return nil, err
				}
			}
			for _, n := range bn.Nodes {
				set[n.Path] = true
				if prefix == "h" {
					pf.branchBlobs[n.Path] = blobInfo{oid: n.OID, mode: n.Mode}
				}
			}
		}
	}
	page := &res.Project.MergeRequests
	for n := 0; ; n++ {
		if pf.existing = page.ours(r.Branch, pf.base); pf.existing != nil || !page.PageInfo.HasNextPage {
			break
		}
		if n == moreMRPages || page.PageInfo.EndCursor == "" {
			return nil, errcode.Newf(errcode.Conflict, "", "more than %d open merge requests of %s come from branches named %q (forks' ones), and none of those read is the project's own into %q: "+
				"could not tell whether it has one open; nothing was written", 20+moreMRPages*100, projectPath(r.Repo), r.Branch, pf.base)
		}
		vars := map[string]any{"path": projectPath(r.Repo), "branch": r.Branch, "after": page.PageInfo.EndCursor}
		if r.Base != "" {
			vars["base"] = r.Base
		}
		var more prResult
		if err := d.graphql(ctx, gl, moreMRsQuery(r.Base != ""), vars, &more); err != nil {
			return nil, err
		}
		if more.Project == nil {
			return nil, errcode.Newf(errcode.NotFound, "", "project %s not found on %s (or the credential cannot see it)",
				projectPath(r.Repo), d.in.Host)
		}
		page = &more.Project.MergeRequests
	}
	return pf, nil
}

// defaultNote adds to the refusal of a branch that is the base that the
// base is the project's default branch, when the caller gave none.
func defaultNote(base, project string) string {
	if base != "" {
		return ""
	}
	return " (the default branch of " + project + "; a merge request needs a branch of its own)"
}

// actions turns the changes into commit actions, deciding create or
// update for each Upsert from the preflight, and refusing a Create of an
// existing file or an Update or Delete of a missing one before anything is
// written.
func (d *Driver) actions(r *driver.PullRequestRequest, pf *preflight) ([]*gitlab.CommitActionOptions, error) {
	exists, where := pf.onBase, "base branch "+pf.base
	if pf.branchExists {
		exists, where = pf.onBranch, "branch "+r.Branch
	}
	out := make([]*gitlab.CommitActionOptions, 0, len(r.Changes))
	for _, ch := range r.Changes {
		a := &gitlab.CommitActionOptions{FilePath: gitlab.Ptr(ch.Path)}
		var action gitlab.FileActionValue
		switch ch.Action {
		case driver.Create:
			if exists[ch.Path] {
				return nil, errcode.Newf(errcode.AlreadyExists, "", "%s already exists on %s; nothing was committed", ch.Path, where)
			}
			action = gitlab.FileCreate
		case driver.Update:
			if !exists[ch.Path] {
				return nil, errcode.Newf(errcode.NotFound, "", "%s does not exist on %s; nothing was committed", ch.Path, where)
			}
			action = gitlab.FileUpdate
		case driver.Delete:
			if !exists[ch.Path] {
				return nil, errcode.Newf(errcode.NotFound, "", "%s does not exist on %s; nothing was committed", ch.Path, where)
			}
			action = gitlab.FileDelete
		default:
			action = gitlab.FileCreate
			if exists[ch.Path] {
				action = gitlab.FileUpdate
			}
		}
		a.Action = gitlab.Ptr(action)
		if action != gitlab.FileDelete {
			a.ExecuteFilemode = gitlab.Ptr(ch.Executable)
			if utf8.Valid(ch.Content) && !bytes.ContainsRune(ch.Content, 0) {
				a.Content, a.Encoding = gitlab.Ptr(string(ch.Content)), gitlab.Ptr("text")
			} else {
				a.Content, a.Encoding = gitlab.Ptr(base64.StdEncoding.EncodeToString(ch.Content)), gitlab.Ptr("base64")
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// OpenPullRequest implements driver.Driver: 1 GraphQL query (and 1 per
// further page of 100 merge requests when the first 20 are all forks'),
// 1 commit with actions[] (start_branch creates a new branch with it), 1
// merge request (see the package documentation).
func (d *Driver) OpenPullRequest(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest) (*driver.PullRequest, error) {
	if err := checkRepo(r.Repo); err != nil {
		return nil, err
	}
	gl := d.gl
	ctx = d.bind(ctx, hc)
	pf, err := d.preflight(ctx, gl, r)
	if err != nil {
		return nil, err
	}
	if pf.existing != nil && (!r.UpdateExisting || pf.holds(r)) {
		return existingPR(pf.existing, pf.base, r.Branch, pf.existing.DiffHeadSha)
	}
	if pf.archived {
		// GitLab refuses every write to an archived project (403):
		// say why before trying one.
		return nil, errcode.Newf(errcode.PermissionDenied, "",
			"project %s on %s is archived (read-only): unarchive it to open a merge request", projectPath(r.Repo), d.in.Host)
	}
	if pf.holds(r) {
		// A rerun: the commit is there, the merge request is not.
		return d.createMR(ctx, gl, r, pf, "")
	}
	actions, err := d.actions(r, pf)
	if err != nil {
		return nil, err
	}
	copt := &gitlab.CreateCommitOptions{Branch: gitlab.Ptr(r.Branch), CommitMessage: gitlab.Ptr(r.CommitMessage), Actions: actions}
	if !pf.branchExists {
		copt.StartBranch = gitlab.Ptr(pf.base)
	}
	if d.author != nil {
		copt.AuthorName, copt.AuthorEmail = gitlab.Ptr(d.author.Name), gitlab.Ptr(d.author.Email)
	}
	commit, _, err := gl.Commits.CreateCommit(projectPath(r.Repo), copt, gitlab.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if pf.existing != nil {
		return existingPR(pf.existing, pf.base, r.Branch, commit.ID)
	}
	return d.createMR(ctx, gl, r, pf, commit.ID)
}

// createMR opens the merge request from r.Branch, which holds the changes
// (in commitID, when known).
func (d *Driver) createMR(ctx context.Context, gl *gitlab.Client, r *driver.PullRequestRequest, pf *preflight, commitID string) (*driver.PullRequest, error) {
	title := r.Title
	if r.Draft && !isDraftTitle(title) {
		title = "Draft: " + title
	}
	mr, _, err := gl.MergeRequests.CreateMergeRequest(projectPath(r.Repo), &gitlab.CreateMergeRequestOptions{
		Title: gitlab.Ptr(title), Description: gitlab.Ptr(r.Body), SourceBranch: gitlab.Ptr(r.Branch),
		TargetBranch: gitlab.Ptr(pf.base)}, gitlab.WithContext(ctx))
	if err != nil {
		var er *gitlab.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusConflict {
			// Opened meanwhile by someone else: return that one.
			if found, ferr := d.findOpenMR(ctx, gl, r.Repo, r.Branch, pf.base); ferr == nil && found != nil {
				return &driver.PullRequest{Number: int(found.IID), URL: found.WebURL, Base: pf.base, Branch: r.Branch,
					CommitID: cmp.Or(commitID, found.SHA), Existing: true}, nil
			}
		}
		return nil, d.ErrorInfo(err).Wrap(fmt.Sprintf("the changes are committed on branch %q (%s) of %s, but the merge request into %q could not be opened; open it from that branch, or call OpenPullRequest again",
			r.Branch, commitWord(commitID), projectPath(r.Repo), pf.base), err)
	}
	return &driver.PullRequest{Number: int(mr.IID), URL: mr.WebURL, Base: pf.base, Branch: r.Branch, CommitID: cmp.Or(commitID, mr.SHA)}, nil
}

// commitWord names a commit for a message.
func commitWord(id string) string {
	if id == "" {
		return "already there from an earlier run"
	}
	return "commit " + id
}

func existingPR(mr *prMergeRequest, base, branch, commit string) (*driver.PullRequest, error) {
	n, err := strconv.Atoi(mr.IID)
	if err != nil {
		return nil, errcode.Newf(errcode.Unknown, "", "GitLab sent a merge request iid %q that is not a number", mr.IID)
	}
	return &driver.PullRequest{Number: n, URL: mr.WebURL, Base: base, Branch: branch, CommitID: commit, Existing: true}, nil
}

// findOpenMR returns the open merge request from the project's own branch
// into base, or nil. The listing (scoped to the target project) holds
// forks' merge requests from branches of the same name too: only one
// whose source project is the project is ours. It reads pages of 100
// until ours or the end, at most 1+moreMRPages of them (a full page of
// others' merge requests is needed to read the next).
func (d *Driver) findOpenMR(ctx context.Context, gl *gitlab.Client, repo driver.Repo, branch, base string) (*gitlab.BasicMergeRequest, error) {
	opt := &gitlab.ListProjectMergeRequestsOptions{
		ListOptions:  gitlab.ListOptions{PerPage: 100},
		SourceBranch: gitlab.Ptr(branch), TargetBranch: gitlab.Ptr(base), State: gitlab.Ptr("opened")}
	for range 1 + moreMRPages {
		mrs, resp, err := gl.MergeRequests.ListProjectMergeRequests(projectPath(repo), opt, gitlab.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		for _, mr := range mrs {
			if mr.SourceProjectID == mr.TargetProjectID && mr.SourceProjectID != 0 &&
				mr.SourceBranch == branch && mr.TargetBranch == base {
				return mr, nil
			}
		}
		if resp == nil || resp.NextPage <= opt.Page {
			return nil, nil
		}
		opt.Page = resp.NextPage
	}
	return nil, nil
}

// isDraftTitle reports whether GitLab reads title as a draft's.
func isDraftTitle(title string) bool {
	t := strings.ToLower(strings.TrimSpace(title))
	return strings.HasPrefix(t, "draft:") || strings.HasPrefix(t, "[draft]") || strings.HasPrefix(t, "(draft)")
}
