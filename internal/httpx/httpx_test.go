package httpx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
)

// step is one scripted answer of a test server.
type step struct {
	status int
	header map[string]string
	body   string
}

// script is an httptest handler answering with steps in order (the last
// one repeats) and recording every request's method and body.
type script struct {
	mu     sync.Mutex
	steps  []step
	bodies []string
	lens   []int64
	chunks []bool
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, string(b))
	s.lens = append(s.lens, r.ContentLength)
	s.chunks = append(s.chunks, len(r.TransferEncoding) > 0)
	st := s.steps[min(n, len(s.steps)-1)]
	s.mu.Unlock()
	for k, v := range st.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(st.status)
	io.WriteString(w, st.body)
}

func (s *script) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

// newServer starts an httptest server and returns it with a dedicated base
// transport, both closed when the test ends.
func newServer(t *testing.T, h http.Handler) (*httptest.Server, *http.Transport) {
	t.Helper()
	srv := httptest.NewServer(h)
	base := &http.Transport{}
	t.Cleanup(func() {
		base.CloseIdleConnections()
		srv.Close()
	})
	return srv, base
}

// fast returns options with millisecond waits.
func fast(base http.RoundTripper) *httpx.Options {
	return &httpx.Options{Base: base, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}
}

// onlyReader hides the concrete type of a reader so that http.NewRequest
// cannot set GetBody: the body is not replayable.
type onlyReader struct{ io.Reader }

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	ok := step{status: 200, body: "ok"}
	tests := []struct {
		name       string
		method     string
		header     map[string]string
		body       io.Reader
		maxRetries int
		codes      []int
		steps      []step
		wantCalls  int
		wantStatus int
		wantBody   string
	}{
		{name: "GET 500 then 200", method: "GET", steps: []step{{status: 500}, {status: 500}, ok}, wantCalls: 3, wantStatus: 200, wantBody: "ok"},
		{name: "GET 502 until retries run out returns the last response", method: "GET",
			steps: []step{{status: 502, body: "bad gateway"}}, wantCalls: 4, wantStatus: 502, wantBody: "bad gateway"},
		{name: "GET 503 and 504 retried", method: "GET", steps: []step{{status: 503}, {status: 504}, ok}, wantCalls: 3, wantStatus: 200, wantBody: "ok"},
		{name: "GET 501 not retried", method: "GET", steps: []step{{status: 501, body: "nope"}, ok}, wantCalls: 1, wantStatus: 501, wantBody: "nope"},
		{name: "GET 404 not retried", method: "GET", steps: []step{{status: 404, body: "missing"}, ok}, wantCalls: 1, wantStatus: 404, wantBody: "missing"},
		{name: "GET 403 permission denied not retried, body intact", method: "GET",
			steps:     []step{{status: 403, body: `{"message":"Resource not accessible by integration"}`}, ok},
			wantCalls: 1, wantStatus: 403, wantBody: `{"message":"Resource not accessible by integration"}`},
		{name: "GET bare 429 (Bitbucket) retried with backoff", method: "GET", steps: []step{{status: 429}, ok}, wantCalls: 2, wantStatus: 200, wantBody: "ok"},
		{name: "GET secondary limit 403 with remaining > 0 retried", method: "GET",
			steps: []step{{status: 403, header: map[string]string{"Retry-After": "0", "X-RateLimit-Remaining": "4000"},
				body: `{"message":"You have exceeded a secondary rate limit."}`}, ok},
			wantCalls: 2, wantStatus: 200, wantBody: "ok"},
		{name: "POST 502 not retried", method: "POST", body: strings.NewReader("payload"),
			steps: []step{{status: 502, body: "bad gateway"}, ok}, wantCalls: 1, wantStatus: 502, wantBody: "bad gateway"},
		{name: "PATCH 500 not retried", method: "PATCH", body: strings.NewReader("payload"),
			steps: []step{{status: 500}, ok}, wantCalls: 1, wantStatus: 500},
		{name: "POST 429 with Retry-After retried", method: "POST", body: strings.NewReader("payload"),
			steps: []step{{status: 429, header: map[string]string{"Retry-After": "0"}}, ok}, wantCalls: 2, wantStatus: 200, wantBody: "ok"},
		{name: "POST with Idempotency-Key 502 retried", method: "POST", body: strings.NewReader("payload"),
			header: map[string]string{"Idempotency-Key": "k1"}, steps: []step{{status: 502}, ok}, wantCalls: 2, wantStatus: 200, wantBody: "ok"},
		{name: "PUT 503 retried with its body", method: "PUT", body: bytes.NewReader([]byte("payload")),
			steps: []step{{status: 503}, ok}, wantCalls: 2, wantStatus: 200, wantBody: "ok"},
		{name: "DELETE 500 retried", method: "DELETE", steps: []step{{status: 500}, ok}, wantCalls: 2, wantStatus: 200, wantBody: "ok"},
		{name: "PUT with a body that cannot be replayed is not retried", method: "PUT", body: onlyReader{strings.NewReader("payload")},
			steps: []step{{status: 503}, ok}, wantCalls: 1, wantStatus: 503},
		{name: "negative MaxRetries disables retries", method: "GET", maxRetries: -1, steps: []step{{status: 500}, ok}, wantCalls: 1, wantStatus: 500},
		{name: "RetryStatusCodes: an unlisted 500 is not retried", method: "GET", codes: []int{429, 503},
			steps: []step{{status: 500, body: "boom"}, ok}, wantCalls: 1, wantStatus: 500, wantBody: "boom"},
		{name: "RetryStatusCodes: a listed 503 is retried", method: "GET", codes: []int{429, 503},
			steps: []step{{status: 503}, ok}, wantCalls: 2, wantStatus: 200, wantBody: "ok"},
		{name: "RetryStatusCodes: a listed 408 is retried", method: "GET", codes: []int{408},
			steps: []step{{status: 408}, ok}, wantCalls: 2, wantStatus: 200, wantBody: "ok"},
		{name: "RetryStatusCodes: a listed 500 on a POST is still not retried", method: "POST", body: strings.NewReader("payload"), codes: []int{500},
			steps: []step{{status: 500}, ok}, wantCalls: 1, wantStatus: 500},
		{name: "RetryStatusCodes: an unlisted 429 is not retried", method: "GET", codes: []int{503},
			steps: []step{{status: 429, header: map[string]string{"Retry-After": "0"}}, ok}, wantCalls: 1, wantStatus: 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{steps: tt.steps}
			srv, base := newServer(t, s)
			opts := fast(base)
			opts.MaxRetries = tt.maxRetries
			opts.RetryStatusCodes = tt.codes
			c := httpx.NewClient(opts)
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+"/x", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			body, err := httpx.ReadBody(resp, 0)
			if err != nil {
				t.Fatalf("ReadBody: %v", err)
			}
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("got %d %q; want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if got := s.calls(); got != tt.wantCalls {
				t.Errorf("got %d calls; want %d", got, tt.wantCalls)
			}
			if resp.Request != req {
				t.Errorf("resp.Request is not the caller's request")
			}
			if tt.body != nil {
				s.mu.Lock()
				defer s.mu.Unlock()
				for i, b := range s.bodies {
					if b != "payload" {
						t.Errorf("attempt %d sent body %q; want %q", i+1, b, "payload")
					}
				}
			}
		})
	}
}

