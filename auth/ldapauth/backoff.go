package ldapauth

import (
	"container/list"
	"sync"
	"time"
)

// maxTracked bounds the back-off table: a key new to a full table
// evicts the least recently used one (see [limiter.evict]).
const maxTracked = 100_000

// limiter counts consecutive failures per key and delays attempts past the
// free ones, doubling the delay each time up to max. An attempt in flight
// counts as a failure until it succeeds, so parallel guesses cannot slip
// past the limit. Its table holds at most bound keys, in the order they
// were last used, so that every operation costs the same whatever the
// table holds.
type limiter struct {
	free       int
	base, max  time.Duration
	mu         sync.Mutex
	m          map[string]*list.Element // of *slot, in lru
	lru        list.List                // front: the key used last
	bound      int
	forgetting time.Duration
}

type slot struct {
	key   string
	fails int
	until time.Time
	last  time.Time
}

func newLimiter(free int, base, max time.Duration) *limiter {
	return &limiter{free: free, base: base, max: max, m: map[string]*list.Element{}, bound: maxTracked, forgetting: 2 * max}
}

// slot returns key's slot, marked as used last, or nil. l.mu is held.
func (l *limiter) slot(key string) *slot {
	e := l.m[key]
	if e == nil {
		return nil
	}
	l.lru.MoveToFront(e)
	return e.Value.(*slot)
}

// drop removes key. l.mu is held.
func (l *limiter) drop(key string) {
	if e := l.m[key]; e != nil {
		l.lru.Remove(e)
		delete(l.m, key)
	}
}

// begin records an attempt for key at now. It returns ok false and when to
// retry if key is delayed.
func (l *limiter) begin(key string, now time.Time) (retryAt time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slot(key)
	if s != nil && now.Sub(s.last) > l.forgetting && !now.Before(s.until) {
		s = nil
		l.drop(key)
	}
	if s == nil {
		l.evict()
		s = &slot{key: key}
		l.m[key] = l.lru.PushFront(s)
	}
	if now.Before(s.until) {
		return s.until, false
	}
	if s.fails >= l.free && s.until.IsZero() {
		// Failures in flight reached the limit: refuse for the first
		// delay, and set it, so that after it one attempt runs alone.
		s.until = now.Add(l.base)
		return s.until, false
	}
	if s.fails >= l.free {
		// Past the free attempts and past the delay: one attempt may
		// run, and until its outcome (fail sets the next delay) every
		// other is refused, so that guesses fired together the moment a
		// delay ends are not all let through.
		s.until = now.Add(l.base)
	}
	s.fails++
	s.last = now
	return time.Time{}, true
}

// fail turns the attempt begun for key into a failure.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slot(key)
	if s == nil {
		return
	}
	s.last = now
	if over := s.fails - l.free; over >= 0 {
		d := l.base
		for i := 0; i < over && d < l.max; i++ {
			d *= 2
		}
		s.until = now.Add(min(d, l.max))
	}
}

// succeed clears key (reset) or takes back the attempt (undo), e.g. when
// the directory could not be reached and the user is not to blame.
func (l *limiter) succeed(key string, reset bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slot(key)
	if s == nil {
		return
	}
	if reset {
		l.drop(key)
		return
	}
	if s.fails > 0 {
		s.fails--
	}
}

// evict makes room for one key in a full table by dropping the least
// recently used key (the one whose last attempt, or refusal, is the
// oldest), in constant time, even if it still has a delay pending.
//
// A full table is one of two things. Most likely it is a flood: someone
// trying bound made-up usernames (or addresses) within the 2 × MaxDelay an
// entry is kept. Refusing new keys then would lock out everyone not yet in
// the table (nearly every real user) for as long as the flood lasts;
// evicting lets them sign in. What evicting costs is the back-off of the
// oldest key: a guesser who floods the table can reset a victim's delay.
// But the victim's key must be the least recently used of the whole table
// (a guesser still trying it keeps it fresh, as every attempt, refused or
// not, does), so each reset costs bound new usernames, each an attempt
// that its client address's back-off let through (FreeAttemptsPerAddress,
// then delays; the address is checked first) and that reached the
// directory, for FreeAttempts more guesses on the victim. A user's
// attempts from a browser she signed in from are counted for that browser,
// not the username, so a flood of the username table neither locks her
// out nor resets her browser's count. An AttemptStore keeps the counts
// instead, under its own bounds.
func (l *limiter) evict() {
	for l.lru.Len() >= max(l.bound, 1) {
		e := l.lru.Back()
		l.lru.Remove(e)
		delete(l.m, e.Value.(*slot).key)
	}
}
