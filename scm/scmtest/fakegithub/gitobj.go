package fakegithub

import (
	"io/fs"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

// BlobSHA returns the git blob id of content: the SHA-1 of
// "blob <len>\x00<content>", as git hash-object computes it.
func BlobSHA(content []byte) string { return gitobj.BlobID(content) }

// validTreePath reports whether p is a path GitHub accepts in a tree
// entry: a clean relative path with no empty, ".", ".." or ".git" element.
func validTreePath(p string) bool {
	return fs.ValidPath(p) && p != "." && !slices.Contains(strings.Split(p, "/"), ".git")
}
