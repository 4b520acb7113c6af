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
	"github.com/scmkit/scmkit/errcode"
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
	// milliseconds, and the attempt's id. Returns {1, 0} when the attempt
	// is recorded, {0, retryAt} when the key is backing off. Fields: f,
	// failures that ended; u, the end of the delay (0: never delayed);
	// a:<id>, an attempt in flight, which counts as a failure until it
	// ends.
	attemptBeginScript = redis.NewScript(`
local now, free, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'f', 'u')
local n, u = tonumber(v[1]) or 0, tonumber(v[2]) or 0
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(k, 1, 2) == 'a:' then n = n + 1 end
end
if now < u then return {0, u} end
if n >= free and u == 0 then
  u = now + base
  redis.call('HSET', KEYS[1], 'u', u)
  redis.call('PEXPIRE', KEYS[1], base + 2 * max)
  return {0, u}
end
if n >= free then u = now + base end
redis.call('HSET', KEYS[1], 'u', u, 'a:' .. ARGV[5], now)
redis.call('PEXPIRE', KEYS[1], math.max(u - now, 0) + 2 * max)
return {1, 0}
`)
	// attemptFailScript: as attemptBeginScript's arguments; turns the
	// attempt into a failure (nothing when it is no longer in flight)
	// and sets the next delay past free failures.
	attemptFailScript = redis.NewScript(`
local now, free, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('HDEL', KEYS[1], 'a:' .. ARGV[5]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'f', 1)
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(k, 1, 2) == 'a:' then n = n + 1 end
end
local u = tonumber(redis.call('HGET', KEYS[1], 'u')) or 0
if n - free >= 0 then
  local d, i = base, 0
  while i < n - free and d < max do d, i = d * 2, i + 1 end
  u = now + math.min(d, max)
  redis.call('HSET', KEYS[1], 'u', u)
end
redis.call('PEXPIRE', KEYS[1], math.max(u - now, 0) + 2 * max)
return 0
`)
	// attemptFinishScript: ARGV[1] "1" clears the key, "0" takes the
	// attempt ARGV[2] back.
	attemptFinishScript = redis.NewScript(`
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) return 0 end
redis.call('HDEL', KEYS[1], 'a:' .. ARGV[2])
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

// Begin implements ldapauth.AttemptStore. When it fails after sending the
// script (an answer lost to a timeout or a cancellation), it takes the
// attempt back, past the circuit breaker, so that an attempt the caller
// never ran does not count.
func (a *LDAPAttempts) Begin(ctx context.Context, key, attempt string, now time.Time, p ldapauth.BackoffPolicy) (time.Time, bool, error) {
	var retryAt time.Time
	ok, sent := false, false
	k := a.key(key)
	err := a.s.do(ctx, "redisstore.LDAPAttempts.Begin", func(ctx context.Context) error {
		sent = true
		v, err := attemptBeginScript.Run(ctx, a.s.rdb, []string{k}, append(policyArgs(now, p), attempt)...).Int64Slice()
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
	if err != nil && sent {
		a.direct(ctx, func(ctx context.Context) error {
			return attemptFinishScript.Run(ctx, a.s.rdb, []string{k}, "0", attempt).Err()
		})
	}
	return retryAt, ok, err
}

// Fail implements ldapauth.AttemptStore. It reaches Redis even while the
// circuit breaker is open (one command per attempt that began before the
// failure), so that an outage does not leave attempts counted for ever.
func (a *LDAPAttempts) Fail(ctx context.Context, key, attempt string, now time.Time, p ldapauth.BackoffPolicy) error {
	return a.end(ctx, "redisstore.LDAPAttempts.Fail", func(ctx context.Context) error {
		return attemptFailScript.Run(ctx, a.s.rdb, []string{a.key(key)}, append(policyArgs(now, p), attempt)...).Err()
	})
}

// Finish implements ldapauth.AttemptStore; like Fail, it reaches Redis
// even while the circuit breaker is open.
func (a *LDAPAttempts) Finish(ctx context.Context, key, attempt string, reset bool) error {
	arg := "0"
	if reset {
		arg = "1"
	}
	return a.end(ctx, "redisstore.LDAPAttempts.Finish", func(ctx context.Context) error {
		return attemptFinishScript.Run(ctx, a.s.rdb, []string{a.key(key)}, arg, attempt).Err()
	})
}

// end runs f through the store, or directly when the circuit breaker
// refused it without asking Redis.
func (a *LDAPAttempts) end(ctx context.Context, op string, f func(ctx context.Context) error) error {
	ran := false
	err := a.s.do(ctx, op, func(ctx context.Context) error { ran = true; return f(ctx) })
	if err != nil && !ran && ctx.Err() == nil {
		return a.direct(ctx, f)
	}
	return err
}

// direct runs f against Redis with the store's timeout, past the circuit
// breaker and the caller's cancellation.
func (a *LDAPAttempts) direct(ctx context.Context, f func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.s.timeout)
	defer cancel()
	if err := f(cctx); err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Op: "redisstore.LDAPAttempts", Msg: "Redis did not answer", Err: cleanErr(err)}
	}
	return nil
}
