package scm_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"testing/fstest"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// A Client is built from a registry of integrations, a credentials resolver
// and the drivers of the adapters in use. Here github.com's API and raw
// content hosts are a fake GitHub's, so that the URL read is the real one.
func Example() {
	gh := fakegithub.New(&fakegithub.Options{Tokens: []string{"service-token"}})
	defer gh.Close()
	if _, err := gh.AddFS(fakegithub.Repo{Owner: "acme", Name: "svc"}, fstest.MapFS{
		"catalog-info.yaml": {Data: []byte("kind: Component\n")},
	}); err != nil {
		log.Fatal(err)
	}

	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: "github.com", APIBaseURL: gh.APIBaseURL(), RawBaseURL: gh.RawBaseURL(),
		Token: integrations.NewSecret("service-token"),
	}}})
	if err != nil {
		log.Fatal(err)
	}
	resolver, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	c, err := scm.NewClient(reg, resolver, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	f, err := c.ReadFile(ctx, "https://github.com/acme/svc/blob/main/catalog-info.yaml", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s", f.Path, f.Content)
	// Output: catalog-info.yaml: kind: Component
}

// Every error is an *scm.Error with a portable code: classify it with
// scm.Code (or errors.Is and the Err* sentinels), and for RateLimited ask
// scm.RetryAt when to try again.
func Example_errors() {
	c := exampleClient()
	_, missing := c.ReadFile(context.Background(), "https://github.com/acme/service/blob/main/nope.yaml", nil)
	// What a driver reports when GitHub's rate limit is used up until 12:00.
	limited := &scm.Error{Code: scm.RateLimited, Op: "scm.ReadFile", Host: "github.com", Status: 403,
		RetryAt: time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)}

	for _, err := range []error{missing, limited} {
		switch scm.Code(err) {
		case scm.NotFound: // also errors.Is(err, fs.ErrNotExist)
			fmt.Println("not found:", errors.Is(err, fs.ErrNotExist))
		case scm.RateLimited:
			if at, ok := scm.RetryAt(err); ok {
				fmt.Println("rate limited: retry at", at.Format(time.Kitchen))
			}
		}
	}
	// Output:
	// not found: true
	// rate limited: retry at 12:00PM
}
