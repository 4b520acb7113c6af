package tokencache

import (
	"context"
	"encoding/json"
	"time"
)

// Store is a store shared by several processes (replicas of one service),
// behind the process-local cache. credentials.SharedStore is this
// interface; see its documentation for the contract.
type Store interface {
	Load(ctx context.Context, key string) ([]byte, bool, error)
	Lease(ctx context.Context, key string, ttl time.Duration) (fence int64, err error)
	Save(ctx context.Context, key string, value []byte, ttl time.Duration, fence int64, secret bool) (bool, error)
	Release(ctx context.Context, key string, fence int64) error
	Delete(ctx context.Context, key string) error
}

// Defaults of [Sharing].
const (
	DefaultLease     = 10 * time.Second
	defaultPollFirst = 5 * time.Millisecond
	defaultPollMax   = 100 * time.Millisecond
	storeTimeout     = 2 * time.Second // bound on a store call made after the caller gave up
)

// Sharing makes a Cache share its values through a Store: on a local miss
// the cache looks in the store; if the store has no fresh value, one
// process takes the key's lease and fetches, and the others wait for the
// value it writes (polling), or take the lease over when it lapses. Any
// store failure makes the cache fetch on its own, as it would without a
// store: the store saves requests, it is never needed for a right answer.
type Sharing[K comparable, V any] struct {
	Store Store
	// Key names the value of k in the store; it must be unique across
	// every cache sharing the store.
	Key func(K) string
	// Encode and Decode turn a value into bytes and back.
	Encode func(V) ([]byte, error)
	Decode func([]byte) (V, error)
	// Secret says the values are secrets: the store encrypts them.
	Secret bool
	// Lease is how long a fetching process holds the key; default
	// DefaultLease. A process that dies holding it delays the others by
	// at most this long.
	Lease time.Duration
	// Failed, if set, is told of each store failure the cache works
	// around (what: "reading", "leasing" or "writing"), so that it can be
	// logged; err is the store's error. It must not block.
	Failed func(ctx context.Context, what string, err error)
}

// failed reports a store failure to Failed, if set.
func (s *Sharing[K, V]) failed(ctx context.Context, what string, err error) {
	if s.Failed != nil {
		s.Failed(ctx, what, err)
	}
}

// Share makes c share its values through s (see [Sharing]). Call it before
// the first Get.
func (c *Cache[K, V]) Share(s *Sharing[K, V]) {
	if s == nil || s.Store == nil {
		c.share = nil
		return
	}
	cp := *s
	if cp.Lease <= 0 {
		cp.Lease = DefaultLease
	}
	c.share = &cp
}

// OnShareFailure sets the Failed function of the cache's sharing (see
// [Sharing]); it does nothing for a cache that shares nothing. Call it
// before the first Get.
func (c *Cache[K, V]) OnShareFailure(f func(ctx context.Context, what string, err error)) {
	if c.share != nil {
		c.share.Failed = f
	}
}

// Shared reports whether the cache shares its values through a store.
func (c *Cache[K, V]) Shared() bool { return c.share != nil }

// envelope is what the store holds: the value, when it stops working and
// when it is due for renewal (computed once by the process that fetched
// it, so that every process renews at the same moment and one of them
// does).
type envelope struct {
	Value   []byte `json:"v"`
	Expiry  int64  `json:"e,omitempty"` // unix nanoseconds; 0: never
	RenewAt int64  `json:"r,omitempty"` // unix nanoseconds; 0: never
}

