package githubscm_test

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

// Example registers the GitHub adapter with the portable client, reads a
// file and opens a pull request. A fake GitHub stands in for github.com;
// in production the registry comes from app-config.yaml and the host is
// github.com or a GitHub Enterprise Server.
func Example() {
	ctx := context.Background()
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"ghp_example"}})
	defer fake.Close()
	if _, err := fake.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{
		{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")},
	}}); err != nil {
		log.Fatal(err)
	}

	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Token: integrations.NewSecret("ghp_example")}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := scm.NewClient(reg, res, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)},
	})
	if err != nil {
		log.Fatal(err)
	}

	f, err := client.ReadFile(ctx, "https://"+fake.Host()+"/acme/svc/blob/main/catalog-info.yaml", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("read %q, blob %s\n", f.Content, f.BlobID[:7])

	spec := &scm.PullRequestSpec{
		RepoURL: "https://" + fake.Host() + "/acme/svc",
		Branch:  "add-docs",
		Title:   "Add docs",
		Changes: []scm.Change{
			{Path: "docs/index.md", Content: []byte("# Docs\n")},
			{Path: "mkdocs.yml", Content: []byte("site_name: svc\n")},
		},
	}
	before := fake.Stats().API
	pr, err := client.OpenPullRequest(ctx, spec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("opened #%d (existing %v) in %d requests\n", pr.Number, pr.Existing, fake.Stats().API-before)

	before = fake.Stats().API
	pr, err = client.OpenPullRequest(ctx, spec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("again: #%d (existing %v) in %d request\n", pr.Number, pr.Existing, fake.Stats().API-before)
	// Output:
	// read "kind: Component\n", blob 8524aaf
	// opened #1 (existing false) in 2 requests
	// again: #1 (existing true) in 1 request
}