func TestReplayedBodyKeepsContentLength(t *testing.T) {
	t.Parallel()
	s := &script{steps: []step{{status: 500}, {status: 200}}}
	srv, base := newServer(t, s)
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", srv.URL, strings.NewReader("0123456789"))
	resp, err := httpx.NewClient(fast(base)).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	httpx.DrainClose(resp)
	s.mu.Lock()
	defer s.mu.Unlock()
	if diff := cmp.Diff([]int64{10, 10}, s.lens); diff != "" {
		t.Errorf("Content-Length per attempt (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{false, false}, s.chunks); diff != "" {
		t.Errorf("chunked per attempt (-want +got):\n%s", diff)
	}
}

// fixedNow returns a clock stuck at t.
func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestServerRequestedWaitsWithInjectedClock(t *testing.T) {
	t.Parallel()
	// The headers name whole seconds; the injected clock sits 30ms before
	// them, so each retry waits about 30ms of real time.
	reset := time.Unix(1_900_000_000, 0)
	now := reset.Add(-30 * time.Millisecond)
	tests := []struct {
		name   string
		method string
		first  step
	}{
		{name: "Retry-After HTTP-date", method: "GET",
			first: step{status: 429, header: map[string]string{"Retry-After": reset.UTC().Format(http.TimeFormat)}}},
		{name: "GitHub primary limit X-RateLimit-Reset", method: "GET",
			first: step{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)},
				body: `{"message":"API rate limit exceeded for user ID 1."}`}},
		{name: "GitLab RateLimit-Reset", method: "POST",
			first: step{status: 429, header: map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{steps: []step{tt.first, {status: 200}}}
			srv, base := newServer(t, s)
			opts := fast(base)
			opts.Now = fixedNow(now)
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL, strings.NewReader("x"))
			start := time.Now()
			resp, err := httpx.NewClient(opts).Do(req)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			httpx.DrainClose(resp)
			if resp.StatusCode != 200 || s.calls() != 2 {
				t.Errorf("got status %d after %d calls; want 200 after 2", resp.StatusCode, s.calls())
			}
			if elapsed < 30*time.Millisecond || elapsed > 2*time.Second {
				t.Errorf("got elapsed %v; want about 30ms", elapsed)
			}
		})
	}
}

