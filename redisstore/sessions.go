package redisstore

import (
	"context"
	"log/slog"
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

// TombstoneTTL is how long Redis remembers the deletion of a session that
// had no expiry in Redis (or was not there): a record another replica
// wrote during an outage is not pushed over it meanwhile. The deletion of
// a session that had an expiry is remembered until that expiry.
const TombstoneTTL = 24 * time.Hour

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
// wrote or read (at most SessionOptions.MirrorSize, default 10,000;
// records written while Redis was down are never evicted). When Redis is
// down or slow, reads are answered from the mirror and writes, leases and
// fenced writes go to the mirror: a refresh token rotated during an outage
// is kept while Redis keeps its data. So do writes that Redis refuses for
// now while it answers reads (OOM: its memory is full; READONLY: the node
// was demoted by a failover), pushed once it takes them; not a deletion
// Redis refuses, as the other replicas would go on reading the session
// from Redis meanwhile: then Delete fails. Records written during the
// outage (and deletions, so that a sign-out sticks) are pushed to Redis as
// soon as it answers again, by a goroutine that ends when nothing is left
// to push (or the Store is closed). A push never writes over a newer
// version, over a deletion (Delete leaves a tombstone in Redis for the
// session's remaining TTL, or [TombstoneTTL]), nor a record whose earlier
// version Redis once had and no longer has (deleted, expired, or lost with
// Redis's data: a deletion Redis forgot cannot be told from one it never
// saw).
//
// The mirror is never a source of truth for Redis: a record this replica
// only read, or wrote while Redis answered, is never written back. After
// Redis lost its data (FLUSHALL, failover to an empty replica, a restart
// without persistence), its sessions are gone for every replica, and
// their users sign in again.
//
// The cost: while Redis is down, replicas do not see each other's writes,
// so two replicas may both refresh one user's token (the second refresh
// of a rotating token fails and that replica's user must sign in again);
// a replica cut off from Redis serves the sessions it mirrors, including
// one signed out through another replica meanwhile, until Redis answers
// it again. A token rotated during an outage in which Redis lost its data
// is lost with the rest.
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
	base    int64     // dirty: the version Redis had when this replica last saw it there; 0: none; -1: one it no longer knows
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
// and returns the version.
const writeRec = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', vs, 'd', ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v
`

// A record is a hash {v: version, d: data}; a deleted one is a tombstone
// {v: version, g: 1}, which reads as missing.
var (
	// KEYS: record, version counter. ARGV: data, ttl ms.
	putScript = redis.NewScript(nextVersion(2) + writeRec)
	// KEYS: record, version counter. ARGV: data, ttl ms, version.
	casScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'v', 'g')
if not h[1] or h[2] then return -1 end
if h[1] ~= ARGV[3] then return -2 end
` + nextVersion(2) + writeRec)
	// KEYS: record, version counter, lease. ARGV: data, ttl ms, fence.
	putFencedScript = redis.NewScript(`
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return -2 end
` + nextVersion(2) + writeRec)
	// KEYS: record, version counter. ARGV: data, ttl ms, base (the
	// version Redis had when the writer last saw it there; 0: none, the
	// write created the record; -1: the write replaced a record whose
	// version this replica no longer knows). Writes only over what the
	// write replaced: no record for base 0, exactly version base, any
	// record for -1; never over a tombstone. Returns 0 when it did not
	// write.
	pushScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'v', 'g')
if h[2] then return 0 end
local base = tonumber(ARGV[3])
if not h[1] then
  if base ~= 0 then return 0 end
elseif base == 0 or (base > 0 and tonumber(h[1]) ~= base) then return 0 end
` + nextVersion(2) + writeRec)
	// KEYS: record, version counter. ARGV: tombstone ttl ms, for a
	// record without one. Replaces the record by a tombstone that lives
	// as long as the record would have. Its first write is the DEL, which
	// Redis does not refuse when its memory is full (OOM): once a script
	// has run a write command, Redis lets it finish (it cannot undo it),
	// so a sign-out passes under OOM, with its tombstone and version.
	deleteScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then ttl = tonumber(ARGV[1]) end
redis.call('DEL', KEYS[1])
` + nextVersion(2) + `
redis.call('HSET', KEYS[1], 'v', vs, 'g', '1')
redis.call('PEXPIRE', KEYS[1], ttl)
return v
`)
)

