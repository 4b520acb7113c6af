package redisstore

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// orgRetention is how long a source's shared state outlives its last
// read, so that a source removed from the config leaves nothing behind.
const orgRetention = 7 * 24 * time.Hour

// maxOrgName bounds a source's name, which is part of its Redis keys.
const maxOrgName = 200

// maxOrgFailures bounds the failures read back (unsealed, so anyone's).
const maxOrgFailures = 1 << 20

// OrgSnapshotStore is an org.Shared in Redis: the replicas of a fleet
// running org.Run with it read each org source once per period between
// them, and the others take the snapshot from Redis. Get it from
// [Store.OrgSnapshots].
//
// A source's state is one Redis hash under the store's prefix
// ("org:<name>": the snapshot's version and sealed bytes, when the next
// read is due by Redis's clock, the consecutive failures) and its claim one
// key ("orgclaim:<name>", expiring after the claim's lease, so that
// another replica takes over the read of one that died). Claim and Done
// are one round trip each (a Lua script), bounded by Options.Timeout; the
// snapshot travels only when its version differs from the caller's.
//
// A snapshot decides who is in which group, and so what RBAC allows: it is
// sealed with AES-GCM under backend.cache.encryptionKey and bound to its
// key and version, so that whoever can write to Redis without the key can
// neither plant a snapshot nor move one between sources. One that does not
// open is not handed to org.Run (the replica keeps what it holds, until
// the next read stores a new version) and is logged (with a Logger).
// Someone who can write to Redis can still put back an older sealed
// snapshot of the same source with its old version; replicas that hold a
// newer one refuse it (org.Run compares versions, which only grow), a
// replica that starts then takes it until the next read.
//
// The scheduling fields (when the next read is due, the failures, the
// claim) are not sealed: whoever can write to Redis can make the fleet
// read sooner, but not stop it reading. A next read recorded further away
// than Claim's maxDue is due now, a claim key without an expiry, or with
// one longer than the lease asked for, has lapsed (so, while a rolling
// deployment changes a source's timeout, a replica with the shorter one
// may take over a claim held under the longer one), and every duration
// read back is bounded.
type OrgSnapshotStore struct {
	s *Store
}

var _ org.Shared = (*OrgSnapshotStore)(nil)

// OrgSnapshots returns the org.Shared of s, for org.RunOptions.Shared on
// every replica. It fails with InvalidArgument when s has no encryption
// key (backend.cache.encryptionKey): a snapshot in Redis that is not
// sealed could be replaced by anyone who can write there, and with it the
// memberships that authorization trusts. s must not be nil ([FromConfig]
// returns nil without Redis: then leave RunOptions.Shared nil).
func (s *Store) OrgSnapshots() (*OrgSnapshotStore, error) {
	const op = "redisstore.Store.OrgSnapshots"
	if s == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "no Redis store: leave org.RunOptions.Shared nil")
	}
	if s.ring == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "org snapshots decide group membership, and so authorization: "+
			"they are shared only sealed, which needs backend.cache.encryptionKey (Options.EncryptionKey)")
	}
	return &OrgSnapshotStore{s: s}, nil
}

func (o *OrgSnapshotStore) stateKey(name string) string { return o.s.key("org", name) }
func (o *OrgSnapshotStore) claimKey(name string) string { return o.s.key("orgclaim", name) }

// binding is what a snapshot is sealed to: its key and version.
func (o *OrgSnapshotStore) binding(name string, version int64) string {
	return o.stateKey(name) + "#" + strconv.FormatInt(version, 10)
}

// orgClaimScript reads KEYS[1] (the state hash) and KEYS[2] (the claim)
// by Redis's clock; when the read is due and the claim free, it takes the
// claim for ARGV[2] ms under a new token, which becomes the version of
// the snapshot it stores: tokens only grow, and start from Redis's clock
// in milliseconds, so that a state lost (flushed, expired) does not give
// a version a replica already holds. The snapshot is returned when
// its version differs from ARGV[1]. A next read more than ARGV[3] ms away
// is due now; a claim without expiry or with more than ARGV[2] ms left has
// lapsed. Reply: {token, version, snapshot or false, ms until due, ms left
// on another's claim, failures}.
var orgClaimScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'ver', 'next', 'fail')
local ver = tonumber(h[1]) or 0
local nxt = tonumber(h[2]) or 0
local fail = tonumber(h[3]) or 0
local lease = tonumber(ARGV[2])
if nxt - now > tonumber(ARGV[3]) then nxt = now end
local snap = false
if ver > 0 and ver ~= tonumber(ARGV[1]) then
  snap = redis.call('HGET', KEYS[1], 'snap')
end
local held = redis.call('PTTL', KEYS[2])
if held == -1 or held > lease then
  redis.call('DEL', KEYS[2])
  held = -2
