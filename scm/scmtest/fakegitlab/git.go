package fakegitlab

import (
	"cmp"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// BlobID returns the git blob id of content, as git hash-object computes
// it; GitLab reports it as blob_id, X-Gitlab-Blob-Id and the GraphQL oid.
func BlobID(content []byte) string { return gitobj.BlobID(content) }

// entry is a file of a commit: its content, mode and blob id.
type entry = repostore.Entry

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
func listTree(c *repostore.Commit, dir string, recursive bool) []treeNode {
	nodes := []treeNode{}
	prefix := strings.TrimPrefix(dir+"/", "/") // "" for the root
	st, root := repostore.Trees(c.Files)
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
