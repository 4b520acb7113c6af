package httpx

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// TestGitHubResourceRelativeToBase: a search is the API base's
// /search/...; a file or branch whose path holds "api/v3/search/code" is
// a core request, with the base set (SetAPIBase) or guessed.
func TestGitHubResourceRelativeToBase(t *testing.T) {
	for _, tc := range []struct{ base, method, url, want string }{
		// Guessed bases (none set): the root, or the first /api/v3 that
		// no /repos/ comes before.
		{"", "GET", "https://api.github.com/repos/acme/svc/contents/api/v3/search/code", "core"},
		{"", "GET", "https://ghe.example.com/api/v3/repos/acme/svc/contents/docs/api/v3/search/issues", "core"},
		{"", "GET", "https://ghe.example.com/api/v3/repos/acme/svc/branches/api/v3/search/code", "core"},
		{"", "GET", "https://ghe.example.com/api/v3/search/code", "code_search"},
		{"", "GET", "https://proxy.example.com/ghe/api/v3/search/issues", "search"},
		{"", "GET", "https://api.github.com/search/code", "code_search"},
		// Set bases.
		{"https://api.github.com", "GET", "https://api.github.com/search/code", "code_search"},
		{"https://api.github.com/", "GET", "https://api.github.com/search/repositories", "search"},
		{"https://api.github.com", "GET", "https://api.github.com/repos/acme/svc/contents/api/v3/search/code", "core"},
		{"https://ghe.example.com/api/v3", "GET", "https://ghe.example.com/api/v3/search/code", "code_search"},
		{"https://ghe.example.com/api/v3/", "GET", "https://ghe.example.com/api/v3/repos/acme/svc/contents/api/v3/search/code", "core"},
		{"https://ghe.example.com/api/v3", "GET", "https://ghe.example.com/search/code", "core"},
		{"https://ghe.example.com/api/v3", "GET", "https://other.example.com/api/v3/search/code", "core"},
		{"https://proxy.example.com/gh", "GET", "https://proxy.example.com/gh/search/code", "code_search"},
		{"https://proxy.example.com/gh", "GET", "https://proxy.example.com/gh/repos/a/b/contents/search/code", "core"},
		{"https://ghe.example.com/api/v3", "POST", "https://ghe.example.com/api/graphql", "graphql"},
	} {
		tr := NewTransport(nil)
		if tc.base != "" {
			tr.SetAPIBase(tc.base)
		}
		req := httptest.NewRequest(tc.method, tc.url, nil)
		if got := githubResource(req, tr.api); got != tc.want {
			t.Errorf("base %q: %s %s: %q; want %q", tc.base, tc.method, tc.url, got, tc.want)
		}
	}
}

// TestTransportBudgetFileReadNotOnCodeSearch: with code search's share
// spent, a file read whose path holds api/v3/search/code goes: it is
// taken from core.
func TestTransportBudgetFileReadNotOnCodeSearch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, base := range []string{"", srv.URL} {
		b := &MemoryBudget{}
		b.Record(context.Background(), "k code_search", 10, 0, time.Now().Add(time.Hour))
		tr := NewTransport(&Options{MaxRateLimitWait: time.Millisecond})
		tr.SetBudget(b, "k", 0.5)
		tr.SetRateLimits(GitHubLimits)
		if base != "" {
			tr.SetAPIBase(base)
		}
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/repos/acme/svc/contents/api/v3/search/code")
		if err != nil {
			t.Errorf("base %q: file read refused: %v", base, err)
			continue
		}
		resp.Body.Close()
	}
}