func TestWaitBeyondCapReturnsAtOnce(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_900_000_000, 0)
	tests := []struct {
		name      string
		method    string
		first     step
		wantCode  errcode.Code
		wantRetry time.Time
	}{
		{name: "Retry-After seconds", method: "GET", first: step{status: 429, header: map[string]string{"Retry-After": "3600"}},
			wantCode: errcode.RateLimited, wantRetry: now.Add(time.Hour)},
		{name: "POST too", method: "POST", first: step{status: 429, header: map[string]string{"Retry-After": "120"}},
			wantCode: errcode.RateLimited, wantRetry: now.Add(2 * time.Minute)},
		{name: "GitHub primary limit", method: "GET",
			first:    step{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()+1800, 10)}},
			wantCode: errcode.RateLimited, wantRetry: now.Add(30 * time.Minute)},
		{name: "GitLab RateLimit-Reset delta-seconds", method: "GET",
			first:    step{status: 429, header: map[string]string{"RateLimit-Reset": "90"}},
			wantCode: errcode.RateLimited, wantRetry: now.Add(90 * time.Second)},
		{name: "GitHub secondary limit with no time waits a minute", method: "GET",
			first:    step{status: 403, header: map[string]string{"X-RateLimit-Remaining": "4999"}, body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`},
			wantCode: errcode.RateLimited, wantRetry: now.Add(time.Minute)},
		{name: "503 with a long Retry-After is Unavailable", method: "GET",
			first:    step{status: 503, header: map[string]string{"Retry-After": "600"}},
			wantCode: errcode.Unavailable, wantRetry: now.Add(10 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{steps: []step{tt.first, {status: 200}}}
			srv, base := newServer(t, s)
			opts := fast(base)
			opts.Now = fixedNow(now)
			opts.MaxRateLimitWait = 10 * time.Second
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+"/repos/o/r?access_token=SECRET", nil)
			start := time.Now()
			resp, err := httpx.NewClient(opts).Do(req)
			elapsed := time.Since(start)
			if err == nil {
				httpx.DrainClose(resp)
				t.Fatalf("got status %d; want an error", resp.StatusCode)
			}
			if elapsed > 500*time.Millisecond {
				t.Errorf("got elapsed %v; want an immediate return", elapsed)
			}
			if got := errcode.CodeOf(err); got != tt.wantCode {
				t.Errorf("got code %v; want %v (err: %v)", got, tt.wantCode, err)
			}
			at, ok := errcode.RetryAt(err)
			if !ok || !at.Equal(tt.wantRetry) {
				t.Errorf("got RetryAt %v, %v; want %v", at, ok, tt.wantRetry)
			}
			var ce *errcode.Error
			if !errors.As(err, &ce) || ce.Status != tt.first.status {
				t.Errorf("got %#v; want an *errcode.Error with status %d", ce, tt.first.status)
			}
			// The caller's http.Client wraps errors in a *url.Error with the full
			// URL; ours must not repeat the query string.
			if ce != nil && strings.Contains(ce.Error(), "SECRET") {
				t.Errorf("error %q leaks the query string", ce)
			}
			if s.calls() != 1 {
				t.Errorf("got %d calls; want 1", s.calls())
			}
		})
	}
}

func TestContextEndsDuringWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		first    step
		wait     time.Duration // MinWait and MaxWait
		ctx      func(context.Context) (context.Context, context.CancelFunc)
		wantCode errcode.Code
		wantIs   error
	}{
		{name: "cancelled during a server-requested wait", wantCode: errcode.Canceled, wantIs: context.Canceled,
			first: step{status: 429, header: map[string]string{"Retry-After": "30"}}, wait: time.Millisecond,
			ctx: func(p context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(p)
				time.AfterFunc(50*time.Millisecond, cancel)
				return ctx, cancel
			}},
		// A server-requested wait past the deadline is not slept (see
		// TestWaitBeyondDeadlineReturnsAtOnce); a backoff is.
		{name: "deadline during a backoff", wantCode: errcode.DeadlineExceeded, wantIs: context.DeadlineExceeded,
			first: step{status: 503}, wait: 30 * time.Second,
			ctx: func(p context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(p, 50*time.Millisecond)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{steps: []step{tt.first}}
			srv, base := newServer(t, s)
			ctx, cancel := tt.ctx(t.Context())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
			start := time.Now()
			_, err := httpx.NewClient(&httpx.Options{Base: base, MinWait: tt.wait, MaxWait: tt.wait}).Do(req)
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("got elapsed %v; want a prompt return", elapsed)
			}
			if got := errcode.CodeOf(err); got != tt.wantCode || !errors.Is(err, tt.wantIs) {
				t.Errorf("got %v (code %v); want code %v matching %v", err, got, tt.wantCode, tt.wantIs)
			}
		})
	}
}

func TestNoGoroutineLeft(t *testing.T) {
	// Not parallel: it counts goroutines.
	count := func() int { runtime.GC(); return runtime.NumGoroutine() }
	before := count()
	func() {
		s := &script{steps: []step{{status: 500}, {status: 429, header: map[string]string{"Retry-After": "30"}}}}
		srv := httptest.NewServer(s)
		defer srv.Close()
		base := &http.Transport{}
		c := httpx.NewClient(fast(base))
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		for range 3 {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
			if resp, err := c.Do(req); err == nil {
				httpx.DrainClose(resp)
			}
		}
		c.CloseIdleConnections()
	}()
	var after int
	for range 100 {
		if after = count(); after <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Errorf("got %d goroutines after; want at most %d\n%s", after, before, buf[:runtime.Stack(buf, true)])
}

// countingBase counts the attempts that reach the base transport.
type countingBase struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingBase) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	// A listener that accepted and closed: connection refused afterwards.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	// A server that reads the request and drops the connection without
	// answering: the request was sent, the outcome is unknown.
	var drops atomic.Int32
	dropper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		drops.Add(1)
		io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(dropper.Close)

	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)

	tests := []struct {
		name      string
		method    string
		url       string
		base      http.RoundTripper
		wantCalls int32
		wantCode  errcode.Code
	}{
		{name: "GET connection refused retried", method: "GET", url: refused, wantCalls: 4, wantCode: errcode.Unavailable},
		{name: "POST connection refused retried: never sent", method: "POST", url: refused, wantCalls: 4, wantCode: errcode.Unavailable},
		{name: "GET dropped after sending retried", method: "GET", url: dropper.URL, wantCalls: 4, wantCode: errcode.Unavailable},
		{name: "POST dropped after sending not retried", method: "POST", url: dropper.URL, wantCalls: 1, wantCode: errcode.Unavailable},
		{name: "TLS certificate error not retried", method: "GET", url: tlsSrv.URL, wantCalls: 1, wantCode: errcode.Unknown},
		{name: "credential failure from the base transport passed through", method: "GET", url: "http://example.invalid/",
			base: roundTripFunc(func(*http.Request) (*http.Response, error) {
				return nil, &errcode.Error{Code: errcode.Unauthorized, Msg: "no credential for example.invalid"}
			}), wantCalls: 1, wantCode: errcode.Unauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			next := tt.base
			if next == nil {
				tr := &http.Transport{DisableKeepAlives: true}
				t.Cleanup(tr.CloseIdleConnections)
				next = tr
			}
			cb := &countingBase{next: next}
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, tt.url, strings.NewReader("payload"))
			resp, err := httpx.NewClient(fast(cb)).Do(req)
			if err == nil {
				httpx.DrainClose(resp)
				t.Fatalf("got status %d; want an error", resp.StatusCode)
			}
			if got := cb.n.Load(); got != tt.wantCalls {
				t.Errorf("got %d attempts; want %d (err: %v)", got, tt.wantCalls, err)
			}
			if got := errcode.CodeOf(err); got != tt.wantCode {
				t.Errorf("got code %v; want %v (err: %v)", got, tt.wantCode, err)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRedirectsAreFollowedByTheCaller(t *testing.T) {
	t.Parallel()
	var hops atomic.Int32
	srv, base := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		if r.URL.Path == "/tarball" {
			http.Redirect(w, r, "/codeload", http.StatusFound)
			return
		}
		io.WriteString(w, "archive")
	}))
	c := httpx.NewClient(fast(base))
	var seen []string
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		seen = append(seen, req.URL.Path)
		return nil
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/tarball", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := httpx.ReadBody(resp, 100)
	if err != nil || string(body) != "archive" {
		t.Errorf("got %q, %v; want %q", body, err, "archive")
	}
	if diff := cmp.Diff([]string{"/codeload"}, seen); diff != "" {
		t.Errorf("redirects seen by the caller's CheckRedirect (-want +got):\n%s", diff)
	}
	if hops.Load() != 2 {
		t.Errorf("got %d requests; want 2", hops.Load())
	}
}

func TestSilentWithoutLogger(t *testing.T) {
	// Not parallel: it captures the process's stderr and the log package.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldStderr := os.Stderr
	os.Stderr = w
	var logBuf bytes.Buffer
	oldLog := log.Writer()
	log.SetOutput(&logBuf)
	captured := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		captured <- string(b)
	}()
	func() {
		defer func() {
			os.Stderr = oldStderr
			log.SetOutput(oldLog)
			w.Close()
		}()
		s := &script{steps: []step{{status: 500}, {status: 429}, {status: 429, header: map[string]string{"Retry-After": "3600"}}}}
		srv, base := newServer(t, s)
		c := httpx.NewClient(fast(base))
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL, nil)
		if _, err := c.Do(req); errcode.CodeOf(err) != errcode.RateLimited {
			t.Errorf("got %v; want RateLimited", err)
		}
		req, _ = http.NewRequestWithContext(t.Context(), "GET", "http://127.0.0.1:1/", nil)
		if _, err := c.Do(req); err == nil {
			t.Errorf("got no error from a closed port")
		}
	}()
	if out := <-captured; out != "" || logBuf.Len() != 0 {
		t.Errorf("got stderr %q and log %q; want nothing", out, logBuf.String())
	}
}

func TestLogsToSlog(t *testing.T) {
	t.Parallel()
	s := &script{steps: []step{{status: 502}, {status: 429, header: map[string]string{"Retry-After": "0"}}, {status: 200}}}
	srv, base := newServer(t, s)
	var buf testlog.Buffer
	opts := fast(base)
	opts.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/repos/o/r?access_token=SECRET", nil)
	resp, err := httpx.NewClient(opts).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	httpx.DrainClose(resp)
	out := buf.String()
	for _, want := range []string{"retrying HTTP request", "status=502", "rate limited; waiting before retrying", "status=429", "method=GET", "/repos/o/r"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q does not contain %q", out, want)
		}
	}
	if strings.Contains(out, "SECRET") {
		t.Errorf("log %q leaks the query string", out)
	}
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		length   int64 // Content-Length; -1 = unknown
		max      int64
		want     string
		wantCode errcode.Code
	}{
		{name: "within the cap", body: "hello", length: 5, max: 5, want: "hello"},
		{name: "unknown length within the cap", body: "hello", length: -1, max: 10, want: "hello"},
		{name: "declared length over the cap", body: "hello world", length: 11, max: 5, wantCode: errcode.InvalidArgument},
		{name: "unknown length over the cap", body: "hello world", length: -1, max: 5, wantCode: errcode.InvalidArgument},
		{name: "default cap", body: "hello", length: -1, max: 0, want: "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cb := &closeRecorder{Reader: strings.NewReader(tt.body)}
			req, _ := http.NewRequest("GET", "https://api.example.com/x?token=SECRET", nil)
			resp := &http.Response{StatusCode: 200, Body: cb, ContentLength: tt.length, Request: req}
			got, err := httpx.ReadBody(resp, tt.max)
			if code := errcode.CodeOf(err); code != tt.wantCode {
				t.Fatalf("got code %v (%v); want %v", code, err, tt.wantCode)
			}
			if err == nil && string(got) != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
			if err != nil && (!strings.Contains(err.Error(), "limit") || strings.Contains(err.Error(), "SECRET")) {
				t.Errorf("got message %q; want one naming the limit and no query string", err)
			}
			if !cb.closed {
				t.Errorf("body not closed")
			}
		})
	}
}

func TestReadBodyCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/x", nil)
	resp := &http.Response{StatusCode: 200, Body: io.NopCloser(errReaderT{context.Canceled}), ContentLength: -1, Request: req}
	_, err := httpx.ReadBody(resp, 10)
	if errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("got %v; want Canceled", err)
	}
	resp = &http.Response{StatusCode: 200, Body: io.NopCloser(errReaderT{io.ErrUnexpectedEOF}), ContentLength: -1}
	_, err = httpx.ReadBody(resp, 10)
	if errcode.CodeOf(err) != errcode.Unavailable || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("got %v; want Unavailable wrapping io.ErrUnexpectedEOF", err)
	}
}

type errReaderT struct{ err error }

func (r errReaderT) Read([]byte) (int, error) { return 0, r.err }

type closeRecorder struct {
	io.Reader
	closed bool
	read   int64
}

func (c *closeRecorder) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	c.read += int64(n)
	return n, err
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestDrainClose(t *testing.T) {
	t.Parallel()
	httpx.DrainClose(nil)
	httpx.DrainClose(&http.Response{})
	big := &closeRecorder{Reader: bytes.NewReader(make([]byte, 1<<20))}
	httpx.DrainClose(&http.Response{Body: big})
	if !big.closed || big.read != 64<<10 {
		t.Errorf("got closed=%v after reading %d bytes; want closed after 65536", big.closed, big.read)
	}
}
