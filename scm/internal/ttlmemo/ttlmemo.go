// Package ttlmemo is the adapters' memory of small answers that are the
// same for every caller for a while (a repository's default branch, a
// namespace's id): values under string keys, each kept for the time to
// live its reader asks for, bounded in entries. It is safe for concurrent
// use; the zero Memo is empty and ready.
package ttlmemo

import (
	"sync"
	"time"
)

// Memo remembers values of type V under keys.
type Memo[V any] struct {
	// Max bounds the entries: past it, Put drops the expired ones and,
	// if none had expired, all others. 0 means 1,024.
	Max int

	mu sync.Mutex
	m  map[string]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time
}

// Get returns what key holds if it was put less than ttl before now (and
// not after now: a clock that went back expires it). ttl <= 0 finds
// nothing.
func (m *Memo[V]) Get(key string, now time.Time, ttl time.Duration) (V, bool) {
	var zero V
	if ttl <= 0 {
		return zero, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	if !ok || !fresh(e.at, now, ttl) {
		return zero, false
	}
	return e.v, true
}

// Put remembers v under key from now; ttl <= 0 (the memory turned off)
// keeps nothing. ttl also decides which entries have expired when the
// memo is full.
func (m *Memo[V]) Put(key string, v V, now time.Time, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]entry[V]{}
	}
	max := m.Max
	if max <= 0 {
		max = 1024
	}
	if _, ok := m.m[key]; !ok && len(m.m) >= max {
		for k, e := range m.m {
			if !fresh(e.at, now, ttl) {
				delete(m.m, k)
			}
		}
		if len(m.m) >= max {
			clear(m.m)
		}
	}
	m.m[key] = entry[V]{v: v, at: now}
}

// Forget drops key.
func (m *Memo[V]) Forget(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
}

func fresh(at, now time.Time, ttl time.Duration) bool {
	return now.Sub(at) < ttl && !now.Before(at)
}
