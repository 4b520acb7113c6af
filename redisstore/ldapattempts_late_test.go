package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// Regression (final review, session 22): a Begin whose reply comes late
// (past the store's timeout) is Unavailable to the caller, but the script
// ran in Redis. The attempt stayed "in flight" for ever (nobody calls Fail
// or Finish for an attempt that never ran), and after Free such answers a
// user who never failed was refused for 2 × Max. Begin now takes its own
// attempt back when its answer is lost.
func TestLDAPAttemptsLateReplyTakenBack(t *testing.T) {
	r := testsvc.StartRedis(t)
	px := startRedisProxy(t, r.Addr, 400*time.Millisecond, 0)
	s, err := redisstore.Open("redis://"+px.addr()+"/0?min_idle_conns=10&pool_size=10", &redisstore.Options{EncryptionKey: testKey, Timeout: 150 * time.Millisecond, RetryAfter: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	a := s.LDAPAttempts()
	ctx := context.Background()
	p := ldapauth.BackoffPolicy{Free: 5, Base: time.Second, Max: 5 * time.Minute}
	const key = "ldap://dc\x00user\x00alice"
	// Warm the script cache so each Begin is one round trip.
	if _, _, err := a.Begin(ctx, "warm", "warm", time.Now(), p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the pool fills its idle connections
	px.holdReplies.Store(true)
	for i := 0; i < p.Free; i++ {
		_, ok, err := a.Begin(ctx, key, fmt.Sprint("late-", i), time.Now(), p)
		t.Logf("Begin %d: %v", i, err)
		if err == nil {
			t.Fatalf("Begin %d answered in time (ok=%v); the proxy did not slow it", i, ok)
		}
		time.Sleep(500 * time.Millisecond)
	}
	px.holdReplies.Store(false)
	time.Sleep(500 * time.Millisecond) // the held replies drain; Redis is healthy again
	raw := rawClient(t, r)
	keys, _ := raw.Keys(ctx, "*").Result()
	for _, k := range keys {
		v, _ := raw.HGetAll(ctx, k).Result()
		t.Logf("%s %v", k, v)
	}
	now := time.Now()
	for _, later := range []time.Duration{0, 2 * time.Second, time.Minute, 9 * time.Minute} {
		retry, ok, err := a.Begin(ctx, key, fmt.Sprint("later-", later), now.Add(later), p)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Errorf("at +%v: a user who never failed a sign-in is refused (retry at +%v): the %d Unavailable Begins were counted as failures in flight forever",
				later, retry.Sub(now.Add(later)).Round(time.Millisecond), p.Free)
		}
	}
}
