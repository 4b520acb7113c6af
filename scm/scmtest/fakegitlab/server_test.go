package fakegitlab

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

const token = "glpat-faketest000000000000000"

// answer is one HTTP answer of the fake.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("body %q is not JSON: %v", a.body, err)
	}
	return v
}

// call sends a request to the fake; path is relative to its root URL
// (s.URL(), sub-path included) unless it starts with "http".
func call(t *testing.T, s *Server, method, path string, header map[string]string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = s.URL() + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

var auth = map[string]string{"Authorization": "Bearer " + token}

// GraphQLURL returns the GraphQL endpoint, URL()+"/api/graphql".
func (s *Server) GraphQLURL() string { return s.URL() + "/api/graphql" }

func newServer(t *testing.T, opts *Options) *Server {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	opts.Tokens = []string{token}
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

func seed(t *testing.T, s *Server, ns, path string, files map[string]string) string {
	t.Helper()
	p := Project{Namespace: ns, Path: path}
	for _, k := range slices.Sorted(maps.Keys(files)) {
		p.Files = append(p.Files, File{Path: k, Content: []byte(files[k])})
	}
	id, _, err := s.AddProject(p)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// checkSchema checks v against a GitLab JSON schema from testdata: every
// required property is present and every property the schema types has
// that type.
func checkSchema(t *testing.T, file string, v any) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: answer is %T; want an object", file, v)
	}
	for _, k := range schema.Required {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: required property %q missing", file, k)
		}
	}
	for k, def := range schema.Properties {
		val, present := obj[k]
		var d struct {
			Type any `json:"type"`
		}
		if !present || json.Unmarshal(def, &d) != nil || d.Type == nil {
			continue
		}
		var types []string
		switch x := d.Type.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, e := range x {
				types = append(types, fmt.Sprint(e))
			}
		}
		if got := jsonType(val); !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
			t.Errorf("%s: property %q is %s (%v); want %v", file, k, got, val, types)
		}
	}
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

// keysOf returns the top-level keys of a JSON object in testdata (or of
// its first element for an array).
func keysOf(t *testing.T, file string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if a, ok := v.([]any); ok {
		v = a[0]
	}
	out := map[string]bool{}
	for k := range v.(map[string]any) {
		out[k] = true
	}
	return out
}

func TestBodiesFollowGitLabSchemas(t *testing.T) {
	s := newServer(t, nil)
	seed(t, s, "acme/platform", "svc", map[string]string{"README.md": "hi\n", "dir/a.txt": "a\n"})
	if _, err := s.Commit("acme/platform/svc", "topic", Commit{Files: []File{{Path: "b.txt", Content: []byte("b")}}}); err != nil {
		t.Fatal(err)
	}
	mr := call(t, s, "POST", "/api/v4/projects/acme%2Fplatform%2Fsvc/merge_requests", auth,
		map[string]any{"source_branch": "topic", "target_branch": "main", "title": "T"})
	if mr.status != http.StatusCreated {
		t.Fatalf("create merge request: %d %s", mr.status, mr.body)
	}
	checkSchema(t, "merge_request.schema.json", mr.json(t))
	got := call(t, s, "GET", "/api/v4/projects/acme%2Fplatform%2Fsvc/merge_requests/1", auth, nil)
	checkSchema(t, "merge_request.schema.json", got.json(t))
	if cc := got.json(t).(map[string]any)["changes_count"]; cc != "1" {
		t.Errorf("changes_count = %v; want \"1\"", cc)
	}
	br := call(t, s, "GET", "/api/v4/projects/acme%2Fplatform%2Fsvc/repository/branches/main", auth, nil)
	checkSchema(t, "branch.schema.json", br.json(t))
	checkSchema(t, "commit_basic.schema.json", br.json(t).(map[string]any)["commit"])

	for _, tc := range []struct {
		what, path, fixture string
		extra               []string // keys newer than the fixture
	}{
		{"project", "/api/v4/projects/acme%2Fplatform%2Fsvc", "project.json", nil},
		{"file", "/api/v4/projects/acme%2Fplatform%2Fsvc/repository/files/dir%2Fa.txt?ref=main", "repository-file.json", []string{"execute_filemode"}},
		{"tree", "/api/v4/projects/acme%2Fplatform%2Fsvc/repository/tree", "tree.json", nil},
	} {
		a := call(t, s, "GET", tc.path, auth, nil)
		if a.status != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.what, a.status, a.body)
		}
		v := a.json(t)
		if l, ok := v.([]any); ok {
			v = l[0]
		}
		known := keysOf(t, tc.fixture)
		for _, k := range tc.extra {
			known[k] = true
		}
		for k := range v.(map[string]any) {
			if !known[k] {
				t.Errorf("%s: key %q is not in GitLab's %s", tc.what, k, tc.fixture)
			}
		}
	}
}

