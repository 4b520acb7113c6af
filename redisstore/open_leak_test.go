package redisstore_test

import (
	"bytes"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/scmkit/scmkit/redisstore"
)

// TestOpenRefusedLeavesNoGoroutine: an Open that fails after building its
// Redis client (a bad EncryptionKey) closes that client. go-redis starts a
// goroutine per client (maintnotifications' circuit-breaker cleanup, every
// five minutes, for good) that only Close stops; a portal that retries a
// misconfigured Open would pile them up.
func TestOpenRefusedLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, key := range [][]byte{[]byte("too short"), make([]byte, 31)} {
		if s, err := redisstore.Open("redis://127.0.0.1:1/0", &redisstore.Options{EncryptionKey: key}); err == nil {
			s.Close()
			t.Fatalf("Open with a %d-byte key succeeded", len(key))
		}
	}
}

// TestCloseStopsTheClientsGoroutines: Close of an opened Store stops
// every goroutine Open started (the client's), even with Redis down.
func TestCloseStopsTheClientsGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s, err := redisstore.Open("redis://127.0.0.1:1/0", &redisstore.Options{EncryptionKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close: %v; want nil (Close is idempotent)", err)
	}
}

// TestCloseWaitsForThePush: Close waits for the goroutine that pushes
// sessions written while Redis was down. Redis here accepts connections
// and never answers, so the push is always inside a command when Close is
// called; once Close has returned, no push may still be running (it would
// go on writing through the caller's client, which the caller may close
// or reuse next).
func TestCloseWaitsForThePush(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and hold every connection, answering nothing
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	// The caller's client, which Close leaves open: the push's command
	// runs to its timeout unless Close stops and waits for it.
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), DisableIdentity: true, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer rdb.Close()
	s, err := redisstore.New(rdb, &redisstore.Options{EncryptionKey: make([]byte, 32),
		Timeout: 200 * time.Millisecond, RetryAfter: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sessions(nil).Delete(t.Context(), "alice"); err != nil {
		t.Fatalf("Delete while Redis hangs: %v; want it kept for the push", err)
	}
	time.Sleep(50 * time.Millisecond) // the push is under way
	if n := pushes(); n != 1 {
		t.Fatalf("%d pushes running, want 1", n)
	}
	s.Close()
	if n := pushes(); n != 0 {
		t.Errorf("%d pushes still running after Close returned", n)
	}
}

// pushes counts the running session pushes.
func pushes() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return bytes.Count(buf[:n], []byte("redisstore.(*SessionStore).pushLoop("))
}
