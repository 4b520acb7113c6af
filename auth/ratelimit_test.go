package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// TestProviderAnswersClassified checks that the sign-in providers' calls go
// through scmkit's one retry and rate-limit policy: a rate limit is
// RateLimited with the time it ends (promptly, when it is too long to wait
// out), a profile GET is retried after a 5xx, and the token POST is never
// repeated after a 5xx (the code is single-use).
func TestProviderAnswersClassified(t *testing.T) {
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	token := func(w http.ResponseWriter, _ int32) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"gho_x","token_type":"bearer","scope":"read:user"}`))
	}
	user := func(w http.ResponseWriter, _ int32) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":1,"login":"octocat","name":"Octo Cat"}`))
	}
	tests := []struct {
		name            string
		token, user     func(w http.ResponseWriter, n int32)
		code            errcode.Code // OK: Exchange succeeds
		tokenN, userN   int32
		retryAtInAnHour bool
	}{
		{name: "profile 403, primary limit exhausted", token: token, user: func(w http.ResponseWriter, _ int32) {
			w.Header().Set("X-RateLimit-Limit", "5000")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", reset)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"API rate limit exceeded for user ID 1."}`))
		}, code: errcode.RateLimited, tokenN: 1, userN: 1, retryAtInAnHour: true},
		{name: "profile 429 for an hour", token: token, user: func(w http.ResponseWriter, _ int32) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}, code: errcode.RateLimited, tokenN: 1, userN: 1, retryAtInAnHour: true},
		{name: "token endpoint 429 for an hour", token: func(w http.ResponseWriter, _ int32) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}, user: user, code: errcode.RateLimited, tokenN: 1, retryAtInAnHour: true},
		{name: "token endpoint 429 for a second, then an answer", token: func(w http.ResponseWriter, n int32) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			token(w, n)
		}, user: user, code: errcode.OK, tokenN: 2, userN: 1},
		{name: "profile 503 once", token: token, user: func(w http.ResponseWriter, n int32) {
			if n == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			user(w, n)
		}, code: errcode.OK, tokenN: 1, userN: 2},
		{name: "token endpoint 503 is not repeated", token: func(w http.ResponseWriter, _ int32) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, user: user, code: errcode.Unavailable, tokenN: 1},
		{name: "profile 403 that is no limit", token: token, user: func(w http.ResponseWriter, _ int32) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"Resource not accessible by integration"}`))
		}, code: errcode.Unauthorized, tokenN: 1, userN: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tokenN, userN atomic.Int32
			mux := http.NewServeMux()
			mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) { tt.token(w, tokenN.Add(1)) })
			mux.HandleFunc("GET /api/v3/user", func(w http.ResponseWriter, r *http.Request) { tt.user(w, userN.Add(1)) })
			mux.HandleFunc("GET /api/v3/user/emails", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`[]`))
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			g, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "id", ClientSecret: integrations.NewSecret("sec"),
				EnterpriseInstanceURL: srv.URL, HTTPClient: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			_, err = g.Exchange(t.Context(), auth.Callback{Code: "c", CodeVerifier: "v", RedirectURI: "http://127.0.0.1/cb"})
			if d := time.Since(t0); d > 5*time.Second {
				t.Errorf("Exchange took %v; a limit too long to wait out must fail at once", d)
			}
			if got := errcode.CodeOf(err); got != tt.code {
				t.Errorf("Exchange = %v (code %v); want code %v", err, got, tt.code)
			}
			var e *errcode.Error
			if tt.retryAtInAnHour && (!errors.As(err, &e) || time.Until(e.RetryAt) < 50*time.Minute) {
				t.Errorf("Exchange = %v; want RetryAt about an hour ahead", err)
			}
			if tokenN.Load() != tt.tokenN || userN.Load() != tt.userN {
				t.Errorf("requests: token %d, profile %d; want %d, %d", tokenN.Load(), userN.Load(), tt.tokenN, tt.userN)
			}
		})
	}
}
