package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/webhook"
)

// deliveryHook counts the round trips of a client (a pipeline is one),
// not counting a new connection's handshake (HELLO, CLIENT). With
// loseAnswer set, a script is run on the server and then reported to the
// caller as a timeout: a script whose answer was lost, as when Redis
// applies it after the client's timeout fired.
type deliveryHook struct {
	n          atomic.Int64
	loseAnswer atomic.Bool
	// giveUp, when set, is called after a script ran on the server (the
	// caller cancelling its context, as when the provider closes the
	// connection), and the script is reported as cancelled.
	giveUp atomic.Pointer[context.CancelFunc]
}

func (h *deliveryHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *deliveryHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name != "hello" && name != "client" {
			h.n.Add(1)
		}
		err := next(ctx, cmd)
		if name := cmd.Name(); err == nil && (name == "evalsha" || name == "eval") && h.loseAnswer.Load() {
			err = &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}
			cmd.SetErr(err)
		}
		if name := cmd.Name(); err == nil && (name == "evalsha" || name == "eval") {
			if cancel := h.giveUp.Swap(nil); cancel != nil {
				(*cancel)()
				err = context.Canceled
				cmd.SetErr(err)
			}
		}
		return err
	}
}
func (h *deliveryHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// hookedStore opens a Store on r whose client runs h, on the clock clk.
func hookedStore(t *testing.T, r *testsvc.Redis, h *deliveryHook, clk *testclock.Clock) *redisstore.Store {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr, DisableIdentity: true, ContextTimeoutEnabled: true})
	c.AddHook(h)
	t.Cleanup(func() { c.Close() })
	st, err := redisstore.New(c, &redisstore.Options{EncryptionKey: testKey, Timeout: 3 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// body returns a GitLab push whose body differs with n.
func body(n int) []byte {
	return fmt.Appendf(nil, `%s,"user_name":"u%d"}`, pushBody[:len(pushBody)-1], n)
}

// deliveryKeys lists the delivery keys on the server.
func deliveryKeys(t *testing.T, c *redis.Client) []string {
	t.Helper()
	keys, err := c.Keys(t.Context(), redisstore.DefaultPrefix+"wh:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Parse records a delivery in one round trip (the body digest and the id
// with one script), whether the delivery is new, a duplicate or a replay
// under a fresh id; the very first script call on a server is two
// (EVALSHA, then EVAL when Redis does not have it yet).
func TestDeliveriesOneRoundTripPerParse(t *testing.T) {
	r := testsvc.StartRedis(t)
	h := &deliveryHook{}
	rc := replicaReceiver(t, hookedStore(t, r, h, newClock()), time.Hour)
	raw := rawClient(t, r)
	for i, step := range []struct {
		name     string
		delivery string
		body     []byte
		code     errcode.Code
		want     int64
	}{
		{"first delivery on a fresh server", "d-1", body(1), errcode.OK, 2},
		{"a new delivery", "d-2", body(2), errcode.OK, 1},
		{"the same delivery again", "d-2", body(2), errcode.AlreadyExists, 1},
		{"its body under a fresh id", "d-3", body(2), errcode.AlreadyExists, 1},
		{"a new body under a known id", "d-1", body(4), errcode.AlreadyExists, 1},
	} {
		before := h.n.Load()
		_, err := rc.Parse(t.Context(), pushHeader(step.delivery), step.body)
		if errcode.CodeOf(err) != step.code {
			t.Fatalf("step %d (%s): %v; want %v", i, step.name, err, step.code)
		}
		got := h.n.Load() - before
		t.Logf("%s: %d round trips", step.name, got)
		if got != step.want {
			t.Errorf("%s: %d round trips; want %d", step.name, got, step.want)
		}
	}
	// The duplicates recorded nothing: two deliveries, two keys each.
	if keys := deliveryKeys(t, raw); len(keys) != 4 {
		t.Errorf("keys %v; want the digests and ids of d-1 and d-2 only", keys)
	}
}

// The digest and the id are recorded together or not at all: a delivery
// whose id is known records no digest; concurrent copies of one delivery
// on two replicas (the provider's redelivery while the first is handled,
// a replay under fresh ids) are handled once.
func TestDeliveriesSeenAnyAtomic(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	st := openStore(t, r, nil)
	a, b := replicaReceiver(t, st, time.Hour), replicaReceiver(t, openStore(t, r, nil), time.Hour)

	d := st.Deliveries()
	if seen, err := d.SeenAny(t.Context(), []string{"x", "y"}, time.Hour); err != nil || seen {
		t.Fatalf("SeenAny(x, y) = %v, %v; want false", seen, err)
	}
	if seen, err := d.SeenAny(t.Context(), []string{"z", "y"}, time.Hour); err != nil || !seen {
		t.Fatalf("SeenAny(z, y) = %v, %v; want true", seen, err)
	}
	if n := raw.Exists(t.Context(), redisstore.DefaultPrefix+"wh:z").Val(); n != 0 {
		t.Error("SeenAny recorded z although y was known")
	}
	if ttl := raw.PTTL(t.Context(), redisstore.DefaultPrefix+"wh:x").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("wh:x expires in %v; want an hour", ttl)
	}
	raw.FlushAll(t.Context())

	if _, err := a.Parse(t.Context(), pushHeader("d-1"), body(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Parse(t.Context(), pushHeader("d-1"), body(2)); errcode.CodeOf(err) != errcode.AlreadyExists {
		t.Fatalf("a known id with a new body: %v; want AlreadyExists", err)
	}
	if keys := deliveryKeys(t, raw); len(keys) != 2 {
		t.Errorf("keys %v; want only the first delivery's digest and id", keys)
	}

	for _, tt := range []struct {
		name string
		id   func(i int) string
	}{
		{"one delivery", func(int) string { return "d-9" }},
		{"one body under fresh ids", func(i int) string { return fmt.Sprint("replay-", i) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw.FlushAll(t.Context())
			var handled, dup atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 40 {
				rc := []*webhook.Receiver{a, b}[i%2]
				wg.Go(func() {
					<-start
					_, err := rc.Parse(context.Background(), pushHeader(tt.id(i)), body(9))
					switch errcode.CodeOf(err) {
					case errcode.OK:
						handled.Add(1)
					case errcode.AlreadyExists:
						dup.Add(1)
					default:
						t.Error(err)
					}
				})
			}
			close(start)
			wg.Wait()
			if handled.Load() != 1 || dup.Load() != 39 {
				t.Errorf("40 concurrent copies: %d handled, %d duplicates; want 1 and 39", handled.Load(), dup.Load())
			}
			if keys := deliveryKeys(t, raw); len(keys) != 2 {
				t.Errorf("keys %v; want one digest and one id", keys)
			}
		})
	}
}

// A script that ran on Redis but whose answer was lost (the client's
// timeout fired first) fails Parse with Unavailable, and leaves no key:
// the provider's redelivery is handled, not refused as a duplicate
// (review w6).
func TestDeliveriesAnswerLost(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	h := &deliveryHook{}
	clk := newClock()
	rc := replicaReceiver(t, hookedStore(t, r, h, clk), time.Hour)
	// The script is cached on the server first, so that it runs with
	// EVALSHA alone.
	if _, err := rc.Parse(t.Context(), pushHeader("d-0"), body(0)); err != nil {
		t.Fatal(err)
	}
	raw.FlushAll(t.Context()) // keys only: the script stays cached

	h.loseAnswer.Store(true)
	if _, err := rc.Parse(t.Context(), pushHeader("d-1"), body(1)); errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("a delivery whose answer was lost: %v; want Unavailable", err)
	}
	h.loseAnswer.Store(false)
	if keys := deliveryKeys(t, raw); len(keys) != 0 {
		t.Errorf("keys %v after the failure; want none", keys)
	}
	clk.Advance(time.Minute) // past the circuit breaker's pause
	if _, err := rc.Parse(t.Context(), pushHeader("d-1"), body(1)); err != nil {
		t.Fatalf("the provider's redelivery: %v; want it handled", err)
	}

	// Another replica handled d-2; this one's copy times out: the clean-up
	// deletes only what this call recorded (nothing), never the other
	// replica's records, so d-2 is not handled twice.
	other := replicaReceiver(t, openStore(t, r, nil), time.Hour)
	if _, err := other.Parse(t.Context(), pushHeader("d-2"), body(2)); err != nil {
		t.Fatal(err)
	}
	before := len(deliveryKeys(t, raw))
	clk.Advance(time.Minute)
	h.loseAnswer.Store(true)
	if _, err := rc.Parse(t.Context(), pushHeader("d-2"), body(2)); errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("a copy of another replica's delivery whose answer was lost: %v; want Unavailable", err)
	}
	h.loseAnswer.Store(false)
	if after := len(deliveryKeys(t, raw)); after != before {
		t.Errorf("the clean-up removed another replica's records: %d keys before, %d after", before, after)
	}
	if _, err := other.Parse(t.Context(), pushHeader("d-2"), body(2)); errcode.CodeOf(err) != errcode.AlreadyExists {
		t.Errorf("d-2 again on the replica that handled it: %v; want AlreadyExists", err)
	}

	// The same, but this copy's caller gave up (the provider closed the
	// connection) after the script ran: the Receiver must not Forget the
	// other replica's records either (it did, and the circuit breaker,
	// which a cancellation does not open, let that through: d-3 was then
	// handled twice).
	if _, err := other.Parse(t.Context(), pushHeader("d-3"), body(3)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	ctx, cancel := context.WithCancel(t.Context())
	h.giveUp.Store(&cancel)
	if _, err := rc.Parse(ctx, pushHeader("d-3"), body(3)); err == nil {
		t.Fatal("a copy of another replica's delivery whose caller gave up: no error")
	}
	if _, err := other.Parse(t.Context(), pushHeader("d-3"), body(3)); errcode.CodeOf(err) != errcode.AlreadyExists {
		t.Errorf("d-3 again on the replica that handled it, after the cancelled copy: %v; want AlreadyExists", err)
	}
}

// BenchmarkDeliveriesParse measures the Redis round trips of Parse with a
// shared delivery store: new deliveries, each a new body and id.
func BenchmarkDeliveriesParse(b *testing.B) {
	r := testsvc.StartRedis(b)
	h := &deliveryHook{}
	c := redis.NewClient(&redis.Options{Addr: r.Addr, DisableIdentity: true, ContextTimeoutEnabled: true})
	c.AddHook(h)
	b.Cleanup(func() { c.Close() })
	st, err := redisstore.New(c, &redisstore.Options{EncryptionKey: testKey, Timeout: 3 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		b.Fatal(err)
	}
	rc, err := webhook.New(reg, "gitlab.com", &webhook.Options{Secrets: []integrations.Secret{integrations.NewSecret("hook-secret")}, Deliveries: st.Deliveries()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := rc.Parse(b.Context(), pushHeader("warm"), body(-1)); err != nil {
		b.Fatal(err)
	}
	h.n.Store(0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := rc.Parse(b.Context(), pushHeader(fmt.Sprint("d-", i)), body(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(h.n.Load())/float64(i), "requests/op")
}
