package warnlimit

import (
	"testing"
	"time"
)

func TestAllow(t *testing.T) {
	var l Limiter
	t0 := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	for i, tc := range []struct {
		at      time.Duration
		ok      bool
		leftOut int
	}{{0, true, 0}, {time.Second, false, 0}, {30 * time.Second, false, 0}, {Every, true, 2}, {Every + time.Second, false, 0}, {3 * Every, true, 1}} {
		ok, n := l.Allow(t0.Add(tc.at))
		if ok != tc.ok || n != tc.leftOut {
			t.Errorf("%d: Allow(+%v) = %v, %d; want %v, %d", i, tc.at, ok, n, tc.ok, tc.leftOut)
		}
	}
}