end
local tok = 0
if held == -2 then
  held = 0
  if now >= nxt then
    tok = redis.call('HINCRBY', KEYS[1], 'tok', 1)
    if tok < now then
      tok = now
      redis.call('HSET', KEYS[1], 'tok', tok)
    end
    redis.call('SET', KEYS[2], tok, 'PX', ARGV[2])
  end
elseif held < 0 then
  held = lease
end
local due = nxt - now
if due < 0 then due = 0 end
return {tok, ver, snap, due, held, fail}
`)

// orgDoneScript ends the claim ARGV[1] on KEYS[2]: when ARGV[4] is 1 it
// stores ARGV[5] as version ARGV[1]; it records ARGV[3] failures, the next
// read due ARGV[2] ms from now, keeps the hash ARGV[6] ms, and frees the
// claim. Reply: the version stored, or -1 when the claim is not held.
var orgDoneScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ver = tonumber(redis.call('HGET', KEYS[1], 'ver')) or 0
if ARGV[4] == '1' then
  ver = tonumber(ARGV[1])
  redis.call('HSET', KEYS[1], 'ver', ARGV[1], 'snap', ARGV[5])
end
redis.call('HSET', KEYS[1], 'next', now + tonumber(ARGV[2]), 'fail', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('DEL', KEYS[2])
return ver
`)

func checkOrgName(op, name string) error {
	if name == "" || len(name) > maxOrgName || !utf8.ValidString(name) {
		return errcode.Newf(errcode.InvalidArgument, op, "a source name must be 1 to %d bytes of UTF-8", maxOrgName)
	}
	return nil
}

// Claim implements org.Shared: one round trip.
func (o *OrgSnapshotStore) Claim(ctx context.Context, name string, have int64, lease, maxDue time.Duration) (org.Claim, error) {
	const op = "redisstore.OrgSnapshotStore.Claim"
	if err := checkOrgName(op, name); err != nil {
		return org.Claim{}, err
	}
	if lease <= 0 || maxDue <= 0 {
		return org.Claim{}, errcode.New(errcode.InvalidArgument, op, "a claim needs a positive lease and maxDue")
	}
	var reply []any
	err := o.s.do(ctx, op, func(ctx context.Context) error {
		var err error
		reply, err = orgClaimScript.Run(ctx, o.s.rdb, []string{o.stateKey(name), o.claimKey(name)},
			strconv.FormatInt(have, 10), ms(lease), ms(maxDue)).Slice()
		return err
	})
	if err != nil {
		return org.Claim{}, err
	}
	if len(reply) != 6 {
		return org.Claim{}, errcode.New(errcode.Unknown, op, "unexpected reply from Redis")
	}
	num := func(v any) int64 { n, _ := v.(int64); return n }
	// Bounded as the script bounds them, against a reply out of range.
	msUpTo := func(v any, limit time.Duration) time.Duration {
		return min(time.Duration(min(max(num(v), 0), int64(limit/time.Millisecond)))*time.Millisecond, limit)
	}
	c := org.Claim{Name: name, Token: num(reply[0]), Version: num(reply[1]),
		Due: msUpTo(reply[3], maxDue), Held: msUpTo(reply[4], lease),
		Failures: int(min(max(num(reply[5]), 0), maxOrgFailures))}
	if raw, ok := reply[2].(string); ok {
		plain, ok := o.s.open(o.binding(name, c.Version), []byte(raw))
		if ok {
			c.Snapshot = plain
		} else if log := o.s.h.log; log != nil {
			log.Error("redisstore: an org snapshot in Redis does not open (tampered, or sealed under a key this replica lacks); it is left out until the next read",
				"source", name, "version", c.Version)
		}
	}
	return c, nil
}

// Done implements org.Shared: one round trip.
func (o *OrgSnapshotStore) Done(ctx context.Context, c org.Claim, snapshot []byte, next time.Duration, failures int) (int64, error) {
	const op = "redisstore.OrgSnapshotStore.Done"
	if err := checkOrgName(op, c.Name); err != nil {
		return 0, err
	}
	if c.Token <= 0 {
		return 0, errcode.New(errcode.InvalidArgument, op, "the claim is not held (no token)")
	}
	tok := strconv.FormatInt(c.Token, 10)
	store, body := "0", []byte(nil)
	if snapshot != nil {
		sealed, err := o.s.seal(op, o.binding(c.Name, c.Token), snapshot)
		if err != nil {
			return 0, err
		}
		store, body = "1", sealed
	}
	var v int64
	err := o.s.do(ctx, op, func(ctx context.Context) error {
		var err error
		v, err = orgDoneScript.Run(ctx, o.s.rdb, []string{o.stateKey(c.Name), o.claimKey(c.Name)},
			tok, ms(max(next, 0)), strconv.Itoa(max(failures, 0)), store, body, ms(orgRetention+next)).Int64()
		return err
	})
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, errcode.New(errcode.Conflict, op, "the claim was lost: it lapsed (and another replica may have taken it); nothing was stored")
	}
	return v, nil
}
