package fakegitlab

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func postGQL(t *testing.T, s *Server, header map[string]string, query string, vars map[string]any) map[string]any {
	t.Helper()
	a := call(t, s, "POST", "/api/graphql", header, map[string]any{"query": query, "variables": vars})
	if a.status != 200 {
		t.Fatalf("graphql: %d %s", a.status, a.body)
	}
	return a.json(t).(map[string]any)
}

// pretty re-encodes v for comparison with a literal.
func pretty(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGraphQLProjects(t *testing.T) {
	s := newServer(t, &Options{RelativePath: "/gitlab"})
	seed(t, s, "acme", "one", map[string]string{"catalog-info.yaml": "kind: Component\n"})
	seed(t, s, "acme/team", "two", map[string]string{"README.md": "r"})
	seed(t, s, "acme/team/deep", "three", map[string]string{"catalog-info.yaml": "x"})
	seed(t, s, "other", "four", map[string]string{"catalog-info.yaml": "x"})
	if _, _, err := s.AddProject(Project{Namespace: "acme", Path: "empty"}); err != nil {
		t.Fatal(err)
	}
	const q = `query($fullPath: ID!, $paths: [String!]!, $first: Int!, $after: String) {
	  namespace(fullPath: $fullPath) {
	    __typename
	    projects(includeSubgroups: true, first: $first, after: $after) {
	      pageInfo { hasNextPage endCursor }
	      nodes { fullPath repository { rootRef blobs(paths: $paths) { nodes { path oid } } } }
	    }
	  }
	}`
	var got []string
	after := any(nil)
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		res := postGQL(t, s, auth, q, map[string]any{"fullPath": "acme", "paths": []string{"catalog-info.yaml"}, "first": 2, "after": after})
		if res["errors"] != nil {
			t.Fatalf("errors: %v", res["errors"])
		}
		ns := res["data"].(map[string]any)["namespace"].(map[string]any)
		if ns["__typename"] != "Namespace" {
			t.Errorf("__typename %v", ns["__typename"])
		}
		prj := ns["projects"].(map[string]any)
		for _, n := range prj["nodes"].([]any) {
			n := n.(map[string]any)
			repo := n["repository"].(map[string]any)
			blobs := repo["blobs"].(map[string]any)["nodes"].([]any)
			got = append(got, n["fullPath"].(string)+" "+pretty(t, repo["rootRef"])+" "+pretty(t, len(blobs)))
		}
		pi := prj["pageInfo"].(map[string]any)
		if pi["hasNextPage"] != true {
			break
		}
		after = pi["endCursor"]
	}
	want := []string{`acme/one "main" 1`, `acme/team/two "main" 0`, `acme/team/deep/three "main" 1`, `acme/empty null 0`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("projects (-want +got):\n%s", diff)
	}
	// A private namespace's projects are invisible to anonymous callers.
	res := postGQL(t, s, nil, q, map[string]any{"fullPath": "acme", "paths": []string{"x"}, "first": 10})
	if n := res["data"].(map[string]any)["namespace"].(map[string]any)["projects"].(map[string]any)["nodes"]; len(n.([]any)) != 0 {
		t.Errorf("anonymous: %v; want no projects", n)
	}
}

func TestGraphQLProjectPreflight(t *testing.T) {
	s := newServer(t, nil)
	seed(t, s, "g", "p", map[string]string{"a.txt": "a", "dir/b.txt": "b"})
	s.Commit("g/p", "feature/x", Commit{Files: []File{{Path: "c.txt", Content: []byte("c")}}})
	s.Commit("g/p", "feature/xy", Commit{Files: []File{{Path: "d.txt", Content: []byte("d")}}})
	call(t, s, "POST", "/api/v4/projects/g%2Fp/merge_requests", auth,
		map[string]any{"source_branch": "feature/x", "target_branch": "main", "title": "X"})
	const q = `query($path: ID!, $branch: String!, $p0: [String!]!) {
	  project(fullPath: $path) {
	    repository {
	      rootRef
	      branchNames(searchPattern: $branch, offset: 0, limit: 1)
	      b0: blobs(paths: $p0) { nodes { path } }
	      h0: blobs(paths: $p0, ref: $branch) { nodes { path } }
	    }
	    mergeRequests(sourceBranches: [$branch], state: opened, first: 20) { nodes { iid sourceBranch targetBranch diffHeadSha } }
	  }
	}`
	a := call(t, s, "POST", "/api/graphql", auth, map[string]any{"query": q,
		"variables": map[string]any{"path": "g/p", "branch": "feature/x", "p0": []string{"a.txt", "c.txt", "dir", "nope"}}})
	head, _ := s.Branch("g/p", "feature/x")
	want := `{"data":{"project":{"repository":{"rootRef":"main","branchNames":["feature/x"],` +
		`"b0":{"nodes":[{"path":"a.txt"}]},"h0":{"nodes":[{"path":"a.txt"},{"path":"c.txt"}]}},` +
		`"mergeRequests":{"nodes":[{"iid":"1","sourceBranch":"feature/x","targetBranch":"main","diffHeadSha":"` + head + `"}]}}}}`
	if got := string(a.body); got != want {
		t.Errorf("got  %s\nwant %s (in selection order)", got, want)
	}
	// A missing branch: no branch name, no blobs; a missing project: null.
	res := postGQL(t, s, auth, q, map[string]any{"path": "g/p", "branch": "nope", "p0": []string{"a.txt"}})
	repo := res["data"].(map[string]any)["project"].(map[string]any)["repository"].(map[string]any)
	if pretty(t, repo["branchNames"]) != "[]" || pretty(t, repo["h0"]) != `{"nodes":[]}` {
		t.Errorf("missing branch: %s", pretty(t, repo))
	}
	res = postGQL(t, s, auth, q, map[string]any{"path": "g/nope", "branch": "x", "p0": []string{"a"}})
	if pretty(t, res) != `{"data":{"project":null}}` {
		t.Errorf("missing project: %s", pretty(t, res))
	}
	for pat, want := range map[string]string{"feature/*": `["feature/x","feature/xy"]`, "*y": `["feature/xy"]`, "main": `["main"]`} {
		res := postGQL(t, s, auth, `query($p: String!) { project(fullPath: "g/p") { repository { branchNames(searchPattern: $p, offset: 0, limit: 10) } } }`,
			map[string]any{"p": pat})
		got := res["data"].(map[string]any)["project"].(map[string]any)["repository"].(map[string]any)["branchNames"]
		if pretty(t, got) != want {
			t.Errorf("branchNames(%q) = %s; want %s", pat, pretty(t, got), want)
		}
	}
}

