package scm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// memPages is an in-memory scm.PageCache that counts its calls; with fail
// set, every call fails.
type memPages struct {
	mu         sync.Mutex
	m          map[string]*scm.CachedPage
	gets, puts int
	fail       error
}

func newMemPages() *memPages { return &memPages{m: map[string]*scm.CachedPage{}} }

func (c *memPages) GetPage(_ context.Context, key string) (*scm.CachedPage, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	if c.fail != nil {
		return nil, false, c.fail
	}
	p, ok := c.m[key]
	return p, ok, nil
}

func (c *memPages) PutPage(_ context.Context, key string, p *scm.CachedPage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	if c.fail != nil {
		return c.fail
	}
	c.m[key] = p
	return nil
}

func (c *memPages) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// listingFake is a fake provider seen through a client per token, all
// sharing one page cache.
type listingFake struct {
	name string
	// client returns a client of token with the page cache pc (nil: none).
	client func(t testing.TB, token string, pc scm.PageCache) *scm.Client
	owner  string // the owner's web URL
	// add adds repository n to the owner.
	add func(t testing.TB, n int)
	// stats returns the fake's request and 304 counts.
	stats func() (requests, notModified int)
	// conditional returns how many listing requests received so far
	// carried If-None-Match, and how many were listing requests.
	conditional func() (withINM, listings int)
	// rx counts the body bytes the clients received.
	rx *atomic.Int64
}

// countingTransport counts the body bytes of the answers it receives.
type countingTransport struct{ n *atomic.Int64 }

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body = countingBody{resp.Body, c.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func gitHubListing(t testing.TB, repos int) *listingFake {
	t.Helper()
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{"token-a", "token-b"}})
	t.Cleanup(s.Close)
	f := &listingFake{name: "github", owner: "https://" + s.Host() + "/acme", rx: new(atomic.Int64)}
	f.add = func(t testing.TB, n int) {
		t.Helper()
		if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: fmt.Sprintf("svc-%04d", n)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range repos {
		f.add(t, i)
	}
	f.client = func(t testing.TB, token string, pc scm.PageCache) *scm.Client {
		t.Helper()
		cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{
			Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret(token)}}}
		return newListingClient(t, cfg, integrations.GitHub, githubscm.Opener(nil), pc, f.rx)
	}
	f.stats = func() (int, int) { st := s.Stats(); return st.API, st.NotModified }
	f.conditional = func() (int, int) { return countListings(s.RequestsTo("api"), "GET /orgs/{org}/repos") }
	return f
}

func gitLabListing(t testing.TB, repos int) *listingFake {
	t.Helper()
	s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"glpat-token-a", "glpat-token-b"}})
	t.Cleanup(s.Close)
	f := &listingFake{name: "gitlab", owner: s.URL() + "/acme", rx: new(atomic.Int64)}
	f.add = func(t testing.TB, n int) {
		t.Helper()
		if _, _, err := s.AddProject(fakegitlab.Project{Namespace: "acme", Path: fmt.Sprintf("svc-%04d", n)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range repos {
		f.add(t, i)
	}
	f.client = func(t testing.TB, token string, pc scm.PageCache) *scm.Client {
		t.Helper()
		cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{
			Host: s.Host(), APIBaseURL: s.APIBaseURL(), BaseURL: s.URL(), Token: integrations.NewSecret("glpat-" + token)}}}
		return newListingClient(t, cfg, integrations.GitLab, gitlabscm.Opener(nil), pc, f.rx)
	}
	f.stats = func() (int, int) { st := s.Stats(); return st.Total, st.NotModified }
	f.conditional = func() (int, int) { return countListings(s.Requests(), "GET /api/v4/groups/{id}/projects") }
	return f
}

func newListingClient(t testing.TB, cfg integrations.Config, kind integrations.Kind, o driver.Opener, pc scm.PageCache, rx *atomic.Int64) *scm.Client {
	t.Helper()
	if pc == nil {
		pc = scm.NoCache{} // nil would be the client's own MemoryPageCache
	}
	return adaptertest.NewClient(t, cfg, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{kind: o},
		PageCache: pc, Transport: countingTransport{rx}})
}

