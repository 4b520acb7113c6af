package httpxtest

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// Answer returns c's first answer to req, with the headers the server
// sends at the current time. Every case's body is JSON, so the answer says
// so unless the case names another Content-Type.
func (c Case) Answer(req *http.Request) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range c.Header(time.Now()) {
		h[k] = v
	}
	return &http.Response{StatusCode: c.Status, Header: h, Body: io.NopCloser(strings.NewReader(c.Body)), Request: req}
}

// Check checks what a client that retries made of c, in a synctest bubble
// (where waits are exact and take no real time): err is what its call
// returned (nil when it waited, retried and succeeded), start the time of
// the first answer, times the times at which the requests that got c's
// answers (the first one, then the retry) were sent. None of secrets may
// appear in err. Check returns err's *errcode.Error (nil on success) for
// the caller's own checks.
func (c Case) Check(tb testing.TB, err error, start time.Time, times []time.Time, secrets ...string) *errcode.Error {
	tb.Helper()
	if got := errcode.CodeOf(err); got != c.Code {
		tb.Fatalf("error %v: code %v; want %v", err, got, c.Code)
	}
	if len(times) != c.Attempts {
		tb.Errorf("requests = %d; want %d", len(times), c.Attempts)
	}
	if c.Code == errcode.OK {
		if len(times) == 2 && times[1].Sub(times[0]) != c.Wait {
			tb.Errorf("wait between attempts = %v; want %v", times[1].Sub(times[0]), c.Wait)
		}
		return nil
	}
	var e *errcode.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %T is not an *errcode.Error", err)
	}
	if c.Code == errcode.RateLimited {
		if got := e.RetryAt.Sub(start); got != c.Wait {
			tb.Errorf("RetryAt = now + %v; want now + %v", got, c.Wait)
		}
		if elapsed := time.Since(start); elapsed != 0 {
			tb.Errorf("slept %v before returning RateLimited; want no sleep", elapsed)
		}
	}
	if !strings.Contains(err.Error(), c.Message) {
		tb.Errorf("error %q does not contain %q", err, c.Message)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			tb.Errorf("error %q shows a secret (%.4s…)", err, s)
		}
	}
	return e
}

// Script is a server, as an http.RoundTripper, that gives Case's answer
// to the first request Target picks and Next's answer to every other
// request, recording when each picked request came. Set its fields
// before the first request.
type Script struct {
	Case Case
	// Target picks the requests the case is about; nil picks every one.
	Target func(*http.Request) bool
	// Next answers every request but the first picked one.
	Next func(*http.Request) *http.Response

	mu    sync.Mutex
	times []time.Time
}

// RoundTrip reads and closes req's body, then answers req.
func (s *Script) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	picked := s.Target == nil || s.Target(req)
	s.mu.Lock()
	first := picked && len(s.times) == 0
	if picked {
		s.times = append(s.times, time.Now())
	}
	s.mu.Unlock()
	if first {
		return s.Case.Answer(req), nil
	}
	return s.Next(req), nil
}

// Times returns when each picked request came, for [Case.Check].
func (s *Script) Times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.times)
}
