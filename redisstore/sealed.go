package redisstore

import (
	"context"
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"

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
	// text lists the strings of an entry: each must be valid UTF-8,
	// which JSON keeps as it is (it writes U+FFFD for the bytes of
	// invalid UTF-8, so that the entry read back would differ from the
	// entry put: an ETag never matching again).
	text func(*T) []string
	// complete reports whether an entry read has what every entry put
	// has (its content): a value missing it (written by another
	// version, under another name) is a miss, never served as empty.
	complete func(*T) bool
	// prepare returns the entry to write for v (v, or a copy with its
	// content set when nil: an empty content is written "", not null,
	// so that it reads back complete).
	prepare func(*T) *T
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
	v, ok := c.decode(k, raw)
	return v, ok, nil
}

// decode reads the value raw of k as put writes it: sealed JSON. A value
// that is not sealed, does not open, does not decode or is not complete
// is refused (ok false). It opens raw in place.
func (c *sealedCache[T]) decode(k string, raw []byte) (*T, bool) {
	plain, ok := c.s.decodeBytes(c.getOp, k, raw, sealedMark)
	if !ok {
		return nil, false
	}
	var v T
	if json.Unmarshal(plain, &v) != nil || (c.complete != nil && !c.complete(&v)) {
		return nil, false
	}
	return &v, true
}

// put caches v under key, sealed: one SET.
func (c *sealedCache[T]) put(ctx context.Context, key string, v *T) error {
	k := c.s.key(c.kind, key)
	data, err := c.encode(k, v)
	if err != nil {
		return err
	}
	return c.s.do(ctx, c.putOp, func(ctx context.Context) error {
		return c.s.rdb.Set(ctx, k, data, c.ttl).Err()
	})
}

// encode is the value put writes for v at k: v as JSON, sealed (see
// decode). An entry with a string that is not valid UTF-8 (see text) is
// InvalidArgument: it would not read back the same.
func (c *sealedCache[T]) encode(k string, v *T) ([]byte, error) {
	if v == nil {
		return nil, errcode.New(errcode.InvalidArgument, c.putOp, "no "+c.kind)
	}
	if c.prepare != nil {
		v = c.prepare(v)
	}
	if c.text != nil && slices.ContainsFunc(c.text(v), func(s string) bool { return !utf8.ValidString(s) }) {
		return nil, errcode.New(errcode.InvalidArgument, c.putOp, "the "+c.kind+" has a string that is not valid UTF-8; it would not read back the same")
	}
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, errcode.Wrap(errcode.InvalidArgument, c.putOp, err)
	}
	return c.s.encode(c.putOp, k, plain, true)
}
