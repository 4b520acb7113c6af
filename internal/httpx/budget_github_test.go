package httpx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// githubLike is a server that counts requests as GitHub does: a limit of
// 10 an hour per resource (graphql for POST /graphql, search for
// /search/..., core otherwise), named in X-RateLimit-Resource, and an
// ETag on every answer; a request whose If-None-Match matches it is
// answered 304 and not counted (GitHub's REST API best practices).
type githubLike struct {
	srv   *httptest.Server
	reset int64

	mu      sync.Mutex
	sent    map[string]int // requests per resource, 304s included
	counted map[string]int // requests per resource GitHub counts
}

const githubLikeETag = `"v1"`

func newGitHubLike(t testing.TB) *githubLike {
	g := &githubLike{reset: time.Now().Add(time.Hour).Unix(), sent: map[string]int{}, counted: map[string]int{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := "core"
		switch {
		case r.URL.Path == "/graphql":
			res = "graphql"
		case strings.HasPrefix(r.URL.Path, "/search/"):
			res = "search"
		}
		free := r.Header.Get("If-None-Match") == githubLikeETag
		g.mu.Lock()
		g.sent[res]++
		if !free {
			g.counted[res]++
		}
		used := g.counted[res]
		g.mu.Unlock()
		h := w.Header()
		h.Set("ETag", githubLikeETag)
		h.Set("X-RateLimit-Limit", "10")
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(10-used, 0)))
		h.Set("X-RateLimit-Used", strconv.Itoa(used))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(g.reset, 10))
		h.Set("X-RateLimit-Resource", res)
		if free {
			w.WriteHeader(http.StatusNotModified)
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *githubLike) stats(res string) (sent, counted int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sent[res], g.counted[res]
}

// do sends one request through c: a conditional GET when etag is set.
// It returns the status, or the error's code.
func (g *githubLike) do(t *testing.T, c *http.Client, method, path, etag string) (int, errcode.Code) {
	t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.Do(req)
	if err != nil {
		var e *errcode.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return 0, e.Code
	}
	resp.Body.Close()
	return resp.StatusCode, errcode.OK
}

// countingBudget counts the calls to a budget; with peek false it hides
// the budget's Peek.
type countingBudget struct {
	b                   *MemoryBudget
	takes, peeks, recs  int
	keysTaken, keysSeen map[string]bool
}

func (c *countingBudget) Take(ctx context.Context, key string, share float64) (bool, time.Time, error) {
	c.takes++
	c.keysTaken[key] = true
	return c.b.Take(ctx, key, share)
}

func (c *countingBudget) Record(ctx context.Context, key string, limit, remaining int, reset time.Time) error {
	c.recs++
	c.keysSeen[key] = true
	return c.b.Record(ctx, key, limit, remaining, reset)
}

type peekingBudget struct{ *countingBudget }

func (p peekingBudget) Peek(ctx context.Context, key string, share float64) (bool, time.Time, error) {
	p.peeks++
	p.keysTaken[key] = true
	return p.b.Peek(ctx, key, share)
}

func newCounting() *countingBudget {
	return &countingBudget{b: &MemoryBudget{}, keysTaken: map[string]bool{}, keysSeen: map[string]bool{}}
}

func budgetClient(b Budget, share float64, r RateLimits) *http.Client {
	tr := NewTransport(&Options{MaxRateLimitWait: time.Second})
	tr.SetBudget(b, "github.com app", share)
	tr.SetRateLimits(r)
	return &http.Client{Transport: tr}
}

