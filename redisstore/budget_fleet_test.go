package redisstore_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// shareFleet is n replicas with the README's fleet options (FileCache,
// PageCache and RateBudget from one Redis, and RateShare) against one
// fake GitHub where a GitHub App is installed on acme, whose repository
// widgets holds catalog-info.yaml. Without Redis it is n clients of one
// process sharing an httpx.MemoryBudget, with scm's in-memory caches.
type shareFleet struct {
	fake              *fakegithub.Server
	clients           []*scm.Client
	fileURL, ownerURL string
}

// newShareFleet starts a shareFleet; noCache reads files without a
// FileCache, so that every read is counted.
func newShareFleet(t testing.TB, r *testsvc.Redis, n int, share float64, noCache bool) *shareFleet {
	return newShareFleetWith(t, r, n, share, noCache, nil)
}

// takeRefund hides a budget's Peek: every request is counted in advance,
// and a 304 given back (Refund), the design not taken for conditional
// requests, kept for comparison in BenchmarkFleetRereadShare.
type takeRefund struct{ b httpx.BudgetRefunder }

func (b takeRefund) Take(ctx context.Context, key string, share float64) (bool, time.Time, error) {
	return b.b.Take(ctx, key, share)
}

func (b takeRefund) Record(ctx context.Context, key string, limit, remaining int, reset time.Time) error {
	return b.b.Record(ctx, key, limit, remaining, reset)
}

func (b takeRefund) Refund(ctx context.Context, key string, reset time.Time) error {
	return b.b.Refund(ctx, key, reset)
}

// newShareFleetWith is newShareFleet with the budget passed through wrap,
// when it is not nil.
func newShareFleetWith(t testing.TB, r *testsvc.Redis, n int, share float64, noCache bool, wrap func(httpx.BudgetRefunder) scm.RateBudget) *shareFleet {
	t.Helper()
	f := &shareFleet{fake: fakeWithApp(t, nil)}
	f.ownerURL = "https://" + f.fake.Host() + "/acme"
	f.fileURL = f.ownerURL + "/widgets/blob/main/catalog-info.yaml"
	_, pemKey := appKeyPair(t)
	mem := &httpx.MemoryBudget{}
	for range n {
		reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
			Host: f.fake.Host(), APIBaseURL: f.fake.APIBaseURL(),
			Apps: []integrations.GitHubAppConfig{{AppID: appID, PrivateKey: integrations.NewSecret(pemKey)}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		ro := &credentials.ResolverOptions{}
		o := &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)},
			RateBudget: mem, RateShare: share}
		if r != nil {
			st := openStore(t, r, nil)
			ro.Shared = st
			o.FileCache, o.PageCache, o.RateBudget = st.Files(0), st.Pages(0), st.Budget()
		}
		if noCache {
			o.FileCache = scm.NoCache{}
		}
		if wrap != nil {
			o.RateBudget = wrap(o.RateBudget.(httpx.BudgetRefunder))
		}
		res, err := credentials.NewResolver(reg, ro)
		if err != nil {
			t.Fatal(err)
		}
		c, err := scm.NewClient(reg, res, o)
		if err != nil {
			t.Fatal(err)
		}
		f.clients = append(f.clients, c)
	}
	return f
}

// apiRequests returns the requests the fake's API host answered apart
// from the GitHub App's (installation lookups and mints, on the App's
// own limit), and those of them GitHub counts: all but the 304s.
func (f *shareFleet) apiRequests() (sent, counted int) {
	st := f.fake.Stats()
	l, m := appRequests(f.fake)
	sent = st.API - l - m
	return sent, sent - st.NotModified
}

// TestFleetShareRereads: the README's fleet setup, at a share of 0.05 of
// the installation's 5,000 an hour (250 requests), re-reads an unchanged
// file 600 times on 3 replicas. GitHub counts 1 of those reads (the 304s
// are free), so none is refused. It failed before the budget let GitHub's
// 304s go free: read 251 was refused with RateLimited.
func TestFleetShareRereads(t *testing.T) {
	r := testsvc.StartRedis(t)
	f := newShareFleet(t, r, 3, 0.05, false)
	ctx := t.Context()
	for i := range 600 {
		if _, err := f.clients[i%3].ReadFile(ctx, f.fileURL, nil); err != nil {
			t.Fatalf("read %d (replica %d): %v", i+1, i%3+1, err)
		}
	}
	if sent, counted := f.apiRequests(); sent != 600 || counted != 1 {
		t.Errorf("GitHub answered %d requests and counted %d; want 600 and 1", sent, counted)
	}
	keys, err := rawClient(t, r).Keys(ctx, "scmkit:rl:*").Result()
	if err != nil || len(keys) != 1 || !strings.HasSuffix(keys[0], " core") {
		t.Errorf("budget keys %v, %v; want the installation's core", keys, err)
	}
}

