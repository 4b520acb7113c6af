package fakegithub_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

const openMutation = `mutation($ref: CreateRefInput!, $commit: CreateCommitOnBranchInput!, $pr: CreatePullRequestInput!) {
  branch: createRef(input: $ref) { ref { name } }
  commit: createCommitOnBranch(input: $commit) { commit { oid message } }
  pullRequest: createPullRequest(input: $pr) { pullRequest { number headRefName baseRefName isDraft } }
}`

// mutationVars are the variables of openMutation: a branch from main's
// head, a commit on it (expected at head) adding add and deleting del,
// and a pull request from it to main.
func mutationVars(repoID, branch, head string, add map[string]string, del ...string) map[string]any {
	var additions, deletions []any
	for p, c := range add {
		additions = append(additions, map[string]any{"path": p, "contents": base64.StdEncoding.EncodeToString([]byte(c))})
	}
	for _, p := range del {
		deletions = append(deletions, map[string]any{"path": p})
	}
	return map[string]any{
		"ref": map[string]any{"repositoryId": repoID, "name": "refs/heads/" + branch, "oid": head},
		"commit": map[string]any{"branch": map[string]any{"repositoryNameWithOwner": "acme/widgets", "branchName": branch},
			"expectedHeadOid": head, "fileChanges": map[string]any{"additions": additions, "deletions": deletions},
			"message": map[string]any{"headline": "Add files", "body": "Why."}},
		"pr": map[string]any{"repositoryId": repoID, "baseRefName": "main", "headRefName": branch, "title": "Add files", "draft": true},
	}
}

// errorsOf returns each error's first path element and message.
func errorsOf(resp map[string]any) map[string]string {
	out := map[string]string{}
	errs, _ := resp["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		p, _ := m["path"].([]any)
		k := ""
		if len(p) > 0 {
			k, _ = p[0].(string)
		}
		out[k] = fmt.Sprint(m["type"]) + ": " + m["message"].(string)
	}
	return out
}

func repoID(t *testing.T, s *fakegithub.Server) string {
	t.Helper()
	resp := graphql(t, s, s.URL()+"/graphql", `{ repository(owner: "acme", name: "widgets") { id } }`, nil)
	return resp["data"].(map[string]any)["repository"].(map[string]any)["id"].(string)
}

// TestOpenMutation: one document creates the branch, commits on it and
// opens the pull request, in order; the commit replaces a file keeping its
// mode, adds one as 100644 and deletes one, authored by the caller.
func TestOpenMutation(t *testing.T) {
	s := newServer(t, nil)
	head, _ := s.Ref("acme", "widgets", "main")
	resp := graphql(t, s, s.URL()+"/graphql", openMutation, mutationVars(repoID(t, s), "feature", head,
		map[string]string{"new/file.txt": "new\n", "bin/run.sh": "#!/bin/sh\necho changed\n"}, "README.md"))
	if errs := errorsOf(resp); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	data := resp["data"].(map[string]any)
	commit := data["commit"].(map[string]any)["commit"].(map[string]any)
	if got, _ := s.Ref("acme", "widgets", "feature"); got != commit["oid"] {
		t.Errorf("feature is at %s; want the new commit %v", got, commit["oid"])
	}
	if commit["message"] != "Add files\n\nWhy." {
		t.Errorf("message %q; want headline, blank line, body", commit["message"])
	}
	info, _ := s.GetCommit("acme", "widgets", "feature")
	if !slices.Equal(info.Parents, []string{head}) {
		t.Errorf("parents %v; want [%s]", info.Parents, head)
	}
	files, err := s.Files("acme", "widgets", "feature")
	if err != nil {
		t.Fatal(err)
	}
	type file struct {
		Content          string
		Executable, Link bool
	}
	got := map[string]file{}
	for _, f := range files {
		got[f.Path] = file{string(f.Content), f.Executable, f.Symlink}
	}
	want := map[string]file{
		"new/file.txt":    {"new\n", false, false},
		"bin/run.sh":      {"#!/bin/sh\necho changed\n", true, false},
		"docs/a b/ünï.md": {"unicode\n", false, false},
		"link":            {"README.md", false, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files on the branch (-want +got):\n%s", diff)
	}
	pr := data["pullRequest"].(map[string]any)["pullRequest"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"number": 1.0, "headRefName": "feature", "baseRefName": "main", "isDraft": true}, pr); diff != "" {
		t.Errorf("pull request (-want +got):\n%s", diff)
	}
}