// TestTransportBudgetGitHub304Free: under GitHubLimits, at share 0.5 of a
// limit of 10, thirty conditional re-reads answered 304 (free on GitHub)
// spend nothing: the unconditional requests still get their 5, and are
// refused after them; a conditional request is then refused too (it
// would count if answered 200). The 304s are not recorded.
func TestTransportBudgetGitHub304Free(t *testing.T) {
	g := newGitHubLike(t)
	cb := newCounting()
	c := budgetClient(peekingBudget{cb}, 0.5, GitHubLimits)
	if st, code := g.do(t, c, "GET", "/repos/acme/svc/contents/catalog-info.yaml", ""); st != 200 {
		t.Fatalf("first read: %d %v", st, code)
	}
	for i := range 30 {
		if st, code := g.do(t, c, "GET", "/repos/acme/svc/contents/catalog-info.yaml", githubLikeETag); st != http.StatusNotModified {
			t.Fatalf("conditional re-read %d: status %d, code %v; want 304", i+1, st, code)
		}
	}
	for i := range 4 {
		if st, code := g.do(t, c, "GET", "/repos/acme/svc", ""); st != 200 {
			t.Fatalf("read %d after the 304s: status %d, code %v; want 200", i+2, st, code)
		}
	}
	if _, code := g.do(t, c, "GET", "/repos/acme/svc", ""); code != errcode.RateLimited {
		t.Fatalf("read 6 at half the limit: %v; want RateLimited", code)
	}
	if _, code := g.do(t, c, "GET", "/repos/acme/svc/contents/catalog-info.yaml", `"stale"`); code != errcode.RateLimited {
		t.Fatalf("conditional read with the share spent: %v; want RateLimited", code)
	}
	if sent, counted := g.stats("core"); sent != 35 || counted != 5 {
		t.Errorf("GitHub saw %d requests and counted %d; want 35 and 5 (half the limit)", sent, counted)
	}
	if cb.recs != 5 || cb.takes != 6 || cb.peeks != 31 {
		t.Errorf("budget calls: %d Take, %d Peek, %d Record; want 6, 31 and 5 (no Record for a 304)", cb.takes, cb.peeks, cb.recs)
	}
}

// TestTransportBudgetOneLimit304Counted: under OneLimit (GitLab, which
// counts 304s) the conditional re-reads spend the budget as before.
func TestTransportBudgetOneLimit304Counted(t *testing.T) {
	g := newGitHubLike(t)
	c := budgetClient(&MemoryBudget{}, 0.5, OneLimit)
	g.do(t, c, "GET", "/repos/acme/svc/contents/catalog-info.yaml", "")
	for i := range 5 {
		st, code := g.do(t, c, "GET", "/repos/acme/svc/contents/catalog-info.yaml", githubLikeETag)
		if want := i < 4; (st == http.StatusNotModified) != want {
			t.Fatalf("conditional re-read %d: %d, %v; want sent: %v", i+1, st, code, want)
		}
	}
}

// TestTransportBudgetGitHubNoPeek: a budget without Peek counts GitHub's
// conditional requests like any other (the conservative side).
func TestTransportBudgetGitHubNoPeek(t *testing.T) {
	g := newGitHubLike(t)
	cb := newCounting()
	c := budgetClient(cb, 0.5, GitHubLimits)
	g.do(t, c, "GET", "/repos/acme/svc/contents/catalog-info.yaml", "")
	for range 4 {
		if st, code := g.do(t, c, "GET", "/repos/acme/svc/contents/catalog-info.yaml", githubLikeETag); st != http.StatusNotModified {
			t.Fatalf("conditional re-read: %d, %v", st, code)
		}
	}
	if _, code := g.do(t, c, "GET", "/repos/acme/svc/contents/catalog-info.yaml", githubLikeETag); code != errcode.RateLimited {
		t.Fatalf("conditional re-read 5: %v; want RateLimited", code)
	}
}

// TestTransportBudgetGitHubResources: at share 0.5 of a limit of 10 per
// resource, REST and GraphQL requests get 5 each, as GitHub allows, under
// one key per resource; under OneLimit they share one key.
func TestTransportBudgetGitHubResources(t *testing.T) {
	g := newGitHubLike(t)
	cb := newCounting()
	c := budgetClient(peekingBudget{cb}, 0.5, GitHubLimits)
	for i := range 6 {
		want := errcode.OK
		if i == 5 {
			want = errcode.RateLimited
		}
		if _, code := g.do(t, c, "GET", "/repos/acme/svc", ""); code != want {
			t.Fatalf("REST request %d: %v; want %v", i+1, code, want)
		}
		if _, code := g.do(t, c, "POST", "/graphql", ""); code != want {
			t.Fatalf("GraphQL request %d: %v; want %v", i+1, code, want)
		}
	}
	if _, code := g.do(t, c, "GET", "/search/issues", ""); code != errcode.OK {
		t.Fatalf("search request: %v", code)
	}
	for _, res := range []string{"core", "graphql"} {
		if sent, _ := g.stats(res); sent != 5 {
			t.Errorf("%s requests sent: %d; want 5", res, sent)
		}
	}
	want := map[string]bool{"github.com app core": true, "github.com app graphql": true, "github.com app search": true}
	if !equalSets(cb.keysTaken, want) || !equalSets(cb.keysSeen, want) {
		t.Errorf("keys taken %v, recorded %v; want %v", cb.keysTaken, cb.keysSeen, want)
	}

	one := newCounting()
	c = budgetClient(one, 0.5, OneLimit)
	g.do(t, c, "POST", "/graphql", "")
	g.do(t, c, "GET", "/repos/acme/svc", "")
	if want := map[string]bool{"github.com app": true}; !equalSets(one.keysTaken, want) || !equalSets(one.keysSeen, want) {
		t.Errorf("OneLimit keys taken %v, recorded %v; want %v", one.keysTaken, one.keysSeen, want)
	}
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestTransportBudgetResourceHeader: the answer's X-RateLimit-Resource
// names the key recorded, when it looks like a resource name; otherwise
// the resource guessed from the request does.
func TestTransportBudgetResourceHeader(t *testing.T) {
	var named string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-RateLimit-Limit", "10")
		h.Set("X-RateLimit-Remaining", "9")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		h.Set("X-RateLimit-Resource", named)
	}))
	defer srv.Close()
	for _, tc := range []struct{ header, want string }{
		{"integration_manifest", "k integration_manifest"},
		{"", "k core"},
		{"Core", "k core"},
		{"core rl:other", "k core"},
		{strings.Repeat("a", 41), "k core"},
	} {
		named = tc.header
		cb := newCounting()
		tr := NewTransport(nil)
		tr.SetBudget(cb, "k", 0)
		tr.SetRateLimits(GitHubLimits)
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/app-manifests/x/conversions")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !equalSets(cb.keysSeen, map[string]bool{tc.want: true}) || cb.takes != 0 {
			t.Errorf("X-RateLimit-Resource %q: recorded %v (%d takes); want %q and no take (share 0)", tc.header, cb.keysSeen, cb.takes, tc.want)
		}
	}
}

