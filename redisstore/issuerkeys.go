package redisstore

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

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
// ("issuerkeys"); each method is one round trip, bounded by
// Options.Timeout, and fails with Unavailable while Redis is down (the
// Issuer then issues no token with a new key, and its JWKS handler
// answers 503).
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
}

func (ks *IssuerKeyStore) hash() string { return ks.s.key("issuerkeys") }

// binding is what a key's value is sealed to: the hash and the kid, so
// that a value copied to another kid does not open.
func (ks *IssuerKeyStore) binding(kid string) string { return ks.hash() + ":" + kid }

// AddKey publishes k (sealed with an encryption key) and renews the hash's
// expiry: one MULTI/EXEC round trip. A key without a kid is
// InvalidArgument.
func (ks *IssuerKeyStore) AddKey(ctx context.Context, k identity.StoredKey) error {
	const op = "redisstore.IssuerKeyStore.AddKey"
	if k.Key.Kid == "" {
		return errcode.New(errcode.InvalidArgument, op, "the key has no kid")
	}
	plain, err := json.Marshal(issuerKey(k))
	if err != nil {
		return errcode.Wrap(errcode.InvalidArgument, op, err)
	}
	data, err := ks.s.encode(op, ks.binding(k.Key.Kid), plain, false)
	if err != nil {
		return err
	}
	h := ks.hash()
	return ks.s.do(ctx, op, func(ctx context.Context) error {
		_, err := ks.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, h, k.Key.Kid, data)
			p.PExpire(ctx, h, issuerKeysTTL)
			return nil
		})
		return err
	})
}

// ListKeys returns every key in the hash, expired or not: one HGETALL.
// Values that are unsealed (with an encryption key), do not open, do not
// decode, or name another kid than their field are left out, and logged
// with a Logger.
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
	for kid, v := range all {
		// A copy: decodeBytes opens it in place.
		raw := []byte(v)
		plain, ok := ks.s.decodeBytes(op, ks.binding(kid), raw, want)
		if !ok {
			// decodeBytes has logged an unsealed value where a sealed
			// one is expected; the others are logged here.
			if want != sealedMark || len(raw) == 0 || raw[0] != plainMark {
				ks.refused(op, kid, "an issuer key that does not open under the store's encryption keys, or is not in the store's format")
			}
			continue
		}
		var k issuerKey
		if json.Unmarshal(plain, &k) != nil || k.Key.Kid != kid {
			ks.refused(op, kid, "an issuer key does not decode, or names another kid")
			continue
		}
		out = append(out, identity.StoredKey(k))
	}
	return out, nil
}

func (ks *IssuerKeyStore) refused(op, kid, msg string) {
	if log := ks.s.h.log; log != nil {
		log.Warn("redisstore: refused "+msg, slog.String("op", op), slog.String("key", ks.hash()), slog.String("kid", kid))
	}
}

// RemoveKeys removes the keys with the given kids: one HDEL, none for no
// kids.
func (ks *IssuerKeyStore) RemoveKeys(ctx context.Context, kids []string) error {
	const op = "redisstore.IssuerKeyStore.RemoveKeys"
	if len(kids) == 0 {
		return errcode.FromContext(ctx, op)
	}
	return ks.s.do(ctx, op, func(ctx context.Context) error {
		return ks.s.rdb.HDel(ctx, ks.hash(), kids...).Err()
	})
}
