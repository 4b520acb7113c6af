package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
)

// TestClassifyCases runs the classification cases that the credentials
// packages run too (credentials/githubapp's TestClassifyCases), through a
// Transport and Classify, in a synctest bubble where waits are exact and
// take no real time.
func TestClassifyCases(t *testing.T) {
	t.Parallel()
	for _, tc := range httpxtest.Cases {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method+" "+tc.Name, func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					toRealisticTime()
					start := time.Now()
					first := step{status: tc.Status, body: tc.Body, header: map[string]string{}}
					for k, v := range tc.Header(start) {
						first.header[k] = v[0]
					}
					f := &fakeServer{steps: []step{first, {status: 200}}}
					c := httpx.NewClient(&httpx.Options{Base: f, MinWait: time.Second, MaxRateLimitWait: tc.MaxRateLimitWait})
					req, _ := http.NewRequestWithContext(t.Context(), method, "https://api.example.com/x", strings.NewReader("{}"))
					resp, err := c.Do(req)
					code, msg := errcode.OK, ""
					var retryAt time.Time
					switch {
					case err != nil:
						var e *errcode.Error
						if !errors.As(err, &e) {
							t.Fatalf("Do: %v; want an *errcode.Error", err)
						}
						code, msg, retryAt = e.Code, e.Error(), e.RetryAt
					case resp.StatusCode != http.StatusOK:
						cl := httpx.Classify(resp, time.Now())
						code, msg, retryAt = cl.Code, cl.Hint, cl.RetryAt
						httpx.DrainClose(resp)
					default:
						httpx.DrainClose(resp)
					}
					if code != tc.Code {
						t.Fatalf("code = %v (%s); want %v", code, msg, tc.Code)
					}
					if got := len(f.gaps()) + 1; got != tc.Attempts {
						t.Errorf("attempts = %d; want %d", got, tc.Attempts)
					}
					switch tc.Code {
					case errcode.OK:
						if gaps := f.gaps(); len(gaps) != 1 || gaps[0] != tc.Wait {
							t.Errorf("waits between attempts = %v; want [%v]", gaps, tc.Wait)
						}
					case errcode.RateLimited:
						if got := retryAt.Sub(start); got != tc.Wait {
							t.Errorf("RetryAt = now + %v; want now + %v", got, tc.Wait)
						}
						if elapsed := time.Since(start); elapsed != 0 {
							t.Errorf("slept %v before returning RateLimited; want no sleep", elapsed)
						}
					}
					if !strings.Contains(msg, tc.Message) {
						t.Errorf("message %q does not contain %q", msg, tc.Message)
					}
				})
			})
		}
	}
}

func TestClassifyStatuses(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		status int
		header http.Header
		want   errcode.Code
	}{
		{304, nil, errcode.NotModified},
		{400, nil, errcode.InvalidArgument},
		{401, nil, errcode.Unauthorized},
		{403, nil, errcode.PermissionDenied},
		{403, http.Header{"X-Ratelimit-Remaining": {"0"}}, errcode.RateLimited},
		{404, nil, errcode.NotFound},
		{409, nil, errcode.Conflict},
		{410, nil, errcode.NotFound},
		{451, nil, errcode.PermissionDenied},
		{418, nil, errcode.Unknown},
		{422, nil, errcode.InvalidArgument},
		{429, nil, errcode.RateLimited},
		{500, nil, errcode.Unavailable},
		{503, nil, errcode.Unavailable},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.status, Header: tt.header}
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
		cl := httpx.Classify(resp, now)
		if cl.Code != tt.want {
			t.Errorf("Classify(%d %v) = %v; want %v", tt.status, tt.header, cl.Code, tt.want)
		}
		if cl.Hint != "" {
			t.Errorf("Classify(%d) hint = %q; want none", tt.status, cl.Hint)
		}
	}
	if cl := httpx.Classify(nil, now); cl.Code != errcode.Unknown {
		t.Errorf("Classify(nil) = %v; want Unknown", cl.Code)
	}
}

func TestClassifyFailure(t *testing.T) {
	deadline, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-deadline.Done()
	for _, tc := range []struct {
		err  error
		code errcode.Code
		ok   bool
	}{
		{fmt.Errorf("reading: %w", context.Canceled), errcode.Canceled, true},
		{deadline.Err(), errcode.DeadlineExceeded, true},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, errcode.Unavailable, true},
		{fmt.Errorf("body: %w", io.ErrUnexpectedEOF), errcode.Unavailable, true},
		{io.EOF, errcode.Unavailable, true},
		{errors.New("something else"), errcode.Unknown, false},
	} {
		if code, ok := httpx.ClassifyFailure(tc.err); code != tc.code || ok != tc.ok {
			t.Errorf("ClassifyFailure(%v) = %v, %v; want %v, %v", tc.err, code, ok, tc.code, tc.ok)
		}
	}
}
