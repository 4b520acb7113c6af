package ldapauth

import (
	"testing"
	"time"
)

// TestLimiterBurstAfterDelay is a regression test: once a username was
// delayed, attempts fired together the moment the delay ended were all let
// through (begin checked only the first delay for attempts in flight), so
// an attacker got unlimited parallel guesses after every delay. Now one
// attempt runs and the others wait for its outcome.
func TestLimiterBurstAfterDelay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		burst int
		want  int // attempts let through after the delay
	}{
		{"Single", 1, 1},
		{"Burst", 50, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(3, time.Second, time.Minute)
			now := time.Unix(1_000_000, 0)
			for i := range 3 {
				if _, ok := l.begin("alice", now); !ok {
					t.Fatalf("free attempt %d refused", i+1)
				}
				l.fail("alice", now)
			}
			if _, ok := l.begin("alice", now); ok {
				t.Fatal("an attempt past the free ones was not delayed")
			}
			now = now.Add(2 * time.Second) // the delay has passed
			through := 0
			for range tc.burst {
				if _, ok := l.begin("alice", now); ok {
					through++
				}
			}
			if through != tc.want {
				t.Fatalf("%d of %d simultaneous attempts after the delay got through; want %d", through, tc.burst, tc.want)
			}
			// Its failure sets a longer delay, then again one attempt.
			l.fail("alice", now)
			if at, ok := l.begin("alice", now.Add(time.Second)); ok || !at.Equal(now.Add(2*time.Second)) {
				t.Fatalf("after a further failure: ok=%v retry at %v; want a doubled delay", ok, at)
			}
			// A success clears the key.
			now = now.Add(3 * time.Second)
			if _, ok := l.begin("alice", now); !ok {
				t.Fatal("attempt after the doubled delay refused")
			}
			l.succeed("alice", true)
			for range 3 {
				if _, ok := l.begin("alice", now); !ok {
					t.Fatal("a success did not reset the back-off")
				}
			}
		})
	}
}

// TestUsernameKeyFoldsWhatTheDirectoryFolds is a regression test: the
// back-off key was only lower-cased, but the directory also ignores runs
// of spaces in a username, so "john  smith", "john   smith", … each got
// fresh free attempts at the same account.
func TestUsernameKeyFoldsWhatTheDirectoryFolds(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"alice", "ALICE"},
		{"john smith", "john  smith"},
		{"john smith", "John\u00a0 \tSmith"},
		// What slapd also finds as "bob" (NFKC), and what RFC 4518 maps
		// to nothing.
		{"bob", "ｂｏｂ"},
		{"bob", "ＢＯＢ"},
		{"bob", "b\u00adob"},
		{"bob", "b\u200bo\ufe0fb"},
		{"strasse", "STRAẞE"},
	} {
		if usernameKey(tc.a) != usernameKey(tc.b) {
			t.Errorf("usernameKey(%q) = %q, usernameKey(%q) = %q; want equal", tc.a, usernameKey(tc.a), tc.b, usernameKey(tc.b))
		}
	}
	if usernameKey("johnsmith") == usernameKey("john smith") {
		t.Error("different usernames share a key")
	}
}

// Attempts in flight that reach the free ones refuse the next for the
// first delay and set it, so that the retry time said is kept: after it,
// one attempt runs alone (final review, session 22: the shared store, like
// this limiter, refused without setting a delay, and leftover attempts
// then refused every sign-in until the key was forgotten).
func TestLimiterInFlightLimitSetsTheDelay(t *testing.T) {
	l := newLimiter(3, time.Second, time.Minute)
	now := time.Unix(1_000_000, 0)
	for i := range 3 {
		if _, ok := l.begin("alice", now); !ok {
			t.Fatalf("attempt %d in flight refused", i+1)
		}
	}
	at, ok := l.begin("alice", now)
	if ok || !at.Equal(now.Add(time.Second)) {
		t.Fatalf("4th in flight: ok=%v retry at %v; want refused until +1s", ok, at)
	}
	if at2, ok := l.begin("alice", now.Add(500*time.Millisecond)); ok || !at2.Equal(at) {
		t.Fatalf("before the retry time: ok=%v retry at %v; want refused until %v", ok, at2, at)
	}
	through := 0
	for range 5 {
		if _, ok := l.begin("alice", at); ok {
			through++
		}
	}
	if through != 1 {
		t.Fatalf("%d attempts at the retry time; want 1", through)
	}
}
