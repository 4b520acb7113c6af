package fakegitlab

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"
)

// Git modes as GitLab's tree API spells them.
const (
	modeFile = "100644"
	modeExec = "100755"
	modeTree = "040000"
)

// entry is one file of a commit's flat tree.
type entry struct {
	blob string // git blob id
	exec bool
}

// commit is one commit. Its id is git's own: the SHA-1 of the commit
// object, whose tree id is computed from real tree objects.
type commit struct {
	id      string
	tree    string // git tree id
	parents []string
	files   map[string]entry // path → entry; never modified once stored
	message string
	author  string
	email   string
	when    time.Time
}

func hashObject(typ string, payload []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typ, len(payload))
	h.Write(payload)
	return hex.EncodeToString(h.Sum(nil))
}

// BlobID returns the git blob id of content, as git hash-object computes
// it; GitLab reports it as blob_id, X-Gitlab-Blob-Id and the GraphQL oid.
func BlobID(content []byte) string { return hashObject("blob", content) }

// treeID computes the git tree id of the directory dir ("" for the root) of
// files, and records the id of every subdirectory in dirs.
func treeID(files map[string]entry, dir string, dirs map[string]string) string {
	type te struct {
		name, mode, id string
	}
	var entries []te
	seen := map[string]bool{}
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	for p, e := range files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		if name, _, isDir := strings.Cut(rest, "/"); isDir {
			if !seen[name] {
				seen[name] = true
				entries = append(entries, te{name: name, mode: modeTree, id: treeID(files, prefix+name, dirs)})
			}
		} else {
			mode := modeFile
			if e.exec {
				mode = modeExec
			}
			entries = append(entries, te{name: rest, mode: mode, id: e.blob})
		}
	}
	// Git orders tree entries by name, a tree's name compared as if it
	// ended in "/".
	key := func(e te) string {
		if e.mode == modeTree {
			return e.name + "/"
		}
		return e.name
	}
	slices.SortFunc(entries, func(a, b te) int { return strings.Compare(key(a), key(b)) })
	var buf bytes.Buffer
	for _, e := range entries {
		raw, _ := hex.DecodeString(e.id)
		fmt.Fprintf(&buf, "%s %s\x00", strings.TrimPrefix(e.mode, "0"), e.name)
		buf.Write(raw)
	}
	id := hashObject("tree", buf.Bytes())
	if dirs != nil {
		dirs[dir] = id
	}
	return id
}

// newCommit builds a commit over files with git's id.
func newCommit(files map[string]entry, parent, message, author, email string, when time.Time) *commit {
	c := &commit{tree: treeID(files, "", nil), files: files, message: message, author: author, email: email, when: when}
	if parent != "" {
		c.parents = []string{parent}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "tree %s\n", c.tree)
	for _, p := range c.parents {
		fmt.Fprintf(&buf, "parent %s\n", p)
	}
	sig := fmt.Sprintf("%s <%s> %d +0000", author, email, when.Unix())
	fmt.Fprintf(&buf, "author %s\ncommitter %s\n\n%s", sig, sig, message)
	if !strings.HasSuffix(message, "\n") {
		buf.WriteByte('\n')
	}
	c.id = hashObject("commit", buf.Bytes())
	return c
}

// title is the first line of the message.
func (c *commit) title() string {
	t, _, _ := strings.Cut(c.message, "\n")
	return t
}

// treeNode is one entry of GitLab's repository tree API.
type treeNode struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Path string `json:"path"`
	Mode string `json:"mode"`
}

// listTree lists dir ("" is the root) of c as GitLab's tree API does:
// directories and files, recursively or not, in path order with trees
// first at each level (GitLab lists trees, then blobs). ok is false when
// dir is a file.
func (c *commit) listTree(dir string, recursive bool) []treeNode {
	dirs := map[string]string{}
	treeID(c.files, "", dirs)
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	var trees, blobs []treeNode
	for d, id := range dirs {
		rest, ok := strings.CutPrefix(d, prefix)
		if d == "" || !ok || rest == "" || (!recursive && strings.Contains(rest, "/")) {
			continue
		}
		trees = append(trees, treeNode{ID: id, Name: path.Base(d), Type: "tree", Path: d, Mode: modeTree})
	}
	for _, p := range slices.Sorted(maps.Keys(c.files)) {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || (!recursive && strings.Contains(rest, "/")) {
			continue
		}
		e := c.files[p]
		mode := modeFile
		if e.exec {
			mode = modeExec
		}
		blobs = append(blobs, treeNode{ID: e.blob, Name: path.Base(p), Type: "blob", Path: p, Mode: mode})
	}
	slices.SortFunc(trees, func(a, b treeNode) int { return strings.Compare(a.Path, b.Path) })
	return append(trees, blobs...)
}

// isDir reports whether p is a directory of c.
func (c *commit) isDir(p string) bool {
	if p == "" {
		return true
	}
	for f := range c.files {
		if strings.HasPrefix(f, p+"/") {
			return true
		}
	}
	return false
}
