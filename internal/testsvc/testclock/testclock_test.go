package testclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

func TestAdvance(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := testclock.New(start)
	if got := clk.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v; want %v", got, start)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { clk.Advance(time.Minute); _ = clk.Now() })
	}
	wg.Wait()
	if got, want := clk.Now(), start.Add(10*time.Minute); !got.Equal(want) {
		t.Errorf("Now after 10 concurrent Advance(1m) = %v; want %v", got, want)
	}
	clk.Advance(-time.Hour)
	if got, want := clk.Now(), start.Add(-50*time.Minute); !got.Equal(want) {
		t.Errorf("Now after Advance(-1h) = %v; want %v", got, want)
	}
}
