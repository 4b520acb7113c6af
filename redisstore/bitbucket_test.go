package redisstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// TestBitbucketConsumerTokenSharedByReplicas: five replicas' resolvers,
// each with its own caches, resolve a Bitbucket Cloud OAuth consumer's
// credential at once: one client-credentials grant for the fleet, one
// token for every caller, stored sealed.
func TestBitbucketConsumerTokenSharedByReplicas(t *testing.T) {
	r := testsvc.StartRedis(t)
	fake := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Consumers: map[string]string{"key123": "consumer-secret"}})
	t.Cleanup(fake.Close)
	var resolvers []*credentials.Resolver
	for range 5 {
		reg, err := integrations.NewRegistry(integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
			Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), TokenURL: fake.TokenURL(),
			ClientID: "key123", ClientSecret: integrations.NewSecret("consumer-secret"),
		}}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{Shared: openStore(t, r, nil)})
		if err != nil {
			t.Fatal(err)
		}
		resolvers = append(resolvers, res)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	tokens := map[string]int{}
	var wg sync.WaitGroup
	for i := range 100 {
		res := resolvers[i%len(resolvers)]
		wg.Go(func() {
			c, err := res.Resolve(ctx, credentials.Request{Host: fake.Host(), Owner: "acme", Repo: "widgets"})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Resolve: %v", err)
				return
			}
			if c.Kind != credentials.KindApp {
				t.Errorf("Resolve = %v; want the consumer's app credential", c)
			}
			tokens[c.Token]++
		})
	}
	wg.Wait()
	if len(tokens) != 1 {
		t.Errorf("callers got %d tokens; want 1", len(tokens))
	}
	grants := 0
	for _, req := range fake.Requests() {
		if req.Path == "/site/oauth2/access_token" {
			grants++
		}
	}
	if grants != 1 {
		t.Errorf("client-credentials grants = %d; want 1 for the fleet", grants)
	}
	v, _ := rawClient(t, r).HGet(ctx, "scmkit:c:bitbucketCloud:"+fake.Host()+":oauth:key123", "v").Result()
	if v == "" || v[0] != 'E' {
		t.Errorf("the consumer token is not sealed in Redis (%d bytes)", len(v))
	}
	for tok := range tokens {
		if len(v) > 0 && strings.Contains(v, tok) {
			t.Error("Redis holds the consumer token in clear")
		}
	}
}
