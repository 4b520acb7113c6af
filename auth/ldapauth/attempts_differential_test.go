package ldapauth_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// TestRedisAttemptsBehaveAsTheLimiter drives the in-process back-off and
// redisstore's shared one (a real redis-server, two replicas) with the same
// random sign-ins (begun, failed, taken back, succeeded, in flight
// together) and requires the same answers: which attempts run, and when
// a refused one may retry.
func TestRedisAttemptsBehaveAsTheLimiter(t *testing.T) {
	r := testsvc.StartRedis(t)
	var replicas []*redisstore.LDAPAttempts
	for range 2 {
		st, err := redisstore.Open(r.URL(0), &redisstore.Options{Timeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		replicas = append(replicas, st.LDAPAttempts())
	}
	ctx := context.Background()
	p := ldapauth.BackoffPolicy{Free: 3, Base: time.Second, Max: time.Minute}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		mem := ldapauth.NewLimiter(p)
		now := time.UnixMilli(1_800_000_000_000 + int64(seed)*10_000_000)
		keys := []string{fmt.Sprint("seed", seed, "-alice"), fmt.Sprint("seed", seed, "-bob")}
		inflight := map[string][]string{}
		n := 0
		for step := range 120 {
			key := keys[rng.IntN(len(keys))]
			store := replicas[rng.IntN(len(replicas))]
			switch op := rng.IntN(10); {
			case op < 5: // a sign-in begins
				n++
				id := fmt.Sprint("a", n)
				mAt, mOK := mem.Begin(key, now)
				rAt, rOK, err := store.Begin(ctx, key, id, now, p)
				if err != nil {
					t.Fatal(err)
				}
				if mOK != rOK || (!mOK && !mAt.Equal(rAt)) {
					t.Fatalf("seed %d step %d: Begin(%s) in process %v (retry %v), in Redis %v (retry %v)", seed, step, key, mOK, mAt.Sub(now), rOK, rAt.Sub(now))
				}
				if rOK {
					inflight[key] = append(inflight[key], id)
				}
			case op < 9 && len(inflight[key]) > 0: // one ends
				i := rng.IntN(len(inflight[key]))
				id := inflight[key][i]
				inflight[key] = append(inflight[key][:i], inflight[key][i+1:]...)
				var err error
				switch rng.IntN(3) {
				case 0: // wrong password
					mem.Fail(key, now)
					err = store.Fail(ctx, key, id, now, p)
				case 1: // the directory did not answer
					mem.Succeed(key, false)
					err = store.Finish(ctx, key, id, false)
				default: // signed in: the others in flight end with the key
					mem.Succeed(key, true)
					err = store.Finish(ctx, key, id, true)
					inflight[key] = nil
				}
				if err != nil {
					t.Fatal(err)
				}
			default:
				now = now.Add(time.Duration(rng.IntN(2500)) * time.Millisecond)
			}
		}
	}
}
