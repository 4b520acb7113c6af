package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// Two replicas share one username's failures: the third failure on either
// delays the next attempt on both; the first attempt after a delay runs
// alone; a failure past the free ones doubles the delay; a taken-back
// attempt is not a failure; a success starts afresh; attempts in flight
// count; the keys hold no username; idle keys expire; with Redis down,
// Begin is Unavailable.
func TestLDAPAttemptsSharedAcrossReplicas(t *testing.T) {
	r := testsvc.StartRedis(t)
	a := openStore(t, r, nil).LDAPAttempts()
	b := openStore(t, r, nil).LDAPAttempts()
	ctx := context.Background()
	p := ldapauth.BackoffPolicy{Free: 3, Base: time.Second, Max: 16 * time.Second}
	t0 := time.UnixMilli(time.Now().UnixMilli())
	const key = "ldap://dc1.example.com\x00user\x00alice"

	n := 0
	begin := func(s *redisstore.LDAPAttempts, at time.Duration, wantOK bool, wantRetry time.Duration) string {
		t.Helper()
		n++
		id := fmt.Sprint("attempt-", n)
		retry, ok, err := s.Begin(ctx, key, id, t0.Add(at), p)
		if err != nil {
			t.Fatal(err)
		}
		if ok != wantOK || (!ok && !retry.Equal(t0.Add(wantRetry))) {
			t.Fatalf("Begin at +%v = %v, retry at +%v; want %v, +%v", at, ok, retry.Sub(t0), wantOK, wantRetry)
		}
		return id
	}
	fail := func(s *redisstore.LDAPAttempts, id string, at time.Duration) {
		t.Helper()
		if err := s.Fail(ctx, key, id, t0.Add(at), p); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*redisstore.LDAPAttempts{a, b, a} {
		fail(s, begin(s, 0, true, 0), 0)
	}
	begin(b, 0, false, time.Second)             // three failures, on two replicas
	id := begin(a, time.Second, true, 0)        // the delay is over: one attempt
	begin(b, time.Second, false, 2*time.Second) // while it runs, no other
	fail(a, id, time.Second)                    // the fourth failure: 2 s
	begin(b, 2*time.Second, false, 3*time.Second)
	id = begin(b, 3*time.Second, true, 0)
	if err := b.Finish(ctx, key, id, false); err != nil { // the directory did not answer
		t.Fatal(err)
	}
	id = begin(a, 4*time.Second, true, 0) // four failures still, not five: ...
	fail(a, id, 4*time.Second)            // ... this fifth one waits 4 s, not 8 s
	begin(b, 7*time.Second, false, 8*time.Second)
	id = begin(b, 8*time.Second, true, 0)
	if err := b.Finish(ctx, key, id, true); err != nil { // signed in
		t.Fatal(err)
	}
	id = begin(a, 8*time.Second, true, 0)
	if err := a.Finish(ctx, key, id, true); err != nil {
		t.Fatal(err)
	}

	// Attempts in flight count as failures: guesses sent together to
	// both replicas stop at Free, and the key then waits Base.
	const key2 = "ldap://dc1.example.com\x00addr\x00192.0.2.1"
	for i, s := range []*redisstore.LDAPAttempts{a, b, a, b} {
		retry, ok, err := s.Begin(ctx, key2, fmt.Sprint("guess-", i), t0, p)
		if err != nil || ok != (i < 3) || (!ok && !retry.Equal(t0.Add(time.Second))) {
			t.Fatalf("guess %d in flight: %v, %v, retry at %v; want ok=%v", i, ok, err, retry, i < 3)
		}
	}
	// Each attempt ends once: a second Fail of one attempt, or a Fail
	// of one never begun, counts nothing.
	if err := a.Fail(ctx, key2, "guess-0", t0, p); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"guess-0", "never-begun"} {
		if err := a.Fail(ctx, key2, id, t0, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"guess-1", "guess-2"} {
		if err := b.Finish(ctx, key2, id, false); err != nil {
			t.Fatal(err)
		}
	}
	// One failure now (guess-0): after the Base delay, attempts run.
	if _, ok, err := b.Begin(ctx, key2, "after", t0.Add(time.Second), p); err != nil || !ok {
		t.Fatalf("after the delay, with one failure: %v, %v; want ok", ok, err)
	}

	raw := rawClient(t, r)
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "alice") || strings.Contains(k, "192.0.2.1") || strings.Contains(k, "dc1") {
			t.Errorf("key %q names the username, the address or the directory", k)
		}
	}

	// An idle key expires 2 × Max after its last attempt or delay.
	short := ldapauth.BackoffPolicy{Free: 5, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	if _, _, err := a.Begin(ctx, "idle", "i1", time.Now(), short); err != nil {
		t.Fatal(err)
	}
	if err := a.Fail(ctx, "idle", "i1", time.Now(), short); err != nil {
		t.Fatal(err)
	}
	n0 := len(keys)
	if n, _ := raw.DBSize(ctx).Result(); int(n) != n0+1 {
		t.Fatalf("%d keys after a failure; want %d", n, n0+1)
	}
	time.Sleep(300 * time.Millisecond)
	if n, _ := raw.DBSize(ctx).Result(); int(n) != n0 {
		t.Errorf("%d keys 300ms later; want %d (the idle key expired)", n, n0)
	}

	r.Stop()
	if _, ok, err := a.Begin(ctx, key, "down", t0, p); ok || errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("Begin with Redis down: %v, %v; want Unavailable", ok, err)
	}
}
