package credentials

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// recordingLog is a JSON slog handler's output, safe for concurrent use.
type recordingLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *recordingLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *recordingLog) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *recordingLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// warnings returns the messages of the Warn records.
func (l *recordingLog) warnings(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var r struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r.Level == "WARN" {
			out = append(out, r.Msg)
		}
	}
	return out
}

// failingStore is a SharedStore that is down.
type failingStore struct{}

var errStoreDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (failingStore) Load(context.Context, string) ([]byte, bool, error) {
	return nil, false, errStoreDown
}
func (failingStore) Lease(context.Context, string, time.Duration) (int64, error) {
	return 0, errStoreDown
}
func (failingStore) Save(context.Context, string, []byte, time.Duration, int64, bool) (bool, error) {
	return false, errStoreDown
}
func (failingStore) Release(context.Context, string, int64) error { return errStoreDown }
func (failingStore) Delete(context.Context, string) error         { return errStoreDown }

// TestResolverLogsDegradations: with ResolverOptions.Logger, a shared
// store that fails (and is worked around) and a token endpoint that still
// fails after the retries are logged at Warn, and no record holds the
// consumer's secret or token, even when the endpoint echoes them. Without
// a failure there is no Warn record.
func TestResolverLogsDegradations(t *testing.T) {
	req := Request{Host: "bitbucket.org", Owner: "acme"}
	basic := base64.StdEncoding.EncodeToString([]byte("consumer-key:consumer-secret"))
	noSecret := func(t *testing.T, log *recordingLog, more ...string) {
		t.Helper()
		for _, s := range append([]string{"consumer-secret", basic}, more...) {
			if strings.Contains(log.String(), s) {
				t.Errorf("the log holds %q:\n%s", s, log)
			}
		}
	}

	t.Run("healthy", func(t *testing.T) {
		var log recordingLog
		f := newFakeOAuth(t, "consumer-key", "consumer-secret")
		r := consumerResolver(t, f, nil, &ResolverOptions{Logger: log.logger()})
		c, err := r.Resolve(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if w := log.warnings(t); len(w) != 0 {
			t.Errorf("Warn records without a failure: %q", w)
		}
		noSecret(t, &log, c.Token)
	})

	t.Run("store down", func(t *testing.T) {
		var log recordingLog
		f := newFakeOAuth(t, "consumer-key", "consumer-secret")
		r := consumerResolver(t, f, nil, &ResolverOptions{Logger: log.logger(), Shared: failingStore{}})
		c, err := r.Resolve(t.Context(), req)
		if err != nil {
			t.Fatalf("Resolve with the store down = %v; want the provider's token", err)
		}
		w := log.warnings(t)
		if len(w) == 0 || !strings.Contains(w[0], "shared store failed") || !strings.Contains(log.String(), "connection refused") {
			t.Errorf("Warn records = %q; want the store's failure:\n%s", w, log.String())
		}
		noSecret(t, &log, c.Token)
	})

	t.Run("token endpoint down", func(t *testing.T) {
		var log recordingLog
		f := newFakeOAuth(t, "consumer-key", "consumer-secret")
		f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			// A broken gateway that echoes what it was sent.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable",
				"error_description": "upstream down; got " + r.Header.Get("Authorization")})
			return true
		})
		r := consumerResolver(t, f, nil, &ResolverOptions{Logger: log.logger(), MaxRetries: 2})
		_, err := r.Resolve(t.Context(), req)
		if errcode.CodeOf(err) != errcode.Unavailable {
			t.Fatalf("Resolve = %v; want Unavailable", err)
		}
		if n := f.Requests(); n != 3 {
			t.Errorf("token requests = %d; want 3 (2 retries)", n)
		}
		w := log.warnings(t)
		if len(w) != 1 || !strings.Contains(w[0], "token endpoint failed after the retry") {
			t.Errorf("Warn records = %q; want one for the token endpoint:\n%s", w, log.String())
		}
		noSecret(t, &log)
	})
}
