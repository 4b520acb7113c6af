package redisstore_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
)

// TestOOMCacheWriteLeavesSessionReadsServed: the shared Redis is full
// (maxmemory under the default noeviction policy; the 24-hour file and
// page caches share it with sessions) and refuses a file-cache write with
// OOM. That is an answer from a Redis that is up: it fails that one write
// and says why, and the store keeps asking Redis, so that a replica that
// does not mirror a signed-in user's session still reads it (before, the
// refusal opened the circuit breaker and every operation failed
// Unavailable for the pause: users were signed out on and off for as long
// as Redis stayed full).
func TestOOMCacheWriteLeavesSessionReadsServed(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	ctx := context.Background()
	opts := &redisstore.Options{Prefix: "oom:", Timeout: time.Second, RetryAfter: 2 * time.Second}
	r1 := openStore(t, r, opts) // the replica that signed her in
	if _, err := r1.Sessions(nil).Put(ctx, "alice", []byte("sealed-session"), time.Hour); err != nil {
		t.Fatal(err)
	}
	r2 := openStore(t, r, opts) // another replica, which never read her session
	ss2 := r2.Sessions(nil)
	if err := raw.ConfigSet(ctx, "maxmemory", "1mb").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.ConfigSet(context.Background(), "maxmemory", "0") })
	// Fill what is left with cached files until Redis refuses one.
	files := r2.Files(0)
	big := bytes.Repeat([]byte("x"), 64<<10)
	var putErr error
	for i := 0; i < 200 && putErr == nil; i++ {
		putErr = files.PutFile(ctx, "f"+strconv.Itoa(i), &scm.CachedFile{ETag: "e", Content: big})
	}
	if putErr == nil {
		t.Fatal("Redis never refused a write: 200 files of 64 KiB fit under maxmemory 1mb")
	}
	t.Logf("file cache write refused: %v", putErr)
	if c := errcode.CodeOf(putErr); c != errcode.Unavailable {
		t.Errorf("refused write: code %v; want Unavailable (try later, work without the cache)", c)
	}
	for _, want := range []string{"Redis refused", "OOM", "maxmemory-policy"} {
		if !bytes.Contains([]byte(putErr.Error()), []byte(want)) {
			t.Errorf("refused write %q does not say %q", putErr, want)
		}
	}
	// Redis is up and answers reads.
	if n, err := raw.Exists(ctx, "oom:s:alice").Result(); err != nil || n != 1 {
		t.Fatalf("raw read of the session: %v, %v", n, err)
	}
	rec, err := ss2.Get(ctx, "alice")
	if err != nil || string(rec.Data) != "sealed-session" {
		t.Errorf("a session read that Redis answers, after an unrelated cache write was refused (OOM): %q, %v", rec.Data, err)
	}
	// And so do cache reads.
	if _, _, err := files.GetFile(ctx, "f0"); err != nil {
		t.Errorf("a cache read after the refusal: %v", err)
	}
}

// TestReadonlyWriteLeavesSessionReadsServed: the same during a failover:
// the node a replica talks to was demoted and answers writes READONLY
// while it still serves reads (replica-serve-stale-data). A refused write
// (here a webhook delivery id) fails with Unavailable, so that the
// receiver answers the provider an error and it redelivers, and session
// reads go on being answered by the node.
func TestReadonlyWriteLeavesSessionReadsServed(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	ctx := context.Background()
	opts := &redisstore.Options{Prefix: "ro:", Timeout: time.Second, RetryAfter: 2 * time.Second}
	r1 := openStore(t, r, opts)
	if _, err := r1.Sessions(nil).Put(ctx, "alice", []byte("sealed-session"), time.Hour); err != nil {
		t.Fatal(err)
	}
	r2 := openStore(t, r, opts)
	ss2 := r2.Sessions(nil)
	if err := raw.SlaveOf(ctx, "127.0.0.1", "1").Err(); err != nil { // demoted: to a primary that is not there
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.SlaveOf(context.Background(), "NO", "ONE") })
	_, werr := r2.Deliveries().Seen(ctx, "delivery-1", time.Hour)
	t.Logf("write: %v", werr)
	if werr == nil {
		t.Fatal("a demoted node accepted a write")
	}
	if c := errcode.CodeOf(werr); c != errcode.Unavailable {
		t.Errorf("refused write: code %v; want Unavailable (the provider redelivers)", c)
	}
	for _, want := range []string{"Redis refused", "READONLY"} {
		if !bytes.Contains([]byte(werr.Error()), []byte(want)) {
			t.Errorf("refused write %q does not say %q", werr, want)
		}
	}
	if n, err := raw.Exists(ctx, "ro:s:alice").Result(); err != nil || n != 1 {
		t.Fatalf("raw read of the session: %v, %v", n, err)
	}
	rec, err := ss2.Get(ctx, "alice")
	if err != nil || string(rec.Data) != "sealed-session" {
		t.Errorf("a session read that the node answers, after a write was refused READONLY: %q, %v", rec.Data, err)
	}
}
