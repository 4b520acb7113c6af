package scm_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
)

// TestAnonymousReadRateLimitInBody: an allow-listed host answers 403 with
// the rate limit named only in the body (GitHub's primary limit message,
// or a secondary limit without headers). The read fails RateLimited, with
// RetryAt where the body implies one, not PermissionDenied. Retries are
// off so that the 403 reaches the classification in ReadFile.
func TestAnonymousReadRateLimitInBody(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		switch r.URL.Path {
		case "/primary":
			fmt.Fprint(w, `{"message":"API rate limit exceeded for 192.0.2.1. (But here's the good news: Authenticated requests get a higher rate limit.)"}`)
		case "/secondary":
			fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`)
		default:
			fmt.Fprint(w, `{"message":"Resource not accessible"}`)
		}
	})
	reg, err := integrations.NewRegistry(integrations.Config{ReadingAllow: []integrations.ReadingAllow{{Host: hostOf(t, srv.URL)}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := scm.NewClient(reg, nil, &scm.Options{Retry: scm.RetryOptions{MaxRetries: -1, MaxRateLimitWait: 5 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		code       scm.ErrorCode
		retryAfter time.Duration // 0: no RetryAt
	}{
		{"primary limit in the body", "/primary", scm.RateLimited, 0},
		{"secondary limit in the body", "/secondary", scm.RateLimited, time.Minute},
		{"a plain 403", "/denied", scm.PermissionDenied, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			_, err := c.ReadFile(t.Context(), srv.URL+tc.path, nil)
			after := time.Now()
			if got := scm.Code(err); got != tc.code {
				t.Fatalf("ReadFile(%s): code %v (%v); want %v", tc.path, got, err, tc.code)
			}
			var e *scm.Error
			if !errors.As(err, &e) || e.Status != http.StatusForbidden {
				t.Fatalf("ReadFile(%s): %#v; want an *scm.Error with status 403", tc.path, err)
			}
			switch at, _ := scm.RetryAt(err); {
			case tc.retryAfter == 0 && !at.IsZero():
				t.Errorf("RetryAt = %v; want none", at)
			case tc.retryAfter != 0 && (at.Before(before.Add(tc.retryAfter)) || at.After(after.Add(tc.retryAfter))):
				t.Errorf("RetryAt = %v; want %v after the request", at, tc.retryAfter)
			}
		})
	}
}
