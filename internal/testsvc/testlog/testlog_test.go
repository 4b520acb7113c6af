package testlog_test

import (
	"sync"
	"testing"

	"github.com/scmkit/scmkit/internal/testsvc/testlog"
)

func TestBuffer(t *testing.T) {
	var buf testlog.Buffer
	log := buf.Logger()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { log.Info("reachable again", "n", 1) })
	}
	log.Debug("below Info")
	wg.Wait()
	if n := buf.Count("reachable again"); n != 20 {
		t.Errorf("Count = %d; want 20 records from 20 goroutines", n)
	}
	if buf.Count("below Info") != 0 {
		t.Errorf("a Debug record was written: %s", buf.String())
	}
}
