package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/auth/ldapauth"
)

// LDAPAttempts is an ldapauth.AttemptStore in Redis: the LDAP sign-in
// back-off's counts of failed attempts, per username and per client
// address, shared by every replica, so that a username gets
// backoff.freeAttempts failures across the fleet before a delay, not that
// many on every replica (which could reach the directory's own lockout
// threshold and lock the account). Get it from [Store.LDAPAttempts] and
// pass it as ldapauth.Options.Attempts.
//
// Each key is one hash, <prefix>ldap:<sha256 of the key> (no username or
// address in clear), holding the count of failures and the end of the
// delay, and expiring 2 × MaxDelay after the last attempt or delay. Each
// method is one script, atomic in Redis: one round trip once Redis has it
// cached (two the first time, EVALSHA then EVAL). The values are not
// sealed: someone who can write to Redis can delay a username's sign-ins
// or clear its failures.
//
// When Redis is down, Begin is Unavailable at once (the store's circuit
// breaker) and ldapauth refuses the sign-in rather than run it without
// the back-off; a failed Fail or Finish leaves the attempt counted as a
// failure, which errs on the side of the directory's lockout.
type LDAPAttempts struct{ s *Store }

var _ ldapauth.AttemptStore = (*LDAPAttempts)(nil)

var (
	// attemptBeginScript: KEYS[1] the key; ARGV now, free, base, max in
	// milliseconds. Returns {1, 0} when the attempt is recorded, {0,
	// retryAt} when the key is backing off. Fields: f, failures
	// (attempts in flight included); u, the end of the delay (0: never
	// delayed).
	attemptBeginScript = redis.NewScript(`
local now, free, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'f', 'u')
local f, u = tonumber(v[1]) or 0, tonumber(v[2]) or 0
if now < u then return {0, u} end
if f >= free and u == 0 then return {0, now + base} end
if f >= free then u = now + base end
redis.call('HSET', KEYS[1], 'f', f + 1, 'u', u)
redis.call('PEXPIRE', KEYS[1], math.max(u - now, 0) + 2 * max)
return {1, 0}
`)
	// attemptFailScript: as attemptBeginScript's arguments; sets the
	// next delay past free failures.
	attemptFailScript = redis.NewScript(`
local now, free, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'f', 'u')
if not v[1] then return 0 end
local f, u = tonumber(v[1]) or 0, tonumber(v[2]) or 0
if f - free >= 0 then
  local d, i = base, 0
  while i < f - free and d < max do d, i = d * 2, i + 1 end
  u = now + math.min(d, max)
  redis.call('HSET', KEYS[1], 'u', u)
end
redis.call('PEXPIRE', KEYS[1], math.max(u - now, 0) + 2 * max)
return 0
`)
	// attemptFinishScript: ARGV[1] "1" clears the key, "0" takes one
	// attempt back.
	attemptFinishScript = redis.NewScript(`
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) return 0 end
local f = tonumber(redis.call('HGET', KEYS[1], 'f'))
if f and f > 0 then redis.call('HINCRBY', KEYS[1], 'f', -1) end
return 0
`)
)

// LDAPAttempts returns the shared LDAP sign-in attempt counts of s. Pass
// it as ldapauth.Options.Attempts.
func (s *Store) LDAPAttempts() *LDAPAttempts { return &LDAPAttempts{s: s} }

func (a *LDAPAttempts) key(k string) string {
	sum := sha256.Sum256([]byte("ldapauth attempts v1\x00" + k))
	return a.s.key("ldap", hex.EncodeToString(sum[:]))
}

// policyArgs are a script's arguments for now and p, in milliseconds.
func policyArgs(now time.Time, p ldapauth.BackoffPolicy) []any {
	return []any{strconv.FormatInt(now.UnixMilli(), 10), strconv.Itoa(max(p.Free, 0)), ms(max(p.Base, time.Millisecond)), ms(max(p.Max, p.Base, time.Millisecond))}
}

// Begin implements ldapauth.AttemptStore.
func (a *LDAPAttempts) Begin(ctx context.Context, key string, now time.Time, p ldapauth.BackoffPolicy) (time.Time, bool, error) {
	var retryAt time.Time
	ok := false
	err := a.s.do(ctx, "redisstore.LDAPAttempts.Begin", func(ctx context.Context) error {
		v, err := attemptBeginScript.Run(ctx, a.s.rdb, []string{a.key(key)}, policyArgs(now, p)...).Int64Slice()
		if err != nil {
			return err
		}
		if len(v) != 2 {
			return errors.New("the attempt script answered " + strconv.Itoa(len(v)) + " values, not 2")
		}
		ok = v[0] == 1
		if !ok {
			retryAt = time.UnixMilli(v[1])
		}
		return nil
	})
	return retryAt, ok, err
}

// Fail implements ldapauth.AttemptStore.
func (a *LDAPAttempts) Fail(ctx context.Context, key string, now time.Time, p ldapauth.BackoffPolicy) error {
	return a.s.do(ctx, "redisstore.LDAPAttempts.Fail", func(ctx context.Context) error {
		return attemptFailScript.Run(ctx, a.s.rdb, []string{a.key(key)}, policyArgs(now, p)...).Err()
	})
}

// Finish implements ldapauth.AttemptStore.
func (a *LDAPAttempts) Finish(ctx context.Context, key string, reset bool) error {
	arg := "0"
	if reset {
		arg = "1"
	}
	return a.s.do(ctx, "redisstore.LDAPAttempts.Finish", func(ctx context.Context) error {
		return attemptFinishScript.Run(ctx, a.s.rdb, []string{a.key(key)}, arg).Err()
	})
}
