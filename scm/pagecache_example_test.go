package scm_test

import (
	"context"
	"fmt"
	"log"
	"sync"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// pageStore is a minimal in-process scm.PageCache; a fleet of replicas
// would use redisstore's Store.Pages instead.
type pageStore struct {
	mu sync.Mutex
	m  map[string]*scm.CachedPage
}

func (s *pageStore) GetPage(_ context.Context, key string) (*scm.CachedPage, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[key]
	return p, ok, nil
}

func (s *pageStore) PutPage(_ context.Context, key string, p *scm.CachedPage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = p
	return nil
}

// With a PageCache, listing an unchanged organisation again costs
// requests answered 304 Not Modified, which GitHub does not count against
// the primary rate limit.
func ExamplePageCache() {
	gh := fakegithub.New(&fakegithub.Options{Tokens: []string{"service-token"}})
	defer gh.Close()
	for i := range 150 {
		if _, err := gh.AddRepo(fakegithub.Repo{Owner: "acme", Name: fmt.Sprintf("svc-%03d", i)}); err != nil {
			log.Fatal(err)
		}
	}
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: gh.Host(), APIBaseURL: gh.APIBaseURL(), Token: integrations.NewSecret("service-token")}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	c, err := scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)},
		PageCache: &pageStore{m: map[string]*scm.CachedPage{}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		before := gh.Stats()
		n := 0
		for _, err := range c.ListRepositories(context.Background(), "https://"+gh.Host()+"/acme", nil) {
			if err != nil {
				log.Fatal(err)
			}
			n++
		}
		after := gh.Stats()
		fmt.Printf("run %d: %d repositories, %d requests, %d answered 304\n",
			run, n, after.API-before.API, after.NotModified-before.NotModified)
	}
	// Output:
	// run 1: 150 repositories, 2 requests, 0 answered 304
	// run 2: 150 repositories, 2 requests, 2 answered 304
}
