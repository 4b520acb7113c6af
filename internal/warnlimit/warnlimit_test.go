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

func TestKeyed(t *testing.T) {
	var k Keyed
	t0 := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	if ok, _ := k.Allow("a", t0); !ok {
		t.Fatal("first record of a refused")
	}
	if ok, _ := k.Allow("b", t0); !ok {
		t.Fatal("first record of b refused: one key holds back another")
	}
	if ok, _ := k.Allow("a", t0.Add(time.Second)); ok {
		t.Fatal("second record of a within a minute let through")
	}
	if ok, n := k.Allow("a", t0.Add(Every)); !ok || n != 1 {
		t.Fatalf("a after a minute: %v, %d; want true, 1", ok, n)
	}
	for i := range 3 * maxKeys {
		k.Allow(string(rune('A'+i%26))+time.Duration(i).String(), t0)
	}
	if n := len(k.keys); n > maxKeys {
		t.Fatalf("Keyed remembers %d keys, more than %d", n, maxKeys)
	}
}
