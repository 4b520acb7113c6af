package httpx_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

// closeTracker is a request body without GetBody that records Close.
type closeTracker2 struct {
	io.Reader
	closed bool
}

func (c *closeTracker2) Close() error { c.closed = true; return nil }

// TestBudgetRefusalClosesTheBody: RoundTrip closes the request's body on
// every path, as http.RoundTripper requires, also when the budget refuses
// the request (at once, or when the context ends during its wait) and
// nothing is sent.
func TestBudgetRefusalClosesTheBody(t *testing.T) {
	sent := 0
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent++
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})
	for _, tt := range []struct {
		name  string
		reset time.Duration
		ctx   time.Duration
		want  errcode.Code
	}{
		{"refused beyond the cap", time.Hour, 0, errcode.RateLimited},
		{"context ends during the wait", 5 * time.Second, 50 * time.Millisecond, errcode.RateLimited},
		{"cancelled during the wait", 5 * time.Second, -1, errcode.Canceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &httpx.MemoryBudget{}
			b.Record(context.Background(), "k", 10, 0, time.Now().Add(tt.reset))
			tr := httpx.NewTransport(&httpx.Options{Base: base, MaxRateLimitWait: time.Minute})
			tr.SetBudget(b, "k", 0.5)
			ctx := t.Context()
			switch {
			case tt.ctx > 0:
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			case tt.ctx < 0:
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			body := &closeTracker2{Reader: strings.NewReader("payload")}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.example.com/x", body)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tr.RoundTrip(req)
			if errcode.CodeOf(err) != tt.want {
				t.Errorf("RoundTrip = %v; want %v", err, tt.want)
			}
			if !body.closed {
				t.Error("the request body was not closed")
			}
		})
	}
	if sent != 0 {
		t.Errorf("%d requests sent; want 0", sent)
	}
}