// oldEnterprise answers as GitHub Enterprise 3.10 and older: /search/code
// counts against search (limit 10 an hour), named in
// X-RateLimit-Resource, with an ETag; a matching If-None-Match is
// answered 304 and not counted.
func oldEnterprise(t *testing.T) (srv *httptest.Server, counted *atomic.Int64) {
	counted = &atomic.Int64{}
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		free := r.Header.Get("If-None-Match") == githubLikeETag
		n := counted.Load()
		if !free {
			n = counted.Add(1)
		}
		h := w.Header()
		h.Set("ETag", githubLikeETag)
		h.Set("X-RateLimit-Limit", "10")
		h.Set("X-RateLimit-Remaining", strconv.FormatInt(max(10-n, 0), 10))
		h.Set("X-RateLimit-Reset", reset)
		h.Set("X-RateLimit-Resource", "search")
		if free {
			w.WriteHeader(http.StatusNotModified)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, counted
}

// TestTransportBudgetResourceMismatch: when GitHub names another
// resource than the guess (code searches counted under search), the
// share holds: at 0.5 of 10, code searches stop after 5, on one
// transport and across transports (each call of scm has its own).
func TestTransportBudgetResourceMismatch(t *testing.T) {
	for _, perCall := range []bool{false, true} {
		srv, counted := oldEnterprise(t)
		b := &MemoryBudget{}
		c := budgetClient(b, 0.5, GitHubLimits)
		sent := 0
		for ; sent < 10; sent++ {
			if perCall {
				c = budgetClient(b, 0.5, GitHubLimits)
			}
			resp, err := c.Get(srv.URL + "/api/v3/search/code?q=x")
			if errcode.CodeOf(err) == errcode.RateLimited {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if sent != 5 {
			t.Errorf("a transport per request %v: share 0.5 of 10: %d code searches sent (server counted %d); want 5", perCall, sent, counted.Load())
		}
	}
}

// TestTransportBudgetMismatchRefund: a code search made conditional below
// the transport and answered 304 is given back to the key it was taken
// from: the budget of search stays at GitHub's count (9 after one counted
// search), not raised by refunds it never gave.
func TestTransportBudgetMismatchRefund(t *testing.T) {
	srv, counted := oldEnterprise(t)
	b := &MemoryBudget{}
	for _, perCall := range []bool{false, true} {
		tr := NewTransport(&Options{MaxRateLimitWait: time.Second, Base: &revalidating{base: Sanitize(nil, nil)}})
		tr.SetBudget(b, "github.com app", 0.5)
		tr.SetRateLimits(GitHubLimits)
		c := &http.Client{Transport: tr}
		for range 3 {
			resp, err := c.Get(srv.URL + "/api/v3/search/code?q=x")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		// The first transport's first search was counted by GitHub; the
		// rest are 304s (the second transport's first one is a full
		// read, counted: its cache layer is new).
		want := 9
		if perCall {
			want = 8
		}
		b.mu.Lock()
		got := b.m["github.com app search"].remaining
		b.mu.Unlock()
		if got != want || counted.Load() != int64(10-want) {
			t.Errorf("second transport %v: search's budget has %d left, GitHub counted %d; want %d and %d", perCall, got, counted.Load(), want, 10-want)
		}
	}
}

// TestTransportBudgetCoreGuessNamedOtherwise: an answer naming another
// resource than a core guess (dependency snapshots' own limit of 100) is
// recorded under that resource only: core's budget keeps core's count.
func TestTransportBudgetCoreGuessNamedOtherwise(t *testing.T) {
	reset := time.Now().Add(time.Hour).Unix()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-RateLimit-Limit", "100")
		h.Set("X-RateLimit-Remaining", "99")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset+600, 10))
		h.Set("X-RateLimit-Resource", "dependency_snapshots")
	}))
	defer srv.Close()
	b := &MemoryBudget{}
	b.Record(context.Background(), "github.com app core", 10, 6, time.Unix(reset, 0)) // one request left of the share
	c := budgetClient(b, 0.5, GitHubLimits)
	resp, err := c.Post(srv.URL+"/repos/acme/svc/dependency-graph/snapshots", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ok, _, _ := b.Peek(context.Background(), "github.com app core", 0.5); ok {
		t.Error("core's spent share was replaced by dependency snapshots' count")
	}
	if q := b.m["github.com app dependency_snapshots"]; q.remaining != 99 {
		t.Errorf("dependency_snapshots: %+v; want 99 left", q)
	}
}

