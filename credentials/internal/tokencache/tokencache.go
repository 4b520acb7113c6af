// Package tokencache is the keyed, expiring, single-flight cache behind
// credentials.Cached, the user token source, the Bitbucket Cloud OAuth
// consumer and githubapp's installation and token caches.
//
// A lookup of a fresh entry takes one mutex and one map access and does not
// allocate. A miss runs the fetch function once per key however many callers
// ask at the same time (golang.org/x/sync/singleflight), outside the mutex,
// so one slow key never blocks another. Every caller waits on its own
// context: a caller whose context ends returns at once, and the others keep
// waiting for the fetch. If the context that drove the fetch ends first, the
// callers still waiting start another fetch, unless the cache is
// [Cache.Detached]: then the fetch runs to its end regardless and its
// result, success or failure, goes to every caller still waiting.
//
// A cache can also share its values with other processes through a
// [Store] ([Cache.Share]): on a local miss it reads the store, and when the
// store has nothing fresh one process takes a short lease on the key,
// fetches and writes the value (fenced), while the others wait for it or
// take the lease over when it lapses. A store that fails is bypassed: the
// cache fetches as it would alone.
package tokencache

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/scmkit/scmkit/errcode"
)

// Cache maps keys to values that expire. The zero value is not usable; call
// [New].
type Cache[K comparable, V any] struct {
	op        string
	now       func() time.Time
	margin    time.Duration
	flightKey func(K) string

	mu    sync.Mutex
	m     map[K]entry[V]
	sweep int // sweep stale entries when len(m) reaches this

	g singleflight.Group

	share *Sharing[K, V] // see Share; nil: this process only

	// Abandoned, if set, builds the error returned to a caller whose
	// context ends while it waits for a fetch; by default an
	// *errcode.Error with the op and the context's code.
	Abandoned func(ctx context.Context, key K) error

	// Detached, if set, runs every fetch under context.WithoutCancel of
	// the starting caller's context, so that it runs to its end (the
	// fetch must bound itself, e.g. with a timeout) even when every caller
	// has stopped waiting, and hands its result, success or failure, to
	// every caller still waiting: a failure is never taken for the
	// starting caller giving up, and no caller starts another fetch
	// because of it. Set it for fetches that must not be repeated once
	// sent (a refresh with a rotating refresh token). Unset, a fetch gets
	// the starting caller's context, and when that context ends the
	// callers still waiting start another fetch. Set it before the first
	// Get.
	Detached bool

	// Timeout, if set, bounds a Detached fetch, the waits for another
	// process's value in a shared store included: its context ends that
	// long after it starts, whoever waits for it. Set it before the
	// first Get.
	Timeout time.Duration
}

type entry[V any] struct {
	v       V
	err     error     // a remembered failure (see Remember); v is the zero value
	renewAt time.Time // fetch again from this instant; zero: never
	expiry  time.Time // v stops working at this instant; zero: never
}

// New returns an empty cache. op names the operation in the errors returned
// when a caller's context ends; now is the clock (nil: time.Now); margin is
// how long before its expiry a value is renewed (capped at half the value's
// remaining lifetime when it is stored, so a short-lived value is not
// fetched on every call); flightKey turns a key into the string that
// singleflight needs and is only called on a miss.
func New[K comparable, V any](op string, now func() time.Time, margin time.Duration, flightKey func(K) string) *Cache[K, V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[K, V]{op: op, now: now, margin: margin, flightKey: flightKey, m: make(map[K]entry[V])}
}

// negative marks an error that the cache remembers until a given time.
type negative struct {
	err   error
	until time.Time
}

func (n *negative) Error() string { return n.err.Error() }
func (n *negative) Unwrap() error { return n.err }

// Remember wraps err so that the cache stores it for the key until until:
// callers get err back without a fetch until then. Use it for answers that
// will not change soon ("this app is not installed for that owner").
func Remember(err error, until time.Time) error { return &negative{err: err, until: until} }

// leaderGone is the result of a fetch that stopped because the context of
// the caller that started it ended; the other callers fetch again. A
// [Cache.Detached] cache never produces it.
type leaderGone struct{ err error }

func (l *leaderGone) Error() string { return l.err.Error() }

// Fetch produces the value for a key, and when it stops working (zero:
// never). It is given the context of the caller that started the fetch, or
// for a [Cache.Detached] cache that context without its cancellation.
type Fetch[V any] func(ctx context.Context) (v V, expiry time.Time, err error)

// Peek returns the fresh value (or remembered error) for key, without
// fetching. ok is false when there is none.
func (c *Cache[K, V]) Peek(key K) (v V, err error, ok bool) {
	return c.PeekAt(key, c.now())
}

// PeekAt is Peek at a given time, for callers that read the clock once for
// several lookups (the clock can be the slowest part of a cached lookup).
func (c *Cache[K, V]) PeekAt(key K, now time.Time) (v V, err error, ok bool) {
	c.mu.Lock()
	e, found := c.m[key]
	c.mu.Unlock()
	if !found || (!e.renewAt.IsZero() && !now.Before(e.renewAt)) {
		return v, nil, false
	}
	return e.v, e.err, true
}