func TestCommitPayload(t *testing.T) {
	s := newServer(t, nil)
	if _, _, err := s.AddProject(Project{Namespace: "g", Path: "p", DefaultBranch: "master", Files: []File{
		{Path: "foo/bar2", Content: []byte("2")}, {Path: "foo/bar4", Content: []byte("4")}, {Path: "foo/bar5", Content: []byte("5")},
	}}); err != nil {
		t.Fatal(err)
	}
	payload, err := os.ReadFile("testdata/commit-payload.json")
	if err != nil {
		t.Fatal(err)
	}
	post := func() answer {
		var body any
		if err := json.Unmarshal(payload, &body); err != nil {
			t.Fatal(err)
		}
		return call(t, s, "POST", "/api/v4/projects/g%2Fp/repository/commits", auth, body)
	}
	a := post()
	if a.status != http.StatusCreated {
		t.Fatalf("POST commits: %d %s", a.status, a.body)
	}
	checkSchema(t, "commit_basic.schema.json", a.json(t))
	head, _ := s.Branch("g/p", "master")
	files, err := s.Files("g/p", "master")
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: "foo/bar", Content: []byte("some content")},
		{Path: "foo/bar3", Content: []byte("some content")},
		{Path: "foo/bar5", Content: []byte("new content")},
	}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("files after the payload (-want +got):\n%s", diff)
	}
	// Again: the create of foo/bar fails, and nothing is written.
	a = post()
	if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "already exists") {
		t.Errorf("POST again: %d %s; want 400 already exists", a.status, a.body)
	}
	if now, _ := s.Branch("g/p", "master"); now != head {
		t.Errorf("a failed commit moved the branch from %s to %s", head, now)
	}
}

func TestCommitRules(t *testing.T) {
	s := newServer(t, nil)
	seed(t, s, "g", "p", map[string]string{"a.txt": "a", "run.sh": "#!/bin/sh\n"})
	s.Commit("g/p", "existing", Commit{Files: []File{{Path: "e.txt", Content: []byte("e")}}})
	path := "/api/v4/projects/g%2Fp/repository/commits"
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		msg    string
	}{
		{"no branch", map[string]any{"commit_message": "m", "actions": []any{}}, 400, "branch is missing"},
		{"no actions", map[string]any{"branch": "x", "commit_message": "m"}, 400, "actions is missing"},
		{"bad action", map[string]any{"branch": "x", "commit_message": "m", "start_branch": "main",
			"actions": []any{map[string]any{"action": "upsert", "file_path": "a"}}}, 400, "does not have a valid value"},
		{"new branch without start", map[string]any{"branch": "new", "commit_message": "m",
			"actions": []any{map[string]any{"action": "create", "file_path": "n", "content": "n"}}}, 400, "on a branch"},
		{"existing branch with start_branch", map[string]any{"branch": "existing", "start_branch": "main", "commit_message": "m",
			"actions": []any{map[string]any{"action": "create", "file_path": "n", "content": "n"}}}, 400, "already exists"},
		{"update missing", map[string]any{"branch": "main", "commit_message": "m",
			"actions": []any{map[string]any{"action": "update", "file_path": "nope", "content": "n"}}}, 400, "doesn't exist"},
		{"file under a file", map[string]any{"branch": "main", "commit_message": "m",
			"actions": []any{map[string]any{"action": "create", "file_path": "a.txt/b", "content": "n"}}}, 400, "already exists"},
		{"file under a file created by the same commit", map[string]any{"branch": "main", "commit_message": "m",
			"actions": []any{map[string]any{"action": "create", "file_path": "x/y", "content": "n"},
				map[string]any{"action": "create", "file_path": "x/y/z", "content": "n"}}}, 400, "already exists"},
		{"bad base64", map[string]any{"branch": "main", "commit_message": "m",
			"actions": []any{map[string]any{"action": "create", "file_path": "b", "content": "!!", "encoding": "base64"}}}, 400, "base64"},
		{"chmod and binary", map[string]any{"branch": "new", "start_branch": "main", "commit_message": "m",
			"actions": []any{
				map[string]any{"action": "chmod", "file_path": "run.sh", "execute_filemode": true},
				map[string]any{"action": "create", "file_path": "bin", "content": "AAH/", "encoding": "base64"},
			}}, 201, ""},
	} {
		a := call(t, s, "POST", path, auth, tc.body)
		if a.status != tc.status || !strings.Contains(string(a.body), tc.msg) {
			t.Errorf("%s: %d %s; want %d mentioning %q", tc.name, a.status, a.body, tc.status, tc.msg)
		}
	}
	files, _ := s.Files("g/p", "new")
	want := []File{{Path: "a.txt", Content: []byte("a")}, {Path: "bin", Content: []byte{0, 1, 0xff}},
		{Path: "run.sh", Content: []byte("#!/bin/sh\n"), Executable: true}}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("files on new (-want +got):\n%s", diff)
	}
	if a := call(t, s, "POST", path, nil, map[string]any{}); a.status != http.StatusUnauthorized {
		t.Errorf("anonymous commit: %d; want 401", a.status)
	}
}

