package githubapp_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
)

// rateLimitMints makes the fake answer every mint with GitHub's primary
// rate limit, reset an hour after now, and counts the mints asked.
func rateLimitMints(s *setup, now time.Time, on *atomic.Bool) *atomic.Int64 {
	var mints atomic.Int64
	reset := strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/access_tokens") {
			return false
		}
		mints.Add(1)
		if !on.Load() {
			return false
		}
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", reset)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"API rate limit exceeded"}`))
		return true
	})
	return &mints
}

// While GitHub rate-limits the app past MaxRateLimitWait, calls that need
// a mint fail RateLimited with GitHub's reset as RetryAt without asking
// GitHub again (each used to ask, and be refused, at the app's expense);
// after the reset, or 5 minutes at most, they ask again.
func TestRateLimitedAppAsksNoMore(t *testing.T) {
	s := newSetup(t, nil, func(o *githubapp.Options) { o.MaxRetries = 1 })
	s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	var limited atomic.Bool
	limited.Store(true)
	mints := rateLimitMints(s, s.clock.Now(), &limited)
	for i := range 50 {
		_, err := s.app.Token(t.Context(), "acme", "widgets")
		if e, ok := errors.AsType[*errcode.Error](err); !ok || e.Code != errcode.RateLimited || !e.RetryAt.After(s.clock.Now()) {
			t.Fatalf("call %d: %v; want RateLimited with a RetryAt", i, err)
		}
	}
	if n := mints.Load(); n != 1 {
		t.Errorf("50 calls while rate-limited asked GitHub for %d mints; want 1", n)
	}
	limited.Store(false)
	s.clock.Advance(5 * time.Minute) // GitHub said an hour; it is asked again after 5 minutes at most
	if _, err := s.app.Token(t.Context(), "acme", "widgets"); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
	if n := mints.Load(); n != 2 {
		t.Errorf("after the reset, %d mints asked in all; want 2", n)
	}
}

// BenchmarkTokenWhileRateLimited: 100 calls needing a mint while GitHub
// rate-limits the app: requests/op is the mints asked per call.
func BenchmarkTokenWhileRateLimited(b *testing.B) {
	s := newSetup(b, nil, func(o *githubapp.Options) { o.MaxRetries = 1 })
	s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	var limited atomic.Bool
	limited.Store(true)
	mints := rateLimitMints(s, s.clock.Now(), &limited)
	calls := 0
	for b.Loop() {
		for range 100 {
			if _, err := s.app.Token(b.Context(), "acme", "widgets"); errcode.CodeOf(err) != errcode.RateLimited {
				b.Fatal(err)
			}
			calls++
		}
	}
	b.ReportMetric(float64(mints.Load())/float64(calls), "requests/op")
}
