package redisstore

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/testsvc"
)

// TestMirrorIsBounded: the process mirror of sessions stays near its cap,
// and never drops a record written while Redis was down.
func TestMirrorIsBounded(t *testing.T) {
	r := testsvc.StartRedis(t)
	// A generous timeout: a command to the healthy Redis that timed out
	// under load (the race detector on two cores) would mark it down for
	// the hour, and the records written meanwhile would stay in the
	// mirror beyond its cap, as they must when Redis is really down.
	s, err := Open(r.URL(0), &Options{EncryptionKey: bytes.Repeat([]byte{7}, 32), Timeout: 3 * time.Second, RetryAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ss := s.Sessions(&SessionOptions{MirrorSize: 10})
	ctx := t.Context()
	for i := range 100 {
		if _, err := ss.Put(ctx, "k"+strconv.Itoa(i), []byte("x"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	ss.mu.Lock()
	n := len(ss.mirror)
	ss.mu.Unlock()
	if n > 10 {
		t.Errorf("mirror holds %d records; want at most 10", n)
	}
	r.Stop()
	for i := range 30 {
		if _, err := ss.Put(ctx, "down"+strconv.Itoa(i), []byte("rotated"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		if rec, ok := ss.fromMirror("down" + strconv.Itoa(i)); !ok || string(rec.Data) != "rotated" {
			t.Fatalf("record %d written while Redis was down was dropped", i)
		}
	}
}
