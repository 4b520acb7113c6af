package httpx_test

import (
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

// dnsFailure is the error http.Transport returns when dialling a host
// whose name the resolver could not resolve.
func dnsFailure(host string, notFound, temporary bool) error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host,
		IsNotFound: notFound, IsTemporary: temporary}}
}

// TestUnresolvableHostNotRetried: a host name that does not exist fails at
// once, with Unavailable naming the host, for every method, with the
// default backoff (which would make three retries take seconds); a DNS
// failure that may pass is still retried.
func TestUnresolvableHostNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name      string
		method    string
		err       error
		wantCalls int32
	}{
		{"GET, no such host", http.MethodGet, dnsFailure("scm.example.invalid", true, false), 1},
		{"POST, no such host", http.MethodPost, dnsFailure("scm.example.invalid", true, false), 1},
		{"GET, DNS server failure", http.MethodGet, dnsFailure("scm.example.invalid", false, true), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			base := roundTripFunc(func(*http.Request) (*http.Response, error) {
				calls.Add(1)
				return nil, tc.err
			})
			opts := &httpx.Options{Base: base}
			if tc.wantCalls > 1 {
				opts.MinWait, opts.MaxWait = time.Millisecond, 2*time.Millisecond
			}
			req, _ := http.NewRequestWithContext(t.Context(), tc.method, "https://scm.example.invalid/api/v3/repos/acme/x", strings.NewReader("{}"))
			start := time.Now()
			resp, err := httpx.NewClient(opts).Do(req)
			elapsed := time.Since(start)
			if err == nil {
				httpx.DrainClose(resp)
				t.Fatal("got an answer; want an error")
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("%d attempts; want %d", got, tc.wantCalls)
			}
			if got := errcode.CodeOf(err); got != errcode.Unavailable {
				t.Errorf("code %v (%v); want Unavailable", got, err)
			}
			if tc.wantCalls == 1 {
				if elapsed > 200*time.Millisecond {
					t.Errorf("took %v; want an answer at once (no backoff)", elapsed)
				}
				if !strings.Contains(err.Error(), "scm.example.invalid") || !strings.Contains(err.Error(), "does not resolve") {
					t.Errorf("error %q; want it to say that host scm.example.invalid does not resolve", err)
				}
			}
		})
	}
}
