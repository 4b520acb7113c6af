package fakebitbucketserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// TestBrowseDirectory: GET browse/{dir} (the root without a path) lists
// the directory's own entries, directories first, with their types,
// paged in "children"; a file's lines are not served; with Git over
// HTTP(S) off, the ref advertisement is git's ERR packet; RenameBranch
// moves the default branch with the branch.
func TestBrowseDirectory(t *testing.T) {
	s := newFake(t, "/bitbucket")
	if _, err := s.Commit("AMUNIZ", "test-repos", "main", fakebitbucketserver.Commit{Message: "more", Files: []fake.File{
		{Path: "src/lib/a.go", Content: []byte("package a\n")}, {Path: "src/b.txt", Content: []byte("b\n")}}}); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Path struct {
			ToString string `json:"toString"`
		} `json:"path"`
		Type string `json:"type"`
	}
	list := func(path string) (names []string, last bool) {
		t.Helper()
		resp, body := do(t, s, "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/browse"+path, reqOpts{})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET browse%s: %s %s", path, resp.Status, body)
		}
		var v struct {
			Children struct {
				Values     []entry `json:"values"`
				IsLastPage bool    `json:"isLastPage"`
			} `json:"children"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		for _, e := range v.Children.Values {
			names = append(names, e.Path.ToString+":"+e.Type)
		}
		return names, v.Children.IsLastPage
	}
	for _, tc := range []struct {
		path, want string
		last       bool
	}{
		{"?at=main", "[src:DIRECTORY README.md:FILE]", true},
		{"/src?at=main", "[lib:DIRECTORY b.txt:FILE run.sh:FILE]", true},
		{"/src?at=main&limit=2", "[lib:DIRECTORY b.txt:FILE]", false},
		{"/src?at=main&limit=2&start=2", "[run.sh:FILE]", true},
	} {
		if got, last := list(tc.path); fmt.Sprint(got) != tc.want || last != tc.last {
			t.Errorf("GET browse%s = %v, last %v; want %s, last %v", tc.path, got, last, tc.want, tc.last)
		}
	}
	if resp, _ := do(t, s, "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/browse/README.md?at=main", reqOpts{}); resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("GET browse of a file = %s; want 501", resp.Status)
	}
	if resp, _ := do(t, s, "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/browse/nope?at=main", reqOpts{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET browse of a missing path = %s; want 404", resp.Status)
	}

	s.SetGitHTTP(false)
	resp, body := do(t, s, "/scm/amuniz/test-repos.git/info/refs?service=git-receive-pack", reqOpts{})
	if resp.StatusCode != http.StatusOK || string(body) != "0031ERR SCM access over HTTP(S) has been disabled" {
		t.Errorf("info/refs with Git over HTTP(S) off = %s %q; want 200 with an ERR packet", resp.Status, body)
	}
	s.SetGitHTTP(true)
	if resp, _ := do(t, s, "/scm/amuniz/test-repos.git/info/refs?service=git-receive-pack", reqOpts{}); resp.StatusCode != http.StatusOK {
		t.Errorf("info/refs with Git over HTTP(S) on = %s", resp.Status)
	}

	if err := s.RenameBranch("AMUNIZ", "test-repos", "main", "trunk"); err != nil {
		t.Fatal(err)
	}
	resp, body = do(t, s, "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/default-branch", reqOpts{})
	if _, ok := s.Branch("AMUNIZ", "test-repos", "main"); ok || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"displayId":"trunk"`) {
		t.Errorf("after RenameBranch: main exists %v, default-branch %s %s; want trunk", ok, resp.Status, body)
	}
	if err := s.RenameBranch("AMUNIZ", "test-repos", "main", "x"); err == nil {
		t.Error("RenameBranch of a missing branch succeeded")
	}
}
