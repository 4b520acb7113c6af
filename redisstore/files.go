package redisstore

import (
	"context"
	"time"

	"github.com/scmkit/scmkit/scm"
)

// DefaultFileTTL is how long a [FileCache] keeps a file after its last
// full read, by default.
const DefaultFileTTL = 24 * time.Hour

// FileCache is a scm.FileCache in Redis, shared by every replica: a file
// read in full by one replica is re-validated (If-None-Match, answered
// 304) by the others. Contents are sealed with AES-GCM (they may come from
// private repositories), so the store needs an encryption key; without
// one, PutFile fails and ReadFile reads in full as if there were no
// cache. An entry that is not sealed under the store's key (planted by
// someone who can write to Redis without it) is a miss, never served.
//
// A GitHub entry also holds a fingerprint of the credential its ETag
// belongs to (a hash of the Authorization header, sealed with the rest)
// and the file's Last-Modified (see scm.FileCache): the replicas that
// share one GitHub App installation token through the Store compute the
// same fingerprint, so after the token's hourly renewal the first replica
// to read the file revalidates it by date (a free 304) and stores the new
// token's ETag, which the others then send (TestFleetFileSurvivesTokenRenewal).
// Get it from [Store.Files].
type FileCache struct {
	c sealedCache[scm.CachedFile]
}

var _ scm.FileCache = (*FileCache)(nil)

// Files returns the scm.FileCache of s, keeping each file for ttl after
// its last full read (0: DefaultFileTTL). Pass it as
// scm.Options.FileCache.
func (s *Store) Files(ttl time.Duration) *FileCache {
	if ttl <= 0 {
		ttl = DefaultFileTTL
	}
	return &FileCache{c: sealedCache[scm.CachedFile]{s: s, ttl: ttl, kind: "file",
		getOp: "redisstore.FileCache.GetFile", putOp: "redisstore.FileCache.PutFile",
		text:     func(f *scm.CachedFile) []string { return []string{f.ETag, f.BlobID, f.CommitID, f.Cred} },
		complete: func(f *scm.CachedFile) bool { return f.Content != nil },
		prepare: func(f *scm.CachedFile) *scm.CachedFile {
			if f.Content != nil {
				return f
			}
			cp := *f
			cp.Content = []byte{}
			return &cp
		}}}
}

// GetFile returns the file cached under key: one GET.
func (fc *FileCache) GetFile(ctx context.Context, key string) (*scm.CachedFile, bool, error) {
	return fc.c.get(ctx, key)
}

// PutFile caches f under key, sealed: one SET. An ETag, blob or commit ID
// that is not valid UTF-8 is InvalidArgument (JSON would not keep it).
// GetFile takes an entry without content (written by another version)
// for a miss, never for an empty file.
func (fc *FileCache) PutFile(ctx context.Context, key string, f *scm.CachedFile) error {
	return fc.c.put(ctx, key, f)
}
