package credentials

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
)

// grantToken answers a client-credentials grant with a token.
func grantToken(req *http.Request) *http.Response {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
		Body: io.NopCloser(strings.NewReader(`{"access_token":"bbat-classify","token_type":"bearer","expires_in":7200,"scopes":"repository"}`))}
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
				ep := &httpxtest.Script{Case: tc, Next: grantToken}
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
				tc.Check(t, err, start, ep.Times(), "consumer-secret")
				if tc.Code == errcode.OK && c.Token != "bbat-classify" {
					t.Errorf("Resolve = %v; want the consumer's token", c)
				}
			})
		})
	}
}
