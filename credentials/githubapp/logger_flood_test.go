package githubapp_test

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
)

// Regression (review of the Logger): while GitHub rate-limits the app
// (reset an hour away, past MaxRateLimitWait), each Token call for the
// owner goes to GitHub again (nothing remembers the RetryAt) and wrote
// a Warn record (and the retry policy's Info record): one pair per call.
func TestWarnOncePerMinuteWhileRateLimited(t *testing.T) {
	var log logBuffer
	s := newSetup(t, nil, func(o *githubapp.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))
		o.MaxRetries = 1
	})
	s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/access_tokens") {
			return false
		}
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", reset)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"API rate limit exceeded"}`))
		return true
	})
	const calls = 50
	for range calls {
		if _, err := s.app.Token(t.Context(), "acme", "widgets"); err == nil {
			t.Fatal("Token succeeded")
		}
	}
	warned := log.warnings(t)
	lines := strings.Count(log.String(), "\n")
	t.Logf("%d calls: %d Warn records, %d records in all", calls, len(warned), lines)
	if len(warned) > 1 {
		t.Errorf("%d Warn records for %d calls inside one rate-limit window (want one a minute)", len(warned), calls)
	}
}

// Without Options.Logger, a store that is down and
// a rate-limited mint write nothing to slog's default logger.
func TestNilLoggerSilent(t *testing.T) {
	var log logBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)
	s := newSetup(t, nil, func(o *githubapp.Options) { o.Shared = downStore{}; o.MaxRetries = 1 })
	s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/access_tokens") {
			return false
		}
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	for range 3 {
		s.app.Token(t.Context(), "acme", "widgets")
	}
	if log.String() != "" {
		t.Errorf("records with a nil Logger:\n%s", log.String())
	}
}