// TestFleetShareResources: at a share of 0.1 (500 requests of each of
// GitHub's limits), 300 REST file reads and 300 GraphQL discoveries go
// (600 in all), since GitHub counts them against separate limits; the
// REST requests are then refused at their own 500. It failed before the
// budget was kept per resource: call 499 was refused.
func TestFleetShareResources(t *testing.T) {
	r := testsvc.StartRedis(t)
	f := newShareFleet(t, r, 3, 0.1, true)
	ctx := t.Context()
	for i := range 600 {
		c := f.clients[i%3]
		var err error
		if i%2 == 0 {
			_, err = c.ReadFile(ctx, f.fileURL, nil)
		} else {
			_, err = catalog.Discover(ctx, c, f.ownerURL, nil)
		}
		if err != nil {
			t.Fatalf("call %d (replica %d): %v", i+1, i%3+1, err)
		}
	}
	st := f.fake.Stats()
	if st.Routes["POST /graphql"] != 300 {
		t.Fatalf("GraphQL requests: %d; want 300 (routes %v)", st.Routes["POST /graphql"], st.Routes)
	}
	rest := 300
	for ; rest < 600; rest++ {
		if _, err := f.clients[rest%3].ReadFile(ctx, f.fileURL, nil); err != nil {
			if scm.Code(err) != scm.RateLimited {
				t.Fatalf("REST read %d: %v", rest+1, err)
			}
			break
		}
	}
	// The fake counts the App's installation lookup and mint against the
	// same core limit (GitHub counts them against the App's own).
	if l, m := appRequests(f.fake); rest+l+m != 500 {
		t.Errorf("REST reads before the first refusal: %d, and %d App requests; want 500 in all (a share of 0.1 of 5,000); routes %v",
			rest, l+m, f.fake.Stats().Routes)
	}
	keys, _ := rawClient(t, r).Keys(ctx, "scmkit:rl:*").Result()
	if len(keys) != 2 {
		t.Errorf("budget keys %v; want core and graphql", keys)
	}
}

// TestBudgetPeek: Peek refuses as Take does once the share is spent, and
// never counts a request.
func TestBudgetPeek(t *testing.T) {
	r := testsvc.StartRedis(t)
	b := openStore(t, r, nil).Budget()
	ctx := t.Context()
	reset := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if ok, _, err := b.Peek(ctx, "k", 0.5); !ok || err != nil {
		t.Fatalf("Peek of an unknown budget: %v, %v", ok, err)
	}
	if err := b.Record(ctx, "k", 100, 52, reset); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if ok, _, err := b.Peek(ctx, "k", 0.5); !ok || err != nil {
			t.Fatalf("Peek above half: %v, %v", ok, err)
		}
	}
	for range 2 {
		if ok, _, err := b.Take(ctx, "k", 0.5); !ok || err != nil {
			t.Fatalf("Take after Peeks: %v, %v; the Peeks counted", ok, err)
		}
	}
	ok, at, err := b.Peek(ctx, "k", 0.5)
	if ok || err != nil || !at.Equal(reset) {
		t.Fatalf("Peek at half: %v, %v, %v; want refused until %v", ok, at, err, reset)
	}
	if v, _ := rawClient(t, r).HGet(ctx, "scmkit:rl:k", "r").Int(); v != 50 {
		t.Errorf("remaining in Redis: %d; want 50", v)
	}
	down := openStore(t, r, &redisstore.Options{Timeout: 100 * time.Millisecond}).Budget()
	r.Stop()
	if ok, _, err := down.Peek(context.Background(), "k", 0.5); !ok || err == nil {
		t.Errorf("Peek with Redis down: %v, %v; want allowed, with the error", ok, err)
	}
}

