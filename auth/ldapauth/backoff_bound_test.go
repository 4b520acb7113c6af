package ldapauth

import (
	"strconv"
	"testing"
	"time"
)

// fill tries n keys prefix0..prefix<n-1> once each at now, each failing.
func fill(l *limiter, prefix string, n int, now time.Time) {
	for i := range n {
		k := prefix + strconv.Itoa(i)
		l.begin(k, now)
		l.fail(k, now)
	}
}

// Regression: once the in-process table held maxTracked keys (one failed
// sign-in per made-up username fills it), each attempt for a new key
// scanned the whole table twice under the limiter's one lock (24-34 ms
// an attempt at 100,000 entries, every sign-in of the process waiting).
// Now a new key evicts exactly one entry, the least recently used, from a
// list in the order of use (BenchmarkLimiterNewKeyFullTable gives the
// cost).
func TestLimiterFullTableEvictsOneEntryPerNewKey(t *testing.T) {
	l := newLimiter(5, time.Second, 5*time.Minute)
	now := time.Unix(1_000_000, 0)
	fill(l, "junk", maxTracked, now)
	if len(l.m) != maxTracked {
		t.Fatalf("filling the table: %d keys, want %d", len(l.m), maxTracked)
	}
	const n = 100
	fill(l, "more", n, now.Add(time.Second))
	if len(l.m) != maxTracked {
		t.Errorf("table holds %d keys, want %d: one evicted per new key", len(l.m), maxTracked)
	}
	for i := range n {
		if l.m["junk"+strconv.Itoa(i)] != nil {
			t.Fatalf("junk%d, among the %d least recently used, was kept", i, n)
		}
	}
	if l.m["junk"+strconv.Itoa(n)] == nil || l.m["more0"] == nil {
		t.Error("a key more recently used than the evicted ones was evicted")
	}
}

// Regression: when every key had a delay pending (each past FreeAttempts),
// nothing was evicted and the table grew past maxTracked without bound.
func TestLimiterFullTableOfDelayedKeysStaysBounded(t *testing.T) {
	l := newLimiter(0, time.Minute, 5*time.Minute) // free 0: the first failure sets a delay
	now := time.Unix(1_000_000, 0)
	fill(l, "u", maxTracked+100, now)
	if len(l.m) != maxTracked {
		t.Errorf("back-off table holds %d keys; its bound is maxTracked=%d", len(l.m), maxTracked)
	}
}

// What a flood of new keys does to a full table whose keys all have a
// delay pending (see limiter.evict): a new user still gets her attempt; a
// username a guesser keeps trying stays delayed however many new keys
// arrive; a delayed username left alone is evicted only after bound newer
// keys.
func TestLimiterFloodOfNewKeys(t *testing.T) {
	const bound = 50
	now := time.Unix(1_000_000, 0)
	newFull := func() *limiter {
		l := newLimiter(1, time.Minute, 5*time.Minute)
		l.bound = bound
		for _, k := range []string{"victim", "victim"} { // past its free attempt: delayed
			if _, ok := l.begin(k, now); ok {
				l.fail(k, now)
			}
		}
		if _, ok := l.begin("victim", now); ok {
			t.Fatal("the victim is not delayed")
		}
		for i := range bound - 1 { // the rest of the table: delayed keys too
			k := "d" + strconv.Itoa(i)
			l.begin(k, now)
			l.fail(k, now)
			l.begin(k, now)
			l.fail(k, now)
		}
		if len(l.m) != bound {
			t.Fatalf("table holds %d keys, want %d", len(l.m), bound)
		}
		return l
	}
	t.Run("NewUserLetIn", func(t *testing.T) {
		l := newFull()
		if _, ok := l.begin("carol", now); !ok {
			t.Error("a new username was refused at a full table of delayed keys: a flood would lock everyone out")
		}
		if len(l.m) != bound {
			t.Errorf("table holds %d keys, want %d", len(l.m), bound)
		}
	})
	t.Run("GuessedKeyStaysDelayed", func(t *testing.T) {
		l := newFull()
		for i := range 10 * bound {
			if _, ok := l.begin("victim", now); ok {
				t.Fatalf("after %d flood keys, a guess on the victim went through", i)
			}
			k := "flood" + strconv.Itoa(i)
			l.begin(k, now)
			l.fail(k, now)
		}
	})
	t.Run("IdleKeyEvictedAfterBoundNewKeys", func(t *testing.T) {
		l := newFull()
		if _, ok := l.begin("victim", now); ok { // a last guess: the victim is the key used last
			t.Fatal("the victim is not delayed")
		}
		fill(l, "flood", bound-1, now)
		if e := l.m["victim"]; e == nil || !e.Value.(*slot).until.After(now) {
			t.Fatalf("the victim's delay was dropped after %d newer keys, fewer than the table's %d", bound-1, bound)
		}
		fill(l, "more", 1, now)
		if l.m["victim"] != nil {
			t.Fatal("the victim, least recently used, was kept")
		}
		if _, ok := l.begin("victim", now); !ok {
			t.Error("an evicted key did not start afresh")
		}
	})
}

// BenchmarkLimiterNewKeyFullTable is one attempt for a new username at a
// table of maxTracked keys.
func BenchmarkLimiterNewKeyFullTable(b *testing.B) {
	l := newLimiter(5, time.Second, 5*time.Minute)
	now := time.Unix(1_000_000, 0)
	fill(l, "junk", maxTracked, now)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := "more" + strconv.Itoa(i)
		l.begin(k, now)
		l.fail(k, now)
	}
}