// Get returns the value for key, fetching it if the cache has none, or has
// one that is due for renewal or a remembered error that has lapsed.
func (c *Cache[K, V]) Get(ctx context.Context, key K, fetch Fetch[V]) (V, error) {
	if v, err, ok := c.Peek(key); ok {
		return v, err
	}
	return c.fetch(ctx, key, fetch)
}

func (c *Cache[K, V]) fetch(ctx context.Context, key K, fetch Fetch[V]) (V, error) {
	var zero V
	fk := c.flightKey(key)
	for {
		ch := c.g.DoChan(fk, func() (any, error) {
			// Another flight may have stored the value after our Peek and
			// before this flight started.
			if v, err, ok := c.Peek(key); ok {
				return v, err
			}
			fctx := ctx
			if c.Detached {
				fctx = context.WithoutCancel(ctx)
				if c.Timeout > 0 {
					var cancel context.CancelFunc
					fctx, cancel = context.WithTimeout(fctx, c.Timeout)
					defer cancel()
				}
			}
			var v V
			var expiry time.Time
			var err error
			if c.share != nil {
				v, expiry, err = c.sharedFetch(fctx, key, fetch)
			} else {
				v, expiry, err = fetch(fctx)
			}
			if err == nil {
				c.Set(key, v, expiry)
				return v, nil
			}
			var neg *negative
			if errors.As(err, &neg) {
				c.store(key, entry[V]{err: neg.err, renewAt: neg.until})
				return zero, neg.err
			}
			// Only a fetch that ran under ctx can have been cut short by
			// it; a detached one failed on its own, and fetching again
			// would repeat what it already sent.
			if !c.Detached && ctx.Err() != nil {
				return zero, &leaderGone{err: err}
			}
			return zero, err
		})
		select {
		case <-ctx.Done():
			return zero, c.abandoned(ctx, key)
		case res := <-ch:
			var lg *leaderGone
			if errors.As(res.Err, &lg) {
				if ctx.Err() == nil {
					continue // the caller driving the fetch gave up; we have not
				}
				return zero, c.abandoned(ctx, key)
			}
			if res.Err != nil {
				return zero, res.Err
			}
			v, _ := res.Val.(V)
			return v, nil
		}
	}
}

func (c *Cache[K, V]) abandoned(ctx context.Context, key K) error {
	if c.Abandoned != nil {
		return c.Abandoned(ctx, key)
	}
	return errcode.FromContext(ctx, c.op)
}

// Set stores v for key until it is due for renewal: margin before expiry,
// or half its remaining lifetime if that is shorter. A zero expiry never
// expires.
func (c *Cache[K, V]) Set(key K, v V, expiry time.Time) {
	e := entry[V]{v: v, expiry: expiry}
	if !expiry.IsZero() {
		now := c.now()
		margin := c.margin
		if half := expiry.Sub(now) / 2; half < margin {
			margin = max(half, 0)
		}
		e.renewAt = expiry.Add(-margin)
	}
	c.store(key, e)
}

// Seed stores v for key like Set, but for a value of unknown age (a token
// handed in from elsewhere): it is due for renewal the full margin before
// expiry, without Set's allowance for short-lived values.
func (c *Cache[K, V]) Seed(key K, v V, expiry time.Time) {
	e := entry[V]{v: v, expiry: expiry}
	if !expiry.IsZero() {
		e.renewAt = expiry.Add(-c.margin)
	}
	c.store(key, e)
}

// store adds e, first dropping every stale entry if the map has doubled
// since the last sweep, so that keys that are never asked for again (owners
// from one-off URLs) do not pile up.
func (c *Cache[K, V]) store(key K, e entry[V]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.sweep && len(c.m) >= minSweep {
		now := c.now()
		for k, old := range c.m {
			if !old.renewAt.IsZero() && !now.Before(old.renewAt) {
				delete(c.m, k)
			}
		}
		c.sweep = 2 * len(c.m)
	}
	c.m[key] = e
}

// minSweep is the size below which the map is never swept.
const minSweep = 64

// Delete drops key's entry, from the shared store too if the cache has
// one.
func (c *Cache[K, V]) Delete(key K) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
	c.unshare([]K{key})
}

// DeleteFunc drops every entry holding a value for which del returns true,
// from the shared store too if the cache has one, and reports how many it
// dropped. Remembered errors are not offered.
func (c *Cache[K, V]) DeleteFunc(del func(K, V) bool) int {
	var keys []K
	c.mu.Lock()
	for k, e := range c.m {
		if e.err == nil && del(k, e.v) {
			delete(c.m, k)
			keys = append(keys, k)
		}
	}
	c.mu.Unlock()
	c.unshare(keys)
	return len(keys)
}
