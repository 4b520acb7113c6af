package ldapauth

import (
	"sync"
	"time"
)

// maxTracked bounds the back-off table; beyond it, entries with no delay
// pending are dropped first.
const maxTracked = 100_000

// limiter counts consecutive failures per key and delays attempts past the
// free ones, doubling the delay each time up to max. An attempt in flight
// counts as a failure until it succeeds, so parallel guesses cannot slip
// past the limit.
type limiter struct {
	free       int
	base, max  time.Duration
	mu         sync.Mutex
	m          map[string]*slot
	forgetting time.Duration
}

type slot struct {
	fails int
	until time.Time
	last  time.Time
}

func newLimiter(free int, base, max time.Duration) *limiter {
	return &limiter{free: free, base: base, max: max, m: map[string]*slot{}, forgetting: 2 * max}
}

// begin records an attempt for key at now. It returns ok false and when to
// retry if key is delayed.
func (l *limiter) begin(key string, now time.Time) (retryAt time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.m[key]
	if s != nil && now.Sub(s.last) > l.forgetting && !now.Before(s.until) {
		s = nil
		delete(l.m, key)
	}
	if s == nil {
		l.evict(now)
		s = &slot{}
		l.m[key] = s
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
	s := l.m[key]
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
	s := l.m[key]
	if s == nil {
		return
	}
	if reset {
		delete(l.m, key)
		return
	}
	if s.fails > 0 {
		s.fails--
	}
}

// evict drops forgotten entries, then any without a pending delay, when
// the table is full.
func (l *limiter) evict(now time.Time) {
	if len(l.m) < maxTracked {
		return
	}
	for k, s := range l.m {
		if now.Sub(s.last) > l.forgetting && !now.Before(s.until) {
			delete(l.m, k)
		}
	}
	for k, s := range l.m {
		if len(l.m) < maxTracked {
			return
		}
		if !now.Before(s.until) {
			delete(l.m, k)
		}
	}
}
