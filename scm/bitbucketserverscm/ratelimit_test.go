package bitbucketserverscm_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
)

// Test403RateLimit: a 403 that is a rate limit (Retry-After, an exhausted
// X-RateLimit-Remaining, or a message saying so) is RateLimited, with its
// RetryAt when the answer names one; other 403s stay PermissionDenied.
func Test403RateLimit(t *testing.T) {
	fake := newWorld(t, "")
	defer fake.Close()
	const (
		limitedBody = `{"errors":[{"context":null,"message":"Rate limit exceeded; try again later","exceptionName":null}]}`
		deniedBody  = `{"errors":[{"context":null,"message":"You are not permitted to access this resource","exceptionName":"com.atlassian.bitbucket.AuthorisationException"}]}`
	)
	for _, tc := range []struct {
		name    string
		header  http.Header
		body    string
		want    errcode.Code
		retryAt bool
	}{
		{"Retry-After", http.Header{"Retry-After": {"30"}}, deniedBody, errcode.RateLimited, true},
		{"X-RateLimit-Remaining 0", http.Header{"X-Ratelimit-Remaining": {"0"}}, deniedBody, errcode.RateLimited, false},
		{"message only", nil, limitedBody, errcode.RateLimited, false},
		{"access denied", nil, deniedBody, errcode.PermissionDenied, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, hc := driverFor(t, fake, nil)
			hc.Transport = adaptertest.Forbidden{Header: tc.header, ContentType: "application/json;charset=UTF-8", Body: tc.body}
			start := time.Now()
			_, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
				Ref: "main", Path: "README.md", MaxBytes: 1 << 20})
			info := d.ErrorInfo(err)
			if info.Code != tc.want || info.Status != http.StatusForbidden {
				t.Fatalf("ErrorInfo = %+v (%v); want %v, HTTP 403", info, err, tc.want)
			}
			if tc.retryAt {
				if lo, hi := start.Add(29*time.Second), time.Now().Add(31*time.Second); info.RetryAt.Before(lo) || info.RetryAt.After(hi) {
					t.Errorf("RetryAt %v; want 30s after the call", info.RetryAt)
				}
			} else if !info.RetryAt.IsZero() {
				t.Errorf("RetryAt %v; want zero", info.RetryAt)
			}
		})
	}
}
