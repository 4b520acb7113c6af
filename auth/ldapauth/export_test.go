package ldapauth

import "time"

// Limiter is the in-process back-off, for the external tests that compare
// an AttemptStore with it.
type Limiter struct{ l *limiter }

// NewLimiter returns the in-process back-off of p.
func NewLimiter(p BackoffPolicy) Limiter { return Limiter{newLimiter(p.Free, p.Base, p.Max)} }

// Begin, Fail and Succeed are the limiter's.
func (l Limiter) Begin(key string, now time.Time) (time.Time, bool) { return l.l.begin(key, now) }
func (l Limiter) Fail(key string, now time.Time)                    { l.l.fail(key, now) }
func (l Limiter) Succeed(key string, reset bool)                    { l.l.succeed(key, reset) }
