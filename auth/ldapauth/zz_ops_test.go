package ldapauth

import (
	"strconv"
	"testing"
	"time"
)

// TestOpsLimiterFullTableScansPerAttempt: once the in-process back-off table
// holds maxTracked usernames (an unauthenticated caller fills it with one
// failed sign-in per made-up username, e.g. 100k in the 10 minutes an entry
// is remembered), every further attempt for a new username scans the whole
// table (evict's first loop) under the limiter's one mutex, which every
// sign-in of the process takes. Each attempt should cost O(1), not O(table).
func TestOpsLimiterFullTableScansPerAttempt(t *testing.T) {
	l := newLimiter(5, time.Second, 5*time.Minute)
	now := time.Unix(1_000_000, 0)
	for i := range maxTracked {
		k := "junk" + strconv.Itoa(i)
		l.begin(k, now)
		l.fail(k, now)
	}
	const n = 100
	start := time.Now()
	for i := range n {
		k := "more" + strconv.Itoa(i)
		l.begin(k, now)
		l.fail(k, now)
	}
	per := time.Since(start) / n
	t.Logf("table %d entries, %v per attempt for a new username", len(l.m), per)
	if per > 50*time.Microsecond {
		t.Errorf("each sign-in attempt for a new username costs %v of work under the limiter's global lock (a scan of all %d entries); want O(1)", per, maxTracked)
	}
}

// TestOpsLimiterFullTableOfDelayedKeysGrowsUnbounded: when every tracked key
// has a delay pending (usernames failed past FreeAttempts), evict drops
// nothing and the table grows past maxTracked without bound.
func TestOpsLimiterFullTableOfDelayedKeysGrowsUnbounded(t *testing.T) {
	l := newLimiter(0, time.Minute, 5*time.Minute) // free 0: the first failure sets a delay
	now := time.Unix(1_000_000, 0)
	for i := range maxTracked + 100 {
		k := "u" + strconv.Itoa(i)
		l.begin(k, now)
		l.fail(k, now)
	}
	if len(l.m) > maxTracked {
		t.Errorf("back-off table holds %d entries; its bound is maxTracked=%d", len(l.m), maxTracked)
	}
}
