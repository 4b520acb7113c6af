package httpx_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

func TestRateLimitInfo(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	epoch := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name        string
		status      int
		header      map[string]string
		body        string
		wantAt      time.Time
		wantLimited bool
	}{
		{name: "200 is not limited", status: 200, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch(time.Hour)}},
		{name: "404 is not limited", status: 404, header: map[string]string{"Retry-After": "5"}},
		{name: "503 Retry-After is not a rate limit", status: 503, header: map[string]string{"Retry-After": "5"}},
		{name: "429 Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "120"},
			wantAt: now.Add(2 * time.Minute), wantLimited: true},
		{name: "429 Retry-After HTTP-date", status: 429, header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)},
			wantAt: now.Add(90 * time.Second), wantLimited: true},
		{name: "429 Retry-After RFC 850 date", status: 429, header: map[string]string{"Retry-After": "Sunday, 01-Mar-26 12:00:30 GMT"},
			wantAt: now.Add(30 * time.Second), wantLimited: true},
		{name: "429 bad Retry-After falls back to unknown", status: 429, header: map[string]string{"Retry-After": "soon"}, wantLimited: true},
		{name: "429 negative Retry-After ignored", status: 429, header: map[string]string{"Retry-After": "-5"}, wantLimited: true},
		{name: "403 GitHub primary limit", status: 403,
			header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch(25 * time.Minute)},
			body:   `{"message":"API rate limit exceeded for installation ID 1."}`, wantAt: now.Add(25 * time.Minute), wantLimited: true},
		{name: "429 GitHub primary limit", status: 429,
			header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch(time.Minute)},
			wantAt: now.Add(time.Minute), wantLimited: true},
		{name: "Retry-After wins over X-RateLimit-Reset", status: 403,
			header: map[string]string{"Retry-After": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch(time.Hour)},
			wantAt: now.Add(10 * time.Second), wantLimited: true},
		{name: "403 secondary limit with Retry-After and remaining > 0", status: 403,
			header: map[string]string{"Retry-After": "60", "X-RateLimit-Remaining": "4321", "X-RateLimit-Reset": epoch(time.Hour)},
			wantAt: now.Add(time.Minute), wantLimited: true},
		{name: "403 secondary limit named only in the body", status: 403,
			header: map[string]string{"X-RateLimit-Remaining": "4321", "X-RateLimit-Reset": epoch(time.Hour)},
			body:   `{"message":"You have exceeded a secondary rate limit and have been temporarily blocked from content creation.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`,
			wantAt: now.Add(httpx.SecondaryLimitWait), wantLimited: true},
		{name: "403 abuse detection (older GitHub wording)", status: 403,
			body:   `{"message":"You have triggered an abuse detection mechanism."}`,
			wantAt: now.Add(httpx.SecondaryLimitWait), wantLimited: true},
		{name: "403 with a rate-limit message but no time", status: 403, body: `{"message":"API rate limit exceeded"}`, wantLimited: true},
		{name: "403 permission denied", status: 403, header: map[string]string{"X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": epoch(time.Hour)},
			body: `{"message":"Must have admin rights to Repository."}`},
		{name: "GitLab 429 RateLimit-Reset epoch", status: 429,
			header: map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": epoch(45 * time.Second)},
			wantAt: now.Add(45 * time.Second), wantLimited: true},
		{name: "GitLab 429 RateLimit-Reset delta-seconds", status: 429, header: map[string]string{"RateLimit-Reset": "30"},
			wantAt: now.Add(30 * time.Second), wantLimited: true},
		{name: "GitLab 403 RateLimit-Remaining 0", status: 403,
			header: map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": epoch(time.Minute)},
			wantAt: now.Add(time.Minute), wantLimited: true},
		{name: "Bitbucket bare 429", status: 429, wantLimited: true},
		{name: "reset in the past is reported as is", status: 403,
			header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch(-time.Minute)},
			wantAt: now.Add(-time.Minute), wantLimited: true},
		{name: "huge Retry-After does not overflow", status: 429, header: map[string]string{"Retry-After": "99999999999999999"},
			wantAt: now.Add(time.Duration(1<<63 - 1).Truncate(time.Second)), wantLimited: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tt.body))}
			for k, v := range tt.header {
				resp.Header.Set(k, v)
			}
			at, limited := httpx.RateLimitInfo(resp, now)
			if limited != tt.wantLimited || !at.Equal(tt.wantAt) {
				t.Errorf("got %v, %v; want %v, %v", at, limited, tt.wantAt, tt.wantLimited)
			}
			// The body is still readable in full.
			b, err := io.ReadAll(resp.Body)
			if err != nil || string(b) != tt.body {
				t.Errorf("got body %q, %v after RateLimitInfo; want %q", b, err, tt.body)
			}
		})
	}
	if at, limited := httpx.RateLimitInfo(nil, now); limited || !at.IsZero() {
		t.Errorf("RateLimitInfo(nil) = %v, %v; want zero, false", at, limited)
	}
}

func TestRateLimitInfoLongBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("x", 100_000) + "secondary rate limit"
	resp := &http.Response{StatusCode: 403, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
	if _, limited := httpx.RateLimitInfo(resp, time.Now()); limited {
		t.Errorf("a message past the first 8 KiB was read")
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != body {
		t.Errorf("got a body of %d bytes back; want %d", len(b), len(body))
	}
}

// fakeServer is an in-memory base transport for synctest bubbles: it answers
// with steps in order and records the (fake) time of every attempt.
type fakeServer struct {
	mu    sync.Mutex
	steps []step
	times []time.Time
}

func (f *fakeServer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.steps[min(len(f.times), len(f.steps)-1)]
	f.times = append(f.times, time.Now())
	resp := &http.Response{StatusCode: st.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(st.body)), Request: req}
	for k, v := range st.header {
		resp.Header.Set(k, v)
	}
	return resp, nil
}

// gaps returns the time between consecutive attempts.
func (f *fakeServer) gaps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var d []time.Duration
	for i := 1; i < len(f.times); i++ {
		d = append(d, f.times[i].Sub(f.times[i-1]))
	}
	return d
}

// toRealisticTime moves a synctest bubble's clock, which starts in 2000,
// to 2030, so that epoch headers look like real ones (above 10^9).
func toRealisticTime() {
	time.Sleep(time.Until(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
}

// TestWaitsHonourServerTimes runs in a synctest bubble, where time.Now and
// timers are fake: waits of minutes take no real time and are exact.
func TestWaitsHonourServerTimes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		first    func(now time.Time) step
		wantGaps []time.Duration
	}{
		{name: "Retry-After seconds", method: "GET",
			first:    func(time.Time) step { return step{status: 429, header: map[string]string{"Retry-After": "120"}} },
			wantGaps: []time.Duration{2 * time.Minute}},
		{name: "Retry-After HTTP-date", method: "GET",
			first: func(now time.Time) step {
				return step{status: 429, header: map[string]string{"Retry-After": now.Add(45 * time.Second).Format(http.TimeFormat)}}
			},
			wantGaps: []time.Duration{45 * time.Second}},
		{name: "X-RateLimit-Reset on a GitHub primary limit", method: "GET",
			first: func(now time.Time) step {
				return step{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0",
					"X-RateLimit-Reset": strconv.FormatInt(now.Add(4*time.Minute).Unix(), 10)}}
			},
			wantGaps: []time.Duration{4 * time.Minute}},
		{name: "RateLimit-Reset epoch (GitLab)", method: "POST",
			first: func(now time.Time) step {
				return step{status: 429, header: map[string]string{"RateLimit-Remaining": "0",
					"RateLimit-Reset": strconv.FormatInt(now.Add(3*time.Minute).Unix(), 10)}}
			},
			wantGaps: []time.Duration{3 * time.Minute}},
		{name: "RateLimit-Reset delta-seconds", method: "GET",
			first:    func(time.Time) step { return step{status: 429, header: map[string]string{"RateLimit-Reset": "30"}} },
			wantGaps: []time.Duration{30 * time.Second}},
		{name: "secondary limit without a time waits one minute", method: "POST",
			first: func(time.Time) step {
				return step{status: 403, header: map[string]string{"X-RateLimit-Remaining": "10"},
					body: `{"message":"You have exceeded a secondary rate limit"}`}
			},
			wantGaps: []time.Duration{time.Minute}},
		{name: "503 Retry-After", method: "GET",
			first:    func(time.Time) step { return step{status: 503, header: map[string]string{"Retry-After": "7"}} },
			wantGaps: []time.Duration{7 * time.Second}},
		{name: "Retry-After 0 still waits MinWait", method: "GET",
			first:    func(time.Time) step { return step{status: 429, header: map[string]string{"Retry-After": "0"}} },
			wantGaps: []time.Duration{time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				toRealisticTime()
				f := &fakeServer{steps: []step{tt.first(time.Now()), {status: 200}}}
				c := httpx.NewClient(&httpx.Options{Base: f, MinWait: time.Second, MaxRateLimitWait: 5 * time.Minute})
				req, _ := http.NewRequestWithContext(t.Context(), tt.method, "https://api.example.com/x", strings.NewReader("payload"))
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				httpx.DrainClose(resp)
				if diff := cmp.Diff(tt.wantGaps, f.gaps()); diff != "" {
					t.Errorf("waits between attempts (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestExponentialBackoffBounds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{steps: []step{{status: 500}}}
		c := httpx.NewClient(&httpx.Options{Base: f, MaxRetries: 6, MinWait: time.Second, MaxWait: 8 * time.Second})
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://api.example.com/x", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		httpx.DrainClose(resp)
		if resp.StatusCode != 500 {
			t.Errorf("got %d; want the last 500", resp.StatusCode)
		}
		// Equal jitter: attempt n waits within [d/2, d], d = min(1s·2^n, 8s).
		gaps := f.gaps()
		if len(gaps) != 6 {
			t.Fatalf("got %d retries; want 6", len(gaps))
		}
		for n, g := range gaps {
			d := min(time.Second<<n, 8*time.Second)
			if g < d/2 || g > d {
				t.Errorf("retry %d waited %v; want within [%v, %v]", n+1, g, d/2, d)
			}
		}
	})
}

// TestDeadlineDuringBackoff: an exponential backoff (no time named by the
// server) is slept until the request's deadline.
func TestDeadlineDuringBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{steps: []step{{status: 503}}}
		c := httpx.NewClient(&httpx.Options{Base: f, MinWait: 40 * time.Second, MaxWait: 40 * time.Second})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/x", nil)
		start := time.Now()
		_, err := c.Do(req)
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("returned after %v; want exactly at the 10s deadline", got)
		}
		if errcode.CodeOf(err) != errcode.DeadlineExceeded {
			t.Errorf("got %v; want DeadlineExceeded", err)
		}
	})
}