func TestRawFile(t *testing.T) {
	s := newServer(t, nil)
	commit := seed(t, s, "acme/platform", "svc", map[string]string{"dir/my file ü.txt": "hello\n", "README.md": "r\n"})
	path := "/api/v4/projects/acme%2Fplatform%2Fsvc/repository/files/dir%2Fmy%20file%20%C3%BC.txt/raw"
	a := call(t, s, "GET", path+"?ref=main", auth, nil)
	if a.status != http.StatusOK || string(a.body) != "hello\n" {
		t.Fatalf("raw: %d %q", a.status, a.body)
	}
	blob := BlobID([]byte("hello\n"))
	for k, want := range map[string]string{
		"ETag": `"` + blob + `"`, "X-Gitlab-Blob-Id": blob, "X-Gitlab-Commit-Id": commit, "X-Gitlab-Last-Commit-Id": commit,
		"X-Gitlab-File-Path": "dir/my file ü.txt", "X-Gitlab-Size": "6", "X-Gitlab-Ref": "main",
		"X-Gitlab-Content-Sha256":   "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
		"X-Gitlab-Execute-Filemode": "false", "RateLimit-Limit": "2000",
	} {
		if got := a.header.Get(k); got != want {
			t.Errorf("%s: %q; want %q", k, got, want)
		}
	}
	// Without ref: the default branch. Conditional: 304.
	a = call(t, s, "GET", path, map[string]string{"Authorization": auth["Authorization"], "If-None-Match": `"` + blob + `"`}, nil)
	if a.status != http.StatusNotModified || len(a.body) != 0 {
		t.Errorf("conditional raw: %d %q; want 304 without body", a.status, a.body)
	}
	if st := s.Stats(); st.NotModified != 1 {
		t.Errorf("Stats.NotModified = %d; want 1", st.NotModified)
	}
	for _, tc := range []struct {
		path, want string
		status     int
	}{
		{path + "?ref=nope", "404 Commit Not Found", 404},
		{path + "?ref=", "ref is empty", 400},
		{"/api/v4/projects/acme%2Fplatform%2Fsvc/repository/files/dir/raw?ref=main", "404 File Not Found", 404},
		{"/api/v4/projects/acme%2Fplatform%2Fnope/repository/files/a/raw", "404 Project Not Found", 404},
		{"/api/v4/projects/acme%2Fplatform%2Fsvc/repository/files/dir%2Fnope.txt/raw", "404 File Not Found", 404},
	} {
		a := call(t, s, "GET", tc.path, auth, nil)
		if a.status != tc.status || !strings.Contains(string(a.body), tc.want) {
			t.Errorf("GET %s: %d %s; want %d %q", tc.path, a.status, a.body, tc.status, tc.want)
		}
	}
}

