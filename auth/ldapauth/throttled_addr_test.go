package ldapauth_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// Regression (second review, session 22):
// AuthenticateFrom begins the username's attempt before the
// address's. When the username is past its free attempts and its delay
// is over, that Begin takes the "one attempt alone" slot and sets the
// username's delay (Base); when the address is then refused, the attempt
// is taken back but the delay stays. So a client whose own address is
// throttled (it can no longer guess at all) holds any username in its
// delay for ever, with no attempt reaching the directory and no failure
// recorded: the victim, signing in right after each of its requests, is
// refused for 10 minutes (twice MaxDelay).
func TestThrottledAddressDoesNotHoldUsernameDelay(t *testing.T) {
	var binds atomic.Int64
	var c ldapauth.Config
	a := &c.LDAPAuthenticationOptions
	a.UserSearchBase = "ou=people,dc=example,dc=org"
	a.AdminDN = "cn=service,dc=example,dc=org"
	a.AdminPassword = integrations.NewSecret("service-password")
	a.LDAPOpts.URL = ldapauth.StringList{slowBindDirectory(t, 0, &binds)}
	a.StartTLS = new(bool)
	c.Insecure = true
	c.Backoff = &ldapauth.BackoffConfig{FreeAttempts: 3, FreeAttemptsPerAddress: 3, InitialDelay: ldapauth.Duration(time.Second), MaxDelay: ldapauth.Duration(5 * time.Minute)}
	var mu sync.Mutex
	now := time.Now()
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	au := newAuth(t, c, &ldapauth.Options{Now: clk})
	ctx := t.Context()
	// alice's password was guessed wrong 3 times (from elsewhere): she is at
	// her free attempts, her delay (1s) pending.
	for range 3 {
		au.AuthenticateFrom(ctx, "alice", "wrong", "203.0.113.1")
	}
	// The attacker's address is throttled: wrong guesses on other names
	// until its delay is minutes.
	for range 12 {
		_, err := au.AuthenticateFrom(ctx, "bob", "wrong", "198.51.100.9")
		if e, ok := err.(*errcode.Error); ok && e.Code == errcode.RateLimited {
			advance(e.RetryAt.Sub(clk()))
			au.AuthenticateFrom(ctx, "bob", "wrong", "198.51.100.9")
		}
	}
	advance(2 * time.Second) // alice's delay is over
	before := binds.Load()
	let := 0
	for range 280 { // 280 s (the attacker's address stays throttled), a try a second
		_, aerr := au.AuthenticateFrom(ctx, "alice", "x", "198.51.100.9")
		if e, ok := aerr.(*errcode.Error); !ok || e.Code != errcode.RateLimited {
			t.Fatalf("the attacker's request was not refused: %v", aerr)
		}
		_, err := au.AuthenticateFrom(ctx, "alice", "wrong-typo", "192.0.2.50")
		if e, ok := err.(*errcode.Error); !ok || e.Code != errcode.RateLimited {
			let++
			break
		}
		advance(time.Second)
	}
	if n := binds.Load() - before - int64(let); n != 0 {
		t.Fatalf("%d binds reached the directory; the scenario needs none", n)
	}
	if let == 0 {
		t.Errorf("alice (delay over, no new failure) was refused 280 times over 280 s, each time right after a request from an address that is itself throttled and reached no directory")
	}
}
