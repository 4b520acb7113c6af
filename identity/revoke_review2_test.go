package identity

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// countStore counts RevokeKeys calls and can make them fail (a Redis that
// answers reads but refuses writes: OOM, READONLY after a failover).
type countStore struct {
	*swapStore
	revokes atomic.Int64
	fail    atomic.Bool
}

func (s *countStore) RevokeKeys(ctx context.Context, kids []string, until time.Time) error {
	s.revokes.Add(1)
	if s.fail.Load() {
		return errors.New("READONLY You can't write against a read only replica.")
	}
	return s.swapStore.RevokeKeys(ctx, kids, until)
}

func storeRevokes(t *testing.T, st KeyStore, kid string) (time.Time, bool) {
	t.Helper()
	keys, err := st.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(keys, func(k StoredKey) bool { return k.Key.Kid == kid && k.Revoked })
	if i < 0 {
		return time.Time{}, false
	}
	return keys[i].Expires, true
}

// Regression (second review of the revocation): a revocation ends
// RevocationPeriod after it was made. A JWKS answer from the reused listing
// just after the end gave the kid a new full period locally, and the next
// read wrote it back for a whole new period, every period, for ever.
func TestRevocationEnds(t *testing.T) {
	c := newClock()
	st := &countStore{swapStore: &swapStore{inner: &MemoryKeyStore{now: c.Now}}}
	a := replica(t, c, st, time.Hour, "")
	issueAs(t, a, "user:default/alice")
	const kid = "leaked-kid"
	if err := a.Revoke(t.Context(), kid); err != nil {
		t.Fatal(err)
	}
	end, ok := storeRevokes(t, st, kid)
	if !ok {
		t.Fatal("not revoked")
	}
	st.revokes.Store(0)
	for period := range 3 {
		c.Advance(end.Add(-500 * time.Millisecond).Sub(c.Now()))
		jwksKids(t, a) // fresh read: lists the revocation, ends at `end`
		c.Advance(600 * time.Millisecond)
		jwksKids(t, a) // 100 ms after the end, from the reused listing
		c.Advance(time.Second)
		jwksKids(t, a) // fresh read
		if e, ok := storeRevokes(t, st, kid); ok {
			t.Errorf("period %d: the revocation that ended at %v was written back until %v (%d RevokeKeys so far)",
				period, end, e, st.revokes.Load())
			end = e
			continue
		}
		return
	}
}

// Regression (second review of the revocation): after the store lost a
// revocation, every JWKS answer (a public endpoint) wrote it back, while
// the write failed, and for every answer from the reused listing. Now one
// write back per read of the store at most.
func TestReassertRoundTrips(t *testing.T) {
	c := newClock()
	st := &countStore{swapStore: &swapStore{inner: &MemoryKeyStore{now: c.Now}}}
	a := replica(t, c, st, time.Hour, "")
	issueAs(t, a, "user:default/alice")
	if err := a.Revoke(t.Context(), "leaked-kid"); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Second)
	st.flush(c.Now)
	st.revokes.Store(0)
	// Writes succeed: 10 answers within one reuse window.
	for range 10 {
		jwksKids(t, a)
		c.Advance(50 * time.Millisecond)
	}
	if n := st.revokes.Load(); n > 1 {
		t.Errorf("10 JWKS answers within a second after the loss cost %d RevokeKeys round trips; want 1", n)
	}
	// Writes refused (READONLY): one round trip per answer, for as long as it lasts.
	c.Advance(2 * time.Second)
	st.flush(c.Now)
	st.fail.Store(true)
	st.revokes.Store(0)
	for range 100 {
		jwksKids(t, a)
		c.Advance(100 * time.Millisecond)
	}
	if n := st.revokes.Load(); n > 10 {
		t.Errorf("100 JWKS answers over 10 s with writes refused cost %d RevokeKeys round trips (and as many warnings); want about one per listing or less", n)
	}
}
