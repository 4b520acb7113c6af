package fakegithub_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestGraphQLTree: a directory read through repository.object answers as
// GitHub does: entries with their modes and types, byteSize always the
// whole blob's, text null for a binary, and a text over BlobTextLimit cut
// (on a character boundary) with isTruncated set.
func TestGraphQLTree(t *testing.T) {
	s := newServer(t, nil)
	big := "x" + strings.Repeat("é", fakegithub.BlobTextLimit/2) // the limit falls inside a character
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{
		{Path: "t/a.txt", Content: []byte("a\n")},
		{Path: "t/run.sh", Content: []byte("#!/bin/sh\n"), Executable: true},
		{Path: "t/logo.png", Content: []byte{0x89, 'P', 'N', 'G', 0}},
		{Path: "t/big.txt", Content: []byte(big)},
		{Path: "t/link", Content: []byte("a.txt"), Symlink: true},
		{Path: "t/sub/b.txt", Content: []byte("b\n")},
	}}); err != nil {
		t.Fatal(err)
	}
	const q = `query($expr: String!) { repository(owner: "acme", name: "svc") {
  object(expression: $expr) { ... on Tree { entries { name type mode
    object { ... on Blob { byteSize isBinary isTruncated text } ... on Tree { entries { name } } } } } } } }`
	resp := graphql(t, s, s.URL()+"/graphql", q, map[string]any{"expr": "main:t"})
	if resp["errors"] != nil {
		t.Fatalf("errors: %v", resp["errors"])
	}
	entries := resp["data"].(map[string]any)["repository"].(map[string]any)["object"].(map[string]any)["entries"].([]any)
	got := map[string]map[string]any{}
	for _, e := range entries {
		e := e.(map[string]any)
		got[e["name"].(string)] = e
	}
	blob := func(size int, binary, truncated bool, text any) map[string]any {
		return map[string]any{"byteSize": float64(size), "isBinary": binary, "isTruncated": truncated, "text": text}
	}
	cut := fakegithub.BlobTextLimit
	for !utf8.RuneStart(big[cut]) {
		cut--
	}
	want := map[string]map[string]any{
		"a.txt":    {"name": "a.txt", "type": "blob", "mode": float64(0o100644), "object": blob(2, false, false, "a\n")},
		"run.sh":   {"name": "run.sh", "type": "blob", "mode": float64(0o100755), "object": blob(10, false, false, "#!/bin/sh\n")},
		"logo.png": {"name": "logo.png", "type": "blob", "mode": float64(0o100644), "object": blob(5, true, false, nil)},
		"big.txt":  {"name": "big.txt", "type": "blob", "mode": float64(0o100644), "object": blob(len(big), false, true, big[:cut])},
		"link":     {"name": "link", "type": "blob", "mode": float64(0o120000), "object": blob(5, false, false, "a.txt")},
		"sub":      {"name": "sub", "type": "tree", "mode": float64(0o040000), "object": map[string]any{"entries": []any{map[string]any{"name": "b.txt"}}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if cut != fakegithub.BlobTextLimit-1 {
		t.Fatalf("test text: cut at %d; want %d (inside a character)", cut, fakegithub.BlobTextLimit-1)
	}
}

// TestAddRepoRefusesBadPaths: a path git refuses fails AddRepo and Commit
// and adds nothing.
func TestAddRepoRefusesBadPaths(t *testing.T) {
	s := fakegithub.New(nil)
	defer s.Close()
	for _, p := range []string{"../x", "a/.git/config", ""} {
		if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{{Path: p}}}); err == nil {
			t.Errorf("AddRepo with the path %q: no error", p)
		}
	}
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{{Path: "ok"}}}); err != nil {
		t.Fatalf("after refused ones, AddRepo: %v", err)
	}
	if _, err := s.Commit("acme", "svc", "main", fakegithub.Commit{Files: []fakegithub.File{{Path: "../x"}}}); err == nil {
		t.Error("Commit with the path ../x: no error")
	}
	if _, err := s.Commit("acme", "svc", "main", fakegithub.Commit{Delete: []string{"nope"}}); err == nil {
		t.Error("Commit deleting a missing file: no error")
	}
	if files, _ := s.Files("acme", "svc", "main"); len(files) != 1 || files[0].Path != "ok" {
		t.Errorf("files after refused commits: %+v", files)
	}
}