// sharedFetch is fetch through the store.
func (c *Cache[K, V]) sharedFetch(ctx context.Context, key K, fetch Fetch[V]) (V, time.Time, error) {
	sh := c.share
	sk := sh.Key(key)
	poll := defaultPollFirst
	for {
		if v, exp, ok, err := c.load(ctx, sk); err != nil {
			if ctx.Err() == nil {
				sh.failed(ctx, "reading", err)
			}
			return fetch(ctx)
		} else if ok {
			return v, exp, nil
		}
		fence, err := sh.Store.Lease(ctx, sk, sh.Lease)
		if err != nil {
			if ctx.Err() == nil {
				sh.failed(ctx, "leasing", err)
			}
			return fetch(ctx)
		}
		if fence > 0 {
			// The previous holder may have written the value and
			// released the lease between our load and our lease.
			if v, exp, ok, err := c.load(ctx, sk); err == nil && ok {
				c.share.Store.Release(ctx, sk, fence) //nolint:errcheck // the lease lapses on its own
				return v, exp, nil
			}
			return c.fetchAndSave(ctx, sk, fence, fetch)
		}
		// Another process is fetching: wait for its value, or for its
		// lease to lapse.
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			var zero V
			return zero, time.Time{}, ctx.Err()
		case <-t.C:
		}
		poll = min(poll*2, defaultPollMax)
	}
}

// load returns the store's value for sk if it is fresh.
func (c *Cache[K, V]) load(ctx context.Context, sk string) (v V, expiry time.Time, ok bool, err error) {
	b, found, err := c.share.Store.Load(ctx, sk)
	if err != nil || !found {
		return v, time.Time{}, false, err
	}
	var env envelope
	if json.Unmarshal(b, &env) != nil {
		return v, time.Time{}, false, nil // not ours, or from an older version: fetch anew
	}
	now := c.now()
	if env.RenewAt != 0 && !now.Before(time.Unix(0, env.RenewAt)) {
		return v, time.Time{}, false, nil
	}
	v, derr := c.share.Decode(env.Value)
	if derr != nil {
		return v, time.Time{}, false, nil
	}
	if env.Expiry != 0 {
		expiry = time.Unix(0, env.Expiry)
	}
	return v, expiry, true, nil
}

// fetchAndSave fetches as the lease holder and writes the value, fenced,
// before anyone waiting reads it.
func (c *Cache[K, V]) fetchAndSave(ctx context.Context, sk string, fence int64, fetch Fetch[V]) (V, time.Time, error) {
	v, exp, err := fetch(ctx)
	// The write must happen even if the caller has just given up: the
	// others are waiting for it.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err != nil {
		c.share.Store.Release(wctx, sk, fence) //nolint:errcheck // the lease lapses on its own
		return v, exp, err
	}
	if b, eerr := c.share.Encode(v); eerr == nil {
		env := envelope{Value: b}
		ttl := time.Duration(0)
		if !exp.IsZero() {
			renewAt := c.renewAt(exp)
			env.Expiry, env.RenewAt = exp.UnixNano(), renewAt.UnixNano()
			ttl = exp.Sub(c.now())
		}
		if data, merr := json.Marshal(env); merr == nil && (exp.IsZero() || ttl > 0) {
			if _, err := c.share.Store.Save(wctx, sk, data, ttl, fence, c.share.Secret); err != nil {
				// A failed write costs the others a fetch, nothing more.
				c.share.failed(wctx, "writing", err)
			}
			return v, exp, nil
		}
	}
	c.share.Store.Release(wctx, sk, fence) //nolint:errcheck // the lease lapses on its own
	return v, exp, nil
}

// renewAt is when a value expiring at exp, fetched now, is due for
// renewal (see Set).
func (c *Cache[K, V]) renewAt(exp time.Time) time.Time {
	margin := c.margin
	if half := exp.Sub(c.now()) / 2; half < margin {
		margin = max(half, 0)
	}
	return exp.Add(-margin)
}

// unshare drops keys from the store, after they were dropped locally
// because a server rejected their value.
func (c *Cache[K, V]) unshare(keys []K) {
	if c.share == nil || len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	for _, k := range keys {
		c.share.Store.Delete(ctx, c.share.Key(k)) //nolint:errcheck // a failed delete costs one rejected request elsewhere
	}
}
