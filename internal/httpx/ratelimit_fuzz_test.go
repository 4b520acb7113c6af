package httpx

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// FuzzRateLimitInfo: the status, rate-limit headers and body of an error
// answer come from the server (or a proxy). Whatever they say:
//
//   - only a 403 or 429 is a rate limit, and every 429 is one;
//   - a 403 is one only when a header or the body's first 8 KiB says so;
//   - Retry-After in delay-seconds gives exactly now plus that delay;
//   - the body reads back in full, byte for byte, after the peek, and a
//     second call (and Classify) gives the same answer.
func FuzzRateLimitInfo(f *testing.F) {
	f.Add(429, "120", "", "", "", "", []byte(`{"message":"x"}`))
	f.Add(403, "", "0", "1700000600", "", "", []byte(`{"message":"API rate limit exceeded"}`))
	f.Add(403, "", "4999", "1700000600", "", "", []byte(`You have exceeded a secondary rate limit`))
	f.Add(429, "", "", "", "0", "60", []byte(nil))
	f.Add(403, "Wed, 21 Oct 2015 07:28:00 GMT", "", "", "", "", []byte("forbidden"))
	f.Add(403, " -5", "0", "x", "0", "1700000600", []byte("abuse DETECTION"))
	f.Add(200, "1", "0", "1", "0", "1", []byte("rate limit"))
	f.Add(429, "0", "", "", "", "", []byte(nil))
	f.Add(429, "9223372036854775807", "", "", "", "", bytes.Repeat([]byte("a"), 9000))
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, status int, retryAfter, xRemaining, xReset, remaining, reset string, body []byte) {
		resp := func() *http.Response {
			h := http.Header{}
			for k, v := range map[string]string{"Retry-After": retryAfter, "X-RateLimit-Remaining": xRemaining,
				"X-RateLimit-Reset": xReset, "RateLimit-Remaining": remaining, "RateLimit-Reset": reset} {
				if v != "" {
					h.Set(k, v)
				}
			}
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
		}
		r := resp()
		at, limited := RateLimitInfo(r, now)
		at2, limited2 := RateLimitInfo(r, now)
		if !at2.Equal(at) || limited2 != limited {
			t.Fatalf("a second call on the same answer = %v, %v; the first = %v, %v", at2, limited2, at, limited)
		}
		got, err := io.ReadAll(r.Body)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("the body reads back as %d bytes (%v); want the %d sent", len(got), err, len(body))
		}
		if c := Classify(resp(), now); (c.Code == errcode.RateLimited) != limited || !c.RetryAt.Equal(at) {
			t.Fatalf("Classify = %+v; RateLimitInfo = %v, %v", c, at, limited)
		}

		switch {
		case status != http.StatusForbidden && status != http.StatusTooManyRequests:
			if limited || !at.IsZero() {
				t.Fatalf("status %d taken for a rate limit (%v)", status, at)
			}
			return
		case status == http.StatusTooManyRequests && !limited:
			t.Fatal("a 429 not taken for a rate limit")
		}
		head := strings.ToLower(string(body[:min(len(body), peekLimit)]))
		said := strings.TrimSpace(retryAfter) != "" || strings.TrimSpace(xRemaining) == "0" || strings.TrimSpace(remaining) == "0" ||
			strings.Contains(head, "rate limit") || strings.Contains(head, "abuse detection")
		if status == http.StatusForbidden && limited && !said {
			t.Fatalf("a 403 taken for a rate limit (%v) with nothing saying so", at)
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(retryAfter), 10, 64); err == nil && n >= 0 && n < 1<<31 {
			if want := now.Add(time.Duration(n) * time.Second); !limited || !at.Equal(want) {
				t.Fatalf("Retry-After %q gave %v, %v; want %v", retryAfter, at, limited, want)
			}
		}
	})
}
