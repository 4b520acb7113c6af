package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// DefaultMirrorSize is how many session records a [SessionStore] keeps in
// its process besides Redis, by default.
const DefaultMirrorSize = 10_000

// SessionStore is an auth.SessionStore in Redis, shared by every replica:
// versions, compare-and-swap and fenced leases hold across replicas
// (each is one Lua script, atomic in Redis). Get it from [Store.Sessions].
//
// Records arrive sealed by auth (AES-GCM), so Redis holds no token in
// clear. Versions and fencing tokens come from Redis's clock in
// microseconds, raised above the last one given, so they keep increasing
// across a FLUSHALL or a restart without persistence.
//
// # When Redis fails
//
// The store keeps, in the process, a mirror of the records this replica
// wrote or read (at most Options.MirrorSize, default 10,000; records
// written while Redis was down are never evicted). When Redis is down or
// slow, reads are answered from the mirror and writes, leases and fenced
// writes go to the mirror: a refresh token rotated during an outage is
// kept, never lost. Records written during the outage (and deletions, so
// that a sign-out sticks) are pushed to Redis as soon as it answers again,
// by a goroutine that ends when nothing is left to push (or the Store is
// closed), and never over a newer version. After Redis lost its data (FLUSHALL, or a restart without
// persistence, detected by an epoch key), a record that Redis no longer
// has but the mirror does is written back on its next read.
//
// The cost: while Redis is down, replicas do not see each other's writes,
// so two replicas may both refresh one user's token (the second refresh
// of a rotating token fails and that replica's user must sign in again).
// A session signed out before Redis lost its data may come back from the
// mirror of a replica that wrote it, until the session's own expiry.
type SessionStore struct {
	s   *Store
	max int

	mu      sync.Mutex
	mirror  map[string]*mrec
	held    map[string]auth.Lease // leases this replica holds, by name
	last    int64                 // last version or fence given locally
	dirty   int
	pushing bool
}

type mrec struct {
	data    []byte
	version int64
	expires time.Time // zero: never
	epoch   string    // Redis's epoch when this was last seen there; "" if never
	dirty   bool      // written (or deleted, with gone) while Redis was down
	gone    bool      // a deletion to push
}

// SessionOptions tunes [Store.Sessions]. A nil *SessionOptions gives the
// defaults.
type SessionOptions struct {
	// MirrorSize caps the records kept in the process; default
	// DefaultMirrorSize.
	MirrorSize int
}

var _ auth.SessionStore = (*SessionStore)(nil)

// Sessions returns the auth.SessionStore of s. Make one per process and
// share it.
func (s *Store) Sessions(opts *SessionOptions) *SessionStore {
	ss := &SessionStore{s: s, max: DefaultMirrorSize, mirror: map[string]*mrec{}, held: map[string]auth.Lease{}}
	if opts != nil && opts.MirrorSize > 0 {
		ss.max = opts.MirrorSize
	}
	return ss
}

// newEpoch returns a fresh random epoch, to set if Redis has none: a new
// one each time, so that an epoch set after Redis lost its data never
// equals one set before.
func newEpoch() string {
	var b [12]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand does not fail
	return hex.EncodeToString(b[:])
}

// nextVersion is Lua that sets v/vs to a new version from KEYS[n].
func nextVersion(n int) string {
	k := "KEYS[" + strconv.Itoa(n) + "]"
	return `
local t = redis.call('TIME')
local v = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', ` + k + `) or '0')
if v <= last then v = last + 1 end
local vs = string.format('%.0f', v)
redis.call('SET', ` + k + `, vs)
`
}

// writeRec is Lua that writes ARGV[1] (data) for ARGV[2] ms at KEYS[1],
// and returns the version and Redis's epoch (KEYS[#KEYS], set to
// ARGV[#ARGV] if unset).
const writeRec = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', vs, 'd', ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local e = redis.call('GET', KEYS[#KEYS])
if not e then e = ARGV[#ARGV]; redis.call('SET', KEYS[#KEYS], e) end
return {v, e}
`

// The write scripts' last key is the epoch and their last argument this
// process's candidate epoch.
var (
	// KEYS: record, version counter. ARGV: data, ttl ms.
	putScript = redis.NewScript(nextVersion(2) + writeRec)
	// KEYS: record, version counter. ARGV: data, ttl ms, version.
	casScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v')
if not cur then return -1 end
if cur ~= ARGV[3] then return -2 end
` + nextVersion(2) + writeRec)
	// KEYS: record, version counter, lease. ARGV: data, ttl ms, fence.
	putFencedScript = redis.NewScript(`
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return -2 end
` + nextVersion(2) + writeRec)
	// KEYS: record, version counter. ARGV: data, ttl ms, version: writes
	// unless Redis holds a newer version. Returns 0 when it did not.
	pushScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur > tonumber(ARGV[3]) then return 0 end