func (ss *SessionStore) recKey(key string) string    { return ss.s.key("s", key) }
func (ss *SessionStore) verKey() string              { return ss.s.key("sv") }
func (ss *SessionStore) leaseKey(name string) string { return ss.s.key("sl", name) }
func (ss *SessionStore) fenceKey(name string) string { return ss.s.key("sf", name) }

// unavailable reports whether err means Redis failed, or refused the
// command for now (OOM, READONLY): not the caller's context, not a
// refusal that trying again will not pass (WRONGTYPE, NOPERM).
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
	if ss.s == nil {
		return auth.Record{}, errcode.New(errcode.Unavailable, op, "no Redis store")
	}
	var vals []any
	err := ss.s.do(ctx, op, func(ctx context.Context) error {
		var err error
		vals, err = ss.s.rdb.HMGet(ctx, ss.recKey(key), "v", "d", "g").Result()
		return err
	})
	if unavailable(err) {
		if r, ok := ss.fromMirror(key); ok {
			return r, nil
		}
		return auth.Record{}, err
	}
	if err != nil && err != redis.Nil {
		return auth.Record{}, err
	}
	ver, data, found := parseRec(vals) // a tombstone has no data: not found
	ss.mu.Lock()
	m := ss.live(key)
	dirty := m != nil && m.dirty && (!found || ver < m.version)
	ss.mu.Unlock()
	if dirty {
		// Written here while Redis was down: that is the newer state,
		// unless Redis refuses it (see pushOne).
		if err := ss.pushOne(ctx, key); err != nil {
			if r, ok := ss.fromMirror(key); ok && unavailable(err) {
				return r, nil
			}
			return auth.Record{}, err
		}
		// Pushed (or rewritten here meanwhile, to push next): the mirror
		// has it. Refused: the mirror dropped it, and what Redis holds
		// (read above) stands.
		if r, ok := ss.fromMirror(key); ok {
			return r, nil
		}
	}
	if !found {
		ss.forget(key)
		return auth.Record{}, errcode.New(errcode.NotFound, op, "no such session")
	}
	ss.remember(key, data, ver, time.Time{}, true)
	return auth.Record{Data: data, Version: ver}, nil
}

// parseRec reads a record's fields v, d and g (HMGET): a record has a
// version and data; a tombstone (g) is not one, whatever else it holds,
// as the scripts read it. The version must be as the scripts write it (a
// positive integer in decimal, no sign, no leading zero): the scripts
// compare it as a string (casScript), so a record whose version reads as
// a number here but not there ("+5", "05") could never be swapped.
func parseRec(vals []any) (version int64, data []byte, ok bool) {
	if len(vals) != 3 || vals[2] != nil {
		return 0, nil, false
	}
	vs, ok1 := vals[0].(string)
	ds, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return 0, nil, false
	}
	v, err := strconv.ParseInt(vs, 10, 64)
	if err != nil || v <= 0 || strconv.FormatInt(v, 10) != vs {
		return 0, nil, false
	}
	return v, []byte(ds), true
}

// Put writes data under key.
func (ss *SessionStore) Put(ctx context.Context, key string, data []byte, ttl time.Duration) (int64, error) {
	const op = "redisstore.SessionStore.Put"
	if ss.s == nil {
		return 0, errcode.New(errcode.Unavailable, op, "no Redis store")
	}
	if ss.s.closedNow() {
		// Not kept in the mirror: nothing would push it.
		return 0, errcode.New(errcode.Unavailable, op, "the store is closed")
	}
	v, err := ss.run(ctx, op, putScript, []string{ss.recKey(key), ss.verKey()}, data, ms(max(ttl, 0)))
	if unavailable(err) {
		return ss.writeLocal(key, data, ttl, false), nil
	}
	if err != nil {
		return 0, err
	}
	ss.remember(key, data, v, expiryOf(ss.s.clock(), ttl), false)
	return v, nil
}

