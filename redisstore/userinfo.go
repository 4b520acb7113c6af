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

// UserInfoStore is an identity.UserInfoStore in Redis, shared by the
// replicas of a fleet: the user info (ownership refs) an Issuer records
// at each token, which any replica's [identity.Issuer.UserInfoHandler]
// serves. Get one with [Store.UserInfo]. It is safe for concurrent use.
//
// A user's ownership refs decide what she may do, so a record must come
// from an Issuer: with an encryption key, every record is sealed with
// AES-GCM, bound to its user, and one that is not sealed under the
// store's key (planted by someone who can write to Redis without it), or
// does not open, is not found (and logged, with a Logger): the verifier
// asking refuses the token, and the user signs in again. Without an
// encryption key, records are stored plain, and whoever can write to Redis
// can give a user any group: Redis must then be trusted, writable by the
// portal's replicas only.
type UserInfoStore struct {
	s *Store
}

var _ identity.UserInfoStore = (*UserInfoStore)(nil)

// UserInfo returns the identity.UserInfoStore of s. Pass it as
// identity.IssuerOptions.UserInfo on every replica. s must not be nil
// ([FromConfig] returns nil without Redis: then leave UserInfo nil): the
// user info store of a nil Store fails every call with Unavailable, so
// its Issuer could issue no token.
func (s *Store) UserInfo() *UserInfoStore { return &UserInfoStore{s: s} }

func (u *UserInfoStore) key(entityRef string) string { return u.s.key("userinfo", entityRef) }

// PutUserInfo records info until info.ExpiresAt, replacing the user's
// previous record: one SET. A record already expired is not written.
func (u *UserInfoStore) PutUserInfo(ctx context.Context, info identity.UserInfo) error {
	const op = "redisstore.UserInfoStore.PutUserInfo"
	if err := errcode.FromContext(ctx, op); err != nil {
		return err
	}
	plain, err := json.Marshal(info)
	if err != nil {
		return errcode.Wrap(errcode.InvalidArgument, op, err)
	}
	var check identity.UserInfo
	if err := json.Unmarshal(plain, &check); err != nil {
		return errcode.Wrap(errcode.InvalidArgument, op, err) // not an entity ref, bad ent, no exp
	}
	ttl := info.ExpiresAt.Sub(u.s.clock())
	if ttl <= 0 {
		return nil
	}
	k := u.key(info.EntityRef)
	data, err := u.s.encode(op, k, plain, false)
	if err != nil {
		return err
	}
	return u.s.do(ctx, op, func(ctx context.Context) error {
		return u.s.rdb.Set(ctx, k, data, max(ttl, time.Millisecond)).Err()
	})
}

// UserInfo returns the record of the user entityRef: one GET. None, an
// expired one, or one that does not open or decode is NotFound.
func (u *UserInfoStore) UserInfo(ctx context.Context, entityRef string) (*identity.UserInfo, error) {
	const op = "redisstore.UserInfoStore.UserInfo"
	k := u.key(entityRef)
	var raw []byte
	err := u.s.do(ctx, op, func(ctx context.Context) error {
		// A copy: decodeBytes opens the value in place.
		v, err := u.s.rdb.Get(ctx, k).Result()
		raw = []byte(v)
		return err
	})
	if err == redis.Nil {
		return nil, errcode.New(errcode.NotFound, op, "no user info for "+entityRef)
	}
	if err != nil {
		return nil, err
	}
	want := byte(plainMark)
	if u.s.ring != nil {
		want = sealedMark // PutUserInfo seals every record
	}
	plain, ok := u.s.decodeBytes(op, k, raw, want)
	var info identity.UserInfo
	if ok && (json.Unmarshal(plain, &info) != nil || info.EntityRef != entityRef) {
		ok = false
		if log := u.s.h.log; log != nil {
			log.Warn("redisstore: refused a user info record that does not decode or names another user", slog.String("op", op), slog.String("key", k))
		}
	}
	if !ok || !u.s.clock().Before(info.ExpiresAt) {
		return nil, errcode.New(errcode.NotFound, op, "no user info for "+entityRef)
	}
	return &info, nil
}
