package redisstore

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
)

// issuerKeysTTL bounds how long the hash of issuer keys outlives the last
// key added to it: 3 × identity.MaxLifetime, the longest a key is ever
// published. Every AddKey renews it, so a fleet that stopped issuing
// leaves nothing behind.
const issuerKeysTTL = 3 * identity.MaxLifetime

// IssuerKeyStore is an identity.KeyStore in Redis, shared by every
// replica: each replica's identity.Issuer publishes the public half of its
// signing key here (the private half never leaves the replica), and each
// replica's JWKS lists every replica's keys, so a verifier reading any
// replica's JWKS URL accepts every replica's tokens. Get it from
// [Store.IssuerKeys].
//
// The keys are one Redis hash, field kid, under the store's prefix
// ("issuerkeys"), each value the key's expiry (Unix milliseconds, in
// clear) and "|" before the key, or, for a revoked kid, the end of its
// revocation and "|R" (identity.KeyStore.RevokeKeys); each method is one
// round trip, bounded
// by Options.Timeout (ListKeys takes a second one to remove values that
// expired or are not in this format), and fails with Unavailable while
// Redis is down (the Issuer then signs with its previous key up to 2 ×
// the token lifetime, then issues nothing, and its JWKS handler serves
// the keys it holds in memory, answering 503 only when it holds none).
//
// A public key in this store lets whoever holds its private half sign
// tokens that every replica's verifiers accept. With an encryption key,
// every key is sealed with AES-GCM, bound to its kid, and a value that is
// not sealed under the store's key (planted by someone who can write to
// Redis without it) or does not open is left out of ListKeys and logged
// (with a Logger). Without an encryption key, values are stored plain, and
// whoever can write to Redis can publish a key: Redis must then be
// trusted, writable by the portal's replicas only.
type IssuerKeyStore struct {
	s *Store
}

var _ identity.KeyStore = (*IssuerKeyStore)(nil)

// IssuerKeys returns the identity.KeyStore of s. Pass it as
// identity.IssuerOptions.KeyStore on every replica. s must not be nil
// ([FromConfig] returns nil without Redis: then leave KeyStore nil): the
// key store of a nil Store fails every call with Unavailable, so its
// Issuer could issue no token.
func (s *Store) IssuerKeys() *IssuerKeyStore { return &IssuerKeyStore{s: s} }

// issuerKey is a stored key as JSON in Redis.
type issuerKey struct {
	Key     identity.JWK `json:"key"`
	Created time.Time    `json:"created"`
	Expires time.Time    `json:"expires,omitzero"`
}

func (ks *IssuerKeyStore) hash() string { return ks.s.key("issuerkeys") }

// binding is what a key's value is sealed to: the hash and the kid, so
// that a value copied to another kid does not open.
func (ks *IssuerKeyStore) binding(kid string) string { return ks.hash() + ":" + kid }

// AddKey publishes k (sealed with an encryption key) and renews the hash's
// expiry: one script, one round trip (two the first time after Redis lost
// its script cache, as after a restart: NOSCRIPT, then EVAL). A key without a kid is
// InvalidArgument, as is one with Revoked set or a member that is not
// valid UTF-8; a revoked kid is Conflict, and changes nothing.
func (ks *IssuerKeyStore) AddKey(ctx context.Context, k identity.StoredKey) error {
	const op = "redisstore.IssuerKeyStore.AddKey"
	if k.Key.Kid == "" {
		return errcode.New(errcode.InvalidArgument, op, "the key has no kid")
	}
	if k.Revoked {
		return errcode.New(errcode.InvalidArgument, op, "a revocation is not a key to add; use RevokeKeys")
	}
	data, err := ks.encodeKey(op, k)
	if err != nil {
		return err
	}
	var added int64
	err = ks.s.do(ctx, op, func(ctx context.Context) error {
		var err error
		added, err = addKeyScript.Run(ctx, ks.s.rdb, []string{ks.hash()}, k.Key.Kid, data,
			issuerKeysTTL.Milliseconds(), ks.s.clock().UnixMilli()).Int64()
		return err
	})
	if err == nil && added == 0 {
		return errcode.New(errcode.Conflict, op, "the key was revoked")
	}
	return err
}

// encodeKey is the value AddKey writes for k: its expiry in Unix ms, "|",
// then the key as JSON, sealed with an encryption key (see decodeKey).
func (ks *IssuerKeyStore) encodeKey(op string, k identity.StoredKey) ([]byte, error) {
	j := k.Key
	if slices.ContainsFunc([]string{j.Kty, j.Crv, j.X, j.Y, j.N, j.E, j.Kid, j.Alg, j.Use}, func(s string) bool { return !utf8.ValidString(s) }) {
		// JSON would write U+FFFD instead: the key read back would
		// not be the key added (nor name its kid).
		return nil, errcode.New(errcode.InvalidArgument, op, "the key has a member that is not valid UTF-8")
	}
	plain, err := json.Marshal(issuerKey{Key: k.Key, Created: k.Created, Expires: k.Expires})
	if err != nil {
		return nil, errcode.Wrap(errcode.InvalidArgument, op, err)
	}
	data, err := ks.s.encode(op, ks.binding(k.Key.Kid), plain, false)
	if err != nil {
		return nil, err
	}
	// The expiry goes in clear before the value, so that a value no
	// replica can open any more (sealed under an encryption key since
	// dropped) is still removed once it expires.
	return append([]byte(strconv.FormatInt(storedExpiry(k).UnixMilli(), 10)+"|"), data...), nil
}

