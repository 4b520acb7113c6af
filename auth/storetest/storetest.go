// Package storetest checks that an auth.SessionStore keeps the guarantees
// auth relies on: versions that never repeat, compare-and-swap, TTLs, and
// fenced leases, under concurrency. Every SessionStore implementation runs
// [Run] in its tests.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// Run runs the conformance tests against stores made by newStore, which
// must return an empty store each time (or one whose keys do not collide
// with other calls'). TTL tests sleep a few hundred milliseconds in all.
func Run(t *testing.T, newStore func(t *testing.T) auth.SessionStore) {
	t.Run("GetMissing", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Get(context.Background(), "missing")
		wantCode(t, err, errcode.NotFound)
	})
	t.Run("PutGetDelete", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		v1, err := s.Put(ctx, "k", []byte("one"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Get(ctx, "k")
		if err != nil || !bytes.Equal(r.Data, []byte("one")) || r.Version != v1 {
			t.Fatalf("Get = %q v%d, %v; want %q v%d", r.Data, r.Version, err, "one", v1)
		}
		v2, err := s.Put(ctx, "k", []byte("two"), 0)
		if err != nil || v2 <= v1 {
			t.Fatalf("second Put = v%d, %v; want a version > %d", v2, err, v1)
		}
		if err := s.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "k"); err != nil {
			t.Fatalf("deleting a missing key: %v", err)
		}
		_, err = s.Get(ctx, "k")
		wantCode(t, err, errcode.NotFound)
		v3, err := s.Put(ctx, "k", []byte("three"), time.Minute)
		if err != nil || v3 <= v2 {
			t.Fatalf("Put after Delete = v%d, %v; versions must never repeat (want > %d)", v3, err, v2)
		}
	})
	t.Run("CallerCannotChangeStoredBytes", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		data := []byte("abc")
		if _, err := s.Put(ctx, "k", data, time.Minute); err != nil {
			t.Fatal(err)
		}
		data[0] = 'X'
		r, _ := s.Get(ctx, "k")
		r.Data[1] = 'Y'
		r2, _ := s.Get(ctx, "k")
		if string(r2.Data) != "abc" {
			t.Fatalf("stored bytes changed to %q", r2.Data)
		}
	})
	t.Run("CompareAndSwap", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		_, err := s.CompareAndSwap(ctx, "k", 1, []byte("x"), time.Minute)
		wantCode(t, err, errcode.NotFound)
		v1, _ := s.Put(ctx, "k", []byte("a"), time.Minute)
		v2, err := s.CompareAndSwap(ctx, "k", v1, []byte("b"), time.Minute)
		if err != nil || v2 <= v1 {
			t.Fatalf("CAS = v%d, %v", v2, err)
		}
		_, err = s.CompareAndSwap(ctx, "k", v1, []byte("c"), time.Minute)
		wantCode(t, err, errcode.Conflict)
		if r, _ := s.Get(ctx, "k"); string(r.Data) != "b" {
			t.Fatalf("a refused CAS changed the record to %q", r.Data)
		}
	})
	t.Run("ConcurrentCompareAndSwapOneWins", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		v, _ := s.Put(ctx, "k", []byte("0"), time.Minute)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.CompareAndSwap(ctx, "k", v, []byte(fmt.Sprint(i)), time.Minute); err == nil {
					wins.Add(1)
				} else if errcode.CodeOf(err) != errcode.Conflict {
					t.Errorf("CAS: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d of 20 concurrent CAS on one version succeeded, want 1", wins.Load())
		}
	})
	t.Run("TTL", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		if _, err := s.Put(ctx, "short", []byte("x"), 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, "forever", []byte("y"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "short"); err != nil {
			t.Fatalf("Get before expiry: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
		_, err := s.Get(ctx, "short")
		wantCode(t, err, errcode.NotFound)
		if _, err := s.Get(ctx, "forever"); err != nil {
			t.Fatalf("a record without TTL expired: %v", err)
		}
	})
	t.Run("Lease", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		l1, err := s.Acquire(ctx, "refresh:k", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Acquire(ctx, "refresh:k", time.Minute)
		wantCode(t, err, errcode.Conflict)
		if _, err := s.Acquire(ctx, "refresh:other", time.Minute); err != nil {
			t.Fatalf("leases on different names must not conflict: %v", err)
		}
		if _, err := s.PutFenced(ctx, l1, "k", []byte("fenced"), time.Minute); err != nil {
			t.Fatalf("PutFenced with the held lease: %v", err)
		}
		if err := s.Release(ctx, l1); err != nil {
			t.Fatal(err)
		}
		_, err = s.PutFenced(ctx, l1, "k", []byte("late"), time.Minute)
		wantCode(t, err, errcode.Conflict)
		l2, err := s.Acquire(ctx, "refresh:k", time.Minute)
		if err != nil {
			t.Fatalf("Acquire after Release: %v", err)
		}
		if l2.Fence <= l1.Fence {
			t.Fatalf("fence %d after %d; fences must increase", l2.Fence, l1.Fence)
		}
		if err := s.Release(ctx, l1); err != nil {
			t.Fatalf("releasing a replaced lease: %v", err)
		}
		if _, err := s.PutFenced(ctx, l2, "k", []byte("new"), time.Minute); err != nil {
			t.Fatalf("releasing an old lease freed the new one: %v", err)
		}
		if r, _ := s.Get(ctx, "k"); string(r.Data) != "new" {
			t.Fatalf("Get = %q, want %q", r.Data, "new")
		}
	})
	t.Run("LeaseExpires", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		l1, err := s.Acquire(ctx, "n", 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
		l2, err := s.Acquire(ctx, "n", time.Minute)
		if err != nil {
			t.Fatalf("Acquire after the lease expired: %v", err)
		}
		_, err = s.PutFenced(ctx, l1, "k", []byte("stale"), time.Minute)
		wantCode(t, err, errcode.Conflict)
		if _, err := s.Get(ctx, "k"); errcode.CodeOf(err) != errcode.NotFound {
			t.Fatalf("a refused PutFenced wrote: %v", err)
		}
		if l2.Fence <= l1.Fence {
			t.Fatalf("fence %d after %d", l2.Fence, l1.Fence)
		}
	})
	t.Run("ConcurrentAcquireOneWins", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Acquire(ctx, "n", time.Minute); err == nil {
					wins.Add(1)
				} else if errcode.CodeOf(err) != errcode.Conflict {
					t.Errorf("Acquire: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d of 20 concurrent Acquire succeeded, want 1", wins.Load())
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		s := newStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Put(ctx, "k", []byte("x"), time.Minute); err == nil {
			t.Fatal("Put with a cancelled context succeeded")
		}
		if _, err := s.Get(ctx, "k"); err == nil {
			t.Fatal("Get with a cancelled context succeeded")
		}
	})
}

func wantCode(t *testing.T, err error, want errcode.Code) {
	t.Helper()
	if got := errcode.CodeOf(err); got != want {
		t.Fatalf("error %v has code %v, want %v", err, got, want)
	}
}
