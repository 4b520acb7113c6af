package bitbucketserverscm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// Example reads a file and opens a pull request on a Bitbucket Data Center
// served under a context path (here the fake from scmtest).
func Example() {
	ctx := context.Background()
	bb := fakebitbucketserver.New(&fakebitbucketserver.Options{ContextPath: "/bitbucket", Tokens: []string{"http-access-token"}})
	defer bb.Close()
	if _, err := bb.AddRepo(fakebitbucketserver.Repo{Project: "PLAT", Name: "Service Catalog", Files: []fake.File{
		{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")},
	}}); err != nil {
		log.Fatal(err)
	}

	reg, err := integrations.NewRegistry(integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
		Host:       bb.Host(),
		APIBaseURL: bb.APIBaseURL(), // https://host/bitbucket/rest/api/1.0 in real life
		Token:      integrations.NewSecret("http-access-token"),
	}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := scm.NewClient(reg, res, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.BitbucketServer: bitbucketserverscm.Opener(nil)},
	})
	if err != nil {
		log.Fatal(err)
	}

	repo := bb.URL() + "/projects/PLAT/repos/service-catalog"
	f, err := client.ReadFile(ctx, repo+"/browse/catalog-info.yaml", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", f.Content)

	pr, err := client.OpenPullRequest(ctx, &scm.PullRequestSpec{
		RepoURL: repo,
		Branch:  "feature/owner",
		Title:   "Set the owner",
		Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\nspec:\n  owner: team-a\n")}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pr.Number, pr.Branch, "->", pr.Base, pr.Existing)
	// Output:
	// kind: Component
	// 1 feature/owner -> main false
}
