// Package retry is the small retry loop used for token endpoints: GitHub's
// installation lookup and token minting, and OAuth client-credentials
// grants. Those calls are safe to repeat: a repeated lookup reads the same
// thing and a repeated mint only issues another short-lived token.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy says how often and how patiently to retry. The zero value gives
// the defaults.
type Policy struct {
	// MaxAttempts is the number of attempts in all; default 4. 1 disables
	// retries.
	MaxAttempts int
	// MinBackoff is the wait before the second attempt; it doubles for
	// each later one, with jitter, up to MaxBackoff. Defaults 250ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// AttemptTimeout bounds each attempt, so that an endpoint that hangs is
	// tried again while the caller's context allows; default 20s.
	AttemptTimeout time.Duration
}

// Defaults.
const (
	DefaultMaxAttempts    = 4
	DefaultMinBackoff     = 250 * time.Millisecond
	DefaultMaxBackoff     = 5 * time.Second
	DefaultAttemptTimeout = 20 * time.Second
)

func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = DefaultMinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = DefaultAttemptTimeout
	}
	return p
}

// Attempt makes one try. It returns retry=true for a failure worth another
// try (a network error, a 5xx), and optionally how long the server asked
// to wait (Retry-After; 0: use the backoff). A wait longer than MaxBackoff
// ends the loop with err, which should then say when to come back.
type Attempt func(ctx context.Context) (retry bool, wait time.Duration, err error)

// Do runs attempt until it succeeds, fails for good, runs out of attempts,
// or ctx ends. An attempt that ran out of its own AttemptTimeout while ctx
// is still live counts as retryable. Do does not sleep past ctx's deadline:
// when the next wait would end after it, Do returns the last error at once.
// When ctx ends, Do returns the last attempt's error, or ctx's error if no
// attempt finished; ctxErr converts ctx's error (it is only called then).
func (p Policy) Do(ctx context.Context, ctxErr func(context.Context) error, attempt Attempt) error {
	p = p.withDefaults()
	backoff := p.MinBackoff
	var last error
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			if last != nil {
				return last
			}
			return ctxErr(ctx)
		}
		actx, cancel := context.WithTimeout(ctx, p.AttemptTimeout)
		retry, wait, err := attempt(actx)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// The caller's context ended during this attempt: report the
			// previous attempt's failure, or the context's, rather than the
			// transport error the cancellation caused.
			if last != nil {
				return last
			}
			return ctxErr(ctx)
		}
		last = err
		if !(retry || timedOut) || n >= p.MaxAttempts {
			return last
		}
		if wait > p.MaxBackoff {
			return last // the server asks for a longer wait than we allow
		}
		if wait <= 0 {
			// Equal jitter: half fixed, half random.
			wait = backoff/2 + rand.N(backoff/2+1)
		}
		backoff = min(backoff*2, p.MaxBackoff)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return last
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return last
		case <-t.C:
		}
	}
}
