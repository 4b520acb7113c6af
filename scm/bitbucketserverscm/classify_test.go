package bitbucketserverscm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
)

// answerer is a plain server that answers every request, whatever its
// path, with one status, header and body, and counts the requests.
type answerer struct {
	mu     sync.Mutex
	status int
	header http.Header
	body   string
	n      int
}

func (a *answerer) set(status int, h http.Header, body string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status, a.header, a.body = status, h, body
}

func (a *answerer) requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

func (a *answerer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.n++
	status, h, body := a.status, a.header, a.body
	a.mu.Unlock()
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// TestClassifyCases runs the classification cases of internal/httpx (the
// ones credentials/githubapp and internal/httpx run) through the portable
// client and this driver, on a ReadFile and on the first request of an
// OpenPullRequest, every request answered with the case's answer:
//
//   - "client": the retry policy as configured, its cap below the case's
//     wait, so that the client returns RateLimited with the server's time
//     at once instead of sleeping;
//   - "driver": retries off and no cap, so that the answer reaches this
//     driver's ErrorInfo, which must classify it as httpx.Classify does.
//
// It runs in a synctest bubble, so RetryAt is exact.
func TestClassifyCases(t *testing.T) {
	t.Parallel()
	calls := map[string]func(ctx context.Context, c *scm.Client, web string) error{
		"ReadFile": func(ctx context.Context, c *scm.Client, web string) error {
			_, err := c.ReadFile(ctx, web+"/projects/ACME/repos/svc/browse/README.md?at=main", nil)
			return err
		},
		"OpenPullRequest": func(ctx context.Context, c *scm.Client, web string) error {
			_, err := c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: web + "/projects/ACME/repos/svc", Base: "main", Branch: "add-file",
				Title: "Add a file", Changes: []scm.Change{{Path: "a.txt", Content: []byte("a\n")}}})
			return err
		},
	}
	for _, tc := range httpxtest.Cases {
		for callName, call := range calls {
			for _, mode := range []string{"client", "driver"} {
				t.Run(callName+" "+mode+" "+tc.Name, func(t *testing.T) {
					t.Parallel()
					srv := &answerer{}
					hs := httptest.NewServer(srv)
					t.Cleanup(hs.Close)
					host := strings.TrimPrefix(hs.URL, "http://")
					synctest.Test(t, func(t *testing.T) {
						time.Sleep(time.Until(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))) // realistic epoch headers
						start := time.Now()
						srv.set(tc.Status, tc.Header(start), tc.Body)
						retry := scm.RetryOptions{MinWait: time.Second, MaxRateLimitWait: tc.MaxRateLimitWait}
						if tc.Code == errcode.OK {
							retry.MaxRateLimitWait = tc.Wait - time.Second
						}
						if mode == "driver" {
							retry = scm.RetryOptions{MaxRetries: -1, MaxRateLimitWait: 24 * time.Hour}
						}
						tr := &http.Transport{}
						defer tr.CloseIdleConnections()
						c := classifyClient(t, hs, tr, retry, nil)
						err := call(t.Context(), c, "https://"+host)
						checkClassified(t, tc, err, start, classifyToken)
						if n := srv.requests(); n != 1 {
							t.Errorf("requests = %d; want 1", n)
						}
					})
				})
			}
		}
	}
}

// classifyToken is the credential of classifyClient's integration.
const classifyToken = "BBDC-classifyCasesSecret0123456789"

// classifyClient returns a client whose one integration is hs, with
// classifyToken, the retry policy retry and this driver with opts.
func classifyClient(t *testing.T, hs *httptest.Server, tr http.RoundTripper, retry scm.RetryOptions, opts *bitbucketserverscm.Options) *scm.Client {
	t.Helper()
	host := strings.TrimPrefix(hs.URL, "http://")
	reg, err := integrations.NewRegistry(integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
		Host: host, APIBaseURL: hs.URL + "/rest/api/1.0", Token: integrations.NewSecret(classifyToken)}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := scm.NewClient(reg, res, &scm.Options{Transport: tr, Retry: retry,
		Drivers: map[integrations.Kind]driver.Opener{integrations.BitbucketServer: bitbucketserverscm.Opener(opts)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClassifyOnInjectedClock: the driver turns a Retry-After it
// classifies into RetryAt on Options.Now's clock.
func TestClassifyOnInjectedClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	srv := &answerer{}
	srv.set(http.StatusForbidden, http.Header{"Retry-After": {"30"}}, `{"message":"Forbidden"}`)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := classifyClient(t, hs, tr, scm.RetryOptions{MaxRetries: -1, MaxRateLimitWait: 24 * time.Hour},
		&bitbucketserverscm.Options{Now: func() time.Time { return now }})
	_, err := c.ReadFile(t.Context(), "https://"+strings.TrimPrefix(hs.URL, "http://")+"/projects/ACME/repos/svc/browse/README.md?at=main", nil)
	if at, ok := scm.RetryAt(err); scm.Code(err) != scm.RateLimited || !ok || !at.Equal(now.Add(30*time.Second)) {
		t.Errorf("ReadFile: %v, RetryAt %v; want RateLimited at %v", err, at, now.Add(30*time.Second))
	}
}

// checkClassified checks the error of a call answered with tc's answer:
// a rate limit the client did not wait for (Code OK) is RateLimited too.
func checkClassified(t *testing.T, tc httpxtest.Case, err error, start time.Time, secret string) {
	t.Helper()
	want := tc.Code
	if want == errcode.OK {
		want = errcode.RateLimited
	}
	var e *errcode.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T); want an *errcode.Error", err, err)
	}
	if e.Code != want || e.Status != tc.Status {
		t.Fatalf("error %v: code %v, status %d; want %v, %d", err, e.Code, e.Status, want, tc.Status)
	}
	if want == errcode.RateLimited {
		if got := e.RetryAt.Sub(start); got != tc.Wait {
			t.Errorf("RetryAt = now + %v; want now + %v", got, tc.Wait)
		}
	} else if !e.RetryAt.IsZero() {
		t.Errorf("RetryAt = %v; want none", e.RetryAt)
	}
	if elapsed := time.Since(start); elapsed != 0 {
		t.Errorf("slept %v; want no sleep", elapsed)
	}
	if msg := err.Error(); !strings.Contains(msg, tc.Message) || strings.Contains(msg, secret) {
		t.Errorf("error %q: want it to contain %q and no token", msg, tc.Message)
	}
}