// BenchmarkFleetRereadShare: the README's fleet setup (RateShare 0.8) on 3
// replicas re-reads an unchanged file 4,200 times, past 0.8 of the
// installation's 5,000 (redis), and the same with 3 clients of one
// process sharing an httpx.MemoryBudget (memory); -take-refund: the same
// with the budget's Peek hidden, so that each conditional read is counted
// in advance and given back after its 304 (the design not taken).
// requests/op: requests
// GitHub answered; counted/op: those it counts (not the 304s);
// refusals/op: reads refused with RateLimited; redis-round-trips/op and
// /read: the requests Redis read (a script counts once, whatever it runs
// inside), in all and per file read.
func BenchmarkFleetRereadShare(b *testing.B) {
	const reads = 4200
	for _, name := range []string{"memory", "redis", "memory-take-refund", "redis-take-refund"} {
		b.Run(name, func(b *testing.B) {
			var r *testsvc.Redis
			var raw *redis.Client
			if strings.HasPrefix(name, "redis") {
				r = testsvc.StartRedis(b)
				raw = rawClient(b, r)
			}
			var wrap func(httpx.BudgetRefunder) scm.RateBudget
			if strings.HasSuffix(name, "-take-refund") {
				wrap = func(b httpx.BudgetRefunder) scm.RateBudget { return takeRefund{b} }
			}
			var sent, counted, refused, cmds int
			for b.Loop() {
				b.StopTimer()
				f := newShareFleetWith(b, r, 3, 0.8, false, wrap)
				for _, c := range f.clients { // credentials and the cached file
					if _, err := c.ReadFile(b.Context(), f.fileURL, nil); err != nil {
						b.Fatal(err)
					}
				}
				s0, c0 := f.apiRequests()
				var cmd0 int
				if r != nil {
					cmd0 = redisReads(b, raw)
				}
				b.StartTimer()
				for i := range reads {
					if _, err := f.clients[i%3].ReadFile(b.Context(), f.fileURL, nil); scm.Code(err) == scm.RateLimited {
						refused++
					} else if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if r != nil {
					cmds += redisReads(b, raw) - cmd0 - 1
				}
				s1, c1 := f.apiRequests()
				sent, counted = sent+s1-s0, counted+c1-c0
				b.StartTimer()
			}
			b.ReportMetric(float64(sent)/float64(b.N), "requests/op")
			b.ReportMetric(float64(counted)/float64(b.N), "counted/op")
			b.ReportMetric(float64(refused)/float64(b.N), "refusals/op")
			b.ReportMetric(float64(cmds)/float64(b.N), "redis-round-trips/op")
			b.ReportMetric(float64(cmds)/float64(b.N*reads), "redis-round-trips/read")
		})
	}
}

// BenchmarkFleetMixedShare: at RateShare 0.5, 3 replicas (redis) or 3
// clients of one process (memory) make 2,400 REST file reads (no file
// cache) and 2,400 GraphQL discoveries, each under GitHub's 2,500 of its
// own limit. redis-round-trips/call: the requests Redis read per call.
func BenchmarkFleetMixedShare(b *testing.B) {
	const calls = 4800
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			var r *testsvc.Redis
			var raw *redis.Client
			if name == "redis" {
				r = testsvc.StartRedis(b)
				raw = rawClient(b, r)
			}
			var sent, refused, cmds int
			for b.Loop() {
				b.StopTimer()
				f := newShareFleet(b, r, 3, 0.5, true)
				for _, c := range f.clients { // credentials
					if _, err := c.ReadFile(b.Context(), f.fileURL, nil); err != nil {
						b.Fatal(err)
					}
				}
				s0, _ := f.apiRequests()
				var cmd0 int
				if r != nil {
					cmd0 = redisReads(b, raw)
				}
				b.StartTimer()
				for i := range calls {
					c := f.clients[i%3]
					var err error
					if i%2 == 0 {
						_, err = c.ReadFile(b.Context(), f.fileURL, nil)
					} else {
						_, err = catalog.Discover(b.Context(), c, f.ownerURL, nil)
					}
					if scm.Code(err) == scm.RateLimited {
						refused++
					} else if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if r != nil {
					cmds += redisReads(b, raw) - cmd0 - 1
				}
				s1, _ := f.apiRequests()
				sent += s1 - s0
				b.StartTimer()
			}
			b.ReportMetric(float64(sent)/float64(b.N), "requests/op")
			b.ReportMetric(float64(refused)/float64(b.N), "refusals/op")
			b.ReportMetric(float64(cmds)/float64(b.N), "redis-round-trips/op")
			b.ReportMetric(float64(cmds)/float64(b.N*calls), "redis-round-trips/call")
		})
	}
}

