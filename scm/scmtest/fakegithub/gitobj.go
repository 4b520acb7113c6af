package fakegithub

import (
	"io/fs"

	"github.com/scmkit/scmkit/internal/gitpath"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

// BlobSHA returns the git blob id of content: the SHA-1 of
// "blob <len>\x00<content>", as git hash-object computes it.
func BlobSHA(content []byte) string { return gitobj.BlobID(content) }

// validTreePath reports whether p is a path GitHub accepts for a file in
// a tree: a clean relative path that git's fsck accepts
// ([gitpath.CheckPath]: no empty, "." or ".." element, no ".git" as NTFS
// or HFS+ reads it, no .gitmodules or .gitattributes directory).
func validTreePath(p string) bool {
	return fs.ValidPath(p) && gitpath.CheckPath(p) == nil
}
