// Package warnlimit bounds how often a degradation is logged: a token
// endpoint that is rate-limited or down fails every call that needs it,
// and one Warn record per call would flood the log of a busy portal.
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