func TestGitHubResource(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"POST", "/graphql", "graphql"},
		{"POST", "/api/graphql", "graphql"},
		{"POST", "/ghe/api/graphql", "graphql"},
		{"GET", "/repos/acme/graphql", "core"},
		{"GET", "/search/code", "code_search"},
		{"GET", "/api/v3/search/code", "code_search"},
		{"GET", "/ghe/api/v3/search/issues", "search"},
		{"GET", "/search/repositories", "search"},
		{"GET", "/repos/acme/svc/contents/search/code", "core"},
		{"GET", "/search/", "core"},
		{"GET", "/search/code/x", "core"},
		{"GET", "/repos/acme/svc/contents/catalog-info.yaml", "core"},
	} {
		req := httptest.NewRequest(tc.method, "https://api.github.com"+tc.path, nil)
		if got := githubResource(req, nil); got != tc.want {
			t.Errorf("%s %s: %q; want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestMemoryBudgetPeek: Peek refuses as Take does, and never counts.
func TestMemoryBudgetPeek(t *testing.T) {
	ctx := context.Background()
	b := &MemoryBudget{}
	reset := time.Now().Add(time.Hour)
	b.Record(ctx, "k", 100, 52, reset)
	for range 10 {
		if ok, _, _ := b.Peek(ctx, "k", 0.5); !ok {
			t.Fatal("Peek refused with remaining above half")
		}
	}
	for range 2 {
		if ok, _, _ := b.Take(ctx, "k", 0.5); !ok {
			t.Fatal("Take refused after Peeks: they counted")
		}
	}
	if ok, at, _ := b.Peek(ctx, "k", 0.5); ok || !at.Equal(reset) {
		t.Fatalf("Peek at half the limit = %v, %v; want refused until %v", ok, at, reset)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := b.Peek(cctx, "k", 0.5); errcode.CodeOf(err) != errcode.Canceled {
		t.Fatalf("Peek with a cancelled context: %v", err)
	}
}

// revalidating stands for scm's page cache, between a Transport and
// Sanitize: it sends each GET with If-None-Match once it has seen the
// ETag, and turns a 304 into a 200 with the live answer's headers.
type revalidating struct {
	base http.RoundTripper
	etag string
}

func (c *revalidating) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req
	if c.etag != "" {
		out = req.Clone(req.Context())
		out.Header.Set("If-None-Match", c.etag)
	}
	resp, err := c.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotModified {
		resp.StatusCode, resp.Status = http.StatusOK, "200 OK"
	}
	c.etag = resp.Header.Get("ETag")
	return resp, nil
}

// TestTransportBudgetGitHubRefund: requests made conditional below the
// transport are counted before they are sent, and given back when GitHub
// answers 304 (seen by Sanitize): thirty revalidations at share 0.5 of
// 10 go, and the unconditional requests still get their 5. Without
// Refund (OneLimit, or a budget without it) they stay counted.
func TestTransportBudgetGitHubRefund(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rules  RateLimits
		refund bool
		want   int // revalidations sent before the first refusal
	}{
		{"github", GitHubLimits, true, 30},
		{"github without Refund", GitHubLimits, false, 4},
		{"one limit", OneLimit, true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGitHubLike(t)
			cb := newCounting()
			var b Budget = cb
			if tc.refund {
				b = cb.b // MemoryBudget: Peek and Refund
			}
			tr := NewTransport(&Options{MaxRateLimitWait: time.Second, Base: &revalidating{base: Sanitize(nil, nil)}})
			tr.SetBudget(b, "github.com app", 0.5)
			tr.SetRateLimits(tc.rules)
			c := &http.Client{Transport: tr}
			if st, code := g.do(t, c, "GET", "/user/repos", ""); st != 200 {
				t.Fatalf("first listing: %d, %v", st, code)
			}
			n := 0
			for ; n < 30; n++ {
				st, code := g.do(t, c, "GET", "/user/repos", "")
				if code == errcode.RateLimited {
					break
				}
				if st != 200 {
					t.Fatalf("revalidation %d: %d, %v", n+1, st, code)
				}
			}
			if n != tc.want {
				t.Errorf("revalidations sent: %d; want %d", n, tc.want)
			}
			if sent, counted := g.stats("core"); sent != n+1 || counted != 1 {
				t.Errorf("GitHub saw %d requests and counted %d; want %d and 1", sent, counted, n+1)
			}
		})
	}
}

// TestMemoryBudgetRefund: Refund gives one request back in the window it
// names, never above the limit, and leaves other windows alone.
func TestMemoryBudgetRefund(t *testing.T) {
	ctx := context.Background()
	b := &MemoryBudget{}
	reset := time.Now().Add(time.Hour)
	b.Record(ctx, "k", 10, 6, reset)
	b.Take(ctx, "k", 0.5)
	if ok, _, _ := b.Take(ctx, "k", 0.5); ok {
		t.Fatal("Take at half the limit")
	}
	b.Refund(ctx, "k", reset.Add(-time.Hour))
	if ok, _, _ := b.Peek(ctx, "k", 0.5); ok {
		t.Fatal("a refund for another window counted")
	}
	b.Refund(ctx, "k", reset)
	if ok, _, _ := b.Take(ctx, "k", 0.5); !ok {
		t.Fatal("the refund was not given back")
	}
	b.Record(ctx, "full", 10, 10, reset)
	b.Refund(ctx, "full", reset)
	b.Refund(ctx, "unknown", reset)
	if q := b.m["full"]; q.remaining != 10 {
		t.Errorf("remaining after a refund at the limit: %d", q.remaining)
	}
	if _, found := b.m["unknown"]; found {
		t.Error("a refund created a budget")
	}
}

// TestTransportBudgetGitHubDownloadHop: an archive read is one API
// request, counted, and a redirect to a download host, which GitHub does
// not count (no rate-limit headers): at share 0.5 of 10, five archives
// are read, not two. A redirect on the API host is counted.
func TestTransportBudgetGitHubDownloadHop(t *testing.T) {
	download := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("archive"))
	}))
	defer download.Close()
	var apiHits int
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiHits++
		h := w.Header()
		h.Set("X-RateLimit-Limit", "10")
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(10-apiHits, 0)))
		h.Set("X-RateLimit-Reset", reset)
		h.Set("X-RateLimit-Resource", "core")
		switch r.URL.Path {
		case "/repos/acme/svc/tarball":
			http.Redirect(w, r, download.URL+"/acme/svc/legacy.tar.gz/main", http.StatusFound)
		case "/repos/acme/old/tarball":
			http.Redirect(w, r, "/repos/acme/svc/tarball", http.StatusMovedPermanently)
		}
	}))
	defer api.Close()
	for _, tc := range []struct {
		path       string
		reads, api int
	}{
		{"/repos/acme/svc/tarball", 5, 5},
		{"/repos/acme/old/tarball", 2, 5}, // two API requests a read; the third read is refused after its first
	} {
		apiHits = 0
		c := budgetClient(&MemoryBudget{}, 0.5, GitHubLimits)
		reads := 0
		for ; reads < 10; reads++ {
			resp, err := c.Get(api.URL + tc.path)
			if errcode.CodeOf(err) == errcode.RateLimited {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := ReadBody(resp, 1<<10)
			if string(body) != "archive" {
				t.Fatalf("read %d: %q", reads+1, body)
			}
		}
		if reads != tc.reads || apiHits != tc.api {
			t.Errorf("%s: %d archives read with %d API requests; want %d and %d", tc.path, reads, apiHits, tc.reads, tc.api)
		}
	}
}
