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
// address in clear), holding the count of failures, the end of the delay
// and the attempts in flight (one field each, so that an attempt whose
// Begin answer was lost is taken back exactly, and one whose replica died
// stops counting after BackoffPolicy.InFlight), and expiring 2 × MaxDelay
// after the last attempt or delay. Each
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

// The scripts' arguments: ARGV now, free, base, max and inFlight in
// milliseconds, then the attempt's id. Fields of a key's hash: f, failures
// that ended; u, the end of the delay (0: never delayed); a:<id>, an
// attempt in flight since the time it holds, which counts as a failure
// until it ends, or until inFlight has passed (its replica died); x:<id>,
// the take-back of an attempt whose Begin may still arrive.
var (
	// attemptBeginScript returns {1, 0} when the attempt is recorded,
	// {0, retryAt} when the key is backing off.
	attemptBeginScript = redis.NewScript(inFlightLua + `
local now, free, base, max, stale = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('HDEL', KEYS[1], 'x:' .. ARGV[6]) == 1 then return {1, 0} end
local v = redis.call('HMGET', KEYS[1], 'f', 'u')
local n, u = failures(v[1], free) + inflight(KEYS[1], now - stale), millis(v[2]) or 0
if now < u then return {0, u} end
if n >= free and u == 0 then
  u = now + base
  redis.call('HSET', KEYS[1], 'u', u)
  redis.call('PEXPIRE', KEYS[1], base + 2 * max)
  return {0, u}
end
if n >= free then u = now + base end
redis.call('HSET', KEYS[1], 'u', u, 'a:' .. ARGV[6], now)
redis.call('PEXPIRE', KEYS[1], math.max(u - now, 0) + 2 * max)
return {1, 0}
`)
	// attemptFailScript turns the attempt into a failure (nothing when
	// it is no longer in flight) and sets the next delay past free
	// failures.
	attemptFailScript = redis.NewScript(inFlightLua + `
local now, free, base, max, stale = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('HDEL', KEYS[1], 'a:' .. ARGV[6]) == 0 then return 0 end
local f = failures(redis.call('HGET', KEYS[1], 'f'), free) + 1
redis.call('HSET', KEYS[1], 'f', f)
local n = f + inflight(KEYS[1], now - stale)
local u = millis(redis.call('HGET', KEYS[1], 'u')) or 0
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
	// attemptTakeBackScript takes back the attempt ARGV[2] whose Begin
	// failed; when it is not there (yet), it leaves a take-back that the
	// Begin, arriving late, finds instead of recording it. ARGV[1] is
	// inFlight in milliseconds, the take-back's life.
	attemptTakeBackScript = redis.NewScript(`
if redis.call('HDEL', KEYS[1], 'a:' .. ARGV[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'x:' .. ARGV[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0
`)
)

// inFlightLua defines millis(v): a count or a time in ms as the scripts
// write it (1 to 15 digits), else nil; failures(v, free): the failure
// count v, none when absent, and free (the free failures spent: the next
// attempt waits) when it is not a count the scripts write, so that a
// corrupted record never lets more attempts through than a well-formed
// one; and inflight(key, since): the attempts of key in flight since a
// time after since; older ones, take-backs as old and those whose time is
// malformed are deleted.
const inFlightLua = `
local function millis(v)
  if v and #v <= 15 and string.match(v, '^%d+$') then return tonumber(v) end
  return nil
end
local function failures(v, free)
  if not v then return 0 end
  return millis(v) or free
end
local function inflight(key, since)
  local all, n = redis.call('HGETALL', key), 0
  for i = 1, #all, 2 do
    local k, p = all[i], string.sub(all[i], 1, 2)
    if p == 'a:' or p == 'x:' then
      if (millis(all[i + 1]) or 0) < since then
        redis.call('HDEL', key, k)
      elseif p == 'a:' then
        n = n + 1
      end
    end
  end
  return n
end
`

// LDAPAttempts returns the shared LDAP sign-in attempt counts of s. Pass
// it as ldapauth.Options.Attempts.
func (s *Store) LDAPAttempts() *LDAPAttempts { return &LDAPAttempts{s: s} }

func (a *LDAPAttempts) key(k string) string {
	sum := sha256.Sum256([]byte("ldapauth attempts v1\x00" + k))
	return a.s.key("ldap", hex.EncodeToString(sum[:]))
}

// defaultInFlight is BackoffPolicy.InFlight's default.
const defaultInFlight = 10 * time.Minute

// policyArgs are a script's arguments for now and p, in milliseconds, and
// the attempt's id.
func policyArgs(now time.Time, p ldapauth.BackoffPolicy, attempt string) []any {
	return []any{strconv.FormatInt(now.UnixMilli(), 10), strconv.Itoa(max(p.Free, 0)), ms(max(p.Base, time.Millisecond)),
		ms(max(p.Max, p.Base, time.Millisecond)), ms(inFlight(p)), attempt}
}

func inFlight(p ldapauth.BackoffPolicy) time.Duration {
	if p.InFlight <= 0 {
		return defaultInFlight
	}
	return p.InFlight
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
		v, err := attemptBeginScript.Run(ctx, a.s.rdb, []string{k}, policyArgs(now, p, attempt)...).Int64Slice()
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
			return attemptTakeBackScript.Run(ctx, a.s.rdb, []string{k}, ms(inFlight(p)), attempt, strconv.FormatInt(now.UnixMilli(), 10)).Err()
		})
	}
	return retryAt, ok, err
}

// Fail implements ldapauth.AttemptStore. It reaches Redis even while the
// circuit breaker is open (one command per attempt that began before the
// failure), so that an outage does not leave attempts counted for ever.
func (a *LDAPAttempts) Fail(ctx context.Context, key, attempt string, now time.Time, p ldapauth.BackoffPolicy) error {
	return a.end(ctx, "redisstore.LDAPAttempts.Fail", func(ctx context.Context) error {
		return attemptFailScript.Run(ctx, a.s.rdb, []string{a.key(key)}, policyArgs(now, p, attempt)...).Err()
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
	if a.s == nil {
		return errcode.New(errcode.Unavailable, "redisstore.LDAPAttempts", "no Redis store")
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.s.timeout)
	defer cancel()
	if err := f(cctx); err != nil {
		e, _ := failure("redisstore.LDAPAttempts", err) // past the breaker: it neither opens nor closes it
		return e
	}
	return nil
}
