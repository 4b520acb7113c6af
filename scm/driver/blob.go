package driver

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
)

// BlobID returns the git blob id of content, as git hash-object computes
// it: the hex SHA-1 of "blob <len>\x00" followed by content. Drivers set
// File.BlobID with it, and compare it with a provider's blob ids to leave
// a file that already holds a change's content alone.
func BlobID(content []byte) string { return blobID(sha1.New(), content) }

// BlobIDSHA256 is BlobID for a repository in git's SHA-256 object format,
// whose ids have 64 hex digits.
func BlobIDSHA256(content []byte) string { return blobID(sha256.New(), content) }

func blobID(h hash.Hash, content []byte) string {
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}
