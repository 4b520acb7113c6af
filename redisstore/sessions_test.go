package redisstore_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/storetest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
	"github.com/scmkit/scmkit/redisstore"
)

func TestSessionStoreConformance(t *testing.T) {
	r := testsvc.StartRedis(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) auth.SessionStore {
		// One server, a fresh prefix per subtest.
		return openStore(t, r, &redisstore.Options{Prefix: "conf" + strconv.FormatInt(n.Add(1), 10) + ":"}).Sessions(nil)
	})
}

// TestSessionStoreAcrossReplicas: two replicas' stores on one Redis see
// each other's writes, versions and leases.
func TestSessionStoreAcrossReplicas(t *testing.T) {
	ctx := t.Context()
	r := testsvc.StartRedis(t)
	a := openStore(t, r, nil).Sessions(nil)
	b := openStore(t, r, nil).Sessions(nil)
	v1, err := a.Put(ctx, "sess", []byte("sealed-1"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := b.Get(ctx, "sess")
	if err != nil || string(rec.Data) != "sealed-1" || rec.Version != v1 {
		t.Fatalf("replica b Get = %q v%d, %v", rec.Data, rec.Version, err)
	}
	la, err := a.Acquire(ctx, "refresh:sess", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(ctx, "refresh:sess", time.Minute); errcode.CodeOf(err) != errcode.Conflict {
		t.Fatalf("replica b Acquire while a holds it = %v; want Conflict", err)
	}
	if _, err := a.PutFenced(ctx, la, "sess", []byte("sealed-2"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CompareAndSwap(ctx, "sess", v1, []byte("stale"), time.Minute); errcode.CodeOf(err) != errcode.Conflict {
		t.Fatalf("CAS on the old version = %v; want Conflict", err)
	}
	if rec, _ := b.Get(ctx, "sess"); string(rec.Data) != "sealed-2" {
		t.Fatalf("replica b reads %q; want the fenced write", rec.Data)
	}
}

// TestRotatedTokenSurvivesRedisDownMidRefresh: replica a loses Redis
// (which keeps its data) between the lease and the write of a rotated
// refresh token. The write is kept in the process, served while Redis is
// unreachable, and pushed to Redis when it is back, where the other
// replicas read it. (When Redis loses its data meanwhile, the write is
// dropped with every other session: TestOutageWritePushedOnlyOverWhatItReplaced.)
func TestRotatedTokenSurvivesRedisDownMidRefresh(t *testing.T) {
	ctx := t.Context()
	r := testsvc.StartRedis(t)
	p := startProxy(t, r.Addr)
	logs := &testlog.Buffer{}
	sa, err := redisstore.Open(p.URL(), &redisstore.Options{EncryptionKey: testKey, Timeout: faultTimeout, RetryAfter: 50 * time.Millisecond, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sa.Close() })
	a := sa.Sessions(nil)
	b := openStore(t, r, nil).Sessions(nil)
	if _, err := a.Put(ctx, "sess", []byte("rt-1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	lease, err := a.Acquire(ctx, "refresh:sess", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	p.Cut()
	v2, err := a.PutFenced(ctx, lease, "sess", []byte("rt-2"), time.Minute)
	if err != nil {
		t.Fatalf("PutFenced with Redis down = %v; the rotated token must be kept", err)
	}
	if rec, err := a.Get(ctx, "sess"); err != nil || string(rec.Data) != "rt-2" || rec.Version != v2 {
		t.Fatalf("Get with Redis down = %q v%d, %v; want rt-2 v%d", rec.Data, rec.Version, err, v2)
	}
	a.Release(ctx, lease)
	p.Restore()
	// The push happens by itself, without a further call on a. Its
	// write reaches Redis (and b) a moment before a logs the recovery,
	// so both are waited for.
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec, err := b.Get(ctx, "sess")
		if err == nil && string(rec.Data) == "rt-2" && logs.Count("reachable again") > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica b reads %q, %v after Redis came back; want rt-2 and the recovery logged:\n%s", rec.Data, err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := logs.Count("Redis is unreachable"); n != 1 {
		t.Errorf("logged the outage %d times; want once:\n%s", n, logs)
	}
	if n := logs.Count("reachable again"); n != 1 {
		t.Errorf("logged the recovery %d times; want once:\n%s", n, logs)
	}
}

// TestSignOutDuringOutageSticks: a Delete while Redis is down is pushed
// when it is back.
func TestSignOutDuringOutageSticks(t *testing.T) {
	ctx := t.Context()
	r := testsvc.StartRedis(t)
	a := openStore(t, r, &redisstore.Options{Timeout: faultTimeout, RetryAfter: 50 * time.Millisecond}).Sessions(nil)
	b := openStore(t, r, nil).Sessions(nil)
	if _, err := a.Put(ctx, "sess", []byte("rt-1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	if err := a.Delete(ctx, "sess"); err != nil {
		t.Fatalf("Delete with Redis down = %v", err)
	}
	if _, err := a.Get(ctx, "sess"); err == nil {
		t.Fatal("Get after Delete found the session")
	}
	r.Start()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := b.Get(ctx, "sess")
		if errcode.CodeOf(err) == errcode.NotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sign-out was not pushed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
