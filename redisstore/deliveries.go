package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/webhook"
)

// Deliveries is a webhook.DeliveryStore in Redis: the delivery ids (and
// body digests) a [webhook.Receiver] has handled, one key each
// (<prefix>wh:<id>) that expires with the receiver's DeliveryTTL, so that
// an event redelivered to another replica is handled once across the
// fleet. Get it from [Store.Deliveries].
//
// The keys hold no secret and are not sealed: an id planted by someone
// who can write to Redis makes the receiver drop that delivery as a
// duplicate, and one deleted makes a replay pass the id check (the
// provider's signature is still checked first). When Redis is down,
// Seen and Forget are Unavailable at once (the store's circuit breaker),
// and the receiver answers the provider with an error so that it
// redelivers later; no event is handled unrecorded.
type Deliveries struct{ s *Store }

var _ webhook.DeliveryStore = (*Deliveries)(nil)

// Deliveries returns the shared delivery store of s. Pass it as
// webhook.Options.Deliveries.
func (s *Store) Deliveries() *Deliveries { return &Deliveries{s: s} }

func (d *Deliveries) key(id string) string { return d.s.key("wh", id) }

// Seen records id for ttl and reports whether it was already recorded
// and not expired, in one atomic step (SET NX: one round trip). A ttl
// under a millisecond is one millisecond.
func (d *Deliveries) Seen(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	var seen bool
	err := d.s.do(ctx, "redisstore.Deliveries.Seen", func(ctx context.Context) error {
		err := d.s.rdb.SetArgs(ctx, d.key(id), "1", redis.SetArgs{Mode: "NX", TTL: max(ttl, time.Millisecond)}).Err()
		if err == redis.Nil { // NX: the key was there
			seen = true
			return nil
		}
		return err
	})
	return seen, err
}

// Forget removes id (one round trip), so that a redelivery of an event
// whose handling failed is handled. Forgetting an id not recorded is no
// error.
func (d *Deliveries) Forget(ctx context.Context, id string) error {
	return d.s.do(ctx, "redisstore.Deliveries.Forget", func(ctx context.Context) error {
		return d.s.rdb.Del(ctx, d.key(id)).Err()
	})
}
