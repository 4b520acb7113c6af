package fakegitlab

import (
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
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

// BlobID returns the git blob id of content, as git hash-object computes
// it; GitLab reports it as blob_id, X-Gitlab-Blob-Id and the GraphQL oid.
func BlobID(content []byte) string { return gitobj.BlobID(content) }

// mode is the entry's git mode.
func (e entry) mode() string {
	if e.exec {
		return gitobj.ModeExec
	}
	return gitobj.ModeFile
}

// treeIDs computes the git tree ids of files: the root's and, by path, every
// directory's.
func treeIDs(files map[string]entry) (root string, dirs map[string]string) {
	flat := make(map[string]gitobj.FlatEntry, len(files))
	for p, e := range files {
		flat[p] = gitobj.FlatEntry{Mode: e.mode(), SHA: e.blob}
	}
	st := gitobj.Store{}
	root = st.WriteFlat(flat)
	dirs = map[string]string{"": root}
	st.Walk(root, "", func(p string, e gitobj.TreeEntry) {
		if e.Mode == gitobj.ModeTree {
			dirs[p] = e.SHA
		}
	})
	return root, dirs
}

// newCommit builds a commit over files on parent (nil for none) with
// git's id. Like GitLab, it ends the message it hashes with a newline.
func newCommit(files map[string]entry, parent *commit, message, author, email string, when time.Time) *commit {
	root, _ := treeIDs(files)
	c := &commit{tree: root, files: files, message: message, author: author, email: email, when: when}
	if parent != nil {
		c.parents = []string{parent.id}
	}
	sig := gitobj.Signature{Name: author, Email: email, When: when}
	hashed := message
	if !strings.HasSuffix(hashed, "\n") {
		hashed += "\n"
	}
	c.id = gitobj.CommitID(&gitobj.Commit{Tree: c.tree, Parents: c.parents, Message: hashed, Author: sig, Committer: sig})
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
	_, dirs := treeIDs(c.files)
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
		trees = append(trees, treeNode{ID: id, Name: path.Base(d), Type: "tree", Path: d, Mode: gitobj.ModeTree})
	}
	for _, p := range slices.Sorted(maps.Keys(c.files)) {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || (!recursive && strings.Contains(rest, "/")) {
			continue
		}
		e := c.files[p]
		blobs = append(blobs, treeNode{ID: e.blob, Name: path.Base(p), Type: "blob", Path: p, Mode: e.mode()})
	}
	slices.SortFunc(trees, func(a, b treeNode) int { return strings.Compare(a.Path, b.Path) })
	return append(trees, blobs...)
}
