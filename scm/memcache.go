package scm

import (
	"bytes"
	"container/list"
	"context"
	"sync"

	"github.com/scmkit/scmkit/errcode"
)

// Default bounds of the in-memory caches, used for zero fields of
// [MemoryCacheOptions], and so of the caches a [Client] makes for itself
// when [Options] leaves FileCache or PageCache nil.
const (
	// DefaultMemoryFileBytes bounds a [MemoryFileCache]: 32 MiB, some
	// 10,000 catalog files of a few KiB each.
	DefaultMemoryFileBytes = 32 << 20
	// DefaultMemoryFileEntries bounds the number of files it keeps.
	DefaultMemoryFileEntries = 10_000
	// DefaultMemoryPageBytes bounds a [MemoryPageCache]: 16 MiB, the
	// pages of about 2,500 GitHub repositories (100 a page, some
	// 600 KiB) for one credential.
	DefaultMemoryPageBytes = 16 << 20
	// DefaultMemoryPageEntries bounds the number of pages it keeps.
	DefaultMemoryPageEntries = 1_000
)

// memEntryOverhead is what an entry costs besides its strings and bytes
// (its list element, map slot and struct), counted against MaxBytes so
// that many tiny entries cannot hold much more memory than the bound.
const memEntryOverhead = 256

// MemoryCacheOptions bounds an in-memory cache made by
// [NewMemoryFileCache] or [NewMemoryPageCache]. A nil *MemoryCacheOptions
// gives the defaults; so does a field that is zero or negative.
type MemoryCacheOptions struct {
	// MaxBytes bounds the memory the entries hold together: their
	// contents or bodies, validators, headers and keys, plus a fixed
	// overhead of 256 bytes an entry. An entry larger than MaxBytes is
	// not kept. Default DefaultMemoryFileBytes or DefaultMemoryPageBytes.
	MaxBytes int64
	// MaxEntries bounds the number of entries. Default
	// DefaultMemoryFileEntries or DefaultMemoryPageEntries.
	MaxEntries int
}

// MemoryCacheStats are the counters of an in-memory cache.
type MemoryCacheStats struct {
	Entries   int   // entries held
	Bytes     int64 // their size, as MaxBytes counts it
	Hits      int64 // Gets that found an entry
	Misses    int64 // Gets that found none
	Evictions int64 // entries dropped, least recently used first, to stay within the bounds
}

// MemoryFileCache is a [FileCache] in this process's memory, bounded in
// bytes and entries, dropping the least recently used files first. It is
// what a [Client] uses when [Options] leaves FileCache nil; a fleet of
// replicas shares one through redisstore's Store.Files instead.
//
// It keeps what redisstore's does: files with an ETag of at most
// [MaxCachedFileBytes], and remembered NotFound answers (NotFoundAt set).
// It keeps copies, and hands out copies, so that what a caller does with
// a file it put or got never changes the cache.
// It is safe for concurrent use, and never fails. Make one with
// [NewMemoryFileCache]; the zero MemoryFileCache is not usable.
type MemoryFileCache struct {
	c *memLRU[CachedFile]
}

var _ FileCache = (*MemoryFileCache)(nil)

// NewMemoryFileCache returns an empty MemoryFileCache bounded by opts
// (nil: DefaultMemoryFileBytes and DefaultMemoryFileEntries).
func NewMemoryFileCache(opts *MemoryCacheOptions) *MemoryFileCache {
	return &MemoryFileCache{c: newMemLRU[CachedFile](opts, DefaultMemoryFileBytes, DefaultMemoryFileEntries)}
}

// GetFile returns a copy of the file cached under key, if any, and marks it
// recently used. ctx is not used: a memory lookup does not wait.
func (m *MemoryFileCache) GetFile(_ context.Context, key string) (*CachedFile, bool, error) {
	f, ok := m.c.get(key)
	if !ok {
		return nil, false, nil
	}
	return cloneFile(f), true, nil
}

