package redisstore_test

import (
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// TestOutagePushNotOverAnotherReplicasWrite: replica a, cut off from
// Redis, writes over the version it read (a refresh); replica b, still
// connected, had meanwhile written a newer record (a rotated refresh
// token) over the same version. When a gets Redis back, its push is
// refused: Redis no longer holds the version a replaced.
func TestOutagePushNotOverAnotherReplicasWrite(t *testing.T) {
	ctx := t.Context()
	r := testsvc.StartRedis(t)
	p := startProxy(t, r.Addr)
	sa, err := redisstore.Open(p.URL(), &redisstore.Options{Prefix: "rv:", EncryptionKey: testKey, Timeout: 3 * time.Second, RetryAfter: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sa.Close() })
	a := sa.Sessions(nil)
	b := openStore(t, r, &redisstore.Options{Prefix: "rv:"}).Sessions(nil)
	v1, err := a.Put(ctx, "sess", []byte("rt-1"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p.Cut()
	if _, err := b.CompareAndSwap(ctx, "sess", v1, []byte("rt-b"), time.Hour); err != nil { // b rotates the token
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := a.CompareAndSwap(ctx, "sess", v1, []byte("rt-a"), time.Hour); err != nil { // a, cut off, writes over v1
		t.Fatal(err)
	}
	p.Restore()
	time.Sleep(300 * time.Millisecond)
	a.Get(ctx, "sess") //nolint:errcheck // settles a's push
	d, err := rawClient(t, r).HGet(ctx, "rv:s:sess", "d").Result()
	if err != nil {
		t.Fatal(err)
	}
	if d != "rt-b" {
		t.Fatalf("Redis holds %q after a's push; want b's rt-b (a replaced v1, which Redis no longer held)", d)
	}
}
