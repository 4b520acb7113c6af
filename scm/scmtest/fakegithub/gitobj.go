package fakegithub

import (
	"path"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

// BlobSHA returns the git blob id of content: the SHA-1 of
// "blob <len>\x00<content>", as git hash-object computes it.
func BlobSHA(content []byte) string { return gitobj.BlobID(content) }

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
