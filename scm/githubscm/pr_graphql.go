package githubscm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// prState is what the prepare query told OpenPullRequest.
type prState struct {
	repoID     string // the repository's node id
	base, head *gqlRef
	baseName   string
	parent     *gqlTarget // the commit the change goes onto
	entries    map[string]gqlEntry
	out        *driver.PullRequest
}

// plainMode is the git mode of a plain file, the only mode
// createCommitOnBranch writes.
const plainMode = 0o100644

// errNoMutations says GitHub refused the mutation document as a schema
// error: a GitHub Enterprise Server without createCommitOnBranch.
var errNoMutations = errors.New("githubscm: the server has no createCommitOnBranch mutation")

// needsREST reports whether the changes need the REST Git Data path:
// createCommitOnBranch writes plain files only (mode 100644), so an
// executable file, a change to an existing file of another mode (an
// executable file or a symlink) or a path changed twice goes through REST.
func needsREST(changes []driver.Change, entries map[string]gqlEntry) bool {
	seen := make(map[string]bool, len(changes))
	for _, ch := range changes {
		if seen[ch.Path] || ch.Executable {
			return true
		}
		seen[ch.Path] = true
		if e, ok := entries[ch.Path]; ok && e.Type == "blob" && ch.Action != driver.Delete && e.Mode != plainMode {
			return true
		}
	}
	return false
}

// applied reports whether the commit entries already hold exactly the
// changes: every written file with that content as a plain file, every
// deleted path missing.
func applied(changes []driver.Change, entries map[string]gqlEntry) bool {
	for _, ch := range changes {
		e, ok := entries[ch.Path]
		if ch.Action == driver.Delete {
			if ok && e.Type != "" {
				return false
			}
			continue
		}
		if !ok || e.Type != "blob" || e.Mode != plainMode || e.OID != driver.BlobID(ch.Content) {
			return false
		}
	}
	return true
}

// openMutation builds the one mutation document that creates the branch
// (ref), commits (commit) and opens the pull request (pr), each when
// asked, as aliased fields GitHub runs in this order.
func openMutation(ref, commit, pr bool) string {
	var decl []string
	var body strings.Builder
	if ref {
		decl = append(decl, "$ref: CreateRefInput!")
		body.WriteString("  branch: createRef(input: $ref) { ref { name } }\n")
	}
	if commit {
		decl = append(decl, "$commit: CreateCommitOnBranchInput!")
		body.WriteString("  commit: createCommitOnBranch(input: $commit) { commit { oid } }\n")
	}
	if pr {
		decl = append(decl, "$pr: CreatePullRequestInput!")
		body.WriteString("  pullRequest: createPullRequest(input: $pr) { pullRequest { number url } }\n")
	}
	return "mutation OpenPullRequest(" + strings.Join(decl, ", ") + ") {\n" + body.String() + "}"
}

// commitInput is createCommitOnBranch's input for r's changes on top of
// the commit expected at the branch's head.
func commitInput(r *driver.PullRequestRequest, expected string) map[string]any {
	additions, deletions := []any{}, []any{}
	for _, ch := range r.Changes {
		if ch.Action == driver.Delete {
			deletions = append(deletions, map[string]any{"path": ch.Path})
			continue
		}
		additions = append(additions, map[string]any{"path": ch.Path, "contents": base64.StdEncoding.EncodeToString(ch.Content)})
	}
	msg := r.CommitMessage
	if msg == "" {
		msg = r.Title
	}
	headline, body := commitHeadline(msg, r.Title)
	message := map[string]any{"headline": headline}
	if body != "" {
		message["body"] = body
	}
	return map[string]any{
		"branch":          map[string]any{"repositoryNameWithOwner": r.Repo.Owner + "/" + r.Repo.Name, "branchName": r.Branch},
		"expectedHeadOid": expected,
		"fileChanges":     map[string]any{"additions": additions, "deletions": deletions},
		"message":         message,
	}
}

