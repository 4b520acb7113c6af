package httpx_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

// TestRateLimitInfoUnusableTimes: a rate limit whose reset header is zero
// or negative is still a rate limit, but with no time to wait for (not
// 1970, not a moment before now); an exhausted GitLab limit without a
// reset is a rate limit even on a 403 whose message says nothing of it.
func TestRateLimitInfoUnusableTimes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
	}{
		{"GitHub primary limit with X-RateLimit-Reset 0", 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"}},
		{"GitHub primary limit with a negative X-RateLimit-Reset", 429, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "-60"}},
		{"GitLab 429 with a negative RateLimit-Reset", 429, map[string]string{"RateLimit-Reset": "-30"}},
		{"GitLab 403 exhausted without RateLimit-Reset", 403, map[string]string{"RateLimit-Remaining": "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"message":"Forbidden"}`))}
			for k, v := range tc.header {
				resp.Header.Set(k, v)
			}
			at, limited := httpx.RateLimitInfo(resp, now)
			if !limited || !at.IsZero() {
				t.Errorf("RateLimitInfo = %v, %v; want the zero time, true", at, limited)
			}
		})
	}
}

// countingBody counts the bytes read from it.
type countingBody struct {
	r io.Reader
	n int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// TestReadBodyRefusesDeclaredOversizeUnread: a response whose
// Content-Length already exceeds the cap is refused without reading a
// byte of it.
func TestReadBodyRefusesDeclaredOversizeUnread(t *testing.T) {
	t.Parallel()
	body := &countingBody{r: strings.NewReader(strings.Repeat("x", 4096))}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/acme/service", nil)
	resp := &http.Response{StatusCode: 200, ContentLength: 4096, Body: body, Request: req}
	_, err := httpx.ReadBody(resp, 1024)
	if errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Fatalf("ReadBody = %v; want InvalidArgument", err)
	}
	if body.n != 0 {
		t.Errorf("read %d bytes of a body whose Content-Length is over the cap; want 0", body.n)
	}
}
