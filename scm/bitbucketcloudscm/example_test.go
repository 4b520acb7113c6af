package bitbucketcloudscm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// Example discovers catalog files across a workspace with code search and
// opens a pull request, against the fake Bitbucket Cloud from scmtest.
// Against bitbucket.org, leave Host and APIBaseURL empty.
func Example() {
	ctx := context.Background()
	bb := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Users: map[string]string{"me@example.com": "api-token"}})
	defer bb.Close()
	for _, name := range []string{"billing", "search"} {
		if _, err := bb.AddRepo(fakebitbucketcloud.Repo{Workspace: "acme", Slug: name, Files: []fake.File{
			{Path: "catalog-info.yaml", Content: []byte("kind: Component\nmetadata:\n  name: " + name + "\n")},
		}}); err != nil {
			log.Fatal(err)
		}
	}

	reg, err := integrations.NewRegistry(integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
		Host: bb.Host(), APIBaseURL: bb.APIBaseURL(),
		Username: "me@example.com", Token: integrations.NewSecret("api-token"), // an Atlassian API token
	}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := scm.NewClient(reg, res, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.BitbucketCloud: bitbucketcloudscm.Opener(nil)},
	})
	if err != nil {
		log.Fatal(err)
	}

	for f, err := range client.FindFiles(ctx, bb.URL()+"/acme", "catalog-info.yaml") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Repository.Name, f.Repository.DefaultBranch, f.Method)
	}

	pr, err := client.OpenPullRequest(ctx, &scm.PullRequestSpec{
		RepoURL: bb.URL() + "/acme/billing",
		Branch:  "scaffolder/docs",
		Title:   "Add docs",
		Changes: []scm.Change{
			{Path: "docs/index.md", Content: []byte("# Billing\n")},
			{Path: "scripts/build.sh", Content: []byte("#!/bin/sh\n"), Executable: true},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pr.Number, pr.Branch, "->", pr.Base)
	// Output:
	// billing main finder
	// search main finder
	// 1 scaffolder/docs -> main
}
