package identity

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// A StartRepublishing called right after the previous one's context was
// cancelled (a component restarting: cancel, start again) must start a
// goroutine, though the ended one may not have been scheduled to clear its
// state yet.
func TestStartRepublishingRightAfterCancel(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	a := replica(t, c, st, time.Hour, "")
	t.Cleanup(func() { a.Close() })
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	kid := headerKid(t, tok.Token)
	ctx1, cancel1 := context.WithCancel(t.Context())
	a.StartRepublishing(ctx1, 10*time.Millisecond)
	cancel1()
	a.StartRepublishing(t.Context(), 10*time.Millisecond) // no sleep between
	time.Sleep(50 * time.Millisecond)
	flushStore(t, st)
	deadline := time.Now().Add(2 * time.Second)
	for !slices.Contains(storeKids(t, st), kid) {
		if time.Now().After(deadline) {
			t.Fatalf("StartRepublishing right after cancelling the previous one's context started nothing: key %s not republished within 2 s (interval 10 ms)", kid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// slowAdd is a KeyStore whose AddKey, once armed, is in flight for a while
// (a write already on the wire) before it notices its context.
type slowAdd struct {
	*MemoryKeyStore
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
	after   atomic.Int32 // AddKeys that completed after closed was set
	closed  atomic.Bool
}

func (s *slowAdd) AddKey(ctx context.Context, k StoredKey) error {
	if s.armed.CompareAndSwap(true, false) {
		close(s.entered)
		<-s.release
		if s.closed.Load() {
			s.after.Add(1)
		}
		return s.MemoryKeyStore.AddKey(context.WithoutCancel(ctx), k)
	}
	return s.MemoryKeyStore.AddKey(ctx, k)
}

// Start, cancel while the goroutine is in Republish, Start again, Close:
// Close waits for the first goroutine too, so nothing writes to the store
// after it returned.
func TestCloseWaitsForAReplacedGoroutine(t *testing.T) {
	c := newClock()
	st := &slowAdd{MemoryKeyStore: NewMemoryKeyStore(), entered: make(chan struct{}), release: make(chan struct{})}
	a := replica(t, c, st, time.Hour, "")
	if _, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"}); err != nil {
		t.Fatal(err)
	}
	flushStore(t, st.MemoryKeyStore)
	st.armed.Store(true)
	ctx1, cancel1 := context.WithCancel(t.Context())
	a.StartRepublishing(ctx1, 10*time.Millisecond)
	select {
	case <-st.entered:
	case <-time.After(2 * time.Second):
		t.Fatal("republish never reached AddKey")
	}
	cancel1()
	a.StartRepublishing(t.Context(), time.Hour)
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
		st.closed.Store(true)
		t.Logf("Close returned while the first goroutine is still inside Republish (AddKey in flight)")
	case <-time.After(300 * time.Millisecond):
		t.Logf("Close waited for the first goroutine")
	}
	close(st.release)
	time.Sleep(100 * time.Millisecond)
	if n := st.after.Load(); n > 0 {
		t.Errorf("after Close returned, the first goroutine of StartRepublishing was still running and wrote %d key(s) to the store", n)
	}
	<-closed
}

// Cancel then Start again, many times (run under -race): no race, and
// Close ends everything started.
func TestStartRepublishingRestartRace(t *testing.T) {
	a := replica(t, newClock(), NewMemoryKeyStore(), time.Hour, "")
	for range 200 {
		ctx, cancel := context.WithCancel(t.Context())
		a.StartRepublishing(ctx, time.Millisecond)
		go cancel()
		a.StartRepublishing(t.Context(), time.Millisecond)
		a.Close()
	}
}
