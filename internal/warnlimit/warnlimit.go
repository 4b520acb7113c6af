// Package warnlimit bounds how often a degradation is logged: a token
// endpoint or an API that is rate-limited or down fails every call that
// needs it, and one record per call would flood the log of a busy portal.
package warnlimit

import (
	"sync"
	"time"
)

// Every is how often a Limiter lets a record through.
const Every = time.Minute

// Limiter lets one record through per Every and counts the others. The
// zero Limiter is ready to use; it is safe for concurrent use.
type Limiter struct {
	mu      sync.Mutex
	next    time.Time
	dropped int
}

// Allow reports whether a record may be logged at now and, if so, how
// many were left out since the last one logged.
func (l *Limiter) Allow(now time.Time) (ok bool, leftOut int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.dropped++
		return false, 0
	}
	l.next = now.Add(Every)
	leftOut, l.dropped = l.dropped, 0
	return true, leftOut
}

// maxKeys bounds how many keys a Keyed remembers: past it, every key is
// forgotten (each logs again at its next record), so that a client
// talking to many hosts does not grow without bound.
const maxKeys = 1024

// Keyed is a Limiter per key (a host, a kind of record): one key's
// records do not hold back another's. The zero Keyed is ready to use; it
// is safe for concurrent use.
type Keyed struct {
	mu   sync.Mutex
	keys map[string]*Limiter
}

// Allow is [Limiter.Allow] for key.
func (k *Keyed) Allow(key string, now time.Time) (ok bool, leftOut int) {
	k.mu.Lock()
	l := k.keys[key]
	if l == nil {
		if k.keys == nil || len(k.keys) >= maxKeys {
			k.keys = make(map[string]*Limiter)
		}
		l = new(Limiter)
		k.keys[key] = l
	}
	k.mu.Unlock()
	return l.Allow(now)
}
