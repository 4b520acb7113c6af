package scm_test

import (
	"context"
	"fmt"
	"log"
	"sync/atomic"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// GitHub's ETags belong to the token that read the answer: once a GitHub
// App's installation token is renewed (every hour), the old token's ETag
// would be answered in full, counted. A FileCache entry remembers which
// credential its ETag belongs to and the file's Last-Modified, so a read
// with another token asks by date (If-Modified-Since), which GitHub
// answers 304 whoever asks, free, and the entry then takes the new
// token's ETag. Here two clients share one cache, one with the token of
// the last hour and one with the renewed token.
func ExampleCachedFile_renewedToken() {
	var clock atomic.Int64 // GitHub's clock, in seconds
	clock.Store(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC).Unix())
	gh := fakegithub.New(&fakegithub.Options{Tokens: []string{"token-of-9am", "token-of-10am"},
		Now: func() time.Time { return time.Unix(clock.Load(), 0) }})
	defer gh.Close()
	if _, err := gh.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Private: true,
		Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
		log.Fatal(err)
	}
	clock.Add(60) // the file was committed a minute before it is read
	files := scm.NewMemoryFileCache(nil)
	client := func(token string) *scm.Client {
		reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
			Host: gh.Host(), APIBaseURL: gh.APIBaseURL(), Token: integrations.NewSecret(token)}}})
		if err != nil {
			log.Fatal(err)
		}
		res, err := credentials.NewResolver(reg, nil)
		if err != nil {
			log.Fatal(err)
		}
		c, err := scm.NewClient(reg, res, &scm.Options{FileCache: files,
			Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)}})
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	for _, token := range []string{"token-of-9am", "token-of-10am", "token-of-10am"} {
		c := client(token)
		before, notModified := len(gh.Requests()), gh.Stats().NotModified
		f, err := c.ReadFile(context.Background(), "https://"+gh.Host()+"/acme/svc/blob/main/catalog-info.yaml", nil)
		if err != nil {
			log.Fatal(err)
		}
		req := gh.Requests()[before]
		sent := "no validator"
		switch {
		case req.Header.Get("If-Modified-Since") != "":
			sent = "If-Modified-Since"
		case req.Header.Get("If-None-Match") != "":
			sent = "If-None-Match"
		}
		status := "read in full (counted)"
		if gh.Stats().NotModified > notModified {
			status = "answered 304 (free)"
		}
		fmt.Printf("%s: %q, %s, %s\n", token, f.Content, sent, status)
	}
	fmt.Println("answered 304:", gh.Stats().NotModified)
	// Output:
	// token-of-9am: "kind: Component\n", no validator, read in full (counted)
	// token-of-10am: "kind: Component\n", If-Modified-Since, answered 304 (free)
	// token-of-10am: "kind: Component\n", If-None-Match, answered 304 (free)
	// answered 304: 2
}
