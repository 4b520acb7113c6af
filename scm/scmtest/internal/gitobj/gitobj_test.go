package gitobj

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The expected ids below are git's own, from git hash-object, git
// write-tree and git commit-tree on the same content.

func TestBlobID(t *testing.T) {
	for _, tt := range []struct {
		name, content, want string
	}{
		{"empty", "", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
		{"hello", "hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := BlobID([]byte(tt.content)); got != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
		})
	}
}

// sample is a tree holding a.txt, a/run.sh (executable), a/b/c.txt,
// hello.txt and link (a symbolic link to hello.txt): "a.txt" sorts before
// the tree "a", as in git.
func sample(s Store) map[string]FlatEntry {
	return map[string]FlatEntry{
		"a.txt":     {Mode: ModeFile, SHA: s.PutBlob([]byte("y"))},
		"a/run.sh":  {Mode: ModeExec, SHA: s.PutBlob([]byte("#!/bin/sh\n"))},
		"a/b/c.txt": {Mode: ModeFile, SHA: s.PutBlob([]byte("x"))},
		"hello.txt": {Mode: ModeFile, SHA: s.PutBlob([]byte("hello\n"))},
		"link":      {Mode: ModeSymlink, SHA: s.PutBlob([]byte("hello.txt"))},
	}
}

const sampleTree = "340a23ea2c3ac526daadcfd095d5fde0e1c074b9"

func TestWriteFlat(t *testing.T) {
	s := Store{}
	files := sample(s)
	root := s.WriteFlat(files)
	if root != sampleTree {
		t.Fatalf("root tree %s; want %s", root, sampleTree)
	}
	if got := s.WriteFlat(nil); got != "4b825dc642cb6eb9a060e54bf8d69288fbee4904" {
		t.Errorf("empty tree %s; want git's empty tree", got)
	}
	var names []string
	for _, e := range s[root].Tree {
		names = append(names, e.Name)
	}
	if diff := cmp.Diff([]string{"a.txt", "a", "hello.txt", "link"}, names); diff != "" {
		t.Errorf("root entries not in git order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(files, s.Flatten(root)); diff != "" {
		t.Errorf("Flatten(WriteFlat(files)) (-want +got):\n%s", diff)
	}
	var walked []string
	s.Walk(root, "", func(p string, e TreeEntry) { walked = append(walked, p+" "+e.Mode) })
	want := []string{"a.txt 100644", "a 040000", "a/b 040000", "a/b/c.txt 100644", "a/run.sh 100755", "hello.txt 100644", "link 120000"}
	if diff := cmp.Diff(want, walked); diff != "" {
		t.Errorf("Walk (-want +got):\n%s", diff)
	}
}

func TestLookup(t *testing.T) {
	s := Store{}
	root := s.WriteFlat(sample(s))
	for _, tt := range []struct {
		path     string
		wantSHA  string
		wantMode string
		ok       bool
	}{
		{"", root, ModeTree, true},
		{"a", "0a7c3911ad24d69c96fdb876faa4e181e369e72e", ModeTree, true},
		{"a/b", "e2b0c41b0f7802e3db16736400d84a86ca333494", ModeTree, true},
		{"a/run.sh", "1a2485251c33a70432394c93fb89330ef214bfc9", ModeExec, true},
		{"link", "a5162f80d4a6782b7cb2a0a197f834e683cb9eb1", ModeSymlink, true},
		{"missing", "", "", false},
		{"a/missing", "", "", false},
		{"hello.txt/x", "", "", false},
	} {
		t.Run(tt.path, func(t *testing.T) {
			e, ok := s.Lookup(root, tt.path)
			if ok != tt.ok || e.SHA != tt.wantSHA || e.Mode != tt.wantMode {
				t.Errorf("got %+v, %v; want %s %s, %v", e, ok, tt.wantMode, tt.wantSHA, tt.ok)
			}
		})
	}
}

func TestCommitID(t *testing.T) {
	sig := Signature{Name: "fake-user", Email: "fake-user@example.com", When: time.Unix(1700000000, 0)}
	first := CommitID(&Commit{Tree: sampleTree, Message: "Initial commit", Author: sig, Committer: sig})
	if want := "bef66202bbc184cd0b7d81d75f4c5065e120bfb8"; first != want {
		t.Errorf("first commit %s; want %s", first, want)
	}
	second := CommitID(&Commit{Tree: sampleTree, Parents: []string{first}, Message: "Second\n", Author: sig, Committer: sig})
	if want := "9a8adc87899c9c7afed3642aaf3cc77ea409f7d2"; second != want {
		t.Errorf("second commit %s; want %s", second, want)
	}
}

func TestIsHex(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     bool
	}{
		{"empty", "", false}, {"digits", "0123456789abcdef", true}, {"upper case", "ABC", false}, {"not hex", "abg", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsHex(tt.in); got != tt.want {
				t.Errorf("IsHex(%q) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}
