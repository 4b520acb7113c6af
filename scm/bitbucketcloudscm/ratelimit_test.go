package bitbucketcloudscm_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// spentLimit counts requests and, once allow file reads (GET .../src/...)
// have been answered, answers every other one with Bitbucket Cloud's bare
// 429 (no Retry-After), as when the account's hourly limit is spent
// part-way through a discovery.
type spentLimit struct {
	base  http.RoundTripper
	allow int

	mu      sync.Mutex
	total   int            // requests sent
	reads   int            // file reads sent
	refused map[string]int // refused file reads per repository
}

func (l *spentLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.total++
	refuse := false
	if _, rest, ok := strings.Cut(req.URL.Path, "/2.0/repositories/"); ok && strings.Contains(rest, "/src/") {
		l.reads++
		if refuse = l.reads > l.allow; refuse {
			parts := strings.SplitN(rest, "/", 3)
			l.refused[parts[0]+"/"+parts[1]]++
		}
	}
	l.mu.Unlock()
	if refuse {
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(`{"type":"error","error":{"message":"Rate limit for this resource has been exceeded"}}`)),
			Request: req}, nil
	}
	return l.base.RoundTrip(req)
}

func (l *spentLimit) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total, l.reads, l.refused = 0, 0, map[string]int{}
}

// spentEnv is a workspace "big" of n repositories, each with a
// catalog-info.yaml, on a fake without code search, and a client whose
// transport is l. It returns the client and the workspace's URL.
func spentEnv(tb testing.TB, n int, l *spentLimit) (*scm.Client, string) {
	tb.Helper()
	fk := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Users: map[string]string{user: goodToken}, SearchDisabled: true})
	tb.Cleanup(fk.Close)
	for i := range n {
		if _, err := fk.AddRepo(fakebitbucketcloud.Repo{Workspace: "big", Slug: fmt.Sprintf("r%02d", i), MainBranch: "main",
			Files: []fakekit.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
			tb.Fatal(err)
		}
	}
	base := &http.Transport{}
	tb.Cleanup(base.CloseIdleConnections)
	l.base = base
	l.reset()
	c := integrations.BitbucketCloudConfig{Host: fk.Host(), APIBaseURL: fk.APIBaseURL(), Username: user, Token: integrations.NewSecret(goodToken)}
	reg, err := integrations.NewRegistry(integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{c}})
	if err != nil {
		tb.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cl, err := scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.BitbucketCloud: bitbucketcloudscm.Opener(nil)},
		Transport: l,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return cl, fk.URL() + "/big"
}

// TestDiscoverStopsWhenRateLimited: without code search, Discover reads
// each repository; once Bitbucket Cloud answers 429 (bare, so the client
// retries that read with backoff), no other repository is read: the
// locations found before it come back with a RateLimited error. It used
// to read, and retry, each of the remaining repositories (4 refused
// requests each: 100 for the 25 after the limit here).
func TestDiscoverStopsWhenRateLimited(t *testing.T) {
	const n, allow = 30, 5
	l := &spentLimit{allow: allow}
	cl, owner := spentEnv(t, n, l)
	locs, err := catalog.Discover(t.Context(), cl, owner, nil)
	t.Logf("found %d; %d requests; refused reads per repository: %v; error: %v", len(locs), l.total, l.refused, err)
	if len(l.refused) != 1 {
		t.Errorf("Discover read %d repositories once rate limited; want 1 (the refused one, with its retries)", len(l.refused))
	}
	if len(locs) != allow || errcode.CodeOf(err) != errcode.RateLimited {
		t.Errorf("Discover found %d, error %v (code %v); want the %d found before the limit and RateLimited", len(locs), err, errcode.CodeOf(err), allow)
	}
}

// BenchmarkBitbucketCloudDiscoverRateLimited: requests a discovery of 30
// repositories sends when every file read is refused with a bare 429
// (the listing and the retries of the first read; it was 122: the
// retries of every read).
func BenchmarkBitbucketCloudDiscoverRateLimited(b *testing.B) {
	l := &spentLimit{}
	cl, owner := spentEnv(b, 30, l)
	adaptertest.Bench(b, func() int { l.mu.Lock(); defer l.mu.Unlock(); return l.total }, func(int) error {
		locs, err := catalog.Discover(b.Context(), cl, owner, nil)
		if len(locs) != 0 || errcode.CodeOf(err) != errcode.RateLimited {
			return fmt.Errorf("Discover: %d found, %v; want none and RateLimited", len(locs), err)
		}
		return nil
	})
}
