package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// Regression (second review, session 22):
// Begin takes its attempt back when its answer is lost, but the
// take-back (an HDEL on another connection) can reach Redis before the
// Begin it takes back (held in the network). The HDEL finds nothing; the
// Begin then records a:<id>, which nobody ends: the attempt is counted
// for ever (until a success or 2 × Max without any attempt), and Free of
// them refuse a user who never failed.
func TestLDAPAttemptsTakeBackBeforeBegin(t *testing.T) {
	r := testsvc.StartRedis(t)
	px := startRedisProxy(t, r.Addr, 0, 600*time.Millisecond)
	s, err := redisstore.Open("redis://"+px.addr()+"/0", &redisstore.Options{EncryptionKey: testKey, Timeout: 150 * time.Millisecond, RetryAfter: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	a := s.LDAPAttempts()
	ctx := context.Background()
	p := ldapauth.BackoffPolicy{Free: 2, Base: time.Second, Max: 5 * time.Minute}
	const key = "ldap://dc\x00user\x00alice"
	if _, _, err := a.Begin(ctx, "warm", "warm", time.Now(), p); err != nil { // script cached
		t.Fatal(err)
	}
	for i := range p.Free {
		px.holdRequest.Store(true)
		_, ok, err := a.Begin(ctx, key, fmt.Sprint("lost-", i), time.Now(), p)
		if err == nil {
			t.Fatalf("Begin %d answered in time (ok=%v)", i, ok)
		}
		time.Sleep(time.Second) // the held Begin reaches Redis; the breaker closes
	}
	raw := rawClient(t, r)
	keys, _ := raw.Keys(ctx, "*").Result()
	stranded := 0
	for _, k := range keys {
		v, _ := raw.HGetAll(ctx, k).Result()
		for f := range v {
			if strings.HasPrefix(f, "a:lost-") {
				stranded++
			}
		}
		t.Logf("%s %v", k, v)
	}
	if stranded > 0 {
		t.Errorf("%d attempts whose Begin failed (and was taken back) are still in flight in Redis", stranded)
	}
	now := time.Now()
	if at, ok, err := a.Begin(ctx, key, "real", now, p); err != nil || !ok {
		t.Errorf("a user who never failed is refused (ok=%v, retry in %v, err=%v)", ok, at.Sub(now), err)
	}
}

// Regression (second review, session 22):
// an attempt whose replica dies mid-bind (a deploy, an OOM kill)
// is never ended. Its a:<id> carries its start time, but nothing ever
// reads it: under steady traffic the key never expires, so for a client
// address (which a success does not reset) the stranded attempts count
// for ever. With Free of them every further sign-in from that address
// (an office's NAT) runs alone: two users signing in at once, hours
// later, still see one of them refused.
func TestLDAPAttemptsStrandedByCrashExpire(t *testing.T) {
	r := testsvc.StartRedis(t)
	a := openStore(t, r, nil).LDAPAttempts()
	ctx := context.Background()
	p := ldapauth.BackoffPolicy{Free: 2, Base: time.Second, Max: 5 * time.Minute}
	const key = "ldap://dc\x00addr\x00203.0.113.7"
	t0 := time.Now()
	for i := range p.Free { // two replicas killed mid-bind
		if _, ok, err := a.Begin(ctx, key, fmt.Sprint("crashed-", i), t0, p); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	// Sign-ins from the address every 5 minutes, two at a time, for 4 hours;
	// each one that runs succeeds (Finish without reset, as for addresses).
	refusedLate := 0
	for i := 1; i <= 48; i++ {
		now := t0.Add(time.Duration(i) * 5 * time.Minute)
		for j := range 2 {
			id := fmt.Sprint("u", i, "-", j)
			_, ok, err := a.Begin(ctx, key, id, now, p)
			if err != nil {
				t.Fatal(err)
			}
			if !ok && i > 24 {
				refusedLate++
			}
			defer a.Finish(ctx, key, id, false)
		}
		for j := range 2 {
			a.Finish(ctx, key, fmt.Sprint("u", i, "-", j), false)
		}
	}
	if refusedLate > 0 {
		t.Errorf("2h-4h after two replicas died mid-attempt, %d of 48 sign-ins from the address that never failed were refused: the crashed attempts still count", refusedLate)
	}
}
