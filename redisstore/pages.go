package redisstore

import (
	"context"
	"time"

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
// listings are read in full as if there were no cache. An entry that is
// not sealed under the store's key is a miss, never served. Get it from
// [Store.Pages].
type PageCache struct {
	c sealedCache[scm.CachedPage]
}

var _ scm.PageCache = (*PageCache)(nil)

// Pages returns the scm.PageCache of s, keeping each page for ttl after
// its last full read (0: DefaultPageTTL). Pass it as
// scm.Options.PageCache.
func (s *Store) Pages(ttl time.Duration) *PageCache {
	if ttl <= 0 {
		ttl = DefaultPageTTL
	}
	return &PageCache{c: sealedCache[scm.CachedPage]{s: s, ttl: ttl, kind: "page",
		getOp: "redisstore.PageCache.GetPage", putOp: "redisstore.PageCache.PutPage", text: pageText,
		complete: func(p *scm.CachedPage) bool { return p.Body != nil },
		prepare: func(p *scm.CachedPage) *scm.CachedPage {
			if p.Body != nil {
				return p
			}
			cp := *p
			cp.Body = []byte{}
			return &cp
		}}}
}

// pageText lists the strings of a page: its ETag, and its headers' names
// and values.
func pageText(p *scm.CachedPage) []string {
	out := []string{p.ETag}
	for name, vals := range p.Header {
		out = append(append(out, name), vals...)
	}
	return out
}

// GetPage returns the page cached under key: one GET.
func (pc *PageCache) GetPage(ctx context.Context, key string) (*scm.CachedPage, bool, error) {
	return pc.c.get(ctx, key)
}

// PutPage caches p under key, sealed: one SET. An ETag or header that is
// not valid UTF-8 is InvalidArgument (JSON would not keep it). GetPage
// takes an entry without a body (written by another version) for a miss.
func (pc *PageCache) PutPage(ctx context.Context, key string, p *scm.CachedPage) error {
	return pc.c.put(ctx, key, p)
}
