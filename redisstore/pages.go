package redisstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm"
)

// DefaultPageTTL is how long a [PageCache] keeps a listing page after its
// last full read, by default. Entries are keyed by the credential that
// read them, and GitHub App installation tokens are renewed every hour:
// an entry kept much longer than its token could never be hit again.
const DefaultPageTTL = 2 * time.Hour

// PageCache is a scm.PageCache in Redis, shared by every replica: a
// repository listing page read in full by one replica is re-validated
// (If-None-Match, answered 304) by the others that ask with the same
// credential (a GitHub App installation token shared through the Store,
// for example). Pages are sealed with AES-GCM like files (they may list
// private repositories); without an encryption key, PutPage fails and
// listings are read in full as if there were no cache. Get it from
// [Store.Pages].
type PageCache struct {
	s   *Store
	ttl time.Duration
}

var _ scm.PageCache = (*PageCache)(nil)

// Pages returns the scm.PageCache of s, keeping each page for ttl after
// its last full read (0: DefaultPageTTL). Pass it as
// scm.Options.PageCache.
func (s *Store) Pages(ttl time.Duration) *PageCache {
	if ttl <= 0 {
		ttl = DefaultPageTTL
	}
	return &PageCache{s: s, ttl: ttl}
}

// GetPage returns the page cached under key: one GET.
func (pc *PageCache) GetPage(ctx context.Context, key string) (*scm.CachedPage, bool, error) {
	k := pc.s.key("page", key)
	var raw []byte
	err := pc.s.do(ctx, "redisstore.PageCache.GetPage", func(ctx context.Context) error {
		var err error
		raw, err = pc.s.rdb.Get(ctx, k).Bytes()
		return err
	})
	if err == redis.Nil {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	plain, ok := pc.s.decodeBytes(k, raw)
	if !ok {
		return nil, false, nil
	}
	var p scm.CachedPage
	if json.Unmarshal(plain, &p) != nil {
		return nil, false, nil
	}
	return &p, true, nil
}

// PutPage caches p under key, sealed: one SET.
func (pc *PageCache) PutPage(ctx context.Context, key string, p *scm.CachedPage) error {
	const op = "redisstore.PageCache.PutPage"
	if p == nil {
		return errcode.New(errcode.InvalidArgument, op, "no page")
	}
	k := pc.s.key("page", key)
	plain, err := json.Marshal(p)
	if err != nil {
		return errcode.Wrap(errcode.InvalidArgument, op, err)
	}
	data, err := pc.s.encode(op, k, plain, true)
	if err != nil {
		return err
	}
	return pc.s.do(ctx, op, func(ctx context.Context) error {
		return pc.s.rdb.Set(ctx, k, data, pc.ttl).Err()
	})
}