func TestAuthAndVisibility(t *testing.T) {
	s := newServer(t, nil)
	seed(t, s, "g", "private", map[string]string{"a": "a"})
	if _, _, err := s.AddProject(Project{Namespace: "g", Path: "public", Visibility: Public, Files: []File{{Path: "a", Content: []byte("a")}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		header map[string]string
		path   string
		status int
		body   string
	}{
		{"anonymous, private", nil, "/api/v4/projects/g%2Fprivate", 404, `{"message":"404 Project Not Found"}`},
		{"anonymous, public", nil, "/api/v4/projects/g%2Fpublic", 200, ""},
		{"bad bearer", map[string]string{"Authorization": "Bearer nope"}, "/api/v4/projects/g%2Fpublic", 401, `{"message":"401 Unauthorized"}`},
		{"bad scheme", map[string]string{"Authorization": "Basic " + token}, "/api/v4/projects/g%2Fpublic", 401, `{"message":"401 Unauthorized"}`},
		{"PRIVATE-TOKEN", map[string]string{"PRIVATE-TOKEN": token}, "/api/v4/projects/g%2Fprivate", 200, ""},
		{"bad PRIVATE-TOKEN", map[string]string{"PRIVATE-TOKEN": "nope"}, "/api/v4/projects/g%2Fprivate", 401, `{"message":"401 Unauthorized"}`},
		{"empty PRIVATE-TOKEN is anonymous", map[string]string{"PRIVATE-TOKEN": ""}, "/api/v4/projects/g%2Fprivate", 404, `{"message":"404 Project Not Found"}`},
		{"by numeric id", auth, "/api/v4/projects/" + strconv.FormatInt(s.byID[s.projects["g/private"].id].id, 10), 200, ""},
		{"unknown route", auth, "/api/v4/nothing", 404, `{"error":"404 Not Found"}`},
	} {
		a := call(t, s, "GET", tc.path, tc.header, nil)
		if a.status != tc.status || (tc.body != "" && string(a.body) != tc.body) {
			t.Errorf("%s: %d %s; want %d %s", tc.name, a.status, a.body, tc.status, tc.body)
		}
	}
}

func TestSubPath(t *testing.T) {
	s := newServer(t, &Options{RelativePath: "gitlab/"})
	seed(t, s, "g", "p", map[string]string{"a": "a"})
	if !strings.HasSuffix(s.URL(), "/gitlab") || s.APIBaseURL() != s.URL()+"/api/v4" || s.GraphQLURL() != s.URL()+"/api/graphql" {
		t.Errorf("URL %s, API %s, GraphQL %s; want them under /gitlab", s.URL(), s.APIBaseURL(), s.GraphQLURL())
	}
	a := call(t, s, "GET", "/api/v4/projects/g%2Fp", auth, nil)
	if a.status != http.StatusOK {
		t.Fatalf("under the sub-path: %d %s", a.status, a.body)
	}
	if web := a.json(t).(map[string]any)["web_url"]; web != s.URL()+"/g/p" {
		t.Errorf("web_url %v; want %s", web, s.URL()+"/g/p")
	}
	root := strings.TrimSuffix(s.URL(), "/gitlab")
	for _, p := range []string{"/api/v4/projects/g%2Fp", "/gitlabx/api/v4/projects/g%2Fp"} {
		if a := call(t, s, "GET", root+p, auth, nil); a.status != http.StatusNotFound {
			t.Errorf("GET %s outside the sub-path: %d; want 404", p, a.status)
		}
	}
}

func TestArchive(t *testing.T) {
	s := newServer(t, nil)
	commit := seed(t, s, "acme", "svc", map[string]string{"templates/service/a.txt": "a", "templates/service/sub/b.txt": "b", "README.md": "r"})
	a := call(t, s, "GET", "/api/v4/projects/acme%2Fsvc/repository/archive.tar.gz?sha=main&path=templates%2Fservice", auth, nil)
	if a.status != http.StatusOK {
		t.Fatalf("archive: %d %s", a.status, a.body)
	}
	prefix := "svc-main-" + commit + "-templates-service"
	if cd := a.header.Get("Content-Disposition"); !strings.Contains(cd, prefix+".tar.gz") {
		t.Errorf("Content-Disposition %q; want the file name %s.tar.gz", cd, prefix)
	}
	zr, err := gzip.NewReader(bytes.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			if h.PAXRecords["comment"] != commit {
				t.Errorf("pax global header comment %q; want the commit id", h.PAXRecords["comment"])
			}
			continue
		}
		names = append(names, h.Name)
	}
	want := []string{prefix + "/", prefix + "/templates/", prefix + "/templates/service/", prefix + "/templates/service/a.txt",
		prefix + "/templates/service/sub/", prefix + "/templates/service/sub/b.txt"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("archive entries (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		query  string
		header map[string]string
		status int
		body   string
	}{
		{"?sha=nope", auth, 404, `{"message":"404 File Not Found"}`},
		{"?path=nope", auth, 404, "Not Found\n"},
		{"", map[string]string{"Authorization": auth["Authorization"], "Sec-Fetch-Mode": "no-cors"}, 406, `{"message":"406 Not Acceptable"}`},
	} {
		a := call(t, s, "GET", "/api/v4/projects/acme%2Fsvc/repository/archive"+tc.query, tc.header, nil)
		if a.status != tc.status || string(a.body) != tc.body {
			t.Errorf("archive%s: %d %q; want %d %q", tc.query, a.status, a.body, tc.status, tc.body)
		}
	}
}

func TestTreePagination(t *testing.T) {
	s := newServer(t, nil)
	files := map[string]string{}
	for i := range 150 {
		files[fmt.Sprintf("d/f%03d", i)] = strconv.Itoa(i)
	}
	seed(t, s, "g", "p", files)
	next := "/api/v4/projects/g%2Fp/repository/tree?path=d&recursive=true&per_page=100&pagination=keyset"
	var got []string
	pages := 0
	for next != "" {
		a := call(t, s, "GET", next, auth, nil)
		if a.status != http.StatusOK {
			t.Fatalf("tree: %d %s", a.status, a.body)
		}
		pages++
		var nodes []treeNode
		json.Unmarshal(a.body, &nodes)
		for _, n := range nodes {
			got = append(got, n.Path)
		}
		next = ""
		if l := a.header.Get("Link"); l != "" {
			next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ";")[0], "<"), ">")
		}
	}
	if pages != 2 || len(got) != 150 || got[0] != "d/f000" || got[149] != "d/f149" {
		t.Errorf("%d pages, %d entries (%v...); want 2 pages of the 150 files in order", pages, len(got), got[:3])
	}
	if a := call(t, s, "GET", "/api/v4/projects/g%2Fp/repository/tree?ref=nope", auth, nil); a.status != 404 || string(a.body) != `{"message":"404 Tree Not Found"}` {
		t.Errorf("missing ref: %d %s", a.status, a.body)
	}
	if a := call(t, s, "GET", "/api/v4/projects/g%2Fp/repository/tree?path=nope", auth, nil); a.status != 200 || string(a.body) != "[]" {
		t.Errorf("missing path: %d %s; want 200 []", a.status, a.body)
	}
}