// storedExpiry is when the value of k expires in the store: its Expires,
// or 3 × MaxLifetime after it was made.
func storedExpiry(k identity.StoredKey) time.Time {
	if k.Expires.IsZero() {
		return k.Created.Add(3 * identity.MaxLifetime)
	}
	return k.Expires
}

// maxMillisDigits bounds the digits of a time in ms in a value: 18 digits
// always fit an int64 (and are millions of years), and the scripts'
// revoked() reads no more either, so that Go and Lua agree on every
// revocation.
const maxMillisDigits = 18

// parseMillis reads a time in Unix ms as strconv.FormatInt writes it: an
// optional "-" and 1 to maxMillisDigits digits, nothing else ("+1", " 1",
// "1e3" are malformed).
func parseMillis(s string) (int64, bool) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > maxMillisDigits || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// keyVerdict is what ListKeys does with a value it read.
type keyVerdict int

const (
	keyListed  keyVerdict = iota // a key, or a revocation that has not ended: listed
	keyDropped                   // expired, or not in the store's format: removed
	keyRefused                   // does not open or decode: left out, left in Redis
)

// decodeKey reads the value v of kid at now, as AddKey (encodeKey) and
// RevokeKeys write it: "<ms>|<sealed or plain JSON key>" or "<ms>|R". A
// revocation is read as the scripts' revoked() reads it: digits only, so
// that what Go lists as revoked Lua keeps, and what Go drops Lua removes.
// A key whose expiry in clear is not the one AddKey wrote for it is
// removed.
func (ks *IssuerKeyStore) decodeKey(op, kid, v string, want byte, now time.Time) (identity.StoredKey, keyVerdict) {
	exp, rest, ok := strings.Cut(v, "|")
	ms, msOK := parseMillis(exp)
	switch {
	case !ok || !msOK || (rest == revokedMark && strings.HasPrefix(exp, "-")):
		// Not written by AddKey or RevokeKeys: removed (whoever could
		// plant it could remove it too).
		ks.refused(op, kid, "an issuer key not in the store's format; removed")
		return identity.StoredKey{}, keyDropped
	case !now.Before(time.UnixMilli(ms)):
		return identity.StoredKey{}, keyDropped // expired, whether it opens or not
	case rest == revokedMark:
		return identity.StoredKey{Key: identity.JWK{Kid: kid}, Expires: time.UnixMilli(ms), Revoked: true}, keyListed
	}
	// A copy: decodeBytes opens it in place.
	raw := []byte(rest)
	plain, ok := ks.s.decodeBytes(op, ks.binding(kid), raw, want)
	if !ok {
		// decodeBytes has logged an unsealed value where a sealed one
		// is expected; the others are logged here.
		if want != sealedMark || len(raw) == 0 || raw[0] != plainMark {
			ks.refused(op, kid, "an issuer key that does not open under the store's encryption keys, or is not in the store's format")
		}
		return identity.StoredKey{}, keyRefused
	}
	var k issuerKey
	if json.Unmarshal(plain, &k) != nil || k.Key.Kid != kid {
		ks.refused(op, kid, "an issuer key does not decode, or names another kid")
		return identity.StoredKey{}, keyRefused
	}
	sk := identity.StoredKey{Key: k.Key, Created: k.Created, Expires: k.Expires}
	if storedExpiry(sk).UnixMilli() != ms {
		// The expiry in clear is not the sealed key's: changed (it is
		// not sealed), never written so by AddKey. Removed.
		ks.refused(op, kid, "an issuer key whose expiry in clear is not its own; removed")
		return identity.StoredKey{}, keyDropped
	}
	return sk, keyListed
}

// revokedMark is what follows "|" in the value of a revoked kid.
const revokedMark = "R"

// maxMillisDigitsLua is maxMillisDigits in Lua.
const maxMillisDigitsLua = "18"

// revokedLua is Lua that defines revoked(v, now): whether the value v
// of a kid is a revocation that has not ended at now (ms).
const revokedLua = `
local function revoked(v, now)
  if not v then return false end
  local sep = string.find(v, '|', 1, true)
  if not sep or string.sub(v, sep + 1) ~= '` + revokedMark + `' then return false end
  local digits = string.sub(v, 1, sep - 1)
  if #digits > ` + maxMillisDigitsLua + ` or not string.match(digits, '^%d+$') then return false end
  return tonumber(digits) > now
end
`

