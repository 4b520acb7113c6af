package bitbucketserverscm_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// ExampleDriver_FindFiles discovers catalog-info.yaml in a project with
// Data Center's code search: one request per 100 hits instead of one read
// per repository. FoundFile.Method says which was used.
func ExampleDriver_FindFiles() {
	ctx := context.Background()
	bb := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{"http-access-token"}})
	defer bb.Close()
	for _, name := range []string{"billing", "payments", "docs"} {
		var files []fake.File
		if name != "docs" {
			files = []fake.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}
		} else {
			files = []fake.File{{Path: "README.md", Content: []byte("no catalog-info.yaml here\n")}}
		}
		if _, err := bb.AddRepo(fakebitbucketserver.Repo{Project: "PLAT", Name: name, Files: files}); err != nil {
			log.Fatal(err)
		}
	}

	reg, err := integrations.NewRegistry(integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
		Host: bb.Host(), APIBaseURL: bb.APIBaseURL(), Token: integrations.NewSecret("http-access-token"),
	}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := scm.NewClient(reg, res, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{
			// Where search is not available, the driver falls back to one
			// read per repository and tries search again after an hour.
			integrations.BitbucketServer: bitbucketserverscm.Opener(&bitbucketserverscm.Options{SearchRecheck: time.Hour}),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for f, err := range client.FindFiles(ctx, bb.URL()+"/projects/PLAT", "catalog-info.yaml") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Repository.Name, f.Method)
	}
	fmt.Println("requests:", bb.Stats().Total)
	// Output:
	// billing finder
	// payments finder
	// requests: 1
}
