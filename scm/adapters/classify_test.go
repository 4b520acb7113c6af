package adapters_test

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

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// classifyAdapter is one row of the classification tests: how to point
// an integration of its kind at a plain server, and the web URLs of a
// file and a repository on it.
type classifyAdapter struct {
	kind integrations.Kind
	// config returns a Config with one integration of kind on host, its
	// API served by srvURL, with token.
	config func(host, srvURL string, token integrations.Secret) integrations.Config
	// fileURL and repoURL are the web URLs of acme/svc's README.md on
	// main and of acme/svc, under web.
	fileURL, repoURL func(web string) string
	// token is the integration's credential; no error may contain it.
	token string
	// options returns the adapters' options with this adapter's Now set.
	options func(now func() time.Time) *adapters.Options
}

var classifyAdapters = []classifyAdapter{{
	kind: integrations.GitHub,
	config: func(host, srvURL string, token integrations.Secret) integrations.Config {
		return integrations.Config{GitHub: []integrations.GitHubConfig{{Host: host, APIBaseURL: srvURL, Token: token}}}
	},
	fileURL: func(web string) string { return web + "/acme/svc/blob/main/README.md" },
	repoURL: func(web string) string { return web + "/acme/svc" },
	token:   "ghp_classifyCasesSecretToken0123456789",
	options: func(now func() time.Time) *adapters.Options {
		return &adapters.Options{GitHub: &githubscm.Options{Now: now}}
	},
}, {
	kind: integrations.GitLab,
	config: func(host, srvURL string, token integrations.Secret) integrations.Config {
		return integrations.Config{GitLab: []integrations.GitLabConfig{{
			Host: host, APIBaseURL: srvURL + "/api/v4", BaseURL: "https://" + host, Token: token}}}
	},
	fileURL: func(web string) string { return web + "/acme/svc/-/blob/main/README.md" },
	repoURL: func(web string) string { return web + "/acme/svc" },
	token:   "glpat-classifyCasesSecret0123",
	options: func(now func() time.Time) *adapters.Options {
		return &adapters.Options{GitLab: &gitlabscm.Options{Now: now}}
	},
}, {
	kind: integrations.BitbucketCloud,
	config: func(host, srvURL string, token integrations.Secret) integrations.Config {
		return integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
			Host: host, APIBaseURL: srvURL + "/2.0", Username: "classify", Token: token}}}
	},
	fileURL: func(web string) string { return web + "/acme/svc/src/main/README.md" },
	repoURL: func(web string) string { return web + "/acme/svc" },
	token:   "ATATTclassifyCasesSecret0123456789",
	options: func(now func() time.Time) *adapters.Options {
		return &adapters.Options{BitbucketCloud: &bitbucketcloudscm.Options{Now: now}}
	},
}, {
	kind: integrations.BitbucketServer,
	config: func(host, srvURL string, token integrations.Secret) integrations.Config {
		return integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
			Host: host, APIBaseURL: srvURL + "/rest/api/1.0", Token: token}}}
	},
	fileURL: func(web string) string { return web + "/projects/ACME/repos/svc/browse/README.md?at=main" },
	repoURL: func(web string) string { return web + "/projects/ACME/repos/svc" },
	token:   "BBDC-classifyCasesSecret0123456789",
	options: func(now func() time.Time) *adapters.Options {
		return &adapters.Options{BitbucketServer: &bitbucketserverscm.Options{Now: now}}
	},
}}

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
// client and each adapter, on a ReadFile and on the first request of an
// OpenPullRequest, every request answered with the case's answer:
//
//   - "client": the retry policy as configured, its cap below the case's
//     wait, so that the client returns RateLimited with the server's time
//     at once instead of sleeping;
//   - "driver": retries off and no cap, so that the answer reaches the
//     adapter's ErrorInfo, which must classify it as httpx.Classify does.
//
// It runs in a synctest bubble, so RetryAt is exact.
func TestClassifyCases(t *testing.T) {
	t.Parallel()
	for _, ad := range classifyAdapters {
		t.Run(string(ad.kind), func(t *testing.T) {
			t.Parallel()
			calls := map[string]func(ctx context.Context, c *scm.Client, web string) error{
				"ReadFile": func(ctx context.Context, c *scm.Client, web string) error {
					_, err := c.ReadFile(ctx, ad.fileURL(web), nil)
					return err
				},
				"OpenPullRequest": func(ctx context.Context, c *scm.Client, web string) error {
					_, err := c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: ad.repoURL(web), Base: "main", Branch: "add-file",
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
								c := classifyClient(t, ad, hs, tr, retry, nil)
								err := call(t.Context(), c, "https://"+host)
								checkClassified(t, tc, err, start, ad.token)
								if n := srv.requests(); n != 1 {
									t.Errorf("requests = %d; want 1", n)
								}
							})
						})
					}
				}
			}
		})
	}
}

// classifyClient returns a client whose one integration, of ad's kind, is
// hs, with ad's token, the retry policy retry and the adapters with opts.
func classifyClient(t *testing.T, ad classifyAdapter, hs *httptest.Server, tr http.RoundTripper, retry scm.RetryOptions, opts *adapters.Options) *scm.Client {
	t.Helper()
	host := strings.TrimPrefix(hs.URL, "http://")
	c := adaptertest.NewClient(t, ad.config(host, hs.URL, integrations.NewSecret(ad.token)), &scm.Options{Transport: tr, Retry: retry, Drivers: adapters.All(opts)})
	return c
}

// TestClassifyOnInjectedClock: each adapter turns a Retry-After it
// classifies into RetryAt on its Options.Now's clock.
func TestClassifyOnInjectedClock(t *testing.T) {
	t.Parallel()
	for _, ad := range classifyAdapters {
		t.Run(string(ad.kind), func(t *testing.T) {
			t.Parallel()
			now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
			srv := &answerer{}
			srv.set(http.StatusForbidden, http.Header{"Retry-After": {"30"}}, `{"message":"Forbidden"}`)
			hs := httptest.NewServer(srv)
			t.Cleanup(hs.Close)
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			c := classifyClient(t, ad, hs, tr, scm.RetryOptions{MaxRetries: -1, MaxRateLimitWait: 24 * time.Hour},
				ad.options(func() time.Time { return now }))
			_, err := c.ReadFile(t.Context(), ad.fileURL("https://"+strings.TrimPrefix(hs.URL, "http://")), nil)
			if at, ok := scm.RetryAt(err); scm.Code(err) != scm.RateLimited || !ok || !at.Equal(now.Add(30*time.Second)) {
				t.Errorf("ReadFile: %v, RetryAt %v; want RateLimited at %v", err, at, now.Add(30*time.Second))
			}
		})
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
