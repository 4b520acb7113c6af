package fakegithub

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitrecv"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gql"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// prFailure is the knob of FailPullRequestMutation (guarded by s.mu).
type prFailure struct {
	times, status int
	failed        bool // the current request failed: answer status
}

// FailPullRequestMutation makes the next times createPullRequest
// mutations fail after the fields before them in the same document ran
// (a commit made by createCommitOnBranch stays made): the whole request is
// answered status (502 when 0), as a gateway answers when GitHub did the
// work but answered too late. times 0 disarms it.
func (s *Server) FailPullRequestMutation(times, status int) {
	s.site.Lock()
	defer s.site.Unlock()
	s.prFail = prFailure{times: times, status: cmp.Or(status, http.StatusBadGateway)}
}

// mutation is the root value of GitHub's Mutation type: createRef,
// createCommitOnBranch and createPullRequest, with GitHub's checks and
// messages, run in document order with s.mu held.
func (s *Server) mutation(r *http.Request) map[string]any {
	return map[string]any{
		"createRef": fn(func(f *gql.Field) (any, error) {
			in, _ := f.Args["input"].(map[string]any)
			rp, err := s.mutationRepo(r, f, in, "contents")
			if err != nil {
				return nil, err
			}
			name, oid := arg(in, "name"), arg(in, "oid")
			_, exists := rp.Ref(name)
			switch {
			case !validRefName(name):
				return nil, gqlErr("UNPROCESSABLE", fmt.Sprintf("%q is not a valid ref name.", name), f.AST)
			case !has(rp, oid, "commit"):
				return nil, gqlErr("UNPROCESSABLE", "Object does not exist", f.AST)
			case exists:
				return nil, gqlErr("UNPROCESSABLE", fmt.Sprintf("A ref named %q already exists in the repository.", name), f.AST)
			}
			rp.SetRef(name, oid)
			return map[string]any{"clientMutationId": in["clientMutationId"], "ref": s.refValue(r, rp, name, oid)}, nil
		}),
		"createCommitOnBranch": fn(func(f *gql.Field) (any, error) { return s.commitOnBranch(r, f) }),
		"createPullRequest": fn(func(f *gql.Field) (any, error) {
			in, _ := f.Args["input"].(map[string]any)
			rp, err := s.mutationRepo(r, f, in, "pull_requests")
			if err != nil {
				return nil, err
			}
			if s.prFail.times > 0 {
				s.prFail.times--
				s.prFail.failed = true
				return nil, gqlErr("INTERNAL", "the gateway timed out", f.AST)
			}
			draft, _ := in["draft"].(bool)
			p, _, msg := s.openPull(r, rp, Pull{Head: arg(in, "headRefName"), Base: arg(in, "baseRefName"),
				Title: arg(in, "title"), Body: arg(in, "body"), Draft: draft})
			if p == nil {
				return nil, gqlErr("UNPROCESSABLE", msg, f.AST)
			}
			return map[string]any{"clientMutationId": in["clientMutationId"], "pullRequest": pullValue(r, rp, p)}, nil
		}),
	}
}

// mutationRepo returns the repository of a mutation's input (by
// repositoryId, or by branch.repositoryNameWithOwner), with GitHub's
// errors: NOT_FOUND for one the caller cannot see, FORBIDDEN for an
// installation token without the write permission perm on it.
func (s *Server) mutationRepo(r *http.Request, f *gql.Field, in map[string]any, perm string) (*repostore.Repo, error) {
	var rp *repostore.Repo
	if id, ok := gql.String(in, "repositoryId"); ok {
		rp = s.findRepo(func(x *repostore.Repo) bool { return nodeID("R", int64(x.ID)) == id })
		if rp == nil || !canSee(r, rp) {
			return nil, gqlErr("NOT_FOUND", fmt.Sprintf("Could not resolve to a node with the global id of '%s'", id), f.AST)
		}
	} else {
		br, _ := in["branch"].(map[string]any)
		nwo := arg(br, "repositoryNameWithOwner")
		owner, name, _ := strings.Cut(nwo, "/")
		if rp = s.repoLocked(owner, name); rp == nil || !canSee(r, rp) {
			return nil, gqlErr("NOT_FOUND", "Could not resolve to a Repository with the name '"+nwo+"'.", f.AST)
		}
	}
	if it := tokenOf(r); it != nil && (!it.covers(rp) || it.permissions[perm] != "write") {
		return nil, gqlErr("FORBIDDEN", msgNotAccessible, f.AST)
	}
	if rp.Archived {
		// GitHub refuses every write to an archived repository.
		return nil, gqlErr("UNPROCESSABLE", "Repository was archived so is read-only", f.AST)
	}
	return rp, nil
}

