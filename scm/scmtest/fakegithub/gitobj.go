package fakegithub

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Git object modes as the REST API spells them.
const (
	modeFile    = "100644"
	modeExec    = "100755"
	modeSymlink = "120000"
	modeTree    = "040000"
	modeCommit  = "160000" // submodule
)

// object is one git object. Its id is the real git object id (SHA-1 of
// "<type> <len>\x00<payload>"), so blob, tree and commit ids agree with git.
type object struct {
	typ    string // "blob", "tree", "commit"
	blob   []byte
	tree   []treeEntry // git order
	commit *commitObj
}

type treeEntry struct {
	name string
	mode string // REST spelling, e.g. "040000"
	sha  string
}

type commitObj struct {
	tree      string
	parents   []string
	message   string
	author    signature
	committer signature
}

type signature struct {
	name, email string
	when        time.Time
}

// store holds a repository's objects.
type store map[string]*object

func hashObject(typ string, payload []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typ, len(payload))
	h.Write(payload)
	return hex.EncodeToString(h.Sum(nil))
}

// BlobSHA returns the git blob id of content: the SHA-1 of
// "blob <len>\x00<content>", as git hash-object computes it.
func BlobSHA(content []byte) string { return hashObject("blob", content) }

func (s store) putBlob(content []byte) string {
	id := hashObject("blob", content)
	if _, ok := s[id]; !ok {
		s[id] = &object{typ: "blob", blob: bytes.Clone(content)}
	}
	return id
}

// gitMode is the mode as git writes it inside a tree object.
func gitMode(m string) string { return strings.TrimPrefix(m, "0") }

// treeLess orders entries as git does: by name, a tree's name compared as
// if it ended in "/".
func treeCmp(a, b treeEntry) int {
	an, bn := a.name, b.name
	if a.mode == modeTree {
		an += "/"
	}
	if b.mode == modeTree {
		bn += "/"
	}
	return strings.Compare(an, bn)
}

func (s store) putTree(entries []treeEntry) string {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, treeCmp)
	var buf bytes.Buffer
	for _, e := range entries {
		raw, _ := hex.DecodeString(e.sha)
		buf.WriteString(gitMode(e.mode))
		buf.WriteByte(' ')
		buf.WriteString(e.name)
		buf.WriteByte(0)
		buf.Write(raw)
	}
	id := hashObject("tree", buf.Bytes())
	if _, ok := s[id]; !ok {
		s[id] = &object{typ: "tree", tree: entries}
	}
	return id
}

func formatSig(sg signature) string {
	return fmt.Sprintf("%s <%s> %d +0000", sg.name, sg.email, sg.when.Unix())
}

func (s store) putCommit(c *commitObj) string {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "tree %s\n", c.tree)
	for _, p := range c.parents {
		fmt.Fprintf(&buf, "parent %s\n", p)
	}
	fmt.Fprintf(&buf, "author %s\ncommitter %s\n\n%s", formatSig(c.author), formatSig(c.committer), c.message)
	id := hashObject("commit", buf.Bytes())
	if _, ok := s[id]; !ok {
		s[id] = &object{typ: "commit", commit: c}
	}
	return id
}

// flatEntry is a non-tree entry of a flattened tree.
type flatEntry struct {
	mode string
	sha  string
}

// flatten lists every non-tree entry under tree id, keyed by path.
func (s store) flatten(id string) map[string]flatEntry {
	out := map[string]flatEntry{}
	s.walk(id, "", func(p string, e treeEntry) {
		if e.mode != modeTree {
			out[p] = flatEntry{mode: e.mode, sha: e.sha}
		}
	})
	return out
}

// walk calls fn for every entry under tree id, depth first in git order,
// a directory before its contents.
func (s store) walk(id, prefix string, fn func(p string, e treeEntry)) {
	t := s[id]
	if t == nil || t.typ != "tree" {
		return
	}
	for _, e := range t.tree {
		p := e.name
		if prefix != "" {
			p = prefix + "/" + e.name
		}
		fn(p, e)
		if e.mode == modeTree {
			s.walk(e.sha, p, fn)
		}
	}
}

// writeFlat writes the trees for a flattened file set and returns the root
// tree id. Directories left empty disappear, as in git.
func (s store) writeFlat(files map[string]flatEntry) string {
	type dir struct {
		files map[string]flatEntry
		dirs  map[string]*dir
	}
	newDir := func() *dir { return &dir{files: map[string]flatEntry{}, dirs: map[string]*dir{}} }
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
		entries := make([]treeEntry, 0, len(d.files)+len(d.dirs))
		for name, e := range d.files {
			entries = append(entries, treeEntry{name: name, mode: e.mode, sha: e.sha})
		}
		for name, sub := range d.dirs {
			entries = append(entries, treeEntry{name: name, mode: modeTree, sha: write(sub)})
		}
		return s.putTree(entries)
	}
	return write(root)
}

// lookup finds the entry at p ("" is the root tree) under tree id.
func (s store) lookup(treeID, p string) (treeEntry, bool) {
	if p == "" {
		return treeEntry{mode: modeTree, sha: treeID}, true
	}
	cur := treeID
	parts := strings.Split(p, "/")
	for i, part := range parts {
		t := s[cur]
		if t == nil || t.typ != "tree" {
			return treeEntry{}, false
		}
		found := false
		for _, e := range t.tree {
			if e.name == part {
				if i == len(parts)-1 {
					return e, true
				}
				if e.mode != modeTree {
					return treeEntry{}, false
				}
				cur, found = e.sha, true
				break
			}
		}
		if !found {
			return treeEntry{}, false
		}
	}
	return treeEntry{}, false
}

// isAncestor reports whether commit anc is reachable from commit id.
func (s store) isAncestor(anc, id string) bool {
	seen := map[string]bool{}
	stack := []string{id}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c == anc {
			return true
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		if o := s[c]; o != nil && o.typ == "commit" {
			stack = append(stack, o.commit.parents...)
		}
	}
	return false
}

// validTreePath reports whether p is a path GitHub accepts in a tree entry.
func validTreePath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." || part == ".git" {
			return false
		}
	}
	return path.Clean(p) == p
}