func TestGraphQLErrors(t *testing.T) {
	s := newServer(t, &Options{MaxComplexity: 5})
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"empty", "", nil, "No query string was present"},
		{"syntax", "{ project(fullPath: ) { id } }", nil, "(RPAREN) at [1, 21]"},
		{"unterminated", `{ project(fullPath: "x) { id } }`, nil, "Unterminated string"},
		{"unknown field", `{ project(fullPath: "x") { nope } }`, nil, "Field 'nope' doesn't exist on type 'Project'"},
		{"unknown field's code", `{ project(fullPath: "x") { nope } }`, nil, `"extensions":{"code":"undefinedField"}`},
		{"unknown argument", `{ project(fullPath: "x", bad: 1) { id } }`, nil, "Field 'project' doesn't accept argument 'bad'"},
		{"missing argument", `{ project(fullPath: "x") { repository { blobs { nodes { path } } } } }`, nil,
			"Field 'blobs' is missing required arguments: paths"},
		{"no selection", `{ project(fullPath: "x") }`, nil, "Field must have selections"},
		{"selection on scalar", `{ project(fullPath: "x") { id { x } } }`, nil, "Selections can't be made on scalars"},
		{"null variable", `query($p: ID!) { project(fullPath: $p) { id } }`, nil, "Variable $p of type ID! was provided invalid value"},
		{"undeclared variable", `{ project(fullPath: $p) { id } }`, nil, "Variable $p is used by anonymous query but not declared"},
		{"mutation", `mutation { x }`, nil, "mutation operations are not supported"},
		{"undefined fragment", `{ project(fullPath: "x") { ...f } }`, nil, "Fragment f was used, but not defined"},
		{"variable type", `query($p: Int) { project(fullPath: $p) { id } }`, nil, "Type mismatch on variable $p"},
		{"end of document", `{ project(fullPath: "x") { id }`, nil, "Unexpected end of document"},
		{"complexity", `{ project(fullPath: "x") { id fullPath path name webUrl } }`, nil,
			"Query has complexity of 6, which exceeds max complexity of 5"},
	} {
		res := postGQL(t, s, auth, tc.query, tc.vars)
		if res["data"] != nil || !strings.Contains(pretty(t, res["errors"]), tc.want) {
			t.Errorf("%s: %s; want only errors, mentioning %q", tc.name, pretty(t, res), tc.want)
		}
	}
	// Comments, commas, block strings, escapes, aliases and literals parse.
	s = newServer(t, nil)
	seed(t, s, "g", "p", map[string]string{"a": "a"})
	q := "# a comment\n{ a: currentUser { username, n: name } b: project(fullPath: \"\"\"g/p\"\"\") { path } c: project(fullPath: \"g\\u002Fp\") { fullPath } }"
	a := call(t, s, "POST", "/api/graphql", auth, map[string]any{"query": q})
	if got := string(a.body); got != `{"data":{"a":{"username":"fake-user","n":"fake-user"},"b":{"path":"p"},"c":{"fullPath":"g/p"}}}` {
		t.Errorf("literals: %s", got)
	}
	// Fragments, named and inline, and directives are GraphQL: GitLab
	// answers them.
	q = `query { project(fullPath: "g/p") { ...f ... on Project { name } id @skip(if: true) } } fragment f on Project { path }`
	a = call(t, s, "POST", "/api/graphql", auth, map[string]any{"query": q})
	if got := string(a.body); got != `{"data":{"project":{"path":"p","name":"p"}}}` {
		t.Errorf("fragments: %s", got)
	}
}