func TestMergeRequests(t *testing.T) {
	s := newServer(t, nil)
	seed(t, s, "g", "p", map[string]string{"a": "a"})
	s.Commit("g/p", "topic", Commit{Files: []File{{Path: "b", Content: []byte("b")}}})
	path := "/api/v4/projects/g%2Fp/merge_requests"
	mr := map[string]any{"source_branch": "topic", "target_branch": "main", "title": "Draft: T"}
	if a := call(t, s, "POST", path, auth, mr); a.status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	a := call(t, s, "POST", path, auth, mr)
	if a.status != http.StatusConflict || string(a.body) != `{"message":["Another open merge request already exists for this source branch: !1"]}` {
		t.Errorf("duplicate: %d %s; want GitLab's 409", a.status, a.body)
	}
	a = call(t, s, "POST", path, auth, map[string]any{"source_branch": "nope", "target_branch": "main", "title": "T"})
	if a.status != http.StatusUnprocessableEntity {
		t.Errorf("missing source branch: %d %s; want 422", a.status, a.body)
	}
	a = call(t, s, "GET", path+"?source_branch=topic&target_branch=main&state=opened", auth, nil)
	var list []map[string]any
	json.Unmarshal(a.body, &list)
	if len(list) != 1 || list[0]["iid"] != 1.0 || list[0]["draft"] != true || a.header.Get("X-Total") != "1" {
		t.Errorf("list: %s (X-Total %s); want the one draft", a.body, a.header.Get("X-Total"))
	}
	closeMergeRequest(s, "g/p", 1)
	a = call(t, s, "GET", path+"?state=opened", auth, nil)
	if string(a.body) != "[]" {
		t.Errorf("opened after close: %s; want []", a.body)
	}
}

