package githuborg_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/org/githuborg"
)

// ExampleDecodeConfig shows the warnings of an entry with keys scmkit
// does not read: a typo for orgs (with a GitHub App, no orgs would read
// every organisation the app is installed on) and Backstage's
// queryLimits. Print them at startup, as config.Load's.
func ExampleDecodeConfig() {
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(`
catalog:
  providers:
    githubOrg:
      id: production
      githubUrl: https://github.com
      org: [acme]
      queryLimits: {teamMembers: 50}
`))
	if err != nil {
		log.Fatal(err)
	}
	providers, err := githuborg.DecodeConfig(cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range providers {
		fmt.Println(p.ID, "orgs:", p.Orgs)
		for _, w := range p.Warnings {
			fmt.Println("warning:", w)
		}
	}
	// Output:
	// production orgs: []
	// warning: catalog.providers.githubOrg.org: not a key scmkit reads here; ignored (a typo for orgs?)
	// warning: catalog.providers.githubOrg.queryLimits: Backstage's limits on GraphQL query sizes are not read; scmkit sizes its queries with pageSizes and halves them when GitHub refuses a query as too large; ignored
}