// PutFile caches a copy of f under key, replacing any entry, and drops the
// least recently used files beyond the bounds. A file it does not keep
// (no ETag and no NotFoundAt, content larger than MaxCachedFileBytes or
// than the whole cache) removes the entry under key instead: its
// validator is stale. A nil f is InvalidArgument.
func (m *MemoryFileCache) PutFile(_ context.Context, key string, f *CachedFile) error {
	if f == nil {
		return errcode.New(errcode.InvalidArgument, "scm.MemoryFileCache.PutFile", "no file")
	}
	if (f.ETag == "" && f.NotFoundAt.IsZero()) || len(f.Content) > MaxCachedFileBytes {
		m.c.remove(key)
		return nil
	}
	c := cloneFile(f)
	size := int64(len(key)+len(c.ETag)+len(c.BlobID)+len(c.CommitID)+len(c.Content)) + memEntryOverhead
	m.c.put(key, c, size)
	return nil
}

// Stats returns the cache's counters.
func (m *MemoryFileCache) Stats() MemoryCacheStats { return m.c.statsNow() }

// MemoryPageCache is a [PageCache] in this process's memory, bounded in
// bytes and entries, dropping the least recently used pages first. It is
// what a [Client] uses when [Options] leaves PageCache nil; a fleet of
// replicas shares one through redisstore's Store.Pages instead.
//
// It keeps what redisstore's does: pages with an ETag of at most
// [MaxCachedPageBytes]. Its keys, made by the Client, include the
// credential that asked (hashed), so an entry only ever answers the
// credential that read it, and only after the provider said 304. It keeps
// copies, and hands out copies. It is safe for concurrent use, and never
// fails. Make one with [NewMemoryPageCache]; the zero MemoryPageCache is
// not usable.
type MemoryPageCache struct {
	c *memLRU[CachedPage]
}

var _ PageCache = (*MemoryPageCache)(nil)

// NewMemoryPageCache returns an empty MemoryPageCache bounded by opts
// (nil: DefaultMemoryPageBytes and DefaultMemoryPageEntries).
func NewMemoryPageCache(opts *MemoryCacheOptions) *MemoryPageCache {
	return &MemoryPageCache{c: newMemLRU[CachedPage](opts, DefaultMemoryPageBytes, DefaultMemoryPageEntries)}
}

// GetPage returns a copy of the page cached under key, if any, and marks
// it recently used. ctx is not used: a memory lookup does not wait.
func (m *MemoryPageCache) GetPage(_ context.Context, key string) (*CachedPage, bool, error) {
	p, ok := m.c.get(key)
	if !ok {
		return nil, false, nil
	}
	return clonePage(p), true, nil
}

// PutPage caches a copy of p under key, replacing any entry, and drops
// the least recently used pages beyond the bounds. A page it does not
// keep (no ETag, a body larger than MaxCachedPageBytes or than the whole
// cache) removes the entry under key instead. A nil p is
// InvalidArgument.
func (m *MemoryPageCache) PutPage(_ context.Context, key string, p *CachedPage) error {
	if p == nil {
		return errcode.New(errcode.InvalidArgument, "scm.MemoryPageCache.PutPage", "no page")
	}
	if p.ETag == "" || len(p.Body) > MaxCachedPageBytes {
		m.c.remove(key)
		return nil
	}
	c := clonePage(p)
	size := int64(len(key)+len(c.ETag)+len(c.Body)) + memEntryOverhead
	for k, vs := range c.Header {
		size += int64(len(k)) + 16
		for _, v := range vs {
			size += int64(len(v)) + 16
		}
	}
	m.c.put(key, c, size)
	return nil
}

// Stats returns the cache's counters.
func (m *MemoryPageCache) Stats() MemoryCacheStats { return m.c.statsNow() }

// NoCache is a [FileCache] and a [PageCache] that keeps nothing. Set
// [Options].FileCache or PageCache to NoCache{} for a [Client] without
// that cache: every re-read, or every listing page, is then read in full.
type NoCache struct{}

var (
	_ FileCache = NoCache{}
	_ PageCache = NoCache{}
)

