package repostore

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

func TestStore(t *testing.T) {
	s := &Store{Name: "test", Now: time.Now, Author: "me"}
	root, err := s.Add("Acme", Repo{Slug: "svc"}, []fake.File{{Path: "a/x.txt", Content: []byte("x")}, {Path: "b.txt", Content: []byte("b")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add("acme", Repo{Slug: "SVC"}, nil); err == nil {
		t.Error("a second repository with the same slug (in another case) was created")
	}
	topic, err := s.Commit("ACME", "svc", "topic", Change{Message: "change a", Files: []fake.File{{Path: "a/x.txt", Content: []byte("y")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit("acme", "svc", "topic", Change{Message: "bad", Files: []fake.File{{Path: "../x"}}}); err == nil {
		t.Error("a path outside the tree was committed")
	}
	other, _ := s.Commit("acme", "svc", "other", Change{Message: "delete b", Delete: []string{"b.txt"}})
	s.Lock()
	rp, _ := s.Repo("acme", "svc")
	for _, tc := range []struct {
		ref, want string
	}{
		{"", root}, {"HEAD", root}, {"main", root}, {"refs/heads/topic", topic}, {topic[:7], topic}, {topic[:6], ""}, {"nope", ""},
	} {
		got := ""
		if c := rp.Resolve(tc.ref); c != nil {
			got = c.ID
		}
		if got != tc.want {
			t.Errorf("Resolve(%q) = %.7s; want %.7s", tc.ref, got, tc.want)
		}
	}
	for _, tc := range []struct {
		ref, dir string
		want     []string
	}{
		{"topic", "", []string{topic, root}},
		{"topic", "a", []string{topic, root}},
		{"topic", "b.txt", []string{root}},
		{"other", "b.txt", []string{other, root}},
		{"other", "c", nil},
	} {
		var got []string
		for _, c := range rp.History(rp.Resolve(tc.ref), tc.dir) {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("History(%s, %q) = %.7s; want %.7s", tc.ref, tc.dir, got, tc.want)
		}
	}
	for _, tc := range []struct {
		from, to string
		want     PullProblem
	}{
		{"topic", "main", PullOK},
		{"main", "topic", PullNoChanges},
		{"topic", "topic", PullSameBranch},
		{"nope", "main", PullNoBranch},
		{"", "main", PullNoBranch},
	} {
		if got, _, _ := rp.CheckPull(tc.from, tc.to); got != tc.want {
			t.Errorf("CheckPull(%q, %q) = %d; want %d", tc.from, tc.to, got, tc.want)
		}
	}
	p := s.Open(rp, Pull{From: "topic", To: "main"})
	if got, _, open := rp.CheckPull("topic", "main"); got != PullDuplicate || open != p || rp.Pull(1) != p {
		t.Errorf("after opening #%d: CheckPull = %d, %v", p.ID, got, open)
	}
	dirs, files := Children(rp.Commits[topic].Files, "")
	if !slices.Equal(dirs, []string{"a"}) || !slices.Equal(files, []string{"b.txt"}) {
		t.Errorf("Children = %v, %v", dirs, files)
	}
	s.Unlock()
}

func TestValidBranchName(t *testing.T) {
	for name, want := range map[string]bool{
		"main": true, "feature/x-1": true, "": false, "-x": false, "a..b": false, "a b": false, "x.lock": false,
		"a/": false, "a//b": false, "@": false, "a@{b": false, "a~b": false, "a\x7fb": false,
	} {
		if got := ValidBranchName(name); got != want {
			t.Errorf("ValidBranchName(%q) = %v; want %v", name, got, want)
		}
	}
}

// TestGitIDs checks the ids of a store with GitIDs against the ids git
// itself gave the same commits (git commit -m with GIT_AUTHOR_* and
// GIT_COMMITTER_* set to the author and date below).
func TestGitIDs(t *testing.T) {
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Store{Name: "test", Now: func() time.Time { return when }, Author: "me", Email: "me@example.com", GitIDs: true}
	files := []fake.File{{Path: "README.md", Content: []byte("hello\n")}, {Path: "bin/run", Content: []byte("#!/bin/sh\n"), Executable: true}}
	root, err := s.Add("acme", Repo{Slug: "svc"}, files)
	if err != nil {
		t.Fatal(err)
	}
	next, err := s.Commit("acme", "svc", "main", Change{Message: "Remove the README", Delete: []string{"README.md"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "3f8fa160cffff30e3b43f3ef68b67e9cc9fca840"; root != want {
		t.Errorf("root commit id = %s; git's is %s", root, want)
	}
	if want := "0af79d65e9a74aabc9d2e56ae21a3e86b22a7f08"; next != want {
		t.Errorf("second commit id = %s; git's is %s", next, want)
	}
	plain := &Store{Name: "test", Now: s.Now, Author: s.Author, Email: s.Email}
	if id, _ := plain.Add("acme", Repo{Slug: "svc"}, files); id == "" || id == root {
		t.Errorf("without GitIDs the root commit id is %q", id)
	}
}

// TestRefs: refs other than branches (a provider's tags), looked up by
// full name, branch or tag; ancestry; a commit the fake made itself.
func TestRefs(t *testing.T) {
	s := &Store{Name: "test", Now: time.Now, Author: "me", GitIDs: true}
	first, err := s.Add("acme", Repo{Slug: "svc"}, []fake.File{{Path: "x", Content: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	second, _ := s.Commit("acme", "svc", "main", Change{Message: "two", Files: []fake.File{{Path: "y", Content: []byte("y")}}})
	s.Lock()
	defer s.Unlock()
	rp, _ := s.Repo("acme", "svc")
	rp.SetRef("refs/tags/v1", first)
	rp.SetRef("refs/heads/topic", first)
	rp.SetRef("refs/custom/x", second)
	for _, tc := range []struct {
		name, full, id string
		ok             bool
	}{
		{"main", "refs/heads/main", second, true}, {"refs/heads/topic", "refs/heads/topic", first, true},
		{"v1", "refs/tags/v1", first, true}, {"refs/custom/x", "refs/custom/x", second, true}, {"x", "", "", false},
	} {
		if full, id, ok := rp.FullRef(tc.name); full != tc.full || id != tc.id || ok != tc.ok {
			t.Errorf("FullRef(%q) = %q, %.7s, %v; want %q, %.7s, %v", tc.name, full, id, ok, tc.full, tc.id, tc.ok)
		}
	}
	if c := rp.Resolve("v1"); c == nil || c.ID != first {
		t.Errorf("Resolve(v1) = %v; want %.7s", c, first)
	}
	if c := rp.Resolve(second); c == nil || c.Git == nil || c.Git.Parents[0] != first {
		t.Errorf("Resolve(%.7s) = %+v; want a commit object with parent %.7s", second, c, first)
	}
	want := map[string]string{"refs/heads/main": second, "refs/heads/topic": first, "refs/tags/v1": first, "refs/custom/x": second}
	if got := rp.AllRefs(); !maps.Equal(got, want) {
		t.Errorf("AllRefs() = %v; want %v", got, want)
	}
	rp.SetRef("refs/tags/v1", "")
	rp.SetRef("refs/heads/topic", "")
	if _, ok := rp.Ref("refs/tags/v1"); ok || rp.Branches["topic"] != "" {
		t.Error("deleted refs are still there")
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{first, second, true}, {second, second, true}, {second, first, false}, {"0000000", second, false},
	} {
		if got := rp.IsAncestor(tc.a, tc.b); got != tc.want {
			t.Errorf("IsAncestor(%.7s, %.7s) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
	made := &Commit{ID: "made-elsewhere", Parents: []string{first, second}, Files: map[string]Entry{}}
	if id := s.Put(rp, "", rp.Commits[second], made); id != "made-elsewhere" || len(made.Parents) != 2 || rp.Branches[""] != "" || rp.Commits[id] != made {
		t.Errorf("Put of a made commit = %q, parents %v, branches %v", id, made.Parents, rp.Branches)
	}
	link := Entry{Blob: "b", Special: gitobj.ModeSymlink}
	if link.Mode() != gitobj.ModeSymlink || link.Same(Entry{Blob: "b"}) {
		t.Errorf("a symbolic link's mode is %s, the same as a file's: %v", link.Mode(), link.Same(Entry{Blob: "b"}))
	}
}
