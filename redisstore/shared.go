package redisstore

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/scmkit/scmkit/errcode"
)

// The credential caches' keys: <prefix>c:<key> holds a hash {f: fence,
// v: value}; <prefix>l:<key> the fencing token of the replica fetching
// it (the lease); <prefix>f:<key> the last token given for it.
//
// Fencing tokens come from Redis's clock in microseconds, raised above the
// last one given, so they increase even across a FLUSHALL or a restart
// without persistence (unless Redis's clock steps back by more than the
// time between two leases).

// nextFence is Lua that sets f to a new fencing token for KEYS[2].
const nextFence = `
local t = redis.call('TIME')
local f = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if f <= last then f = last + 1 end
local fs = string.format('%.0f', f)
redis.call('SET', KEYS[2], fs, 'PX', 86400000)
`

// leaseScript takes KEYS[1] (the lease) for ARGV[1] ms if it is free.
var leaseScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
` + nextFence + `
redis.call('SET', KEYS[1], fs, 'PX', ARGV[1])
return f
`)

// saveScript writes ARGV[1] at KEYS[1] with fence ARGV[3] for ARGV[2] ms
// (0: no expiry) unless a newer fence wrote there, and frees the lease
// KEYS[2] if ARGV[3] holds it.
var saveScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local wrote = 0
if cur <= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'f', ARGV[3], 'v', ARGV[1])
  if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  wrote = 1
end
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return wrote
`)

// releaseScript frees the lease KEYS[1] if ARGV[1] holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

func (s *Store) credKey(key string) string { return s.key("c", key) }

// Load returns the value saved at key (credentials.SharedStore). A value
// that does not decrypt (written with a key that is neither the current
// nor a previous one, or tampered with) is reported missing, so the
// caller fetches a new one; one sealed under a previous key is returned,
// and sealed under the current key when it is next saved. With an encryption
// key, every value is saved sealed, so an unsealed one (planted by
// someone who can write to Redis but lacks the key) is refused: reported
// missing, and logged if the store has a Logger. Without a key, the store
// cannot tell a planted value from its own, and shares no secret.
func (s *Store) Load(ctx context.Context, key string) ([]byte, bool, error) {
	k := s.credKey(key)
	var raw []byte
	err := s.do(ctx, "redisstore.Load", func(ctx context.Context) error {
		// A copy: decodeBytes opens it in place, and the reply's bytes
		// are a string's, which must not change.
		v, err := s.rdb.HGet(ctx, k, "v").Result()
		raw = []byte(v)
		return err
	})
	if err == redis.Nil {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	want := byte(plainMark)
	if s.ring != nil {
		want = sealedMark // Save seals every value
	}
	v, ok := s.decodeBytes("redisstore.Load", k, raw, want)
	return v, ok, nil
}

// decodeBytes reads a value of k stored as want (sealedMark or
// plainMark); anything else is refused (ok false). raw must be the
// caller's own memory: a sealed value is decrypted over it, under the
// current encryption key or a previous one, and the result shares it. A
// plain value where a sealed one is expected is logged: the store never
// writes one, so someone else did.
func (s *Store) decodeBytes(op, k string, raw []byte, want byte) ([]byte, bool) {
	switch {
	case len(raw) == 0:
		return nil, false
	case raw[0] != want:
		if want == sealedMark && raw[0] == plainMark && s.h.log != nil {
			s.h.log.Warn("redisstore: refused an unsealed value where a sealed one is expected; someone without the encryption key wrote to Redis",
				slog.String("op", op), slog.String("key", k))
		}
		return nil, false
	case want == sealedMark:
		return s.open(k, raw)
	}
	return raw[1:], true
}

// encode prepares a value for storing: sealed when secret or when the
// store has an encryption key (so that readers can refuse every unsealed
// value), plain otherwise.
func (s *Store) encode(op, k string, v []byte, secret bool) ([]byte, error) {
	if s == nil {
		return nil, errcode.New(errcode.Unavailable, op, "no Redis store")
	}
	if secret || s.ring != nil {
		return s.seal(op, k, v)
	}
	return append([]byte{plainMark}, v...), nil
}

// Lease takes the lease of key for ttl if it is free
// (credentials.SharedStore).
func (s *Store) Lease(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	var fence int64
	err := s.do(ctx, "redisstore.Lease", func(ctx context.Context) error {
		var err error
		fence, err = leaseScript.Run(ctx, s.rdb, []string{s.key("l", key), s.key("f", key)}, ms(max(ttl, time.Millisecond))).Int64()
		return err
	})
	return fence, err
}

// Save writes value at key unless a newer fence wrote there, and frees the
// lease fence holds (credentials.SharedStore). With an encryption key,
// every value is sealed with AES-GCM; without one, a secret value is not
// written (InvalidArgument) and the others are written plain.
func (s *Store) Save(ctx context.Context, key string, value []byte, ttl time.Duration, fence int64, secret bool) (bool, error) {
	const op = "redisstore.Save"
	k := s.credKey(key)
	data, err := s.encode(op, k, value, secret)
	if err != nil {
		s.Release(ctx, key, fence) //nolint:errcheck // the lease lapses on its own
		return false, err
	}
	var wrote int64
	err = s.do(ctx, op, func(ctx context.Context) error {
		var err error
		wrote, err = saveScript.Run(ctx, s.rdb, []string{k, s.key("l", key)}, data, ms(max(ttl, 0)), strconv.FormatInt(fence, 10)).Int64()
		return err
	})
	return wrote == 1, err
}

// Release frees the lease of key if fence holds it (credentials.SharedStore).
func (s *Store) Release(ctx context.Context, key string, fence int64) error {
	return s.do(ctx, "redisstore.Release", func(ctx context.Context) error {
		return releaseScript.Run(ctx, s.rdb, []string{s.key("l", key)}, strconv.FormatInt(fence, 10)).Err()
	})
}

// Delete removes the value at key (credentials.SharedStore).
func (s *Store) Delete(ctx context.Context, key string) error {
	k := s.credKey(key)
	return s.do(ctx, "redisstore.Delete", func(ctx context.Context) error {
		return s.rdb.Del(ctx, k).Err()
	})
}