func TestProjectListings(t *testing.T) {
	s := newServer(t, &Options{MaxPerPage: 2})
	for _, ns := range []string{"a", "a/b", "a/b/c", "other"} {
		seed(t, s, ns, "p", map[string]string{"x": "x"})
	}
	seed(t, s, "fake-user", "mine", map[string]string{"x": "x"})
	list := func(path string) (names []string, pages int) {
		for path != "" {
			a := call(t, s, "GET", path, auth, nil)
			if a.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, a.status, a.body)
			}
			pages++
			var ps []map[string]any
			json.Unmarshal(a.body, &ps)
			for _, p := range ps {
				names = append(names, p["path_with_namespace"].(string))
			}
			path = ""
			for _, l := range strings.Split(a.header.Get("Link"), ", ") {
				if strings.HasSuffix(l, `rel="next"`) {
					path = strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ";")[0], "<"), ">")
				}
			}
		}
		return names, pages
	}
	names, pages := list("/api/v4/groups/a/projects?include_subgroups=true&pagination=keyset&order_by=id&sort=asc&per_page=100")
	if diff := cmp.Diff([]string{"a/p", "a/b/p", "a/b/c/p"}, names); diff != "" || pages != 2 {
		t.Errorf("keyset listing, %d pages (-want +got):\n%s", pages, diff)
	}
	names, _ = list("/api/v4/groups/a%2Fb/projects")
	if diff := cmp.Diff([]string{"a/b/p"}, names); diff != "" {
		t.Errorf("without subgroups (-want +got):\n%s", diff)
	}
	names, _ = list("/api/v4/users/fake-user/projects?pagination=keyset&order_by=id&sort=asc")
	if diff := cmp.Diff([]string{"fake-user/mine"}, names); diff != "" {
		t.Errorf("user projects (-want +got):\n%s", diff)
	}
	if a := call(t, s, "GET", "/api/v4/groups/nope/projects", auth, nil); string(a.body) != `{"message":"404 Group Not Found"}` {
		t.Errorf("missing group: %s", a.body)
	}
	if a := call(t, s, "GET", "/api/v4/groups/fake-user/projects", auth, nil); a.status != 404 {
		t.Errorf("a user is not a group: %d", a.status)
	}
}

