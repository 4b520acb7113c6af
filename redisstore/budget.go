package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm"
)

// Budget is a scm.RateBudget in Redis: every replica records the rate
// limits the providers announce for each credential in one hash per
// credential (<prefix>rl:<key>: limit, remaining, reset; on GitHub one
// hash per credential and resource: core, graphql, search, ...), and
// takes one request from it before each request, atomically, so that with
// scm.Options.RateShare the fleet stops at its share of the limit. A
// conditional GitHub request is only checked against the share (Peek):
// GitHub does not count it when it is answered 304; one made conditional
// by scm's page cache is counted, and given back after a 304 (Refund).
// Get it from [Store.Budget]. When Redis fails, requests go as if there
// were no budget.
type Budget struct{ s *Store }

var (
	_ scm.RateBudget       = (*Budget)(nil)
	_ httpx.BudgetPeeker   = (*Budget)(nil)
	_ httpx.BudgetRefunder = (*Budget)(nil)
)

// Budget returns the shared rate-limit budget of s. Pass it as
// scm.Options.RateBudget.
func (s *Store) Budget() *Budget { return &Budget{s: s} }

var (
	// KEYS: budget. ARGV: now (ms), share, spend (1: count the request;
	// 0: only check, for Peek). Returns 0 when the request may go, else
	// the reset (ms).
	takeScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'l', 'r', 't')
if not v[1] or not v[2] or not v[3] then return 0 end
local l, r, t = tonumber(v[1]), tonumber(v[2]), tonumber(v[3])
if tonumber(ARGV[1]) >= t then return 0 end
local share = tonumber(ARGV[2])
local keep = 0
if share < 1 then keep = math.floor(l * (1 - share)) end
if r <= keep then return t end
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'r', -1) end
return 0
`)
	// KEYS: budget. ARGV: reset (ms) of the window the request was
	// counted in. Gives one request back, up to the limit.
	refundScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'l', 'r', 't')
if not v[1] or not v[2] or not v[3] or tonumber(v[3]) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'r', string.format('%d', math.min(tonumber(v[2]) + 1, tonumber(v[1]))))
return 1
`)
	// KEYS: budget. ARGV: limit, remaining, reset (ms).
	recordScript = redis.NewScript(`
local t0 = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local t = tonumber(ARGV[3])
if t > t0 then
  redis.call('HSET', KEYS[1], 'l', ARGV[1], 'r', ARGV[2], 't', ARGV[3])
elseif t == t0 then
  local r = math.min(tonumber(redis.call('HGET', KEYS[1], 'r') or ARGV[2]), tonumber(ARGV[2]))
  redis.call('HSET', KEYS[1], 'l', ARGV[1], 'r', string.format('%d', r))
end
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', math.max(t, t0) + 60000))
return 1
`)
)

// Take asks for one request on key's budget (scm.RateBudget).
func (b *Budget) Take(ctx context.Context, key string, share float64) (bool, time.Time, error) {
	return b.take(ctx, "redisstore.Budget.Take", key, share, "1")
}

// Peek reports what Take would, without counting the request: one round
// trip, for a request the provider may not count (a conditional request
// on GitHub, which a 304 leaves free). It makes Budget an
// httpx.BudgetPeeker.
func (b *Budget) Peek(ctx context.Context, key string, share float64) (bool, time.Time, error) {
	return b.take(ctx, "redisstore.Budget.Peek", key, share, "0")
}

// take runs takeScript; spend is its third argument.
func (b *Budget) take(ctx context.Context, op, key string, share float64, spend string) (bool, time.Time, error) {
	var reset int64
	err := b.s.do(ctx, op, func(ctx context.Context) error {
		var err error
		reset, err = takeScript.Run(ctx, b.s.rdb, []string{b.s.key("rl", key)},
			strconv.FormatInt(b.s.clock().UnixMilli(), 10), strconv.FormatFloat(share, 'f', -1, 64), spend).Int64()
		return err
	})
	if err != nil || reset == 0 {
		return true, time.Time{}, err
	}
	return false, time.UnixMilli(reset), nil
}

// Refund gives back one request that Take counted in the window that ends
// at reset, when GitHub answered it 304 (free) below a cache layer; it
// makes Budget an httpx.BudgetRefunder.
func (b *Budget) Refund(ctx context.Context, key string, reset time.Time) error {
	return b.s.do(ctx, "redisstore.Budget.Refund", func(ctx context.Context) error {
		return refundScript.Run(ctx, b.s.rdb, []string{b.s.key("rl", key)}, strconv.FormatInt(reset.UnixMilli(), 10)).Err()
	})
}

// Record notes a provider's answer for key (scm.RateBudget). A reset more
// than httpx.MaxBudgetReset ahead is taken as that far: the hash lives
// until its reset and a minute more, so an answer cannot keep a key, or
// refuse requests, for longer.
func (b *Budget) Record(ctx context.Context, key string, limit, remaining int, reset time.Time) error {
	reset = httpx.ClampReset(reset, b.s.clock())
	return b.s.do(ctx, "redisstore.Budget.Record", func(ctx context.Context) error {
		return recordScript.Run(ctx, b.s.rdb, []string{b.s.key("rl", key)},
			strconv.Itoa(limit), strconv.Itoa(remaining), strconv.FormatInt(reset.UnixMilli(), 10)).Err()
	})
}
