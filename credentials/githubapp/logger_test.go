package githubapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
)

// logBuffer records a JSON slog handler's output; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) warnings(t *testing.T) []string {
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

// downStore is a SharedStore that is down.
type downStore struct{}

var errDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (downStore) Load(context.Context, string) ([]byte, bool, error)          { return nil, false, errDown }
func (downStore) Lease(context.Context, string, time.Duration) (int64, error) { return 0, errDown }
func (downStore) Save(context.Context, string, []byte, time.Duration, int64, bool) (bool, error) {
	return false, errDown
}
func (downStore) Release(context.Context, string, int64) error { return errDown }
func (downStore) Delete(context.Context, string) error         { return errDown }

// TestLoggerRecordsDegradations: with Options.Logger, a shared store that
// fails (worked around: the token still comes, from GitHub) and a mint
// that still fails after the retries are logged at Warn; no record holds
// the installation token or the JWT, even when GitHub echoes the JWT.
// Without a failure there is no Warn record.
func TestLoggerRecordsDegradations(t *testing.T) {
	for _, tc := range []struct {
		name       string
		store      githubapp.SharedStore
		mintFails  bool
		wantCode   errcode.Code
		wantWarned []string
	}{
		{name: "healthy", wantCode: errcode.OK},
		{name: "store down", store: downStore{}, wantCode: errcode.OK,
			wantWarned: []string{"shared store failed"}},
		{name: "mint fails", mintFails: true, wantCode: errcode.Unavailable,
			wantWarned: []string{"GitHub API call failed after the retry policy's attempts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log logBuffer
			s := newSetup(t, nil, func(o *githubapp.Options) {
				o.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
				o.Shared = tc.store
				o.MaxRetries = 1
			})
			s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
			var jwts []string
			var mu sync.Mutex
			s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
				if !tc.mintFails || !strings.HasSuffix(r.URL.Path, "/access_tokens") {
					return false
				}
				auth := r.Header.Get("Authorization")
				mu.Lock()
				jwts = append(jwts, strings.TrimPrefix(auth, "Bearer "))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadGateway)
				json.NewEncoder(w).Encode(map[string]string{"message": "bad gateway; you sent " + auth})
				return true
			})
			tok, err := s.app.Token(t.Context(), "acme", "widgets")
			if errcode.CodeOf(err) != tc.wantCode {
				t.Fatalf("Token = %v, %v; want code %v", tok, err, tc.wantCode)
			}
			warned := log.warnings(t)
			if len(warned) < len(tc.wantWarned) || (len(tc.wantWarned) == 0 && len(warned) != 0) {
				t.Fatalf("Warn records %q; want %q:\n%s", warned, tc.wantWarned, log.String())
			}
			for i, w := range tc.wantWarned {
				if !strings.Contains(warned[i], w) {
					t.Errorf("Warn record %q; want %q", warned[i], w)
				}
			}
			jwt, err := s.app.JWT(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			secrets := append([]string{jwt.Token}, jwts...)
			if tok != nil {
				secrets = append(secrets, tok.Token)
			}
			for _, sec := range secrets {
				if sec != "" && strings.Contains(log.String(), sec) {
					t.Errorf("the log holds a secret %q:\n%s", sec, log.String())
				}
			}
		})
	}
}