// commitHeadline splits a commit message into the headline GitHub wants
// (the first non-blank line, trimmed; title when the message has none, as
// the REST path would accept it) and the body after it.
func commitHeadline(msg, title string) (headline, body string) {
	msg = strings.ReplaceAll(msg, "\r\n", "\n")
	for msg != "" {
		line, rest, _ := strings.Cut(msg, "\n")
		msg = rest
		if line = strings.TrimSpace(line); line != "" {
			return line, strings.TrimLeft(rest, "\n")
		}
	}
	return strings.TrimSpace(title), ""
}

// openAnswer is the data of the mutation's answer; a field that failed
// is null.
type openAnswer struct {
	Branch *struct {
		Ref *struct {
			Name string `json:"name"`
		} `json:"ref"`
	} `json:"branch"`
	Commit *struct {
		Commit *struct {
			OID string `json:"oid"`
		} `json:"commit"`
	} `json:"commit"`
	PullRequest *struct {
		PullRequest *struct {
			Number int    `json:"number"`
			URL    string `json:"url"`
		} `json:"pullRequest"`
	} `json:"pullRequest"`
}

// mutate posts a mutation and returns its data and its errors: unlike a
// query's, a mutation's partial answer matters (the fields before the
// failed one were done).
func (d *Driver) mutate(ctx context.Context, gh *github.Client, doc string, vars map[string]any, out any) ([]GraphQLErrorItem, *http.Response, error) {
	req, err := gh.NewRequest(http.MethodPost, d.graphqlURL, map[string]any{"query": doc, "variables": vars})
	if err != nil {
		return nil, nil, err
	}
	var answer struct {
		Data   json.RawMessage    `json:"data"`
		Errors []GraphQLErrorItem `json:"errors"`
	}
	resp, err := gh.Do(ctx, req, &answer)
	if err != nil {
		return nil, nil, redact(err)
	}
	if len(answer.Data) > 0 && string(answer.Data) != "null" {
		if err := json.Unmarshal(answer.Data, out); err != nil {
			return nil, nil, err
		}
	}
	return answer.Errors, resp.Response, nil
}

