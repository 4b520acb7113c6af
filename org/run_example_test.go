package org_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// ExampleRun reads catalog.providers.githubOrg on its Backstage schedule
// and serves each snapshot to an identity.LiveCatalog (an RBAC policy
// would take rbac.FromSnapshot of it through rbac.Live.SetMembership). A
// fake GitHub stands in for github.com. In a fleet, give RunOptions.Shared
// redisstore's Store.OrgSnapshots, so that one replica reads each period.
func ExampleRun() {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"ghp_example"}})
	defer fake.Close()
	if err := orgtest.SeedGitHub(fake, "acme"); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, err := config.LoadBytes(ctx, nil, fmt.Appendf(nil, `
integrations:
  github:
    - host: %s
      apiBaseUrl: %s
      token: ghp_example
catalog:
  providers:
    githubOrg:
      id: production
      githubUrl: http://%[1]s
      orgs: [acme]
      schedule:
        frequency: { minutes: 30 }
        timeout: PT3M
`, fake.Host(), fake.APIBaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(cfg.Registry, nil)
	if err != nil {
		log.Fatal(err)
	}
	providers, err := githuborg.DecodeConfig(cfg)
	if err != nil {
		log.Fatal(err)
	}
	var sources []org.Source
	for _, p := range providers {
		r, err := githuborg.New(p, &githuborg.Options{Registry: cfg.Registry, Resolver: res})
		if err != nil {
			log.Fatal(err)
		}
		// A provider block without a schedule key has a nil Schedule:
		// Run refuses it, saying so. Read such a provider yourself, or
		// give it a schedule.
		sources = append(sources, org.Source{Name: "githubOrg:" + p.ID, Reader: r, Schedule: p.Schedule})
	}
	fmt.Println("schedule:", sources[0].Schedule.Frequency, "every, timeout", sources[0].Schedule.Timeout)

	catalog := identity.NewLiveCatalog(nil)
	err = org.Run(ctx, org.RunOptions{
		Sources: sources,
		Publish: func(ctx context.Context, s *org.Snapshot) error {
			// Swap refuses a snapshot it cannot serve (two entities with
			// one name, say) and keeps the last: return its error, which
			// Run logs.
			if err := catalog.Swap(s); err != nil {
				return err
			}
			groups, err := catalog.GroupsOf(ctx, org.UserRef("", "alice"), true)
			fmt.Println("published", len(s.Users), "users; alice is in", groups)
			cancel() // one is enough here; a portal runs until it stops
			return err
		},
	})
	fmt.Println("Run:", err, "; GitHub requests:", fake.Stats().API)
	// Output:
	// schedule: 30m0s every, timeout 3m0s
	// published 6 users; alice is in [group:default/engineering group:default/platform-team]
	// Run: <nil> ; GitHub requests: 1
}
