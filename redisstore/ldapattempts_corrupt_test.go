package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// Regression: an attempts hash whose failure count or delay end is not
// what the scripts write (another version's, or garbage) was read as no
// failures: "abc" as a count let every attempt through, its failures
// never counted (HINCRBY refused the value after the attempt was taken
// off); "nan" or "inf" as the delay end made Begin fail or answer a
// retry time of year -292 million. Now such a count is read as the free
// failures spent (the next attempt waits, and its failure rewrites the
// count), and such a delay end as none: a corrupted record never lets
// more attempts through than a well-formed one.
func TestLDAPAttemptsCorruptedRecord(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	st := openStore(t, r, &redisstore.Options{Prefix: "ldapbad:"})
	a := st.LDAPAttempts()
	ctx := t.Context()
	p := ldapauth.BackoffPolicy{Free: 3, Base: time.Minute, Max: 16 * time.Minute}
	t0 := time.UnixMilli(time.Now().UnixMilli())
	for i, c := range []struct{ field, value string }{
		{"f", "abc"}, {"f", "1.5"}, {"f", "-3"}, {"f", "1e2"}, {"f", ""}, {"f", "99999999999999999999"},
		{"u", "abc"}, {"u", "nan"}, {"u", "inf"}, {"u", "-inf"}, {"u", "-5"}, {"u", "1e300"},
	} {
		key := fmt.Sprint("ldap://dc1.example.com\x00user\x00u", i)
		// A first attempt makes the hash; it succeeds.
		if _, ok, err := a.Begin(ctx, key, "first", t0, p); err != nil || !ok {
			t.Fatalf("%s=%q: first Begin = %v, %v", c.field, c.value, ok, err)
		}
		keys, err := raw.Keys(ctx, "ldapbad:ldap:*").Result()
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys %v, %v", keys, err)
		}
		if err := a.Finish(ctx, key, "first", false); err != nil {
			t.Fatal(err)
		}
		if err := raw.HSet(ctx, keys[0], c.field, c.value).Err(); err != nil {
			t.Fatal(err)
		}
		// Ten failing attempts at the same time: at most Free run.
		ran := 0
		for n := range 10 {
			id := fmt.Sprint("a", n)
			retry, ok, err := a.Begin(ctx, key, id, t0, p)
			if err != nil {
				t.Errorf("%s=%q: Begin = %v", c.field, c.value, err)
				break
			}
			if !ok {
				if retry.Before(t0) || retry.After(t0.Add(p.Max)) {
					t.Errorf("%s=%q: retry at %v, not within Max of %v", c.field, c.value, retry, t0)
				}
				continue
			}
			ran++
			if err := a.Fail(ctx, key, id, t0, p); err != nil {
				t.Errorf("%s=%q: Fail = %v", c.field, c.value, err)
			}
		}
		if ran > p.Free {
			t.Errorf("%s=%q: %d failing attempts ran, want at most %d", c.field, c.value, ran, p.Free)
		}
		raw.Del(ctx, keys[0])
	}
}
