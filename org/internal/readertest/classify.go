package readertest

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

// ClassifyCases are error answers a reader once coded apart from
// httpx.Classify (the one mapping): 400 and 422 (InvalidArgument), 410
// (NotFound), a 403 with Retry-After or RateLimit-Remaining: 0
// (RateLimited), a 401 asking for a one-time password (Unauthorized).
func ClassifyCases() []*http.Response {
	mk := func(status int, h map[string]string, body string) *http.Response {
		hd := http.Header{}
		for k, v := range h {
			hd.Set(k, v)
		}
		return &http.Response{StatusCode: status, Header: hd, Body: io.NopCloser(strings.NewReader(body)),
			Request: &http.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "h", Path: "/x"}}}
	}
	return []*http.Response{
		mk(400, nil, `{"message":"Bad request"}`),
		mk(401, map[string]string{"X-GitHub-OTP": "required; app"}, `{"message":"Must specify two-factor authentication OTP code."}`),
		mk(403, map[string]string{"Retry-After": "30"}, `{"message":"You have exceeded a secondary rate limit."}`),
		mk(403, map[string]string{"RateLimit-Remaining": "0", "RateLimit-Limit": "600", "RateLimit-Reset": "30"}, `{"message":"403 Forbidden"}`),
		mk(410, nil, `{}`),
		mk(422, nil, `{"message":"Validation Failed"}`),
	}
}

// CheckClassify checks that httpError gives every one of ClassifyCases
// httpx.Classify's code at now, and its RetryAt to a rate limit; skip
// names statuses the reader gives a meaning of its own.
func CheckClassify(t *testing.T, now time.Time, httpError func(*http.Response) error, skip ...int) {
	t.Helper()
	for _, resp := range ClassifyCases() {
		if slices.Contains(skip, resp.StatusCode) {
			continue
		}
		want := httpx.Classify(resp, now)
		resp.Body = io.NopCloser(strings.NewReader("")) // Classify may have peeked; the reader reads again
		err := httpError(resp)
		var e *errcode.Error
		if !errors.As(err, &e) || e.Code != want.Code || !e.RetryAt.Equal(want.RetryAt) {
			t.Errorf("HTTP %d %v: reader says %v, httpx.Classify says %v (RetryAt %v)", resp.StatusCode, resp.Header, err, want.Code, want.RetryAt)
		}
	}
}