` + nextVersion(2) + writeRec)
)

func (ss *SessionStore) recKey(key string) string    { return ss.s.key("s", key) }
func (ss *SessionStore) verKey() string              { return ss.s.key("sv") }
func (ss *SessionStore) leaseKey(name string) string { return ss.s.key("sl", name) }
func (ss *SessionStore) fenceKey(name string) string { return ss.s.key("sf", name) }
func (ss *SessionStore) epochKey() string            { return ss.s.key("sepoch") }

// unavailable reports whether err means Redis failed (not the caller's
// context, not a refusal).
func unavailable(err error) bool {
	return err != nil && err != redis.Nil && errcode.CodeOf(err) == errcode.Unavailable
}

func expiryOf(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// Get returns the record under key.
func (ss *SessionStore) Get(ctx context.Context, key string) (auth.Record, error) {
	const op = "redisstore.SessionStore.Get"
	var vals []any
	var epoch string
	err := ss.s.do(ctx, op, func(ctx context.Context) error {
		pipe := ss.s.rdb.Pipeline()
		hm := pipe.HMGet(ctx, ss.recKey(key), "v", "d")
		ep := pipe.Get(ctx, ss.epochKey())
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return err
		}
		vals, epoch = hm.Val(), ep.Val()
		if epoch == "" {
			// First use, or Redis lost its data.
			if err := ss.s.rdb.SetNX(ctx, ss.epochKey(), newEpoch(), 0).Err(); err != nil {
				return err
			}
			var err error
			epoch, err = ss.s.rdb.Get(ctx, ss.epochKey()).Result()
			return err
		}
		return nil
	})
	if unavailable(err) {
		if r, ok := ss.fromMirror(key); ok {
			return r, nil
		}
		return auth.Record{}, err
	}
	if err != nil {
		return auth.Record{}, err
	}
	ver, data, found := parseRec(vals)
	ss.mu.Lock()
	m := ss.live(key)
	ss.mu.Unlock()
	switch {
	case m != nil && m.dirty:
		// Written here while Redis was down: that is the newer state,
		// unless another replica wrote a newer version since.
		if !found || ver < m.version {
			return ss.push(ctx, key)
		}
	case !found && m != nil && !m.gone && m.epoch != "" && m.epoch != epoch:
		// Redis lost its data since this replica last saw the record
		// there: write it back.
		ss.mu.Lock()
		m.dirty = true
		ss.dirty++
		ss.mu.Unlock()
		return ss.push(ctx, key)
	}
	if !found {
		ss.forget(key)
		return auth.Record{}, errcode.New(errcode.NotFound, op, "no such session")
	}
	ss.remember(key, data, ver, time.Time{}, epoch, false, true)
	return auth.Record{Data: data, Version: ver}, nil
}

// push writes key's dirty mirror record to Redis and returns it as Redis
// now has it.
func (ss *SessionStore) push(ctx context.Context, key string) (auth.Record, error) {
	if err := ss.pushOne(ctx, key); err != nil && unavailable(err) {
		if r, ok := ss.fromMirror(key); ok {
			return r, nil
		}
	}
	if r, ok := ss.fromMirror(key); ok {
		return r, nil
	}
	return auth.Record{}, errcode.New(errcode.NotFound, "redisstore.SessionStore.Get", "no such session")
}

func parseRec(vals []any) (version int64, data []byte, ok bool) {
	if len(vals) != 2 {
		return 0, nil, false
	}
	vs, ok1 := vals[0].(string)
	ds, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return 0, nil, false
	}
	v, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		return 0, nil, false
	}
	return v, []byte(ds), true
}

// Put writes data under key.
func (ss *SessionStore) Put(ctx context.Context, key string, data []byte, ttl time.Duration) (int64, error) {
	const op = "redisstore.SessionStore.Put"
	v, epoch, err := ss.run(ctx, op, putScript, []string{ss.recKey(key), ss.verKey()}, data, ms(max(ttl, 0)))
	if unavailable(err) {
		return ss.writeLocal(key, data, ttl), nil
	}
	if err != nil {
		return 0, err
	}
	ss.remember(key, data, v, expiryOf(ss.s.now(), ttl), epoch, false, false)
	return v, nil
}

// CompareAndSwap writes data under key if its version is version.
func (ss *SessionStore) CompareAndSwap(ctx context.Context, key string, version int64, data []byte, ttl time.Duration) (int64, error) {
	const op = "redisstore.SessionStore.CompareAndSwap"
	v, epoch, err := ss.run(ctx, op, casScript, []string{ss.recKey(key), ss.verKey()}, data, ms(max(ttl, 0)), strconv.FormatInt(version, 10))
	if unavailable(err) {
		ss.mu.Lock()
		m := ss.live(key)
		ss.mu.Unlock()
		switch {
		case m == nil:
			return 0, err // unknown here: cannot decide
		case m.version != version:
			return 0, errcode.New(errcode.Conflict, op, "the session changed since it was read")
		}
		return ss.writeLocal(key, data, ttl), nil
	}
	if err != nil {
		return 0, err
	}
	switch v {
	case -1:
		return 0, errcode.New(errcode.NotFound, op, "no such session")
	case -2:
		return 0, errcode.New(errcode.Conflict, op, "the session changed since it was read")
	}
	ss.remember(key, data, v, expiryOf(ss.s.now(), ttl), epoch, false, false)
	return v, nil
}

// Delete removes key.
func (ss *SessionStore) Delete(ctx context.Context, key string) error {
	const op = "redisstore.SessionStore.Delete"
	err := ss.s.do(ctx, op, func(ctx context.Context) error { return ss.s.rdb.Del(ctx, ss.recKey(key)).Err() })
	if unavailable(err) {
		// Deleted here now, in Redis when it is back, so that a sign-out
		// sticks.
		ss.mu.Lock()
		m := ss.mirror[key]
		if m == nil || !m.dirty {
			ss.dirty++
		}
		ss.mirror[key] = &mrec{gone: true, dirty: true, version: ss.nextLocal()}
		ss.startPush()
		ss.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	ss.forget(key)
	return nil
}

// Acquire takes the lease on name if it is free.
func (ss *SessionStore) Acquire(ctx context.Context, name string, ttl time.Duration) (auth.Lease, error) {
	const op = "redisstore.SessionStore.Acquire"
	if ttl <= 0 {
		return auth.Lease{}, errcode.New(errcode.InvalidArgument, op, "a lease needs a positive ttl")
	}
	now := ss.s.now()
	var fence int64
	err := ss.s.do(ctx, op, func(ctx context.Context) error {
		var err error
		fence, err = leaseScript.Run(ctx, ss.s.rdb, []string{ss.leaseKey(name), ss.fenceKey(name)}, ms(ttl)).Int64()
		return err
	})
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if unavailable(err) {
		// Redis is down: the lease is this process's only. Another
		// replica may refresh too; see the type's documentation.
		if l, ok := ss.held[name]; ok && now.Before(l.Expires) {
			return auth.Lease{}, errcode.New(errcode.Conflict, op, "the lease is held")
		}
		fence = ss.nextLocal()
	} else if err != nil {
		return auth.Lease{}, err
	} else if fence == 0 {
		return auth.Lease{}, errcode.New(errcode.Conflict, op, "the lease is held")
	}
	l := auth.Lease{Name: name, Fence: fence, Expires: now.Add(ttl)}
	ss.held[name] = l
	return l, nil
}

// Release frees lease if it is still held.
func (ss *SessionStore) Release(ctx context.Context, lease auth.Lease) error {
	const op = "redisstore.SessionStore.Release"
	ss.mu.Lock()
	if l, ok := ss.held[lease.Name]; ok && l.Fence == lease.Fence {
		delete(ss.held, lease.Name)
	}
	ss.mu.Unlock()
	err := ss.s.do(ctx, op, func(ctx context.Context) error {
		return releaseScript.Run(ctx, ss.s.rdb, []string{ss.leaseKey(lease.Name)}, strconv.FormatInt(lease.Fence, 10)).Err()
	})
	if unavailable(err) {
		return nil // the lease lapses in Redis on its own
	}
	return err
}

// PutFenced writes data under key while lease is held.
func (ss *SessionStore) PutFenced(ctx context.Context, lease auth.Lease, key string, data []byte, ttl time.Duration) (int64, error) {
	const op = "redisstore.SessionStore.PutFenced"
	v, epoch, err := ss.run(ctx, op, putFencedScript, []string{ss.recKey(key), ss.verKey(), ss.leaseKey(lease.Name)},
		data, ms(max(ttl, 0)), strconv.FormatInt(lease.Fence, 10))
	if unavailable(err) {
		// Redis failed between the lease and this write, and the
		// provider may already have rotated the refresh token in data:
		// keep it here, and push it when Redis is back.
		ss.mu.Lock()
		l, ok := ss.held[lease.Name]
		ss.mu.Unlock()
		if !ok || l.Fence != lease.Fence || !ss.s.now().Before(l.Expires) {
			return 0, errcode.New(errcode.Conflict, op, "the lease was lost")
		}
		return ss.writeLocal(key, data, ttl), nil
	}
	if err != nil {
		return 0, err
	}
	if v == -2 {
		return 0, errcode.New(errcode.Conflict, op, "the lease was lost")
	}
	ss.remember(key, data, v, expiryOf(ss.s.now(), ttl), epoch, false, false)
	return v, nil
}

// run runs a write script, with the epoch key and candidate appended, and
// returns the version it wrote (or its negative refusal code) and Redis's
// epoch.
func (ss *SessionStore) run(ctx context.Context, op string, sc *redis.Script, keys []string, args ...any) (v int64, epoch string, err error) {
	keys = append(keys, ss.epochKey())
	args = append(args, newEpoch())
	err = ss.s.do(ctx, op, func(ctx context.Context) error {
		res, err := sc.Run(ctx, ss.s.rdb, keys, args...).Result()
		if err != nil {
			return err
		}
		v, epoch = parseWrite(res)
		return nil
	})
	return v, epoch, err
}

// parseWrite reads a write script's answer: {version, epoch}, or a
// negative refusal code.
func parseWrite(res any) (int64, string) {
	switch r := res.(type) {
	case int64:
		return r, ""
	case []any:
		if len(r) == 2 {
			v, _ := r[0].(int64)
			e, _ := r[1].(string)
			return v, e
		}
	}
	return -3, ""
}

// nextLocal returns a version or fence from this process's clock, above
// every one it gave; the caller holds ss.mu.
func (ss *SessionStore) nextLocal() int64 {
	v := ss.s.now().UnixMicro()
	if v <= ss.last {
		v = ss.last + 1
	}
	ss.last = v
	return v
}

// writeLocal writes a record to the mirror only, to push later.
func (ss *SessionStore) writeLocal(key string, data []byte, ttl time.Duration) int64 {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	v := ss.nextLocal()
	m := ss.mirror[key]
	if m == nil || !m.dirty {
		ss.dirty++
	}
	ss.mirror[key] = &mrec{data: append([]byte(nil), data...), version: v, expires: expiryOf(ss.s.now(), ttl), dirty: true}
	ss.startPush()
	return v
}

// remember keeps a clean copy of what Redis holds. keepExpiry keeps the
// mirror's expiry (a Get does not learn the TTL).
func (ss *SessionStore) remember(key string, data []byte, version int64, expires time.Time, epoch string, dirty, keepExpiry bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if version > ss.last {
		ss.last = version
	}
	old := ss.mirror[key]
	if old != nil && old.dirty {
		return // pushed later; Redis's copy is older
	}
	if keepExpiry {
		if old == nil {
			// A record this replica only read: its TTL is unknown here,
			// so it is mirrored for a bounded time.
			expires = ss.s.now().Add(time.Hour)
		} else {
			expires = old.expires
		}
	}
	if epoch == "" && old != nil {
		epoch = old.epoch
	}
	if old == nil && len(ss.mirror) >= ss.max {
		ss.evict()
	}
	ss.mirror[key] = &mrec{data: append([]byte(nil), data...), version: version, expires: expires, epoch: epoch, dirty: dirty}
}

// evict drops expired and clean records to make room; the caller holds
// ss.mu.
func (ss *SessionStore) evict() {
	now := ss.s.now()
	n := 0
	for k, m := range ss.mirror {
		if m.dirty {
			continue
		}
		if (!m.expires.IsZero() && !now.Before(m.expires)) || n < ss.max/10+1 {
			delete(ss.mirror, k)
			n++
		}
	}
}

func (ss *SessionStore) forget(key string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if m := ss.mirror[key]; m != nil && !m.dirty {
		delete(ss.mirror, key)
	}
}

// live returns key's mirror record if it has not expired; the caller holds
// ss.mu.
func (ss *SessionStore) live(key string) *mrec {
	m := ss.mirror[key]
	if m == nil {
		return nil
	}
	if !m.expires.IsZero() && !ss.s.now().Before(m.expires) {
		if m.dirty {
			ss.dirty--
		}
		delete(ss.mirror, key)
		return nil
	}
	return m
}

func (ss *SessionStore) fromMirror(key string) (auth.Record, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	m := ss.live(key)
	if m == nil || m.gone {
		return auth.Record{}, false
	}
	return auth.Record{Data: append([]byte(nil), m.data...), Version: m.version}, true
}

// startPush starts the goroutine that pushes dirty records once Redis
// answers; the caller holds ss.mu.
func (ss *SessionStore) startPush() {
	if ss.pushing || ss.dirty == 0 {
		return
	}
	ss.pushing = true
	go ss.pushLoop()
}

func (ss *SessionStore) pushLoop() {
	wait := ss.s.h.first
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*ss.s.timeout)
		left := ss.pushAll(ctx)
		cancel()
		ss.mu.Lock()
		if left == 0 || ss.dirty == 0 {
			ss.pushing = false
			ss.mu.Unlock()
			return
		}
		ss.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ss.s.closed:
			t.Stop()
			ss.mu.Lock()
			ss.pushing = false
			ss.mu.Unlock()
			return
		}
		wait = min(wait*2, MaxRetryAfter)
	}
}

// pushAll pushes every dirty record and returns how many are left.
func (ss *SessionStore) pushAll(ctx context.Context) int {
	ss.mu.Lock()
	var keys []string
	for k, m := range ss.mirror {
		if m.dirty {
			keys = append(keys, k)
		}
	}
	ss.mu.Unlock()
	left := 0
	for _, k := range keys {
		if err := ss.pushOne(ctx, k); err != nil {
			left++
		}
	}
	return left
}

// pushOne writes key's dirty record (or deletion) to Redis, unless Redis
// holds a newer version.
func (ss *SessionStore) pushOne(ctx context.Context, key string) error {
	const op = "redisstore.SessionStore.push"
	ss.mu.Lock()
	m := ss.live(key)
	if m == nil || !m.dirty {
		ss.mu.Unlock()
		return nil
	}
	cp := *m
	ss.mu.Unlock()
	var v int64
	var epoch string
	var err error
	if cp.gone {
		err = ss.s.do(ctx, op, func(ctx context.Context) error { return ss.s.rdb.Del(ctx, ss.recKey(key)).Err() })
	} else {
		var ttl time.Duration
		if !cp.expires.IsZero() {
			ttl = max(cp.expires.Sub(ss.s.now()), time.Millisecond)
		}
		v, epoch, err = ss.run(ctx, op, pushScript, []string{ss.recKey(key), ss.verKey()}, cp.data, ms(ttl), strconv.FormatInt(cp.version, 10))
	}
	if err != nil {
		return err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	cur := ss.mirror[key]
	if cur == nil || cur.version != cp.version || !cur.dirty {
		return nil // changed meanwhile; the next push handles it
	}
	ss.dirty--
	switch {
	case cp.gone || v <= 0:
		delete(ss.mirror, key) // deleted, or Redis had newer: read it from there
	default:
		cur.dirty, cur.version, cur.epoch = false, v, epoch
	}
	return nil
}