// openPRGraphQL writes with one mutation document: createRef when the
// branch is missing, createCommitOnBranch (expecting the head the query
// saw) unless the branch already holds exactly the changes, and
// createPullRequest unless one is open.
func (d *Driver) openPRGraphQL(ctx context.Context, gh *github.Client, r *driver.PullRequestRequest, st *prState, retry bool) (*driver.PullRequest, error) {
	out, head, parent := st.out, st.head, st.parent
	types := make(map[string]string, len(st.entries))
	for p, e := range st.entries {
		types[p] = e.Type
	}
	done := applied(r.Changes, st.entries)
	if err := checkChanges(r.Changes, types); err != nil && (head == nil || !done) {
		// On an existing branch a failed precondition is a rerun's own
		// earlier work when the branch holds exactly the changes.
		return nil, err
	}
	out.CommitID = parent.OID
	if out.Existing && done {
		return out, nil
	}
	vars := map[string]any{}
	if head == nil {
		vars["ref"] = map[string]any{"repositoryId": st.repoID, "name": "refs/heads/" + r.Branch, "oid": st.base.Target.OID}
	}
	if !done {
		vars["commit"] = commitInput(r, parent.OID)
	}
	// GraphQL runs a document's fields one after the other even when one
	// fails: a pull request in the same document as a commit that fails
	// would open on the branch as it was. On a new branch that cannot
	// happen (GitHub refuses a pull request with no commits); on an
	// existing branch the pull request waits for the commit (3 requests).
	prVars := map[string]any{"repositoryId": st.repoID, "baseRefName": st.baseName, "headRefName": r.Branch,
		"title": r.Title, "body": r.Body, "draft": r.Draft}
	withPR := !out.Existing && (head == nil || done)
	if withPR {
		vars["pr"] = prVars
	}
	var ans openAnswer
	errs, resp, err := d.mutate(ctx, gh, openMutation(head == nil, !done, withPR), vars, &ans)
	if err != nil {
		return nil, err
	}
	if ans.Commit != nil && ans.Commit.Commit != nil {
		out.CommitID = ans.Commit.Commit.OID
	}
	opened := ans.PullRequest != nil && ans.PullRequest.PullRequest != nil
	if opened {
		out.Number, out.URL = ans.PullRequest.PullRequest.Number, ans.PullRequest.PullRequest.URL
	}
	if len(errs) == 0 {
		if !out.Existing && !withPR {
			return d.openAfterCommit(ctx, gh, r, st, out, prVars)
		}
		return out, nil
	}
	byField := map[string]GraphQLErrorItem{}
	for _, x := range errs {
		// A validation error (the document was not run): the schema
		// lacks the mutations or their input types.
		if ans == (openAnswer{}) && (strings.Contains(x.Message, "doesn't exist on type") || strings.Contains(x.Message, "isn't a defined input type")) {
			return nil, errNoMutations
		}
		if len(x.Path) == 0 {
			continue
		}
		if k, ok := x.Path[0].(string); ok {
			if _, seen := byField[k]; !seen {
				byField[k] = x
			}
		}
	}
	gerr := newGraphQLError(resp, errs)
	if gerr.code() != errcode.Unknown {
		return nil, gerr // FORBIDDEN (PermissionDenied), NOT_FOUND, RATE_LIMITED
	}
	branchErr, branchFailed := byField["branch"]
	commitErr, commitFailed := byField["commit"]
	stale := commitFailed && (commitErr.Type == "STALE_DATA" || strings.Contains(commitErr.Message, "Expected branch to point to"))
	if stale || (branchFailed && strings.Contains(branchErr.Message, "already exists")) {
		// Someone pushed to (or created) the branch since the query: start
		// again, once, from the query. A pull request this document
		// opened is ours: the retry commits onto it.
		if !retry {
			return nil, &errcode.Error{Code: errcode.Conflict, Status: gerr.Status,
				Msg: fmt.Sprintf("branch %q of %s/%s changed meanwhile; retry", r.Branch, r.Repo.Owner, r.Repo.Name), Err: gerr}
		}
		again := r
		if opened {
			cp := *r
			cp.UpdateExisting = true
			again = &cp
		}
		pr, err := d.openPR(ctx, gh, again, false)
		if err == nil && opened {
			pr.Existing = false
		}
		return pr, err
	}
	if commitFailed || branchFailed {
		return nil, gerr
	}
	if prErr, ok := byField["pullRequest"]; ok && strings.Contains(prErr.Message, "A pull request already exists") {
		// Opened concurrently: return that one.
		found, ferr := d.findOpen(ctx, gh, r, st.baseName)
		if ferr != nil {
			return nil, ferr
		}
		if found == nil {
			return nil, gerr
		}
		found.CommitID = out.CommitID
		return found, nil
	}
	return nil, gerr
}

// openAfterCommit opens the pull request of out, whose commit is on its
// existing branch, with a mutation of its own.
func (d *Driver) openAfterCommit(ctx context.Context, gh *github.Client, r *driver.PullRequestRequest, st *prState, out *driver.PullRequest, prVars map[string]any) (*driver.PullRequest, error) {
	var ans openAnswer
	errs, resp, err := d.mutate(ctx, gh, openMutation(false, false, true), map[string]any{"pr": prVars}, &ans)
	if err != nil {
		return nil, err
	}
	if ans.PullRequest != nil && ans.PullRequest.PullRequest != nil {
		out.Number, out.URL = ans.PullRequest.PullRequest.Number, ans.PullRequest.PullRequest.URL
		return out, nil
	}
	gerr := newGraphQLError(resp, errs)
	for _, x := range errs {
		if strings.Contains(x.Message, "A pull request already exists") {
			// Opened concurrently: return that one.
			found, ferr := d.findOpen(ctx, gh, r, st.baseName)
			if ferr != nil {
				return nil, ferr
			}
			if found == nil {
				break
			}
			found.CommitID = out.CommitID
			return found, nil
		}
	}
	return nil, gerr
}
