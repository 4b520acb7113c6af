package httpx_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

// hangFirst is a base transport whose first attempt hangs until its
// context ends; later attempts answer 200 with a body that arrives after
// a pause.
type hangFirst struct{ n atomic.Int32 }

func (h *hangFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	if h.n.Add(1) == 1 {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	pr, pw := io.Pipe()
	go func() {
		time.Sleep(30 * time.Millisecond) // within the attempt timeout
		pw.Write([]byte("ok"))
		pw.Close()
	}()
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: pr, Request: req}, nil
}

func TestAttemptTimeout(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		header   http.Header
		wantCode errcode.Code
		wantN    int32
	}{
		{name: "GET is tried again", method: "GET", wantCode: errcode.OK, wantN: 2},
		{name: "POST with an idempotency key is tried again", method: "POST", header: http.Header{"Idempotency-Key": nil}, wantCode: errcode.OK, wantN: 2},
		{name: "POST is not: the server may have acted", method: "POST", wantCode: errcode.Unavailable, wantN: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &hangFirst{}
				c := httpx.NewClient(&httpx.Options{Base: base, MinWait: time.Millisecond, AttemptTimeout: 50 * time.Millisecond})
				req, _ := http.NewRequestWithContext(t.Context(), tt.method, "https://api.example.com/x", strings.NewReader("{}"))
				for k, v := range tt.header {
					req.Header[k] = v
				}
				start := time.Now()
				resp, err := c.Do(req)
				if got := errcode.CodeOf(err); got != tt.wantCode {
					t.Fatalf("Do = %v; want code %v", err, tt.wantCode)
				}
				if base.n.Load() != tt.wantN {
					t.Errorf("attempts = %d; want %d", base.n.Load(), tt.wantN)
				}
				if err != nil {
					if !strings.Contains(err.Error(), "attempt timeout") {
						t.Errorf("error %q does not name the attempt timeout", err)
					}
					return
				}
				// The body is read after RoundTrip returned, still within
				// the attempt's time: the attempt's context lasts until
				// the body is closed.
				body, err := httpx.ReadBody(resp, 1<<10)
				if err != nil || string(body) != "ok" {
					t.Errorf("body = %q, %v; want ok", body, err)
				}
				if elapsed := time.Since(start); elapsed < 50*time.Millisecond || elapsed > 100*time.Millisecond {
					t.Errorf("took %v; want the 50ms attempt timeout, a short wait and the 30ms body", elapsed)
				}
			})
		})
	}
}
