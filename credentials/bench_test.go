package credentials

import (
	"sync"
	"testing"

	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/integrations"
)

// cachedResolver returns a resolver whose GitHub App has already minted a
// token for acme, and the request that resolves to it.
func cachedResolver(tb testing.TB) (*Resolver, Request, *apptest.Server) {
	tb.Helper()
	gh := newFakeGitHub(tb, nil)
	gh.Add(apptest.Installation{ID: 42, Login: "acme"})
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{APIBaseURL: gh.URL, Token: secret("ghp_x"), Apps: []integrations.GitHubAppConfig{app()}}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req := Request{Host: "github.com", Owner: "acme", Repo: "widgets"}
	if _, err := r.Resolve(tb.Context(), req); err != nil {
		tb.Fatal(err)
	}
	return r, req, gh
}

// BenchmarkResolveCached: Resolve for an owner whose installation token is
// cached. Budget: no request, under 1µs, at most 2 allocations.
func BenchmarkResolveCached(b *testing.B) {
	r, req, gh := cachedResolver(b)
	before := gh.Requests()
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(gh.Requests()-before)/float64(b.N), "requests/op")
}

// BenchmarkResolveCachedParallel is BenchmarkResolveCached from every
// processor at once.
func BenchmarkResolveCachedParallel(b *testing.B) {
	r, req, _ := cachedResolver(b)
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Resolve(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestResolveCachedAllocations(t *testing.T) {
	r, req, gh := cachedResolver(t)
	before := gh.Requests()
	ctx := t.Context()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.Resolve(ctx, req); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("Resolve for a cached owner: %v allocations; want at most 2", allocs)
	}
	if n := gh.Requests() - before; n != 0 {
		t.Errorf("Resolve for a cached owner made %d requests; want 0", n)
	}
}

// BenchmarkBitbucketCloudClientCredentialsCold1000: 1,000 callers at once
// on a cold OAuth consumer. Budget: exactly 1 token request.
func BenchmarkBitbucketCloudClientCredentialsCold1000(b *testing.B) {
	f := newFakeOAuth(b, "consumer-key", "consumer-secret")
	b.ReportAllocs()
	for b.Loop() {
		r := consumerResolver(b, f, nil, nil) // a new resolver: cold
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 1000 {
			wg.Go(func() {
				<-start
				if _, err := r.Resolve(b.Context(), Request{Host: "bitbucket.org", Owner: "acme"}); err != nil {
					b.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	b.ReportMetric(float64(f.Requests())/float64(b.N), "requests/op")
}

func TestResolveColdGitHubAppConcurrentCallers(t *testing.T) {
	gh := newFakeGitHub(t, nil)
	gh.Add(apptest.Installation{ID: 42, Login: "acme"})
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{APIBaseURL: gh.URL, Apps: []integrations.GitHubAppConfig{app()}}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	var wg sync.WaitGroup
	creds := make([]*Credential, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			creds[i], errs[i] = r.Resolve(t.Context(), Request{Host: "github.com", Owner: "acme", Repo: "widgets"})
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || creds[i].Token != creds[0].Token {
			t.Fatalf("caller %d: %v, %v; want the one shared token", i, creds[i], errs[i])
		}
	}
	if got := gh.Requests(); got != 2 {
		t.Errorf("requests = %d; want exactly 2 (lookup + mint): %v", got, gh.Routes())
	}
}
