package redisstore

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/webhook"
)

// Deliveries is a webhook.DeliveryStore in Redis: the delivery ids (and
// body digests) a [webhook.Receiver] has handled, one key each
// (<prefix>wh:<id>) that expires with the receiver's DeliveryTTL, so that
// an event redelivered to another replica is handled once across the
// fleet. Get it from [Store.Deliveries]. It is a
// [webhook.DeliveryBatchStore]: the receiver records a delivery's body
// digest and id with one script, in one round trip, both or neither.
//
// The keys hold no secret and are not sealed: an id planted by someone
// who can write to Redis makes the receiver drop that delivery as a
// duplicate, and one deleted makes a replay pass the id check (the
// provider's signature is still checked first). When Redis is down,
// Seen, SeenAny and Forget are Unavailable at once (the store's circuit
// breaker), and the receiver answers the provider with an error so that
// it redelivers later: no event is handled unrecorded. A script whose
// answer was lost (a timeout) may still have run on the server; SeenAny
// then deletes the keys that call recorded before failing (one script
// past the circuit breaker, deleting only keys holding the call's own
// random mark, never another replica's), so that the redelivery is
// handled. That is best effort: should the clean-up fail too while the
// script did run, or reach Redis before the script's late run, the
// redelivery is taken for a duplicate until DeliveryTTL and the event is
// lost.
type Deliveries struct{ s *Store }

var _ webhook.DeliveryBatchStore = (*Deliveries)(nil)

var (
	// seenAnyScript records every key of KEYS for ARGV[1] milliseconds,
	// with the value ARGV[2] (the call's own mark), unless one of them is
	// there (EXISTS ignores expired keys). It returns 1 when one was
	// there, 0 when it recorded them.
	seenAnyScript = redis.NewScript(`
if redis.call('EXISTS', unpack(KEYS)) > 0 then return 1 end
for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[2], 'PX', ARGV[1]) end
return 0
`)
	// unrecordScript deletes the keys of KEYS whose value is ARGV[1]:
	// those one SeenAny call recorded, not another replica's.
	unrecordScript = redis.NewScript(`
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
end
return 0
`)
)

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

// SeenAny records every id for ttl unless one of them is recorded and not
// expired, and reports whether one was, in one atomic step (a Lua script:
// one round trip once Redis has it cached, two the first time, EVALSHA
// then EVAL). A ttl under a millisecond is one millisecond. When it fails,
// the script may still have run (a timeout on the client).
func (d *Deliveries) SeenAny(ctx context.Context, ids []string, ttl time.Duration) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = d.key(id)
	}
	mark := rand.Text() // this call's own value, to undo its records only
	var seen, sent bool
	err := d.s.do(ctx, "redisstore.Deliveries.SeenAny", func(ctx context.Context) error {
		sent = true
		n, err := seenAnyScript.Run(ctx, d.s.rdb, keys, ms(max(ttl, time.Millisecond)), mark).Int64()
		seen = n == 1
		return err
	})
	if err != nil && sent {
		// The script may have run although its answer was lost (a
		// timeout): delete what it may have recorded (the keys holding
		// its mark, never another replica's), so that the redelivery the
		// receiver now asks for is not a duplicate (the receiver leaves
		// this to the store: only the store can tell its records from
		// another replica's). This goes past the circuit breaker, which
		// the failure may just have opened; it is one command per
		// failure, not per call while Redis is down.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.s.timeout)
		_ = unrecordScript.Run(cctx, d.s.rdb, keys, mark).Err()
		cancel()
	}
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
