package tokencache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// memStore is a Store in memory, as several processes would see one
// Redis; fail makes every call fail.
type memStore struct {
	mu     sync.Mutex
	vals   map[string][]byte
	leases map[string]int64
	fence  int64
	fail   atomic.Bool
}

var errDown = errors.New("store down")

func newMemStore() *memStore {
	return &memStore{vals: map[string][]byte{}, leases: map[string]int64{}}
}

func (m *memStore) Load(_ context.Context, k string) ([]byte, bool, error) {
	if m.fail.Load() {
		return nil, false, errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vals[k]
	return v, ok, nil
}

func (m *memStore) Lease(_ context.Context, k string, _ time.Duration) (int64, error) {
	if m.fail.Load() {
		return 0, errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[k] != 0 {
		return 0, nil
	}
	m.fence++
	m.leases[k] = m.fence
	return m.fence, nil
}

func (m *memStore) Save(_ context.Context, k string, v []byte, _ time.Duration, f int64, _ bool) (bool, error) {
	if m.fail.Load() {
		return false, errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[k] = v
	if m.leases[k] == f {
		delete(m.leases, k)
	}
	return true, nil
}

func (m *memStore) Release(_ context.Context, k string, f int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[k] == f {
		delete(m.leases, k)
	}
	return nil
}

func (m *memStore) Delete(_ context.Context, k string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.vals, k)
	return nil
}

func sharedCache(clk *testclock.Clock, st Store) *Cache[string, *string] {
	c := newCache(clk, time.Minute)
	c.Share(&Sharing[string, *string]{
		Store: st, Key: func(k string) string { return "t:" + k },
		Encode: func(v *string) ([]byte, error) { return []byte(*v), nil },
		Decode: func(b []byte) (*string, error) { return value(string(b)), nil },
	})
	return c
}

func TestSharedCaches(t *testing.T) {
	clk := testclock.New(time.Unix(1e9, 0))
	st := newMemStore()
	var fetches atomic.Int64
	fetch := func(context.Context) (*string, time.Time, error) {
		n := fetches.Add(1)
		time.Sleep(5 * time.Millisecond)
		return value("v" + string(rune('0'+n))), clk.Now().Add(time.Hour), nil
	}
	caches := []*Cache[string, *string]{sharedCache(clk, st), sharedCache(clk, st), sharedCache(clk, st)}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			if v, err := caches[i%3].Get(t.Context(), "k", fetch); err != nil || *v != "v1" {
				t.Errorf("Get = %v, %v; want v1", v, err)
			}
		})
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("fetches = %d; want 1 for three caches sharing a store", n)
	}

	// Due for renewal: one of them fetches.
	clk.Advance(59*time.Minute + 30*time.Second)
	for i := range 30 {
		wg.Go(func() { caches[i%3].Get(t.Context(), "k", fetch) })
	}
	wg.Wait()
	if n := fetches.Load(); n != 2 {
		t.Errorf("fetches after renewal = %d; want 2", n)
	}
}

func TestSharedStoreDownFetchesDirectly(t *testing.T) {
	clk := testclock.New(time.Unix(1e9, 0))
	st := newMemStore()
	st.fail.Store(true)
	c := sharedCache(clk, st)
	v, err := c.Get(t.Context(), "k", func(context.Context) (*string, time.Time, error) { return value("direct"), time.Time{}, nil })
	if err != nil || *v != "direct" {
		t.Fatalf("Get with the store down = %v, %v", v, err)
	}
}

func TestSharedHolderFailureLetsWaiterFetch(t *testing.T) {
	clk := testclock.New(time.Unix(1e9, 0))
	st := newMemStore()
	a, b := sharedCache(clk, st), sharedCache(clk, st)
	started := make(chan struct{})
	release := make(chan struct{})
	boom := errors.New("provider failed")
	var errA error
	var wg sync.WaitGroup
	wg.Go(func() {
		_, errA = a.Get(t.Context(), "k", func(context.Context) (*string, time.Time, error) {
			close(started)
			<-release
			return nil, time.Time{}, boom
		})
	})
	<-started
	done := make(chan *string)
	go func() {
		v, _ := b.Get(t.Context(), "k", func(context.Context) (*string, time.Time, error) { return value("b"), time.Time{}, nil })
		done <- v
	}()
	time.Sleep(20 * time.Millisecond) // b waits on a's lease
	close(release)
	wg.Wait()
	if !errors.Is(errA, boom) {
		t.Fatalf("holder's Get = %v; want its own failure", errA)
	}
	select {
	case v := <-done:
		if v == nil || *v != "b" {
			t.Fatalf("waiter got %v; want its own fetch after the holder released", v)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter did not fetch after the holder failed")
	}
}

func TestSharedInvalidateDeletesFromStore(t *testing.T) {
	clk := testclock.New(time.Unix(1e9, 0))
	st := newMemStore()
	c := sharedCache(clk, st)
	c.Get(t.Context(), "k", func(context.Context) (*string, time.Time, error) { return value("bad"), time.Time{}, nil })
	if n := c.DeleteFunc(func(_ string, v *string) bool { return *v == "bad" }); n != 1 {
		t.Fatalf("DeleteFunc = %d", n)
	}
	if _, ok, _ := st.Load(t.Context(), "t:k"); ok {
		t.Fatal("a rejected value stayed in the shared store")
	}
}
