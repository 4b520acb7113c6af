// Package gitobj computes git object ids and keeps git objects in memory,
// for the fake servers of scm/scmtest: blob, tree and commit ids are git's
// own (the SHA-1 of "<type> <len>\x00<payload>"), so that the fakes answer
// with the ids a real server would.
package gitobj

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Git object modes as the hosts' REST APIs spell them (git itself writes
// a tree's mode without the leading 0).
const (
	ModeFile    = "100644"
	ModeExec    = "100755"
	ModeSymlink = "120000"
	ModeTree    = "040000"
	ModeCommit  = "160000" // a submodule
)

// Hash returns the id of the git object of type typ ("blob", "tree",
// "commit") with payload.
func Hash(typ string, payload []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typ, len(payload))
	h.Write(payload)
	return hex.EncodeToString(h.Sum(nil))
}

// BlobID returns the git blob id of content, as git hash-object computes
// it.
func BlobID(content []byte) string { return Hash("blob", content) }

// TreeEntry is one entry of a tree object.
type TreeEntry struct {
	Name string
	Mode string // REST spelling, e.g. "040000"
	SHA  string
}

// treeCmp orders entries as git does: by name, a tree's name compared as
// if it ended in "/".
func treeCmp(a, b TreeEntry) int {
	an, bn := a.Name, b.Name
	if a.Mode == ModeTree {
		an += "/"
	}
	if b.Mode == ModeTree {
		bn += "/"
	}
	return strings.Compare(an, bn)
}

// TreeID sorts entries in git order, in place, and returns the id of the
// tree object holding them.
func TreeID(entries []TreeEntry) string {
	slices.SortFunc(entries, treeCmp)
	var buf bytes.Buffer
	for _, e := range entries {
		raw, _ := hex.DecodeString(e.SHA)
		buf.WriteString(strings.TrimPrefix(e.Mode, "0"))
		buf.WriteByte(' ')
		buf.WriteString(e.Name)
		buf.WriteByte(0)
		buf.Write(raw)
	}
	return Hash("tree", buf.Bytes())
}

// Signature is a commit's author or committer. Its time zone is written
// as +0000.
type Signature struct {
	Name, Email string
	When        time.Time
}

// String formats the signature as git writes it in a commit object.
func (sg Signature) String() string {
	return fmt.Sprintf("%s <%s> %d +0000", sg.Name, sg.Email, sg.When.Unix())
}

// Commit is a commit object.
type Commit struct {
	Tree      string
	Parents   []string
	Message   string // written as it is: git adds no newline
	Author    Signature
	Committer Signature
}

// CommitID returns the id of the commit object c.
func CommitID(c *Commit) string {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "tree %s\n", c.Tree)
	for _, p := range c.Parents {
		fmt.Fprintf(&buf, "parent %s\n", p)
	}
	fmt.Fprintf(&buf, "author %s\ncommitter %s\n\n%s", c.Author, c.Committer, c.Message)
	return Hash("commit", buf.Bytes())
}

// Object is one git object: a blob, a tree or a commit.
type Object struct {
	Type   string // "blob", "tree" or "commit"
	Blob   []byte
	Tree   []TreeEntry // in git order
	Commit *Commit
}

// Store holds a repository's objects by id. It is not safe for concurrent
// use: the fakes guard it with their own lock.
type Store map[string]*Object

// PutBlob stores a copy of content and returns its id.
func (s Store) PutBlob(content []byte) string {
	id := BlobID(content)
	if _, ok := s[id]; !ok {
		s[id] = &Object{Type: "blob", Blob: bytes.Clone(content)}
	}
	return id
}

// PutTree stores a tree of (a copy of) entries and returns its id.
func (s Store) PutTree(entries []TreeEntry) string {
	entries = slices.Clone(entries)
	id := TreeID(entries)
	if _, ok := s[id]; !ok {
		s[id] = &Object{Type: "tree", Tree: entries}
	}
	return id
}

// FlatEntry is a non-tree entry of a flattened tree.
type FlatEntry struct {
	Mode string
	SHA  string
}

// Flatten lists every non-tree entry under tree id, keyed by path.
func (s Store) Flatten(id string) map[string]FlatEntry {
	out := map[string]FlatEntry{}
	s.Walk(id, "", func(p string, e TreeEntry) {
		if e.Mode != ModeTree {
			out[p] = FlatEntry{Mode: e.Mode, SHA: e.SHA}
		}
	})
	return out
}

// Walk calls fn for every entry under tree id, depth first in git order,
// a directory before its contents; prefix is prepended to the paths.
func (s Store) Walk(id, prefix string, fn func(p string, e TreeEntry)) {
	t := s[id]
	if t == nil || t.Type != "tree" {
		return
	}
	for _, e := range t.Tree {
		p := e.Name
		if prefix != "" {
			p = prefix + "/" + e.Name
		}
		fn(p, e)
		if e.Mode == ModeTree {
			s.Walk(e.SHA, p, fn)
		}
	}
}

// WriteFlat writes the trees for a flattened file set and returns the root
// tree id. The blobs need not be in the store. Directories left empty
// disappear, as in git.
func (s Store) WriteFlat(files map[string]FlatEntry) string {
	type dir struct {
		files map[string]FlatEntry
		dirs  map[string]*dir
	}
	newDir := func() *dir { return &dir{files: map[string]FlatEntry{}, dirs: map[string]*dir{}} }
	root := newDir()
	for p, e := range files {
		d := root
		parts := strings.Split(p, "/")
		for _, part := range parts[:len(parts)-1] {
			sub := d.dirs[part]
			if sub == nil {
				sub = newDir()
				d.dirs[part] = sub
			}
			d = sub
		}
		d.files[parts[len(parts)-1]] = e
	}
	var write func(d *dir) string
	write = func(d *dir) string {
		entries := make([]TreeEntry, 0, len(d.files)+len(d.dirs))
		for name, e := range d.files {
			entries = append(entries, TreeEntry{Name: name, Mode: e.Mode, SHA: e.SHA})
		}
		for name, sub := range d.dirs {
			entries = append(entries, TreeEntry{Name: name, Mode: ModeTree, SHA: write(sub)})
		}
		return s.PutTree(entries)
	}
	return write(root)
}

// Lookup finds the entry at p ("" is the root tree) under tree treeID.
func (s Store) Lookup(treeID, p string) (TreeEntry, bool) {
	if p == "" {
		return TreeEntry{Mode: ModeTree, SHA: treeID}, true
	}
	cur := treeID
	parts := strings.Split(p, "/")
	for i, part := range parts {
		t := s[cur]
		if t == nil || t.Type != "tree" {
			return TreeEntry{}, false
		}
		found := false
		for _, e := range t.Tree {
			if e.Name == part {
				if i == len(parts)-1 {
					return e, true
				}
				if e.Mode != ModeTree {
					return TreeEntry{}, false
				}
				cur, found = e.SHA, true
				break
			}
		}
		if !found {
			return TreeEntry{}, false
		}
	}
	return TreeEntry{}, false
}

// IsHex reports whether s is a non-empty string of lower-case hex digits,
// as object ids (full or abbreviated) are written.
func IsHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}
