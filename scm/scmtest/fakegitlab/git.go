package fakegitlab

import (
	"cmp"
	"maps"
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

// trees writes the git trees of files to a store, and returns it and the
// root tree's id.
func trees(files map[string]entry) (gitobj.Store, string) {
	flat := make(map[string]gitobj.FlatEntry, len(files))
	for p, e := range files {
		flat[p] = gitobj.FlatEntry{Mode: e.mode(), SHA: e.blob}
	}
	st := gitobj.Store{}
	return st, st.WriteFlat(flat)
}

// newCommit builds a commit over files on parent (nil for none) with
// git's id. Like GitLab, it ends the message it hashes with a newline.
func newCommit(files map[string]entry, parent *commit, message, author, email string, when time.Time) *commit {
	_, root := trees(files)
	c := &commit{files: files, message: message, author: author, email: email, when: when}
	if parent != nil {
		c.parents = []string{parent.id}
	}
	sig := gitobj.Signature{Name: author, Email: email, When: when}
	hashed := message
	if !strings.HasSuffix(hashed, "\n") {
		hashed += "\n"
	}
	c.id = gitobj.CommitID(&gitobj.Commit{Tree: root, Parents: c.parents, Message: hashed, Author: sig, Committer: sig})
	return c
}

// snapshot returns a copy of c's files, to change into a new commit's;
// a nil commit has none.
func (c *commit) snapshot() map[string]entry {
	if c == nil {
		return map[string]entry{}
	}
	return maps.Clone(c.files)
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
// directories and files, recursively or not, trees first (GitLab lists
// trees, then blobs), each in path order.
func (c *commit) listTree(dir string, recursive bool) []treeNode {
	nodes := []treeNode{}
	prefix := strings.TrimPrefix(dir+"/", "/") // "" for the root
	st, root := trees(c.files)
	st.Walk(root, "", func(p string, e gitobj.TreeEntry) {
		if rest, ok := strings.CutPrefix(p, prefix); ok && (recursive || !strings.Contains(rest, "/")) {
			typ := map[bool]string{true: "tree", false: "blob"}[e.Mode == gitobj.ModeTree]
			nodes = append(nodes, treeNode{ID: e.SHA, Name: e.Name, Type: typ, Path: p, Mode: e.Mode})
		}
	})
	slices.SortFunc(nodes, func(a, b treeNode) int {
		return cmp.Or(strings.Compare(b.Type, a.Type), strings.Compare(a.Path, b.Path))
	})
	return nodes
}