// CompareAndSwap writes data under key if its version is version.
func (ss *SessionStore) CompareAndSwap(ctx context.Context, key string, version int64, data []byte, ttl time.Duration) (int64, error) {
	const op = "redisstore.SessionStore.CompareAndSwap"
	if ss.s == nil {
		return 0, errcode.New(errcode.Unavailable, op, "no Redis store")
	}
	if ss.s.closedNow() {
		// Not kept in the mirror: nothing would push it.
		return 0, errcode.New(errcode.Unavailable, op, "the store is closed")
	}
	v, err := ss.run(ctx, op, casScript, []string{ss.recKey(key), ss.verKey()}, data, ms(max(ttl, 0)), strconv.FormatInt(version, 10))
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
		return ss.writeLocal(key, data, ttl, true), nil
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
	ss.remember(key, data, v, expiryOf(ss.s.clock(), ttl), false)
	return v, nil
}

// Delete removes key. Redis keeps a tombstone of it for the record's
// remaining TTL (or [TombstoneTTL]), so that no replica pushes a record
// over the deletion.
//
// When Redis is down, the deletion is done in this replica's mirror and
// pushed once Redis answers again (see the type's documentation), and
// Delete returns nil: this replica no longer serves the session, but a
// replica that read it before the outage serves it from its own mirror
// (and may refresh it) until Redis is back and the deletion pushed; the
// tombstone then keeps it from coming back. A full Redis (OOM) takes it. When Redis refuses it
// while it answers others (READONLY: a demoted primary; MISCONF;
// NOREPLICAS), Delete fails with that Unavailable refusal and changes
// nothing: the other replicas go on reading the record from Redis, so the
// caller must not report the session as ended (auth's logout answers
// "try again").
func (ss *SessionStore) Delete(ctx context.Context, key string) error {
	const op = "redisstore.SessionStore.Delete"
	if ss.s == nil {
		return errcode.New(errcode.Unavailable, op, "no Redis store")
	}
	if ss.s.closedNow() {
		// Not kept in the mirror: nothing would push it.
		return errcode.New(errcode.Unavailable, op, "the store is closed")
	}
	_, err := ss.run(ctx, op, deleteScript, []string{ss.recKey(key), ss.verKey()}, ms(TombstoneTTL))
	if unavailable(err) && !refusedAlone(err) {
		// Deleted here now, in Redis when it is back, so that a sign-out
		// sticks.
		ss.mu.Lock()
		m := ss.mirror[key]
		if m == nil || !m.dirty {
			ss.dirty++
		}
		ss.mirror[key] = &mrec{gone: true, dirty: true, version: ss.nextLocal(), base: baseOf(m)}
		ss.startPush()
		ss.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	// A write of this replica still to push is older than the deletion
	// (and Redis would refuse it anyway).
	ss.mu.Lock()
	if m := ss.mirror[key]; m != nil {
		if m.dirty {
			ss.dirty--
		}
		delete(ss.mirror, key)
	}
	ss.mu.Unlock()
	return nil
}

// Acquire takes the lease on name if it is free.
func (ss *SessionStore) Acquire(ctx context.Context, name string, ttl time.Duration) (auth.Lease, error) {
	const op = "redisstore.SessionStore.Acquire"
	if ss.s == nil {
		return auth.Lease{}, errcode.New(errcode.Unavailable, op, "no Redis store")
	}
	if ttl <= 0 {
		return auth.Lease{}, errcode.New(errcode.InvalidArgument, op, "a lease needs a positive ttl")
	}
	now := ss.s.clock()
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
	if ss.s == nil {
		return errcode.New(errcode.Unavailable, op, "no Redis store")
	}
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
	if ss.s == nil {
		return 0, errcode.New(errcode.Unavailable, op, "no Redis store")
	}
	if ss.s.closedNow() {
		// Not kept in the mirror: nothing would push it.
		return 0, errcode.New(errcode.Unavailable, op, "the store is closed")
	}
	v, err := ss.run(ctx, op, putFencedScript, []string{ss.recKey(key), ss.verKey(), ss.leaseKey(lease.Name)},
		data, ms(max(ttl, 0)), strconv.FormatInt(lease.Fence, 10))
	if unavailable(err) {
		// Redis failed between the lease and this write, and the
		// provider may already have rotated the refresh token in data:
		// keep it here, and push it when Redis is back.
		ss.mu.Lock()
		l, ok := ss.held[lease.Name]
		ss.mu.Unlock()
		if !ok || l.Fence != lease.Fence || !ss.s.clock().Before(l.Expires) {
			return 0, errcode.New(errcode.Conflict, op, "the lease was lost")
		}
		return ss.writeLocal(key, data, ttl, true), nil
	}
	if err != nil {
		return 0, err
	}
	if v == -2 {
		return 0, errcode.New(errcode.Conflict, op, "the lease was lost")
	}
	ss.remember(key, data, v, expiryOf(ss.s.clock(), ttl), false)
	return v, nil
}

// run runs a write script and returns the version it wrote (or its
// refusal code: 0 or negative).
func (ss *SessionStore) run(ctx context.Context, op string, sc *redis.Script, keys []string, args ...any) (v int64, err error) {
	err = ss.s.do(ctx, op, func(ctx context.Context) error {
		var err error
		v, err = sc.Run(ctx, ss.s.rdb, keys, args...).Int64()
		return err
	})
	return v, err
}

// baseOf is the base of a dirty record written over m: the version Redis
// had when this replica last saw the record there.
func baseOf(m *mrec) int64 {
	switch {
	case m == nil:
		return 0
	case m.dirty:
		return m.base
	}
	return m.version // a clean record is what Redis had
}

// nextLocal returns a version or fence from this process's clock, above
// every one it gave; the caller holds ss.mu.
func (ss *SessionStore) nextLocal() int64 {
	v := ss.s.clock().UnixMicro()
	if v <= ss.last {
		v = ss.last + 1
	}
	ss.last = v
	return v
}

// writeLocal writes a record to the mirror only, to push later. existed
// says the write replaces a record that was in Redis (CompareAndSwap,
// PutFenced), even if the mirror no longer knows its version: then the
// push requires Redis to still hold it.
func (ss *SessionStore) writeLocal(key string, data []byte, ttl time.Duration, existed bool) int64 {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	v := ss.nextLocal()
	m := ss.live(key)
	if m == nil || !m.dirty {
		ss.dirty++
	}
	base := baseOf(m)
	if existed && base == 0 {
		base = -1 // a record was there, of a version this replica no longer knows
	}
	ss.mirror[key] = &mrec{data: append([]byte(nil), data...), version: v, expires: expiryOf(ss.s.clock(), ttl), dirty: true, base: base}
	ss.startPush()
	return v
}

// remember keeps a clean copy of what Redis holds. keepExpiry keeps the
// mirror's expiry (a Get does not learn the TTL).
func (ss *SessionStore) remember(key string, data []byte, version int64, expires time.Time, keepExpiry bool) {
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
			expires = ss.s.clock().Add(time.Hour)
		} else {
			expires = old.expires
		}
	}
	if old == nil && len(ss.mirror) >= ss.max {
		ss.evict()
	}
	ss.mirror[key] = &mrec{data: append([]byte(nil), data...), version: version, expires: expires}
}