// TestTransportBudgetUnknownResourceHeader: answers that name resources
// GitHub does not document make no keys of their own: 500 of them are
// recorded under the guessed core.
func TestTransportBudgetUnknownResourceHeader(t *testing.T) {
	var n atomic.Int64
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Remaining", "4999")
		h.Set("X-RateLimit-Reset", reset)
		h.Set("X-RateLimit-Resource", "r"+strconv.FormatInt(n.Add(1), 10))
	}))
	defer srv.Close()
	b := &MemoryBudget{}
	c := budgetClient(b, 0.5, GitHubLimits)
	for range 500 {
		resp, err := c.Get(srv.URL + "/repos/acme/svc")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m["github.com app core"]; !ok || len(b.m) != 1 {
		keys := make([]string, 0, len(b.m))
		for k := range b.m {
			keys = append(keys, k)
			if len(keys) == 3 {
				break
			}
		}
		t.Errorf("500 answers made %d budget keys (%q, ...); want core's only", len(b.m), keys)
	}
}

// TestMemoryBudgetClampsReset: an answer announcing a reset fifty years
// ahead refuses requests for MaxBudgetReset at most.
func TestMemoryBudgetClampsReset(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	b := &MemoryBudget{Now: func() time.Time { return now }}
	b.Record(ctx, "k", 10, 0, now.AddDate(50, 0, 0))
	ok, at, _ := b.Take(ctx, "k", 0.5)
	if ok || at.After(now.Add(MaxBudgetReset)) {
		t.Errorf("Take = %v until %v; want refused until %v at most", ok, at, now.Add(MaxBudgetReset))
	}
	now = now.Add(MaxBudgetReset)
	if ok, at, _ := b.Take(ctx, "k", 0.5); !ok {
		t.Errorf("Take refused until %v, after MaxBudgetReset", at)
	}
}

// TestMemoryBudgetBounded: keys whose window ended are forgotten as new
// ones are recorded, and the map never holds more than memoryBudgetKeys.
func TestMemoryBudgetBounded(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	b := &MemoryBudget{Now: func() time.Time { return now }}
	for i := range 1000 {
		b.Record(ctx, fmt.Sprint("old ", i), 10, 5, now.Add(time.Minute))
	}
	now = now.Add(2 * time.Minute)
	for i := range 100 {
		b.Record(ctx, fmt.Sprint("new ", i), 10, 5, now.Add(time.Minute))
	}
	for k := range b.m {
		if k[:3] == "old" {
			t.Fatalf("%q kept after its window ended (%d keys)", k, len(b.m))
		}
	}
	for i := range 3 * memoryBudgetKeys {
		b.Record(ctx, fmt.Sprint("live ", i), 10, 5, now.Add(time.Hour+time.Duration(i)*time.Millisecond))
	}
	if len(b.m) > memoryBudgetKeys {
		t.Errorf("%d keys; want at most %d", len(b.m), memoryBudgetKeys)
	}
	// The newest key is kept; the ones that reset first went.
	if _, ok := b.m[fmt.Sprint("live ", 3*memoryBudgetKeys-1)]; !ok {
		t.Error("the newest key was dropped")
	}
}

// TestMemoryBudgetBoundedRace: concurrent Records of many keys, under
// -race.
func TestMemoryBudgetBoundedRace(t *testing.T) {
	b := &MemoryBudget{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				b.Record(context.Background(), fmt.Sprint(g, " ", i), 10, 5, time.Now().Add(time.Duration(i%3-1)*time.Minute))
				b.Take(context.Background(), fmt.Sprint(g, " ", i/2), 0.5)
			}
		})
	}
	wg.Wait()
	if len(b.m) > memoryBudgetKeys {
		t.Errorf("%d keys", len(b.m))
	}
}

// TestGitHubResourcesDocumented: every resource of GET /rate_limit in
// GitHub's REST API description (testdata) names a budget key of its own.
func TestGitHubResourcesDocumented(t *testing.T) {
	data, err := os.ReadFile("testdata/rate-limit-overview.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties struct {
			Resources struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"resources"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	names := schema.Properties.Resources.Properties
	if len(names) < 10 {
		t.Fatalf("%d resources in the description", len(names))
	}
	for name := range names {
		if !githubResources[name] {
			t.Errorf("GitHub documents the resource %q; the budget records it under the guess", name)
		}
	}
}
