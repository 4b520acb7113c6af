package scm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// A client keeps the files it reads in memory, so that reading an
// unchanged file again costs one request answered 304 Not Modified, which
// GitHub does not count against the primary rate limit. Leaving
// Options.FileCache nil gives the client a MemoryFileCache with the
// default bounds; this one is made with its own bound to show its
// counters. (Several replicas share one through redisstore's Store.Files;
// scm.NoCache{} turns the cache off.)
func ExampleMemoryFileCache() {
	gh := fakegithub.New(&fakegithub.Options{Tokens: []string{"service-token"}})
	defer gh.Close()
	if _, err := gh.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Private: true,
		Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
		log.Fatal(err)
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
	files := scm.NewMemoryFileCache(&scm.MemoryCacheOptions{MaxBytes: 64 << 20})
	c, err := scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)},
		FileCache: files,
	})
	if err != nil {
		log.Fatal(err)
	}
	for read := 1; read <= 2; read++ {
		before := gh.Stats()
		f, err := c.ReadFile(context.Background(), "https://"+gh.Host()+"/acme/svc/blob/main/catalog-info.yaml", nil)
		if err != nil {
			log.Fatal(err)
		}
		after := gh.Stats()
		fmt.Printf("read %d: %q, %d request, %d answered 304\n", read, f.Content, after.API-before.API, after.NotModified-before.NotModified)
	}
	st := files.Stats()
	fmt.Printf("cache: %d entry, %d hit, %d miss\n", st.Entries, st.Hits, st.Misses)
	// Output:
	// read 1: "kind: Component\n", 1 request, 0 answered 304
	// read 2: "kind: Component\n", 1 request, 1 answered 304
	// cache: 1 entry, 1 hit, 1 miss
}
