package redisstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
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
// cache. Get it from [Store.Files].
type FileCache struct {
	s   *Store
	ttl time.Duration
}

var _ scm.FileCache = (*FileCache)(nil)

// Files returns the scm.FileCache of s, keeping each file for ttl after
// its last full read (0: DefaultFileTTL). Pass it as
// scm.Options.FileCache.
func (s *Store) Files(ttl time.Duration) *FileCache {
	if ttl <= 0 {
		ttl = DefaultFileTTL
	}
	return &FileCache{s: s, ttl: ttl}
}

// GetFile returns the file cached under key: one GET.
func (fc *FileCache) GetFile(ctx context.Context, key string) (*scm.CachedFile, bool, error) {
	k := fc.s.key("file", key)
	var raw []byte
	err := fc.s.do(ctx, "redisstore.FileCache.GetFile", func(ctx context.Context) error {
		var err error
		raw, err = fc.s.rdb.Get(ctx, k).Bytes()
		return err
	})
	if err == redis.Nil {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	plain, ok := fc.s.decodeBytes(k, raw)
	if !ok {
		return nil, false, nil
	}
	var f scm.CachedFile
	if json.Unmarshal(plain, &f) != nil {
		return nil, false, nil
	}
	return &f, true, nil
}

// PutFile caches f under key, sealed: one SET.
func (fc *FileCache) PutFile(ctx context.Context, key string, f *scm.CachedFile) error {
	const op = "redisstore.FileCache.PutFile"
	if f == nil {
		return errcode.New(errcode.InvalidArgument, op, "no file")
	}
	k := fc.s.key("file", key)
	plain, err := json.Marshal(f)
	if err != nil {
		return errcode.Wrap(errcode.InvalidArgument, op, err)
	}
	data, err := fc.s.encode(op, k, plain, true)
	if err != nil {
		return err
	}
	return fc.s.do(ctx, op, func(ctx context.Context) error {
		return fc.s.rdb.Set(ctx, k, data, fc.ttl).Err()
	})
}