func TestFaults(t *testing.T) {
	s := newServer(t, nil)
	seed(t, s, "g", "p", map[string]string{"a": "a"})
	path := "/api/v4/projects/g%2Fp"
	for _, tc := range []struct {
		fault  fake.Fault
		status int
		header string
		body   string
	}{
		{fake.Fault{Kind: fake.FaultUnauthorized}, 401, "", `{"message":"401 Unauthorized"}`},
		{fake.Fault{Kind: fake.FaultNotFound}, 404, "", `{"message":"404 Project Not Found"}`},
		{fake.Fault{Kind: fake.FaultUnprocessable}, 422, "", `{"message":{"base":["The change requests could not be processed"]}}`},
		{fake.Fault{Kind: fake.FaultRateLimit, RetryAfter: time.Hour}, 429, "Retry-After: 3600, RateLimit-Remaining: 0", "Retry later\n"},
		{fake.Fault{Kind: fake.FaultTooManyRequests, RetryAfter: 90 * time.Second}, 429, "Retry-After: 90",
			`{"message":{"error":"This endpoint has been requested too many times. Try again later."}}`},
		{fake.Fault{Kind: fake.FaultRateLimitResetOnly, RetryAfter: time.Hour}, 429,
			"Retry-After: , RateLimit-Remaining: 0, RateLimit-Limit: 2000, RateLimit-Observed: 2001", "Retry later\n"},
		{fake.Fault{Kind: fake.FaultSecondaryRateLimit, RetryAfter: 90 * time.Second}, 429, "Retry-After: 90",
			`{"message":{"error":"This endpoint has been requested too many times. Try again later."}}`},
		{fake.Fault{Kind: fake.FaultTooManyRequestsNoRetryAfter}, 429, "Retry-After: , RateLimit-Reset: ", "Retry later\n"},
		{fake.Fault{Kind: fake.FaultSecondaryRateLimitNoRetryAfter}, 429, "Retry-After: , RateLimit-Reset: ", "Retry later\n"},
		{fake.Fault{Kind: fake.FaultServerError}, 500, "", `{"message":"500 Internal Server Error"}`},
		{fake.Fault{Kind: fake.FaultServerError, Status: 503}, 503, "", ""},
		{fake.Fault{Kind: fake.FaultNotFound, Path: "/api/v4/groups/"}, 200, "", ""},
		{fake.Fault{Kind: fake.FaultNotFound, Method: "POST"}, 200, "", ""},
	} {
		s.ClearFaults()
		s.Inject(tc.fault)
		a := call(t, s, "GET", path, auth, nil)
		if a.status != tc.status || (tc.body != "" && string(a.body) != tc.body) {
			t.Errorf("%+v: %d %s; want %d %s", tc.fault, a.status, a.body, tc.status, tc.body)
		}
		for _, h := range strings.Split(tc.header, ", ") {
			if k, v, ok := strings.Cut(h, ": "); ok && a.header.Get(k) != v {
				t.Errorf("%+v: %s %q; want %q", tc.fault, k, a.header.Get(k), v)
			}
		}
		if tc.fault.Kind == fake.FaultRateLimit || tc.fault.Kind == fake.FaultRateLimitResetOnly {
			if reset, _ := strconv.ParseInt(a.header.Get("RateLimit-Reset"), 10, 64); time.Until(time.Unix(reset, 0)) < 59*time.Minute {
				t.Errorf("RateLimit-Reset %s; want an hour ahead", a.header.Get("RateLimit-Reset"))
			}
		}
	}
	s.ClearFaults()
	s.Inject(fake.Fault{Kind: fake.FaultServerError, Times: 1})
	if a, b := call(t, s, "GET", path, auth, nil), call(t, s, "GET", path, auth, nil); a.status != 500 || b.status != 200 {
		t.Errorf("Times 1: %d then %d; want 500 then 200", a.status, b.status)
	}
	s.Inject(fake.Fault{Kind: fake.FaultTruncatedBody})
	req, _ := http.NewRequest("GET", s.URL()+path, nil)
	req.Header.Set("Authorization", auth["Authorization"])
	resp, err := s.Client().Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated body: %v; want io.ErrUnexpectedEOF", err)
	}
}

func TestStats(t *testing.T) {
	s := newServer(t, nil)
	seed(t, s, "g", "p", map[string]string{"a": "a"})
	call(t, s, "GET", "/api/v4/projects/g%2Fp", auth, nil)
	call(t, s, "GET", "/nowhere", auth, nil)
	call(t, s, "POST", "/api/graphql", auth, map[string]any{"query": "{ currentUser { username } }"})
	st := s.Stats()
	want := Stats{Total: 3, GraphQL: 1, Unrouted: 1, Routes: map[string]int{"GET /api/v4/projects/{id}": 1, "POST /api/graphql": 1}}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if r := s.Requests(); len(r) != 3 || r[0].Header.Get("Authorization") == "" {
		t.Errorf("Requests() = %d requests; want 3 with their headers", len(r))
	}
	s.ResetStats()
	if st := s.Stats(); st.Total != 0 || len(s.Requests()) != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}