// commitOnBranch is createCommitOnBranch: the branch (by
// repositoryNameWithOwner and branchName) must point to expectedHeadOid;
// the deletions (of paths that must exist) then the additions apply to
// its tree (a new file gets mode 100644, a replaced one keeps its mode),
// and the branch moves to the new commit, authored by the caller.
func (s *Server) commitOnBranch(r *http.Request, f *gql.Field) (any, error) {
	in, _ := f.Args["input"].(map[string]any)
	rp, err := s.mutationRepo(r, f, in, "contents")
	if err != nil {
		return nil, err
	}
	fail := func(typ, msg string, a ...any) (any, error) { return nil, gqlErr(typ, fmt.Sprintf(msg, a...), f.AST) }
	br, _ := in["branch"].(map[string]any)
	branch := arg(br, "branchName")
	if branch == "" {
		return fail("UNPROCESSABLE", "A branch must be given by branchName and repositoryNameWithOwner.")
	}
	ref := "refs/heads/" + strings.TrimPrefix(branch, "refs/heads/")
	head, ok := rp.Ref(ref)
	if !ok {
		return fail("NOT_FOUND", "Could not resolve to a Ref with the name '%s'.", ref)
	}
	if expected := arg(in, "expectedHeadOid"); expected != head {
		return fail("STALE_DATA", "Expected branch to point to %q but it did not. Pull and try again.", expected)
	}
	changes, _ := in["fileChanges"].(map[string]any)
	additions, _ := changes["additions"].([]any)
	deletions, _ := changes["deletions"].([]any)
	files := rp.Objects.Flatten(rp.Commits[head].Git.Tree)
	seen := map[string]bool{}
	for _, c := range append(slices.Clone(deletions), additions...) {
		p := arg(c.(map[string]any), "path")
		if seen[p] {
			return fail("UNPROCESSABLE", "The path %q appears more than once in fileChanges.", p)
		}
		seen[p] = true
		enc, isAddition := gql.String(c.(map[string]any), "contents")
		old, exists := files[p]
		if !isAddition {
			if !exists {
				return fail("UNPROCESSABLE", "A path was requested for deletion which does not exist as of commit oid `%s`", head)
			}
			delete(files, p)
			continue
		}
		if !validTreePath(p) {
			return fail("UNPROCESSABLE", "The path %q is not a valid path.", p)
		}
		content, err := base64.StdEncoding.Strict().DecodeString(enc)
		if err != nil {
			return fail("UNPROCESSABLE", "The contents of %q are not valid base64.", p)
		}
		mode := gitobj.ModeFile
		if exists && old.Mode != gitobj.ModeTree && old.Mode != gitobj.ModeCommit {
			mode = old.Mode
		}
		clearPath(files, p) // a file replaces a directory, and files on its parents
		files[p] = gitobj.FlatEntry{Mode: mode, SHA: rp.Objects.PutBlob(content)}
	}
	msg, _ := in["message"].(map[string]any)
	message := arg(msg, "headline")
	if strings.TrimSpace(message) == "" {
		return fail("UNPROCESSABLE", "A commit message headline is required.")
	}
	if body := arg(msg, "body"); body != "" {
		message += "\n\n" + body
	}
	sg := s.signature(s.actor(r))
	id := gitrecv.PutCommit(&s.site.Store, rp, ref, &gitobj.Commit{Tree: rp.Objects.WriteFlat(files), Parents: []string{head}, Message: message,
		Author: sg, Committer: sg}, "")
	return map[string]any{"clientMutationId": in["clientMutationId"], "commit": s.gitValue(r, rp, id),
		"ref": s.refValue(r, rp, ref, id)}, nil
}
