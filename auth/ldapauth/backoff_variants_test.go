package ldapauth_test

import (
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// The directory finds "bob" under spellings the back-off once counted
// apart: slapd matches uid with Unicode compatibility folding, so the
// fullwidth "ｂｏｂ" and "ＢＯＢ" sign in as bob. Each spelling (every
// letter fullwidth or not, upper or lower case) had its own free
// attempts, which let a guesser dodge the back-off entirely. Once "bob"
// is backing off, every spelling the directory resolves to him is too.
func TestBackoffCannotBeDodgedBySpellingVariants(t *testing.T) {
	s := need(t)
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := baseConfig(s)
	c.Backoff = &ldapauth.BackoffConfig{FreeAttempts: 3, FreeAttemptsPerAddress: 100, InitialDelay: ldapauth.Duration(time.Minute), MaxDelay: ldapauth.Duration(time.Hour)}
	a := newAuth(t, c, &ldapauth.Options{Now: clk.Now})
	// The directory does resolve these spellings to bob (so they matter).
	for _, u := range []string{"ｂｏｂ", "ＢＯＢ", "Ｂob"} {
		r, err := a.AuthenticateFrom(t.Context(), u, "bob-password", "")
		if err != nil || r.Identity.Login != "bob" {
			t.Fatalf("%q: %v, %+v; the directory should find bob", u, err, r)
		}
	}
	for i := range 3 {
		if _, err := a.AuthenticateFrom(t.Context(), "bob", "wrong", ""); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	before := a.Stats()
	for _, u := range []string{"ｂｏｂ", "ＢＯＢ", "bｏb", "b\u00adob", "b\u200bob"} {
		if _, err := a.AuthenticateFrom(t.Context(), u, "wrong", ""); errcode.CodeOf(err) != errcode.RateLimited {
			t.Errorf("%q while bob backs off: %v; want RateLimited", u, err)
		}
	}
	if a.Stats() != before {
		t.Error("an attempt under another spelling reached the directory while bob backs off")
	}
	// Other users are not affected.
	if _, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", ""); err != nil {
		t.Fatal(err)
	}
}
