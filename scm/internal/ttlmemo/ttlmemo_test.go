package ttlmemo

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestMemo(t *testing.T) {
	var m Memo[string]
	now := time.Unix(1_000_000, 0)
	if _, ok := m.Get("a", now, time.Minute); ok {
		t.Fatal("the zero Memo found something")
	}
	m.Put("a", "main", now, time.Minute)
	if v, ok := m.Get("a", now.Add(59*time.Second), time.Minute); !ok || v != "main" {
		t.Errorf("within the ttl: %q %v", v, ok)
	}
	if _, ok := m.Get("a", now.Add(time.Minute), time.Minute); ok {
		t.Error("found at the ttl's end")
	}
	if _, ok := m.Get("a", now.Add(-time.Second), time.Minute); ok {
		t.Error("found before it was put (a clock that went back)")
	}
	if _, ok := m.Get("a", now, 0); ok {
		t.Error("found with the memory off")
	}
	m.Put("b", "x", now, -1)
	if _, ok := m.Get("b", now, time.Minute); ok {
		t.Error("kept with the memory off")
	}
	m.Forget("a")
	if _, ok := m.Get("a", now, time.Minute); ok {
		t.Error("found after Forget")
	}
}

// TestMemoBounded: a full memo drops the expired entries first, then all.
func TestMemoBounded(t *testing.T) {
	m := Memo[int]{Max: 3}
	now := time.Unix(1_000_000, 0)
	m.Put("old", 1, now.Add(-2*time.Minute), time.Minute)
	m.Put("a", 2, now, time.Minute)
	m.Put("b", 3, now, time.Minute)
	m.Put("c", 4, now, time.Minute) // full: "old" expired and goes
	if _, ok := m.Get("a", now, time.Minute); !ok {
		t.Error("a fresh entry went while an expired one could")
	}
	if len(m.m) != 3 {
		t.Errorf("%d entries, want 3", len(m.m))
	}
	m.Put("d", 5, now, time.Minute) // full, none expired: all go
	if v, ok := m.Get("d", now, time.Minute); !ok || v != 5 || len(m.m) != 1 {
		t.Errorf("after a full memo with nothing expired: d=%v %v, %d entries", v, ok, len(m.m))
	}
}

// TestMemoNeverPastMax: however many keys are put, the memo holds at most
// Max (was gitlabscm's TestNamespaceIDsBoundedAndAged).
func TestMemoNeverPastMax(t *testing.T) {
	m := Memo[int64]{Max: 1024}
	now := time.Unix(1_000_000, 0)
	for i := range 1034 {
		m.Put(strconv.Itoa(i), int64(i), now, time.Minute)
		if len(m.m) > 1024 {
			t.Fatalf("after %d puts the memo holds %d; want at most 1024", i+1, len(m.m))
		}
	}
	if v, ok := m.Get("1033", now.Add(59*time.Second), time.Minute); !ok || v != 1033 {
		t.Errorf("the last put: %d %v", v, ok)
	}
	full := Memo[int64]{Max: 4}
	for i := range 4 {
		full.Put(strconv.Itoa(i), int64(i), now, time.Minute)
	}
	full.Put("fresh", 1, now.Add(2*time.Minute), time.Minute) // full, every entry expired
	if len(full.m) != 1 {
		t.Errorf("a put into a full memo whose entries have all expired left %d; want only the new one", len(full.m))
	}
}

func TestMemoConcurrent(t *testing.T) {
	var m Memo[int]
	now := time.Now()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 500 {
				k := strconv.Itoa(j % 50)
				m.Put(k, i, now, time.Minute)
				m.Get(k, now, time.Minute)
				if j%7 == 0 {
					m.Forget(k)
				}
			}
		})
	}
	wg.Wait()
}
