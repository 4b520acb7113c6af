package ldapauth_test

import (
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/redisstore"
)

// TestBackoffSharedAcrossReplicas runs two replicas' Authenticators
// against one directory with their attempt counts in one Redis
// (redisstore.LDAPAttempts): a username's failures on either count on
// both, guesses sent to both at once stop at FreeAttempts, and with Redis
// down no sign-in runs, so none can slip past the back-off.
func TestBackoffSharedAcrossReplicas(t *testing.T) {
	s := need(t)
	r := testsvc.StartRedis(t)
	clk := testclock.New(time.Now().Truncate(time.Second))
	c := baseConfig(s)
	c.Backoff = &ldapauth.BackoffConfig{FreeAttempts: 3, InitialDelay: ldapauth.Duration(time.Second), MaxDelay: ldapauth.Duration(8 * time.Second)}
	replica := func() *ldapauth.Authenticator {
		st, err := redisstore.Open(r.URL(0), &redisstore.Options{Timeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return newAuth(t, c, &ldapauth.Options{Now: clk.Now, Attempts: st.LDAPAttempts()})
	}
	a, b := replica(), replica()
	ctx := t.Context()
	for i, rep := range []*ldapauth.Authenticator{a, b, a} {
		if _, err := rep.AuthenticateFrom(ctx, "bob", "wrong", ""); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	before := b.Stats()
	_, err := b.AuthenticateFrom(ctx, "Bob", "bob-password", "")
	if at, _ := errcode.RetryAt(err); errcode.CodeOf(err) != errcode.RateLimited || !at.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("the 4th attempt, on the other replica: %v; want RateLimited for 1s", err)
	}
	if b.Stats() != before {
		t.Fatal("a delayed attempt reached the directory")
	}
	clk.Advance(time.Second)
	if _, err := b.AuthenticateFrom(ctx, "bob", "bob-password", ""); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
	if _, err := a.AuthenticateFrom(ctx, "bob", "wrong", ""); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Fatalf("a success on B did not clear the failures for A: %v", err)
	}

	// Guesses sent to both replicas at once: at most FreeAttempts reach
	// the directory.
	var wg sync.WaitGroup
	var mu sync.Mutex
	tried := 0
	for i := range 30 {
		rep := a
		if i%2 == 1 {
			rep = b
		}
		wg.Go(func() {
			if _, err := rep.AuthenticateFrom(ctx, "alice", "wrong", ""); errcode.CodeOf(err) == errcode.Unauthorized {
				mu.Lock()
				tried++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if tried > 3 {
		t.Fatalf("%d guesses on two replicas reached the directory; want at most 3", tried)
	}

	r.Stop()
	before = a.Stats()
	if _, err := a.AuthenticateFrom(ctx, "carol", "carol-password", ""); errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("a sign-in with the attempt store down: %v; want Unavailable", err)
	}
	if a.Stats() != before {
		t.Fatal("a sign-in reached the directory without the back-off")
	}
}
