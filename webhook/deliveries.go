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
type DeliveryStore interface {
	// Seen records id for ttl and reports whether it was already recorded
	// and not expired. Recording and checking are one atomic step.
	Seen(ctx context.Context, id string, ttl time.Duration) (bool, error)
	// Forget removes id, so that a redelivery of an event whose handling
	// failed is handled.
	Forget(ctx context.Context, id string) error
}

// MemoryDeliveries is an in-memory DeliveryStore holding at most a fixed
// number of ids; when full, the oldest is dropped.
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

// Seen implements DeliveryStore.
func (m *MemoryDeliveries) Seen(_ context.Context, id string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if e, ok := m.byID[id]; ok {
		d := e.Value.(*delivery)
		if now.Before(d.expires) {
			return true, nil
		}
		m.order.Remove(e)
		delete(m.byID, id)
	}
	for m.order.Len() >= m.max {
		oldest := m.order.Front()
		m.order.Remove(oldest)
		delete(m.byID, oldest.Value.(*delivery).id)
	}
	m.byID[id] = m.order.PushBack(&delivery{id: id, expires: now.Add(ttl)})
	return false, nil
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
