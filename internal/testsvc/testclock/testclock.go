// Package testclock is the hand-moved clock that scmkit's tests inject
// wherever the library takes a clock (an Options.Now, say), so that expiry,
// renewal and back-off are tested without sleeping. It is for tests only.
package testclock

import (
	"sync"
	"time"
)

// Clock is a clock that stands still until Advance moves it. It is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a Clock that shows t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time. Pass the method value (clk.Now) where the
// library takes a func() time.Time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock d forward (backward when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
