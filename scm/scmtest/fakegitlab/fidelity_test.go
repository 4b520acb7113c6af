package fakegitlab

import (
	"net/url"
	"slices"
	"testing"
)

// An archived project is read-only: GitLab answers 403 {"message":"403
// Forbidden"} to a commit, a branch or a merge request, and writes
// nothing.
func TestArchivedProjectRefusesWrites(t *testing.T) {
	s := newServer(t, nil)
	head, _, err := s.AddProject(Project{Namespace: "g", Path: "old", Archived: true, Files: []File{{Path: "a", Content: []byte("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit("g/old", "feature", Commit{Files: []File{{Path: "b", Content: []byte("b")}}}); err != nil {
		t.Fatal(err) // seeding is not the API: it may still write
	}
	base := "/api/v4/projects/" + url.PathEscape("g/old")
	for _, tc := range []struct {
		name, path string
		body       map[string]any
	}{
		{"commit", "/repository/commits", map[string]any{"branch": "main", "commit_message": "m",
			"actions": []any{map[string]any{"action": "create", "file_path": "c", "content": "c"}}}},
		{"branch", "/repository/branches", map[string]any{"branch": "other", "ref": "main"}},
		{"merge request", "/merge_requests", map[string]any{"source_branch": "feature", "target_branch": "main", "title": "t"}},
	} {
		a := call(t, s, "POST", base+tc.path, auth, tc.body)
		if a.status != 403 || string(a.body) != `{"message":"403 Forbidden"}` {
			t.Errorf("%s: %d %s; want 403 {\"message\":\"403 Forbidden\"}", tc.name, a.status, a.body)
		}
	}
	if id, _ := s.Branch("g/old", "main"); id != head {
		t.Errorf("main moved to %s; want %s", id, head)
	}
	if _, ok := s.Branch("g/old", "other"); ok {
		t.Error("branch other was created")
	}
	if mrs := s.MergeRequests("g/old"); len(mrs) != 0 {
		t.Errorf("merge requests %v; want none", mrs)
	}
	if a := call(t, s, "GET", base, auth, nil); a.json(t).(map[string]any)["archived"] != true {
		t.Errorf("project answer %s; want archived true", a.body)
	}
}

// An anonymous request gets GitLab's BasicProjectDetails: no visibility,
// archived, _links or permissions; an authenticated one gets them.
func TestAnonymousProjectAnswerIsBasic(t *testing.T) {
	s := newServer(t, nil)
	if _, _, err := s.AddProject(Project{Namespace: "fake-user", Path: "pub", Visibility: Public}); err != nil {
		t.Fatal(err)
	}
	omitted := []string{"visibility", "archived", "_links", "permissions", "empty_repo", "merge_method"}
	for _, path := range []string{"/api/v4/projects/fake-user%2Fpub", "/api/v4/users/fake-user/projects"} {
		anon, authed := call(t, s, "GET", path, nil, nil), call(t, s, "GET", path, auth, nil)
		first := func(a answer) map[string]any {
			switch v := a.json(t).(type) {
			case []any:
				if len(v) == 1 {
					return v[0].(map[string]any)
				}
			case map[string]any:
				return v
			}
			t.Fatalf("%s: %d %s; want one project", path, a.status, a.body)
			return nil
		}
		a, b := first(anon), first(authed)
		for _, k := range omitted {
			if _, ok := a[k]; ok {
				t.Errorf("%s anonymous: has %q; GitLab omits it", path, k)
			}
		}
		for _, k := range []string{"id", "path_with_namespace", "web_url", "http_url_to_repo", "namespace", "default_branch"} {
			if _, ok := a[k]; !ok {
				t.Errorf("%s anonymous: no %q", path, k)
			}
		}
		if b["visibility"] != "public" || !slices.Contains([]any{true, false}, b["archived"]) {
			t.Errorf("%s authenticated: visibility %v archived %v", path, b["visibility"], b["archived"])
		}
	}
}