// TestMutationErrors: GitHub's refusals, each nulling its field only (the
// fields before it stay done).
func TestMutationErrors(t *testing.T) {
	s := newServer(t, nil)
	id := repoID(t, s)
	head, _ := s.Ref("acme", "widgets", "main")
	add := map[string]string{"a.txt": "a"}
	// A first run opens feature's pull request.
	if errs := errorsOf(graphql(t, s, s.URL()+"/graphql", openMutation, mutationVars(id, "feature", head, add))); len(errs) > 0 {
		t.Fatal(errs)
	}
	tip, _ := s.Ref("acme", "widgets", "feature")
	tests := []struct {
		name   string
		vars   map[string]any
		want   map[string]string
		wantOK []string // fields answered
	}{
		{"all again, stale head", mutationVars(id, "feature", head, add), map[string]string{
			"branch":      `UNPROCESSABLE: A ref named "refs/heads/feature" already exists in the repository.`,
			"commit":      `STALE_DATA: Expected branch to point to "` + head + `" but it did not. Pull and try again.`,
			"pullRequest": "UNPROCESSABLE: A pull request already exists for acme:feature.",
		}, nil},
		{"deleting a missing path", mutationVars(id, "other", head, nil, "nope.txt"), map[string]string{
			"commit":      "UNPROCESSABLE: A path was requested for deletion which does not exist as of commit oid `" + head + "`",
			"pullRequest": "UNPROCESSABLE: No commits between main and other",
		}, []string{"branch"}},
		{"bad base64", func() map[string]any {
			v := mutationVars(id, "third", head, nil)
			v["commit"].(map[string]any)["fileChanges"] = map[string]any{"additions": []any{map[string]any{"path": "x", "contents": "!!"}}}
			return v
		}(), map[string]string{
			"commit":      `UNPROCESSABLE: The contents of "x" are not valid base64.`,
			"pullRequest": "UNPROCESSABLE: No commits between main and third",
		}, []string{"branch"}},
		{"unknown repository", func() map[string]any {
			v := mutationVars("UjEyMzQ1Njc4", "fourth", head, add)
			v["commit"].(map[string]any)["branch"] = map[string]any{"repositoryNameWithOwner": "acme/nope", "branchName": "fourth"}
			return v
		}(), map[string]string{
			"branch":      "NOT_FOUND: Could not resolve to a node with the global id of 'UjEyMzQ1Njc4'",
			"commit":      "NOT_FOUND: Could not resolve to a Repository with the name 'acme/nope'.",
			"pullRequest": "NOT_FOUND: Could not resolve to a node with the global id of 'UjEyMzQ1Njc4'",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := graphql(t, s, s.URL()+"/graphql", openMutation, tt.vars)
			if diff := cmp.Diff(tt.want, errorsOf(resp)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			data, _ := resp["data"].(map[string]any)
			var ok []string
			for _, k := range []string{"branch", "commit", "pullRequest"} {
				if data[k] != nil {
					ok = append(ok, k)
				}
			}
			if !slices.Equal(ok, tt.wantOK) {
				t.Errorf("fields answered %v; want %v", ok, tt.wantOK)
			}
		})
	}
	if got, _ := s.Ref("acme", "widgets", "feature"); got != tip {
		t.Errorf("feature moved to %s; want it at %s", got, tip)
	}
	if n := len(s.Pulls("acme", "widgets")); n != 1 {
		t.Errorf("%d pull requests; want 1", n)
	}
	// The document is validated against the schema first.
	resp := graphql(t, s, s.URL()+"/graphql", `mutation { createRef(input: {name: "x"}) { nope } }`, nil)
	if resp["data"] != nil || len(resp["errors"].([]any)) == 0 {
		t.Errorf("invalid mutation answered %v; want errors and no data", resp)
	}
}

// TestMutationPermissions: an installation token needs contents: write
// to create refs and commit, pull_requests: write to open a pull request,
// as the REST routes do.
func TestMutationPermissions(t *testing.T) {
	s, clk := newAppServer(t, nil)
	id := repoID(t, s)
	head, _ := s.Ref("acme", "widgets", "main")
	forbidden := "FORBIDDEN: Resource not accessible by integration"
	for i, tt := range []struct {
		perms string
		want  map[string]string
	}{
		{`{"permissions":{"contents":"read","pull_requests":"write"}}`, map[string]string{"branch": forbidden, "commit": forbidden,
			"pullRequest": "UNPROCESSABLE: Head sha can't be blank, Head ref must be a branch"}},
		{`{"permissions":{"contents":"write","pull_requests":"read"}}`, map[string]string{"pullRequest": forbidden}},
		{`{"permissions":{"contents":"write","pull_requests":"write"}}`, map[string]string{}},
	} {
		tok := mint(t, s, clk, instAcme, tt.perms)
		branch := fmt.Sprintf("b%d", i)
		b, _ := json.Marshal(map[string]any{"query": openMutation, "variables": mutationVars(id, branch, head, map[string]string{"a.txt": "a"})})
		resp, body := do(t, s, call{method: "POST", url: s.URL() + "/graphql", body: string(b), header: bearer(tok)})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.perms, resp.StatusCode, body)
		}
		if diff := cmp.Diff(tt.want, errorsOf(decode[map[string]any](t, body))); diff != "" {
			t.Errorf("%s: errors (-want +got):\n%s", tt.perms, diff)
		}
	}
}