// closeMergeRequest closes a merge request, as its author would.
func closeMergeRequest(s *Server, fullPath string, iid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pr := s.projects[fullPath]; pr != nil {
		for _, m := range pr.mrs {
			if m.IID == iid {
				m.State = "closed"
			}
		}
	}
}

// TestForkMergeRequests: a fork's merge request is listed on the project
// it targets (REST and GraphQL), with the fork's id as its source project
// and the fork's branch head as its SHA, and does not conflict with the
// project's own merge request from a branch of the same name.
func TestForkMergeRequests(t *testing.T) {
	s := newServer(t, nil)
	_, gpID, err := s.AddProject(Project{Namespace: "g", Path: "p", Files: []File{{Path: "a", Content: []byte("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, forkID, err := s.AddProject(Project{Namespace: "m", Path: "p", ForkedFrom: "g/p", Files: []File{{Path: "a", Content: []byte("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	forkHead, err := s.Commit("m/p", "topic", Commit{Files: []File{{Path: "b", Content: []byte("fork")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMergeRequest("g/p", MergeRequest{SourceProject: "g/nope", SourceBranch: "topic", TargetBranch: "main"}); err == nil {
		t.Error("AddMergeRequest from a missing project: no error")
	}
	seed(t, s, "x", "other", map[string]string{"a": "a"})
	s.Commit("x/other", "topic", Commit{Files: []File{{Path: "b", Content: []byte("b")}}})
	if _, err := s.AddMergeRequest("g/p", MergeRequest{SourceProject: "x/other", SourceBranch: "topic", TargetBranch: "main"}); err == nil {
		t.Error("AddMergeRequest from a project that is not a fork: no error")
	}
	iid, err := s.AddMergeRequest("g/p", MergeRequest{SourceProject: "m/p", SourceBranch: "topic", TargetBranch: "main"})
	if err != nil || iid != 1 {
		t.Fatalf("AddMergeRequest = %d, %v; want !1", iid, err)
	}
	// The project's own branch of the same name: its merge request is
	// not a duplicate of the fork's.
	ownHead, _ := s.Commit("g/p", "topic", Commit{Files: []File{{Path: "b", Content: []byte("own")}}})
	path := "/api/v4/projects/g%2Fp/merge_requests"
	if a := call(t, s, "POST", path, auth, map[string]any{"source_branch": "topic", "target_branch": "main", "title": "T"}); a.status != http.StatusCreated {
		t.Fatalf("create beside the fork's: %d %s", a.status, a.body)
	}
	var list []map[string]any
	a := call(t, s, "GET", path+"?source_branch=topic&target_branch=main&state=opened", auth, nil)
	json.Unmarshal(a.body, &list)
	got := map[float64][3]any{}
	for _, m := range list {
		got[m["iid"].(float64)] = [3]any{m["source_project_id"], m["target_project_id"], m["sha"]}
	}
	gp := float64(gpID)
	want := map[float64][3]any{1: {float64(forkID), gp, forkHead}, 2: {gp, gp, ownHead}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("REST list: %v; want %v", got, want)
	}
	res := postGQL(t, s, auth, `query { project(fullPath: "g/p") { mergeRequests(sourceBranches: ["topic"], state: opened) {
	  nodes { iid sourceProjectId targetProjectId projectId diffHeadSha } } } }`, nil)
	wantGQL := fmt.Sprintf(`{"data":{"project":{"mergeRequests":{"nodes":[`+
		`{"diffHeadSha":%q,"iid":"2","projectId":%d,"sourceProjectId":%d,"targetProjectId":%d},`+
		`{"diffHeadSha":%q,"iid":"1","projectId":%d,"sourceProjectId":%d,"targetProjectId":%d}]}}}}`,
		ownHead, gpID, gpID, gpID, forkHead, gpID, forkID, gpID)
	if g := pretty(t, res); g != wantGQL {
		t.Errorf("GraphQL:\n got %s\nwant %s", g, wantGQL)
	}
	if mrs := s.MergeRequests("g/p"); len(mrs) != 2 || mrs[0].SourceProject != "m/p" || mrs[0].SHA != forkHead || mrs[1].SourceProject != "" {
		t.Errorf("MergeRequests = %+v; want the fork's (m/p) and the project's own", mrs)
	}
}