// redisReads returns the number of requests Redis has read from its
// clients (total_reads_processed): unlike total_commands_processed, a
// script counts once, not once per command it runs.
func redisReads(b *testing.B, raw *redis.Client) int {
	info, err := raw.Info(b.Context(), "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_reads_processed:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	b.Fatal("no total_reads_processed in INFO")
	return 0
}

// TestFleetShareListings: with the README's fleet setup, a listing of
// two pages refreshed through the page cache costs GitHub 1 counted
// request (the first page is answered 304, free). At a share of 0.02
// (100 requests), 80 refreshes on 3 replicas go: the 304s are counted
// before they are sent (the page cache makes them conditional below the
// budget) and given back after.
func TestFleetShareListings(t *testing.T) {
	r := testsvc.StartRedis(t)
	f := newShareFleet(t, r, 3, 0.02, false)
	for i := range 100 {
		if _, err := f.fake.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	list := func(c *scm.Client) error {
		n := 0
		for _, err := range c.ListRepositories(ctx, f.ownerURL, nil) {
			if err != nil {
				return err
			}
			n++
		}
		if n != 101 {
			t.Fatalf("listed %d repositories; want 101", n)
		}
		return nil
	}
	for i := range 80 {
		if err := list(f.clients[i%3]); err != nil {
			t.Fatalf("listing %d (replica %d): %v", i+1, i%3+1, err)
		}
	}
	sent, counted := f.apiRequests()
	t.Logf("GitHub answered %d requests and counted %d", sent, counted)
	if sent != 160 || counted > 83 {
		t.Errorf("GitHub answered %d requests and counted %d; want 160, and at most 83 (one full first page per replica)", sent, counted)
	}
}

// TestBudgetRefund: Refund gives back one request in the window it names
// only, and never above the limit.
func TestBudgetRefund(t *testing.T) {
	r := testsvc.StartRedis(t)
	b := openStore(t, r, nil).Budget()
	raw := rawClient(t, r)
	ctx := t.Context()
	reset := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	remaining := func(key string) int {
		v, _ := raw.HGet(ctx, "scmkit:rl:"+key, "r").Int()
		return v
	}
	b.Record(ctx, "k", 10, 6, reset)
	b.Take(ctx, "k", 0.5)
	if err := b.Refund(ctx, "k", reset.Add(-time.Hour)); err != nil || remaining("k") != 5 {
		t.Fatalf("refund for another window: %v, remaining %d; want 5", err, remaining("k"))
	}
	if err := b.Refund(ctx, "k", reset); err != nil || remaining("k") != 6 {
		t.Fatalf("refund: %v, remaining %d; want 6", err, remaining("k"))
	}
	b.Record(ctx, "full", 10, 10, reset)
	b.Refund(ctx, "full", reset)
	b.Refund(ctx, "unknown", reset)
	if remaining("full") != 10 {
		t.Errorf("remaining after a refund at the limit: %d", remaining("full"))
	}
	if n, _ := raw.Exists(ctx, "scmkit:rl:unknown").Result(); n != 0 {
		t.Error("a refund created a budget")
	}
}

// TestFleetShareConcurrentEdge: how far past its share a fleet goes when
// many callers reach the edge at once. 3 replicas with 8 callers each
// read with a stale If-None-Match, so every read is a conditional request
// that GitHub answers 200 and counts; a share of 0.05 is 250 requests.
// Conditional requests are only peeked at before they are sent, so the
// fleet can pass its share by at most the requests in flight: 24.
// Unconditional reads are counted before they are sent: none past it.
func TestFleetShareConcurrentEdge(t *testing.T) {
	const replicas, callers = 3, 8
	r := testsvc.StartRedis(t)
	for _, conditional := range []bool{true, false} {
		raw := rawClient(t, r)
		raw.FlushAll(t.Context())
		f := newShareFleet(t, r, replicas, 0.05, true)
		ctx := t.Context()
		for _, c := range f.clients { // credentials, and the budget recorded
			if _, err := c.ReadFile(ctx, f.fileURL, nil); err != nil {
				t.Fatal(err)
			}
		}
		var opts *scm.ReadFileOptions
		if conditional {
			opts = &scm.ReadFileOptions{IfNoneMatch: `"stale"`}
		}
		var wg sync.WaitGroup
		for i := range replicas * callers {
			c := f.clients[i%replicas]
			wg.Go(func() {
				for {
					_, err := c.ReadFile(ctx, f.fileURL, opts)
					if scm.Code(err) == scm.RateLimited {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		// The fake counts the App's lookup and mint against core too.
		l, m := appRequests(f.fake)
		_, counted := f.apiRequests()
		over := counted + l + m - 250
		t.Logf("conditional %v: GitHub counted %d file reads; %d past the share", conditional, counted, over)
		if over < 0 || over > replicas*callers || (!conditional && over > 0) {
			t.Errorf("conditional %v: %d requests past the share; want 0..%d", conditional, over, map[bool]int{true: replicas * callers}[conditional])
		}
	}
}