// countListings counts the requests to route, and those with If-None-Match.
func countListings(rs []fake.Request, route string) (withINM, listings int) {
	for _, r := range rs {
		if r.Route != route {
			continue
		}
		listings++
		if r.Header.Get("If-None-Match") != "" {
			withINM++
		}
	}
	return withINM, listings
}

// names lists the owner's repositories through c, 100 a page.
func names(t testing.TB, c *scm.Client, owner string) []string {
	t.Helper()
	var out []string
	for r, err := range c.ListRepositories(t.Context(), owner, &scm.ListRepositoriesOptions{PageSize: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Owner+"/"+r.Name)
	}
	return out
}

var listingFakes = []func(testing.TB, int) *listingFake{gitHubListing, gitLabListing}

// A second listing of an unchanged owner sends If-None-Match on every page
// and is answered 304 on every page, with the same result; a new
// repository changes the last page, which is read in full, and is seen.
func TestPageCacheUnchangedOwner(t *testing.T) {
	for _, mk := range listingFakes {
		f := mk(t, 250)
		t.Run(f.name, func(t *testing.T) {
			pc := newMemPages()
			c := f.client(t, "token-a", pc)
			first := names(t, c, f.owner)
			req1, nm1 := f.stats()
			if len(first) != 250 || nm1 != 0 || pc.len() != 3 {
				t.Fatalf("first run: %d repositories, %d answered 304, %d pages cached; want 250, 0, 3", len(first), nm1, pc.len())
			}
			second := names(t, c, f.owner)
			req2, nm2 := f.stats()
			if diff := cmp.Diff(first, second); diff != "" {
				t.Errorf("second run differs (-first +second):\n%s", diff)
			}
			// The last page, of 50, has room left: it is revalidated
			// too (a full one is read in full, see
			// TestPageCacheNewPageBehindFullLastPage).
			if req2-req1 != 3 || nm2-nm1 != 3 {
				t.Errorf("second run: %d requests, %d answered 304; want 3, 3", req2-req1, nm2-nm1)
			}
			if inm, all := f.conditional(); inm != 3 || all != 6 {
				t.Errorf("%d of %d listing requests carried If-None-Match; want 3 of 6", inm, all)
			}

			f.add(t, 9999)
			third := names(t, c, f.owner)
			req3, nm3 := f.stats()
			if len(third) != 251 || !slices.Contains(third, "acme/svc-9999") {
				t.Errorf("after a new repository: %d repositories, new one listed %v; want 251, true",
					len(third), slices.Contains(third, "acme/svc-9999"))
			}
			if req3-req2 != 3 || nm3-nm2 != 2 {
				t.Errorf("after a new repository: %d requests, %d answered 304; want 3, 2 (the last page changed)", req3-req2, nm3-nm2)
			}
		})
	}
}

// Two credentials never share an entry: the second caller's first listing
// is unconditional, and each caller re-validates its own pages.
func TestPageCacheCredentialsDoNotShare(t *testing.T) {
	for _, mk := range listingFakes {
		f := mk(t, 150)
		t.Run(f.name, func(t *testing.T) {
			pc := newMemPages()
			a, b := f.client(t, "token-a", pc), f.client(t, "token-b", pc)
			names(t, a, f.owner)
			names(t, b, f.owner)
			if inm, all := f.conditional(); inm != 0 || all != 4 {
				t.Errorf("%d of %d listing requests carried If-None-Match; want 0 of 4 (b must not use a's pages)", inm, all)
			}
			if pc.len() != 4 {
				t.Errorf("%d cache entries; want 4 (2 pages for each credential)", pc.len())
			}
			_, nm1 := f.stats()
			names(t, b, f.owner)
			if _, nm2 := f.stats(); nm2-nm1 != 2 {
				t.Errorf("b's second run: %d answered 304; want 2 (both pages: the last, of 50, has room left)", nm2-nm1)
			}
		})
	}
}