var (
	// KEYS: the hash. ARGV: kid, value, the hash's TTL (ms), now (ms).
	// Returns 0, writing nothing, when kid is revoked, else 1.
	addKeyScript = redis.NewScript(revokedLua + `
if revoked(redis.call('HGET', KEYS[1], ARGV[1]), tonumber(ARGV[4])) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)
	// KEYS: the hash. ARGV: now (ms), then kids. Removes each kid's
	// field unless it holds a revocation that has not ended; returns how
	// many it removed.
	removeKeysScript = redis.NewScript(revokedLua + `
local now, n = tonumber(ARGV[1]), 0
for i = 2, #ARGV do
  if not revoked(redis.call('HGET', KEYS[1], ARGV[i]), now) then
    n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return n
`)
)

// removeKeys removes the fields of kids, but not a revocation that has not
// ended: one script.
func (ks *IssuerKeyStore) removeKeys(ctx context.Context, op string, kids []string) error {
	return ks.s.do(ctx, op, func(ctx context.Context) error {
		args := make([]any, 0, 1+len(kids))
		args = append(args, ks.s.clock().UnixMilli())
		for _, kid := range kids {
			args = append(args, kid)
		}
		return removeKeysScript.Run(ctx, ks.s.rdb, []string{ks.hash()}, args...).Err()
	})
}

// RevokeKeys replaces the keys with the given kids by their revocation,
// which ends at until (see identity.KeyStore), and renews the hash's
// expiry: one MULTI/EXEC round trip, none for no kids or an until past.
func (ks *IssuerKeyStore) RevokeKeys(ctx context.Context, kids []string, until time.Time) error {
	const op = "redisstore.IssuerKeyStore.RevokeKeys"
	now := ks.s.clock()
	end := now.Add(identity.RevocationPeriod)
	if !until.IsZero() && until.Before(end) {
		end = until
	}
	if len(kids) == 0 || !end.After(now) {
		return errcode.FromContext(ctx, op)
	}
	h := ks.hash()
	return ks.s.do(ctx, op, func(ctx context.Context) error {
		mark := strconv.FormatInt(end.UnixMilli(), 10) + "|" + revokedMark
		fields := make([]any, 0, 2*len(kids))
		for _, kid := range kids {
			fields = append(fields, kid, mark)
		}
		cmds, err := ks.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, h, fields...)
			p.PExpire(ctx, h, max(issuerKeysTTL, identity.RevocationPeriod))
			return nil
		})
		if redis.IsExecAbortError(err) {
			// Redis refused a command as it was queued (OOM, READONLY):
			// that refusal, not EXECABORT, says why.
			for _, c := range cmds {
				if cerr := c.Err(); cerr != nil && !redis.IsExecAbortError(cerr) {
					return cerr
				}
			}
		}
		return err
	})
}

// ListKeys returns every key in the hash, expired or not, and every kid
// revoked (Revoked set): one HGETALL. Values that are unsealed (with an
// encryption key), do not open, do not decode, or name another kid than
// their field are left out, and logged with a Logger.
func (ks *IssuerKeyStore) ListKeys(ctx context.Context) ([]identity.StoredKey, error) {
	const op = "redisstore.IssuerKeyStore.ListKeys"
	var all map[string]string
	err := ks.s.do(ctx, op, func(ctx context.Context) error {
		var err error
		all, err = ks.s.rdb.HGetAll(ctx, ks.hash()).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	want := byte(plainMark)
	if ks.s.ring != nil {
		want = sealedMark // AddKey seals every value
	}
	out := make([]identity.StoredKey, 0, len(all))
	var drop []string
	now := ks.s.clock()
	for kid, v := range all {
		switch k, verdict := ks.decodeKey(op, kid, v, want, now); verdict {
		case keyListed:
			out = append(out, k)
		case keyDropped:
			drop = append(drop, kid)
		}
	}
	if len(drop) > 0 {
		// Best-effort, a second round trip only when there is something
		// to remove: the keys read are returned whatever it does.
		_ = ks.removeKeys(ctx, op, drop)
	}
	return out, nil
}

func (ks *IssuerKeyStore) refused(op, kid, msg string) {
	if log := ks.s.h.log; log != nil {
		log.Warn("redisstore: refused "+msg, slog.String("op", op), slog.String("key", ks.hash()), slog.String("kid", kid))
	}
}

// RemoveKeys removes the keys with the given kids, but never a revocation
// that has not ended (only its end removes it): one script, none for no
// kids.
func (ks *IssuerKeyStore) RemoveKeys(ctx context.Context, kids []string) error {
	const op = "redisstore.IssuerKeyStore.RemoveKeys"
	if len(kids) == 0 {
		return errcode.FromContext(ctx, op)
	}
	return ks.removeKeys(ctx, op, kids)
}
