package webhook

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DeliveryStore remembers the delivery ids of handled events. Implementations
// must be safe for concurrent use; a store shared by several replicas makes
// a delivery handled once across all of them.
//
// A [Receiver] records two ids per delivery: the body's digest and the
// delivery id. A store that also implements [DeliveryBatchStore] records
// both in one atomic step. With a store that does not, the Receiver calls
// Seen once per id and, when a call fails, Forgets the ids recorded before
// it and the failing one (whose write may have been applied after all),
// so that the provider's redelivery is not taken for a duplicate. That is
// best effort: should the Forget fail too, the redelivery is refused as a
// duplicate until the ids expire, and the event is lost.
type DeliveryStore interface {
	// Seen records id for ttl and reports whether it was already recorded
	// and not expired. Recording and checking are one atomic step.
	Seen(ctx context.Context, id string, ttl time.Duration) (bool, error)
	// Forget removes id, so that a redelivery of an event whose handling
	// failed is handled.
	Forget(ctx context.Context, id string) error
}

// DeliveryBatchStore is a [DeliveryStore] that checks and records several
// ids in one atomic step; the [Receiver] uses it, when the store has it,
// to record a delivery's body digest and id together. [MemoryDeliveries]
// and redisstore's Deliveries implement it.
type DeliveryBatchStore interface {
	DeliveryStore
	// SeenAny reports whether any of ids is recorded and not expired; then
	// it records nothing. Otherwise it records every id for ttl. Checking
	// and recording are one atomic step. When it fails, the ids may or may
	// not be recorded (a request that timed out may still have been
	// applied): SeenAny itself then takes back what this call recorded,
	// and only that, never a record another call (another replica) made,
	// so that the provider's redelivery is handled once. The Receiver
	// does not Forget them: a Forget of an id that another replica
	// recorded would let a later copy of that delivery be handled twice.
	SeenAny(ctx context.Context, ids []string, ttl time.Duration) (bool, error)
}

// MemoryDeliveries is an in-memory DeliveryStore holding at most a fixed
// number of ids; when full, the oldest is dropped. It is safe for
// concurrent use. The zero MemoryDeliveries is not usable; make one with
// [NewMemoryDeliveries].
type MemoryDeliveries struct {
	mu    sync.Mutex
	max   int
	now   func() time.Time
	order *list.List // of *delivery, oldest first
	byID  map[string]*list.Element
}

type delivery struct {
	id      string
	expires time.Time
}

// NewMemoryDeliveries returns a store of at most max ids (max < 1 means
// 100,000) on the clock now (nil means time.Now).
func NewMemoryDeliveries(max int, now func() time.Time) *MemoryDeliveries {
	if max < 1 {
		max = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryDeliveries{max: max, now: now, order: list.New(), byID: map[string]*list.Element{}}
}

var _ DeliveryBatchStore = (*MemoryDeliveries)(nil)

// Seen implements DeliveryStore.
func (m *MemoryDeliveries) Seen(_ context.Context, id string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.live(id, now) {
		return true, nil
	}
	m.put(id, now.Add(ttl))
	return false, nil
}

// SeenAny implements DeliveryBatchStore.
func (m *MemoryDeliveries) SeenAny(_ context.Context, ids []string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, id := range ids {
		if m.live(id, now) {
			return true, nil
		}
	}
	for _, id := range ids {
		m.put(id, now.Add(ttl))
	}
	return false, nil
}

// live reports whether id is recorded and not expired at now, dropping
// its record when expired. m.mu is held.
func (m *MemoryDeliveries) live(id string, now time.Time) bool {
	e, ok := m.byID[id]
	if !ok {
		return false
	}
	if now.Before(e.Value.(*delivery).expires) {
		return true
	}
	m.order.Remove(e)
	delete(m.byID, id)
	return false
}

// put records id until expires, dropping the oldest records when full.
// m.mu is held.
func (m *MemoryDeliveries) put(id string, expires time.Time) {
	if e, ok := m.byID[id]; ok { // the same id twice in one SeenAny
		e.Value.(*delivery).expires = expires
		return
	}
	for m.order.Len() >= m.max {
		oldest := m.order.Front()
		m.order.Remove(oldest)
		delete(m.byID, oldest.Value.(*delivery).id)
	}
	m.byID[id] = m.order.PushBack(&delivery{id: id, expires: expires})
}

// Forget implements DeliveryStore.
func (m *MemoryDeliveries) Forget(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byID[id]; ok {
		m.order.Remove(e)
		delete(m.byID, id)
	}
	return nil
}
