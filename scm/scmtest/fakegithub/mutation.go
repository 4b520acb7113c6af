package fakegithub

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gql"
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
	s.mu.Lock()
	defer s.mu.Unlock()
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
			name, _ := gql.String(in, "name")
			oid, _ := gql.String(in, "oid")
			if !strings.HasPrefix(name, "refs/") || strings.Count(name, "/") < 2 || !validTreePath(name) {
				return nil, gqlErr("UNPROCESSABLE", fmt.Sprintf("%q is not a valid ref name.", name), f.AST)
			}
			if !s.isCommit(rp, oid) {
				return nil, gqlErr("UNPROCESSABLE", "Object does not exist", f.AST)
			}
			if _, ok := rp.refs[name]; ok {
				return nil, gqlErr("UNPROCESSABLE", fmt.Sprintf("A ref named %q already exists in the repository.", name), f.AST)
			}
			rp.refs[name] = oid
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
			head, _ := gql.String(in, "headRefName")
			base, _ := gql.String(in, "baseRefName")
			title, _ := gql.String(in, "title")
			body, _ := gql.String(in, "body")
			draft, _ := in["draft"].(bool)
			unprocessable := func(msg string) (any, error) { return nil, gqlErr("UNPROCESSABLE", msg, f.AST) }
			if o, b, ok := strings.Cut(head, ":"); ok {
				if !strings.EqualFold(o, rp.owner.login) {
					return unprocessable("Head sha can't be blank, Head ref must be a branch")
				}
				head = b
			}
			headID, ok := rp.refs["refs/heads/"+head]
			if !ok {
				return unprocessable("Head sha can't be blank, Head ref must be a branch")
			}
			baseID, ok := rp.refs["refs/heads/"+base]
			if !ok {
				return unprocessable("Base ref must be a branch")
			}
			if title == "" {
				return unprocessable("Title can't be blank")
			}
			for _, p := range rp.pulls {
				if p.state == "open" && p.head == head && p.base == base {
					return unprocessable("A pull request already exists for " + rp.owner.login + ":" + head + ".")
				}
			}
			if rp.objs.IsAncestor(headID, baseID) {
				return unprocessable("No commits between " + base + " and " + head)
			}
			p := &pull{id: s.newID(), number: len(rp.pulls) + 1, title: title, body: body, head: head, base: base,
				draft: draft, state: "open", created: s.now(), user: s.actor(r)}
			rp.pulls = append(rp.pulls, p)
			return map[string]any{"clientMutationId": in["clientMutationId"], "pullRequest": pullValue(r, rp, p)}, nil
		}),
	}
}

// mutationRepo returns the repository of a mutation's input (by
// repositoryId, or by branch.repositoryNameWithOwner), with GitHub's
// errors: NOT_FOUND for one the caller cannot see, FORBIDDEN for an
// installation token without the write permission perm on it.
func (s *Server) mutationRepo(r *http.Request, f *gql.Field, in map[string]any, perm string) (*repo, error) {
	var rp *repo
	if id, ok := gql.String(in, "repositoryId"); ok {
		for _, x := range s.repos {
			if nodeID("R", x.id) == id {
				rp = x
			}
		}
		if rp == nil || !canSee(r, rp) {
			return nil, gqlErr("NOT_FOUND", fmt.Sprintf("Could not resolve to a node with the global id of '%s'", id), f.AST)
		}
	} else {
		br, _ := in["branch"].(map[string]any)
		nwo, _ := gql.String(br, "repositoryNameWithOwner")
		owner, name, _ := strings.Cut(nwo, "/")
		if rp = s.repos[key(owner, name)]; rp == nil || !canSee(r, rp) {
			return nil, gqlErr("NOT_FOUND", "Could not resolve to a Repository with the name '"+nwo+"'.", f.AST)
		}
	}
	if it := tokenOf(r); it != nil && (!it.covers(rp) || it.permissions[perm] != "write") {
		return nil, gqlErr("FORBIDDEN", msgNotAccessible, f.AST)
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
	fail := func(typ, msg string) (any, error) { return nil, gqlErr(typ, msg, f.AST) }
	br, _ := in["branch"].(map[string]any)
	branch, _ := gql.String(br, "branchName")
	if branch == "" {
		return fail("UNPROCESSABLE", "A branch must be given by branchName and repositoryNameWithOwner.")
	}
	ref := "refs/heads/" + strings.TrimPrefix(branch, "refs/heads/")
	head, ok := rp.refs[ref]
	if !ok {
		return fail("NOT_FOUND", fmt.Sprintf("Could not resolve to a Ref with the name '%s'.", ref))
	}
	expected, _ := gql.String(in, "expectedHeadOid")
	if expected != head {
		return fail("STALE_DATA", fmt.Sprintf("Expected branch to point to %q but it did not. Pull and try again.", expected))
	}
	changes, _ := in["fileChanges"].(map[string]any)
	additions, _ := changes["additions"].([]any)
	deletions, _ := changes["deletions"].([]any)
	files := rp.objs.Flatten(rp.objs[head].Commit.Tree)
	seen := map[string]bool{}
	for _, d := range deletions {
		p, _ := gql.String(d.(map[string]any), "path")
		if seen[p] {
			return fail("UNPROCESSABLE", fmt.Sprintf("The path %q appears more than once in fileChanges.", p))
		}
		seen[p] = true
		if _, ok := files[p]; !ok {
			return fail("UNPROCESSABLE", fmt.Sprintf("A path was requested for deletion which does not exist as of commit oid `%s`", head))
		}
		delete(files, p)
	}
	for _, a := range additions {
		p, _ := gql.String(a.(map[string]any), "path")
		enc, _ := gql.String(a.(map[string]any), "contents")
		if seen[p] {
			return fail("UNPROCESSABLE", fmt.Sprintf("The path %q appears more than once in fileChanges.", p))
		}
		seen[p] = true
		if !validTreePath(p) {
			return fail("UNPROCESSABLE", fmt.Sprintf("The path %q is not a valid path.", p))
		}
		content, err := base64.StdEncoding.Strict().DecodeString(enc)
		if err != nil {
			return fail("UNPROCESSABLE", fmt.Sprintf("The contents of %q are not valid base64.", p))
		}
		mode := gitobj.ModeFile
		if old, ok := files[p]; ok && old.Mode != gitobj.ModeTree && old.Mode != gitobj.ModeCommit {
			mode = old.Mode
		}
		for q := range files { // a file replaces a directory, and files on its parents
			if strings.HasPrefix(q, p+"/") {
				delete(files, q)
			}
		}
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			delete(files, d)
		}
		files[p] = gitobj.FlatEntry{Mode: mode, SHA: rp.objs.PutBlob(content)}
	}
	msg, _ := in["message"].(map[string]any)
	headline, _ := gql.String(msg, "headline")
	if strings.TrimSpace(headline) == "" {
		return fail("UNPROCESSABLE", "A commit message headline is required.")
	}
	message := headline
	if body, _ := gql.String(msg, "body"); body != "" {
		message += "\n\n" + body
	}
	sg := gitobj.Signature{Name: s.actor(r), Email: s.actor(r) + "@users.noreply.github.com", When: s.now()}
	id := rp.objs.PutCommit(&gitobj.Commit{Tree: rp.objs.WriteFlat(files), Parents: []string{head}, Message: message,
		Author: sg, Committer: sg})
	rp.refs[ref] = id
	return map[string]any{"clientMutationId": in["clientMutationId"], "commit": s.gitValue(r, rp, id),
		"ref": s.refValue(r, rp, ref, id)}, nil
}
