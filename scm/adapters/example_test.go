package adapters_test

import (
	"fmt"
	"log"
	"maps"
	"slices"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
)

func ExampleAll() {
	reg, err := integrations.NewRegistry(integrations.Config{
		BitbucketServer: []integrations.BitbucketServerConfig{{Host: "bitbucket.example.com"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	drivers := adapters.All(nil)
	for _, kind := range slices.Sorted(maps.Keys(drivers)) {
		fmt.Println(kind)
	}
	// One client for every configured host; a nil resolver sends no
	// credential.
	if _, err := scm.NewClient(reg, nil, &scm.Options{Drivers: drivers}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// bitbucketCloud
	// bitbucketServer
	// github
	// gitlab
}
