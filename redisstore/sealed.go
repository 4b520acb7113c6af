package redisstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
)

// sealedCache keeps entries of type T in Redis as JSON sealed with the
// store's encryption key under s.key(kind, key), each for ttl after it was
// put. It is the body of [FileCache] and [PageCache].
type sealedCache[T any] struct {
	s            *Store
	ttl          time.Duration
	kind         string // key part, and the noun of the nil-entry error
	getOp, putOp string
}

// get returns the entry cached under key: one GET. A missing entry, or
// one that does not open or decode, is a miss; so is an unsealed one
// (logged if the store has a Logger): it was not written by a store
// holding the key.
func (c *sealedCache[T]) get(ctx context.Context, key string) (*T, bool, error) {
	k := c.s.key(c.kind, key)
	var raw []byte
	err := c.s.do(ctx, c.getOp, func(ctx context.Context) error {
		// A copy: the value is opened in place, and the reply's bytes
		// are a string's, which must not change.
		v, err := c.s.rdb.Get(ctx, k).Result()
		raw = []byte(v)
		return err
	})
	if err == redis.Nil {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	plain, ok := c.s.decodeBytes(c.getOp, k, raw, sealedMark)
	if !ok {
		return nil, false, nil
	}
	var v T
	if json.Unmarshal(plain, &v) != nil {
		return nil, false, nil
	}
	return &v, true, nil
}

// put caches v under key, sealed: one SET.
func (c *sealedCache[T]) put(ctx context.Context, key string, v *T) error {
	if v == nil {
		return errcode.New(errcode.InvalidArgument, c.putOp, "no "+c.kind)
	}
	k := c.s.key(c.kind, key)
	plain, err := json.Marshal(v)
	if err != nil {
		return errcode.Wrap(errcode.InvalidArgument, c.putOp, err)
	}
	data, err := c.s.encode(c.putOp, k, plain, true)
	if err != nil {
		return err
	}
	return c.s.do(ctx, c.putOp, func(ctx context.Context) error {
		return c.s.rdb.Set(ctx, k, data, c.ttl).Err()
	})
}