// TestFailPullRequestMutation: the knob fails createPullRequest after the
// commit, answering the whole request 502, once.
func TestFailPullRequestMutation(t *testing.T) {
	s := newServer(t, nil)
	id := repoID(t, s)
	head, _ := s.Ref("acme", "widgets", "main")
	s.FailPullRequestMutation(1, 0)
	b, _ := json.Marshal(map[string]any{"query": openMutation, "variables": mutationVars(id, "feature", head, map[string]string{"a.txt": "a"})})
	resp, body := do(t, s, call{method: "POST", url: s.URL() + "/graphql", body: string(b)})
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(string(body), `"data"`) {
		t.Fatalf("answer %d %s; want a 502 gateway page", resp.StatusCode, body)
	}
	if tip, _ := s.Ref("acme", "widgets", "feature"); tip == "" || tip == head {
		t.Errorf("feature at %q; want the commit made before the failure", tip)
	}
	if n := len(s.Pulls("acme", "widgets")); n != 0 {
		t.Errorf("%d pull requests; want none", n)
	}
	// Once: the same pull request now opens.
	tip, _ := s.Ref("acme", "widgets", "feature")
	q := `mutation($pr: CreatePullRequestInput!) { createPullRequest(input: $pr) { pullRequest { number } } }`
	v := mutationVars(id, "feature", tip, nil)
	if errs := errorsOf(graphql(t, s, s.URL()+"/graphql", q, map[string]any{"pr": v["pr"]})); len(errs) > 0 {
		t.Errorf("second attempt: %v", errs)
	}
}

// TestArchivedRepositoryRefusesWrites: GitHub refuses every write to an
// archived repository, REST with 403 "Repository was archived so is
// read-only." and GraphQL mutations with UNPROCESSABLE, and still answers
// reads.
func TestArchivedRepositoryRefusesWrites(t *testing.T) {
	s := newServer(t, nil)
	head, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "old", Archived: true,
		Files: []fakegithub.File{{Path: "README.md", Content: []byte("hi\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	api := s.URL() + "/repos/acme/old"
	if resp, b := do(t, s, call{method: "POST", url: api + "/git/refs", body: `{"ref":"refs/heads/x","sha":"` + head + `"}`}); resp.StatusCode != http.StatusForbidden ||
		decode[map[string]any](t, b)["message"] != "Repository was archived so is read-only." {
		t.Errorf("POST git/refs: %d %s; want 403 Repository was archived so is read-only.", resp.StatusCode, b)
	}
	if resp, b := do(t, s, call{method: "GET", url: api + "/contents/README.md"}); resp.StatusCode != http.StatusOK {
		t.Errorf("GET contents: %d %s; want 200", resp.StatusCode, b)
	}
	data := graphql(t, s, s.URL()+"/graphql", `{ repository(owner: "acme", name: "old") { id } }`, nil)
	id := data["data"].(map[string]any)["repository"].(map[string]any)["id"].(string)
	vars := mutationVars(id, "x", head, map[string]string{"a.txt": "a"})
	vars["commit"].(map[string]any)["branch"] = map[string]any{"repositoryNameWithOwner": "acme/old", "branchName": "x"}
	const msg = "UNPROCESSABLE: Repository was archived so is read-only"
	if diff := cmp.Diff(map[string]string{"branch": msg, "commit": msg, "pullRequest": msg},
		errorsOf(graphql(t, s, s.URL()+"/graphql", openMutation, vars))); diff != "" {
		t.Errorf("mutation on an archived repository: errors (-want +got):\n%s", diff)
	}
	if _, ok := s.Ref("acme", "old", "refs/heads/x"); ok {
		t.Error("branch x was created")
	}
}