// TestCancelDuringLongWait: a server-requested wait within the deadline
// stops when the context is cancelled.
func TestCancelDuringLongWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{steps: []step{{status: 429, header: map[string]string{"Retry-After": "50"}}}}
		c := httpx.NewClient(&httpx.Options{Base: f})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		time.AfterFunc(10*time.Second, cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/x", nil)
		start := time.Now()
		_, err := c.Do(req)
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("returned after %v; want exactly at the 10s cancellation", got)
		}
		if errcode.CodeOf(err) != errcode.Canceled {
			t.Errorf("got %v; want Canceled", err)
		}
	})
}

// TestWaitBeyondDeadlineReturnsAtOnce: a server-requested wait within
// MaxRateLimitWait but past the request's deadline is not slept; the
// caller gets RateLimited (Unavailable for a 5xx) with RetryAt at once.
func TestWaitBeyondDeadlineReturnsAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		first     step
		wantCode  errcode.Code
		wantWait  time.Duration // RetryAt - start; 0 with wantCode OK means the retry succeeded
		wantCalls int
	}{
		{name: "Retry-After past the deadline", method: "GET",
			first:    step{status: 429, header: map[string]string{"Retry-After": "50"}},
			wantCode: errcode.RateLimited, wantWait: 50 * time.Second, wantCalls: 1},
		{name: "POST too", method: "POST",
			first:    step{status: 429, header: map[string]string{"Retry-After": "30"}},
			wantCode: errcode.RateLimited, wantWait: 30 * time.Second, wantCalls: 1},
		{name: "GitHub secondary limit named only in the body", method: "GET",
			first: step{status: 403, header: map[string]string{"X-RateLimit-Remaining": "4999"},
				body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`},
			wantCode: errcode.RateLimited, wantWait: time.Minute, wantCalls: 1},
		{name: "503 Retry-After past the deadline is Unavailable", method: "GET",
			first:    step{status: 503, header: map[string]string{"Retry-After": "20"}},
			wantCode: errcode.Unavailable, wantWait: 20 * time.Second, wantCalls: 1},
		{name: "a wait within the deadline is slept", method: "GET",
			first:    step{status: 429, header: map[string]string{"Retry-After": "5"}},
			wantCode: errcode.OK, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f := &fakeServer{steps: []step{tt.first, {status: 200}}}
				c := httpx.NewClient(&httpx.Options{Base: f, MinWait: time.Second})
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, tt.method, "https://api.example.com/x", strings.NewReader("payload"))
				start := time.Now()
				resp, err := c.Do(req)
				elapsed := time.Since(start)
				if err == nil {
					httpx.DrainClose(resp)
				}
				if got := errcode.CodeOf(err); got != tt.wantCode {
					t.Fatalf("got code %v (%v); want %v", got, err, tt.wantCode)
				}
				if n := len(f.gaps()) + 1; n != tt.wantCalls {
					t.Errorf("got %d attempts; want %d", n, tt.wantCalls)
				}
				if tt.wantCode == errcode.OK {
					return
				}
				if elapsed != 0 {
					t.Errorf("returned after %v; want at once", elapsed)
				}
				at, ok := errcode.RetryAt(err)
				if !ok || !at.Equal(start.Add(tt.wantWait)) {
					t.Errorf("got RetryAt %v, %v; want %v", at, ok, start.Add(tt.wantWait))
				}
				var ce *errcode.Error
				if !errors.As(err, &ce) || ce.Status != tt.first.status {
					t.Errorf("got %#v; want an *errcode.Error with status %d", ce, tt.first.status)
				}
			})
		})
	}
}
