package webhook

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// seqStore is a DeliveryStore without the batch step (its interface field
// hides MemoryDeliveries' SeenAny): the Receiver calls Seen once per id.
// It counts the calls, fails the failAt-th Seen (as a Redis store does when
// its circuit breaker opens, or a command times out, between two calls)
// after applying it when applied is set (a SET that reached Redis after
// the client gave up), and fails every Forget when forgetFails is set.
type seqStore struct {
	DeliveryStore
	calls, failAt int
	applied       bool
	forgetFails   bool
}

func (s *seqStore) Seen(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	s.calls++
	if s.calls == s.failAt {
		if s.applied {
			s.DeliveryStore.Seen(ctx, id, ttl)
		}
		return false, errors.New("redis: i/o timeout")
	}
	return s.DeliveryStore.Seen(ctx, id, ttl)
}

func (s *seqStore) Forget(ctx context.Context, id string) error {
	if s.forgetFails {
		return errors.New("redis: connection refused")
	}
	return s.DeliveryStore.Forget(ctx, id)
}

// batchStore is MemoryDeliveries whose failAt-th SeenAny fails, after
// being applied when applied is set. It counts the calls of each method.
type batchStore struct {
	*MemoryDeliveries
	calls, seen, failAt int
	applied             bool
}

func (b *batchStore) Seen(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	b.seen++
	return b.MemoryDeliveries.Seen(ctx, id, ttl)
}

func (b *batchStore) SeenAny(ctx context.Context, ids []string, ttl time.Duration) (bool, error) {
	b.calls++
	if b.calls == b.failAt {
		if b.applied {
			// Applied, then the answer was lost: as the contract says,
			// take back what this call recorded (here, all of ids,
			// since it saw none of them).
			if seen, _ := b.MemoryDeliveries.SeenAny(ctx, ids, ttl); !seen {
				for _, id := range ids {
					b.MemoryDeliveries.Forget(ctx, id)
				}
			}
		}
		return false, errors.New("redis: i/o timeout")
	}
	return b.MemoryDeliveries.SeenAny(ctx, ids, ttl)
}

// A delivery whose recording failed half way (or failed after the store
// applied it) is answered Unavailable, and the provider's redelivery of it
// is handled, not refused as a duplicate (review w6: Parse recorded the
// body digest, then failed on the delivery id and left the digest
// recorded). Only a store without the batch step whose Forget fails too
// still loses the redelivery, as DeliveryStore documents.
func TestPartialRecordRedeliveryHandled(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store DeliveryStore
		want  errcode.Code // of the redelivery
	}{
		{"one at a time, the id fails", &seqStore{DeliveryStore: NewMemoryDeliveries(0, nil), failAt: 2}, errcode.OK},
		{"one at a time, the digest fails after it applied", &seqStore{DeliveryStore: NewMemoryDeliveries(0, nil), failAt: 1, applied: true}, errcode.OK},
		{"one at a time, the id fails after it applied", &seqStore{DeliveryStore: NewMemoryDeliveries(0, nil), failAt: 2, applied: true}, errcode.OK},
		{"one at a time, Forget fails too", &seqStore{DeliveryStore: NewMemoryDeliveries(0, nil), failAt: 2, forgetFails: true}, errcode.AlreadyExists},
		{"batch fails", &batchStore{MemoryDeliveries: NewMemoryDeliveries(0, nil), failAt: 1}, errcode.OK},
		{"batch fails after it applied", &batchStore{MemoryDeliveries: NewMemoryDeliveries(0, nil), failAt: 1, applied: true}, errcode.OK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, "github.com", &Options{Deliveries: tt.store})
			body := load(t, "github-push.json")
			if _, err := r.Parse(t.Context(), githubHeaders(body, "d-1"), body); errcode.CodeOf(err) != errcode.Unavailable {
				t.Fatalf("first delivery: %v; want Unavailable", err)
			}
			ev, err := r.Parse(t.Context(), githubHeaders(body, "d-1"), body)
			if errcode.CodeOf(err) != tt.want {
				t.Fatalf("the provider's redelivery after a 503: %v; want %v", err, tt.want)
			}
			if tt.want != errcode.OK {
				return
			}
			if ev == nil || ev.Delivery != "d-1" {
				t.Fatalf("redelivery: %+v", ev)
			}
			// Recorded now: a third copy is a duplicate.
			if _, err := r.Parse(t.Context(), githubHeaders(body, "d-1"), body); errcode.CodeOf(err) != errcode.AlreadyExists {
				t.Errorf("a third copy after the redelivery was handled: %v; want AlreadyExists", err)
			}
		})
	}
}

// With a batch store, Parse records a delivery in one SeenAny call and
// never calls Seen.
func TestParseUsesBatchStore(t *testing.T) {
	st := &batchStore{MemoryDeliveries: NewMemoryDeliveries(0, nil)}
	r := newReceiver(t, "github.com", &Options{Deliveries: st})
	body := load(t, "github-push.json")
	if _, err := r.Parse(t.Context(), githubHeaders(body, "d-1"), body); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Parse(t.Context(), githubHeaders(body, "d-2"), body); errcode.CodeOf(err) != errcode.AlreadyExists {
		t.Fatalf("replay under a fresh id: %v; want AlreadyExists", err)
	}
	if st.calls != 2 || st.seen != 0 {
		t.Errorf("two Parses made %d SeenAny and %d Seen calls; want 2 and 0", st.calls, st.seen)
	}
	if n := st.order.Len(); n != 2 {
		t.Errorf("%d records; want 2 (the digest and d-1; the replay's id is not recorded)", n)
	}
}

func TestMemoryDeliveriesSeenAny(t *testing.T) {
	now := time.Unix(0, 0)
	m := NewMemoryDeliveries(0, func() time.Time { return now })
	ctx := t.Context()
	seenAny := func(ids ...string) bool {
		t.Helper()
		s, err := m.SeenAny(ctx, ids, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	held := func() string {
		var ids []string
		for e := m.order.Front(); e != nil; e = e.Next() {
			ids = append(ids, e.Value.(*delivery).id)
		}
		return fmt.Sprint(ids)
	}
	if seenAny("a", "b") {
		t.Fatal("new ids seen")
	}
	if got := held(); got != "[a b]" {
		t.Fatalf("held %s; want [a b]", got)
	}
	// One of them known: seen, and c is not recorded.
	if !seenAny("c", "b") {
		t.Error("b not seen")
	}
	if got := held(); got != "[a b]" {
		t.Errorf("after a batch with a known id, held %s; want [a b]", got)
	}
	// Expired ids count as not recorded, and are recorded again.
	now = now.Add(2 * time.Minute)
	if seenAny("b", "c") {
		t.Error("expired b seen")
	}
	if !seenAny("c") || !seenAny("b") {
		t.Error("b and c not recorded after expiry")
	}
	// The same id twice in one batch is one record.
	if seenAny("d", "d") || !seenAny("d") {
		t.Error("d twice in a batch")
	}
	if got := held(); got != "[a b c d]" {
		t.Errorf("held %s", got)
	}
	// The bound holds for batches too.
	small := NewMemoryDeliveries(2, nil)
	small.SeenAny(ctx, []string{"x", "y", "z"}, time.Minute)
	if small.order.Len() != 2 {
		t.Errorf("a batch of 3 in a store of 2 holds %d", small.order.Len())
	}
}
