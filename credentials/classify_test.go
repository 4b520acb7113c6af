package credentials

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
)

// scriptedTokenEndpoint answers the first client-credentials grant with
// the case's answer and the next ones with a token, recording when each
// grant came.
type scriptedTokenEndpoint struct {
	tc    httpxtest.Case
	mu    sync.Mutex
	times []time.Time
}

func (s *scriptedTokenEndpoint) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
		Body: io.NopCloser(strings.NewReader(`{"access_token":"bbat-classify","token_type":"bearer","expires_in":7200,"scopes":"repository"}`))}
	if n == 0 {
		resp.StatusCode = s.tc.Status
		for k, v := range s.tc.Header(time.Now()) {
			resp.Header[k] = v
		}
		resp.Body = io.NopCloser(strings.NewReader(s.tc.Body))
	}
	return resp, nil
}

// TestClassifyCases runs internal/httpx's classification cases (the
// table httpx's own TestClassifyCases runs) through a Bitbucket Cloud
// OAuth consumer's client-credentials grant, in a synctest bubble. The
// Resolver must agree with httpx on each: the same code, waits, RetryAt
// and number of requests.
func TestClassifyCases(t *testing.T) {
	t.Parallel()
	for _, tc := range httpxtest.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				time.Sleep(time.Until(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
				ep := &scriptedTokenEndpoint{tc: tc}
				cfg := integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
					ClientID: "consumer-key", ClientSecret: secret("consumer-secret"), TokenURL: "https://bitbucket.org/site/oauth2/access_token",
				}}}
				r, err := newResolver(testIntegrations(cfg), nil, &ResolverOptions{
					HTTPClient: &http.Client{Transport: ep}, MinWait: time.Second, MaxRateLimitWait: tc.MaxRateLimitWait})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				c, err := r.Resolve(t.Context(), Request{Host: "bitbucket.org", Owner: "acme"})
				if got := errcode.CodeOf(err); got != tc.Code {
					t.Fatalf("Resolve = %v, %v; want code %v", c, err, tc.Code)
				}
				ep.mu.Lock()
				times := ep.times
				ep.mu.Unlock()
				if len(times) != tc.Attempts {
					t.Errorf("token requests = %d; want %d", len(times), tc.Attempts)
				}
				if tc.Code == errcode.OK {
					if c.Token != "bbat-classify" {
						t.Errorf("Resolve = %v; want the consumer's token", c)
					}
					if len(times) == 2 && times[1].Sub(times[0]) != tc.Wait {
						t.Errorf("wait between attempts = %v; want %v", times[1].Sub(times[0]), tc.Wait)
					}
					return
				}
				var e *errcode.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %T is not an *errcode.Error", err)
				}
				if tc.Code == errcode.RateLimited {
					if got := e.RetryAt.Sub(start); got != tc.Wait {
						t.Errorf("RetryAt = now + %v; want now + %v", got, tc.Wait)
					}
					if elapsed := time.Since(start); elapsed != 0 {
						t.Errorf("slept %v before returning RateLimited; want no sleep", elapsed)
					}
				}
				if !strings.Contains(err.Error(), tc.Message) {
					t.Errorf("error %q does not contain %q", err, tc.Message)
				}
				if strings.Contains(err.Error(), "consumer-secret") {
					t.Errorf("error %q shows the client secret", err)
				}
			})
		})
	}
}
