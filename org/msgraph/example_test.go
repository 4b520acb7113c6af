package msgraph_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/msgraph"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
)

// Example reads a tenant twice: the second, incremental read of the
// unchanged tenant costs only its delta requests. A fake Graph stands in
// for graph.microsoft.com and login.microsoftonline.com; in production the
// Config comes from catalog.providers.microsoftGraphOrg (DecodeConfig) and
// Target and Authority keep their defaults.
func Example() {
	fake := fakegraph.New(&fakegraph.Options{OrgName: "Acme"})
	defer fake.Close()
	if err := orgtest.SeedGraph(fake); err != nil {
		log.Fatal(err)
	}
	r, err := msgraph.New(msgraph.Config{
		ID:     "default",
		Target: fake.Target(), Authority: fake.URL(),
		TenantID: fake.TenantID(), ClientID: fake.ClientID(), ClientSecret: integrations.NewSecret(fake.ClientSecret()),
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		before := fake.Stats().Graph
		snap, err := r.Read(ctx)
		if err != nil {
			log.Fatal(err)
		}
		idx := org.NewIndex(snap)
		fmt.Printf("%d users, %d groups, %d requests; alice in engineering: %v\n", len(snap.Users), len(snap.Groups),
			fake.Stats().Graph-before, idx.IsMember(org.UserRef("", "alice_acme.example"), org.GroupRef("", "engineering")))
	}
	// Output:
	// 6 users, 5 groups, 3 requests; alice in engineering: true
	// 6 users, 5 groups, 3 requests; alice in engineering: true
}
