package gitlaborg

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
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/org/internal/orgx"
)

// classifyCases are the answers the w5 audit found classified apart from
// httpx.Classify (the one mapping): 400 and 422 (InvalidArgument), 410
// (NotFound), a 403 with Retry-After or RateLimit-Remaining: 0
// (RateLimited), a 401 asking for a one-time password (Unauthorized).
func classifyCases() []*http.Response {
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

// checkClassify checks that httpError gives every case httpx.Classify's
// code, and its RetryAt to a rate limit; skip names statuses the reader
// gives a meaning of its own.
func checkClassify(t *testing.T, now time.Time, httpError func(*http.Response) error, skip ...int) {
	t.Helper()
	for _, resp := range classifyCases() {
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

// TestHTTPErrorClassifiesAsHTTPX: gitlaborg words GitLab's error answers
// but codes them as httpx.Classify does, on the injected clock.
func TestHTTPErrorClassifiesAsHTTPX(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Reader{in: &integrations.Integration{Host: "gitlab.com"}, http: orgx.HTTP{}.Defaults(4)}
	r.http.Now = func() time.Time { return now }
	rd := &read{r: r, errs: orgx.Errs{Op: op, Provider: "gitlab", Host: "gitlab.com"}}
	checkClassify(t, now, rd.httpError)
}