// evict drops expired and clean records to make room; the caller holds
// ss.mu.
func (ss *SessionStore) evict() {
	now := ss.s.clock()
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
	if !m.expires.IsZero() && !ss.s.clock().Before(m.expires) {
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
	ss.pushing = ss.s.goBackground(ss.pushLoop)
}

// pushLoop pushes the dirty records until none is left, or bg (the
// store's background context) is done: the Store is closed.
func (ss *SessionStore) pushLoop(bg context.Context) {
	wait := ss.s.h.first
	for {
		ctx, cancel := context.WithTimeout(bg, 10*ss.s.timeout)
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
		case <-bg.Done():
			t.Stop()
			ss.mu.Lock()
			ss.pushing = false
			lost := ss.dirty
			ss.mu.Unlock()
			if log := ss.s.h.log; log != nil && lost > 0 {
				log.Warn("redisstore: the store was closed with sessions written while Redis was down and not pushed yet; they are lost",
					slog.Int("sessions", lost))
			}
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
// refuses it (pushScript) and then drops it from the mirror.
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
	var err error
	if cp.gone {
		v, err = ss.run(ctx, op, deleteScript, []string{ss.recKey(key), ss.verKey()}, ms(TombstoneTTL))
	} else {
		var ttl time.Duration
		if !cp.expires.IsZero() {
			ttl = max(cp.expires.Sub(ss.s.clock()), time.Millisecond)
		}
		v, err = ss.run(ctx, op, pushScript, []string{ss.recKey(key), ss.verKey()},
			cp.data, ms(ttl), strconv.FormatInt(cp.base, 10))
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
		delete(ss.mirror, key) // deleted, or refused: Redis's state stands
	default:
		cur.dirty, cur.version, cur.base = false, v, 0
	}
	return nil
}
