package auth

import (
	"context"
	"sync"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// MemoryStoreOptions tunes [NewMemoryStore]. A nil *MemoryStoreOptions
// gives the defaults.
type MemoryStoreOptions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MemoryStore is a [SessionStore] in this process's memory: the default
// when no store is configured. Its sessions die with the process and are
// not shared between replicas; use a shared store (Redis) for those.
// Expired records are removed lazily, on access and by a sweep every
// thousand writes. It is safe for concurrent use. The zero MemoryStore is
// not usable; make one with [NewMemoryStore].
type MemoryStore struct {
	now func() time.Time

	mu      sync.Mutex
	records map[string]memRecord
	leases  map[string]Lease
	fence   int64 // the last fencing token given, for any name
	version int64
	writes  int
}

type memRecord struct {
	data    []byte
	version int64
	expires time.Time // zero: never
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts *MemoryStoreOptions) *MemoryStore {
	s := &MemoryStore{now: time.Now, records: map[string]memRecord{}, leases: map[string]Lease{}}
	if opts != nil && opts.Now != nil {
		s.now = opts.Now
	}
	return s
}

var _ SessionStore = (*MemoryStore)(nil)

func (s *MemoryStore) live(key string, now time.Time) (memRecord, bool) {
	r, ok := s.records[key]
	if !ok {
		return r, false
	}
	if !r.expires.IsZero() && !now.Before(r.expires) {
		delete(s.records, key)
		return r, false
	}
	return r, true
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// write stores data under key; the caller holds s.mu.
func (s *MemoryStore) write(key string, data []byte, ttl time.Duration, now time.Time) int64 {
	s.version++
	s.records[key] = memRecord{data: append([]byte(nil), data...), version: s.version, expires: expiry(now, ttl)}
	if s.writes++; s.writes%1000 == 0 {
		for k := range s.records {
			s.live(k, now)
		}
		for n, l := range s.leases {
			if !now.Before(l.Expires) {
				delete(s.leases, n)
			}
		}
	}
	return s.version
}

// Get returns the record under key.
func (s *MemoryStore) Get(ctx context.Context, key string) (Record, error) {
	const op = "auth.MemoryStore.Get"
	if err := errcode.FromContext(ctx, op); err != nil {
		return Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(key, s.now())
	if !ok {
		return Record{}, errcode.New(errcode.NotFound, op, "no such session")
	}
	return Record{Data: append([]byte(nil), r.data...), Version: r.version}, nil
}

// currentVersion returns the current version of key, without copying its record.
func (s *MemoryStore) currentVersion(ctx context.Context, key string) (int64, error) {
	if err := errcode.FromContext(ctx, "auth.MemoryStore.Get"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(key, s.now())
	if !ok {
		return 0, errcode.New(errcode.NotFound, "auth.MemoryStore.Get", "no such session")
	}
	return r.version, nil
}

// Put writes data under key.
func (s *MemoryStore) Put(ctx context.Context, key string, data []byte, ttl time.Duration) (int64, error) {
	if err := errcode.FromContext(ctx, "auth.MemoryStore.Put"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(key, data, ttl, s.now()), nil
}

// CompareAndSwap writes data under key if its version is version.
func (s *MemoryStore) CompareAndSwap(ctx context.Context, key string, version int64, data []byte, ttl time.Duration) (int64, error) {
	const op = "auth.MemoryStore.CompareAndSwap"
	if err := errcode.FromContext(ctx, op); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	r, ok := s.live(key, now)
	if !ok {
		return 0, errcode.New(errcode.NotFound, op, "no such session")
	}
	if r.version != version {
		return 0, errcode.New(errcode.Conflict, op, "the session changed since it was read")
	}
	return s.write(key, data, ttl, now), nil
}

// Delete removes key.
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := errcode.FromContext(ctx, "auth.MemoryStore.Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, key)
	return nil
}

// Acquire takes the lease on name if it is free.
func (s *MemoryStore) Acquire(ctx context.Context, name string, ttl time.Duration) (Lease, error) {
	const op = "auth.MemoryStore.Acquire"
	if err := errcode.FromContext(ctx, op); err != nil {
		return Lease{}, err
	}
	if ttl <= 0 {
		return Lease{}, errcode.New(errcode.InvalidArgument, op, "a lease needs a positive ttl")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if l, ok := s.leases[name]; ok && now.Before(l.Expires) {
		return Lease{}, errcode.New(errcode.Conflict, op, "the lease is held")
	}
	// One counter for every name: strictly increasing per name too, and
	// nothing to remember per name once its lease is gone.
	s.fence++
	l := Lease{Name: name, Fence: s.fence, Expires: now.Add(ttl)}
	s.leases[name] = l
	return l, nil
}

// Release frees lease if it is still held.
func (s *MemoryStore) Release(ctx context.Context, lease Lease) error {
	if err := errcode.FromContext(ctx, "auth.MemoryStore.Release"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.leases[lease.Name]; ok && l.Fence == lease.Fence {
		delete(s.leases, lease.Name)
	}
	return nil
}

// PutFenced writes data under key while lease is held.
func (s *MemoryStore) PutFenced(ctx context.Context, lease Lease, key string, data []byte, ttl time.Duration) (int64, error) {
	const op = "auth.MemoryStore.PutFenced"
	if err := errcode.FromContext(ctx, op); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	l, ok := s.leases[lease.Name]
	if !ok || l.Fence != lease.Fence || !now.Before(l.Expires) {
		return 0, errcode.New(errcode.Conflict, op, "the lease was lost")
	}
	return s.write(key, data, ttl, now), nil
}