// GetFile finds nothing.
func (NoCache) GetFile(context.Context, string) (*CachedFile, bool, error) { return nil, false, nil }

// PutFile keeps nothing.
func (NoCache) PutFile(context.Context, string, *CachedFile) error { return nil }

// GetPage finds nothing.
func (NoCache) GetPage(context.Context, string) (*CachedPage, bool, error) { return nil, false, nil }

// PutPage keeps nothing.
func (NoCache) PutPage(context.Context, string, *CachedPage) error { return nil }

// defaultFileCache is the FileCache of a Client given fc: an in-memory
// one with the default bounds for nil, none for NoCache.
func defaultFileCache(fc FileCache) FileCache {
	switch fc.(type) {
	case nil:
		return NewMemoryFileCache(nil)
	case NoCache, *NoCache:
		return nil
	}
	return fc
}

// defaultPageCache is defaultFileCache for the PageCache.
func defaultPageCache(pc PageCache) PageCache {
	switch pc.(type) {
	case nil:
		return NewMemoryPageCache(nil)
	case NoCache, *NoCache:
		return nil
	}
	return pc
}

// cloneFile copies f, every field (a field added later is kept too), and
// its content.
func cloneFile(f *CachedFile) *CachedFile {
	cp := *f
	cp.Content = bytes.Clone(f.Content)
	return &cp
}

func clonePage(p *CachedPage) *CachedPage {
	return &CachedPage{ETag: p.ETag, Header: p.Header.Clone(), Body: bytes.Clone(p.Body)}
}

// memLRU is the body of the in-memory caches: values by key, bounded in
// total size and count, the least recently used dropped first. The values
// it holds are its own copies and never change once put, so they are
// copied out after the lock is released.
type memLRU[V any] struct {
	maxBytes   int64
	maxEntries int

	mu    sync.Mutex
	order *list.List // of *memEntry[V], most recently used first
	byKey map[string]*list.Element
	stats MemoryCacheStats
}

type memEntry[V any] struct {
	key  string
	v    *V
	size int64
}

func newMemLRU[V any](opts *MemoryCacheOptions, maxBytes int64, maxEntries int) *memLRU[V] {
	if opts != nil && opts.MaxBytes > 0 {
		maxBytes = opts.MaxBytes
	}
	if opts != nil && opts.MaxEntries > 0 {
		maxEntries = opts.MaxEntries
	}
	return &memLRU[V]{maxBytes: maxBytes, maxEntries: maxEntries, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the value under key, not to be changed, and marks it most
// recently used.
func (c *memLRU[V]) get(key string) (*V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		c.stats.Misses++
		return nil, false
	}
	c.stats.Hits++
	c.order.MoveToFront(e)
	return e.Value.(*memEntry[V]).v, true
}

// put stores v, which the cache now owns, under key as the most recently
// used entry, then drops the least recently used entries beyond the
// bounds. A v larger than the whole cache is not stored, and removes
// the entry under key.
func (c *memLRU[V]) put(key string, v *V, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.maxBytes {
		c.removeLocked(key)
		return
	}
	if e, ok := c.byKey[key]; ok {
		ent := e.Value.(*memEntry[V])
		c.stats.Bytes += size - ent.size
		ent.v, ent.size = v, size
		c.order.MoveToFront(e)
	} else {
		c.byKey[key] = c.order.PushFront(&memEntry[V]{key: key, v: v, size: size})
		c.stats.Bytes += size
	}
	for c.stats.Bytes > c.maxBytes || c.order.Len() > c.maxEntries {
		c.removeLocked(c.order.Back().Value.(*memEntry[V]).key)
		c.stats.Evictions++
	}
}

// remove drops the entry under key, if any.
func (c *memLRU[V]) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(key)
}

func (c *memLRU[V]) removeLocked(key string) {
	e, ok := c.byKey[key]
	if !ok {
		return
	}
	c.order.Remove(e)
	delete(c.byKey, key)
	c.stats.Bytes -= e.Value.(*memEntry[V]).size
}

func (c *memLRU[V]) statsNow() MemoryCacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = c.order.Len()
	return s
}