// A cache that fails changes nothing: the same result, the same requests,
// none conditional.
func TestPageCacheFailingCacheIsIgnored(t *testing.T) {
	for _, mk := range listingFakes {
		f := mk(t, 150)
		t.Run(f.name, func(t *testing.T) {
			want := names(t, f.client(t, "token-a", nil), f.owner)
			pc := newMemPages()
			pc.fail = errors.New("cache down")
			c := f.client(t, "token-a", pc)
			req0, _ := f.stats()
			for run := range 2 {
				if diff := cmp.Diff(want, names(t, c, f.owner)); diff != "" {
					t.Errorf("run %d with a failing cache differs (-want +got):\n%s", run, diff)
				}
			}
			req1, nm := f.stats()
			if inm, _ := f.conditional(); inm != 0 || nm != 0 || req1-req0 != 4 {
				t.Errorf("%d requests, %d with If-None-Match, %d answered 304; want 4, 0, 0", req1-req0, inm, nm)
			}
			if pc.gets != 4 || pc.puts != 4 {
				t.Errorf("cache saw %d gets and %d puts; want 4 and 4", pc.gets, pc.puts)
			}
		})
	}
}

// A listing without a page cache (NoCache) is unchanged: never conditional.
func TestPageCacheNone(t *testing.T) {
	f := gitHubListing(t, 150)
	c := f.client(t, "token-a", nil)
	names(t, c, f.owner)
	names(t, c, f.owner)
	if inm, all := f.conditional(); inm != 0 || all != 4 {
		t.Errorf("%d of %d listing requests carried If-None-Match; want 0 of 4", inm, all)
	}
}

// BenchmarkListRepositoriesPageCache lists 1,000 repositories (10 pages)
// without a cache, then the first and second runs with one: the second
// run's pages are answered 304 (free on GitHub's primary rate limit) but
// the last, which is full and so read in full.
// bytes/op counts the answers' body bytes received (the benchmark's
// allocation figure is B/op); counted/op the requests the provider counts
// against the rate limit (GitHub does not count 304s, GitLab does).
func BenchmarkListRepositoriesPageCache(b *testing.B) { benchListing(b, 1000) }

// BenchmarkListRepositoriesPageCacheOnePage is
// BenchmarkListRepositoriesPageCache for an owner of 50 repositories, one
// page, as most owners are: its refresh is answered 304, so on GitHub it
// counts nothing.
func BenchmarkListRepositoriesPageCacheOnePage(b *testing.B) { benchListing(b, 50) }

func benchListing(b *testing.B, repos int) {
	for _, mk := range listingFakes {
		f := mk(b, repos)
		for _, run := range []string{"no-cache", "first", "second"} {
			b.Run(f.name+"/"+run, func(b *testing.B) {
				var reqs, nms, full, n int
				var rx int64
				for b.Loop() {
					b.StopTimer()
					var pc *memPages
					var c *scm.Client
					if run == "no-cache" {
						c = f.client(b, "token-a", nil)
					} else {
						pc = newMemPages()
						c = f.client(b, "token-a", pc)
					}
					if run == "second" {
						names(b, c, f.owner)
					}
					r0, nm0 := f.stats()
					rx0 := f.rx.Load()
					b.StartTimer()
					if got := names(b, c, f.owner); len(got) != repos {
						b.Fatalf("%d repositories; want %d", len(got), repos)
					}
					r1, nm1 := f.stats()
					rx += f.rx.Load() - rx0
					reqs, nms, full, n = reqs+r1-r0, nms+nm1-nm0, full+(r1-r0)-(nm1-nm0), n+1
				}
				counted := reqs
				if f.name == "github" {
					counted = full
				}
				b.ReportMetric(float64(reqs)/float64(n), "requests/op")
				b.ReportMetric(float64(nms)/float64(n), "304/op")
				b.ReportMetric(float64(full)/float64(n), "full-pages/op")
				b.ReportMetric(float64(counted)/float64(n), "counted/op")
				b.ReportMetric(float64(rx)/float64(n), "bytes/op")
			})
		}
	}
}
