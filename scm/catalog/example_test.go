package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

func ExampleParse() {
	entities, err := catalog.Parse([]byte(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: petstore
spec:
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  title: no name
`))
	for _, e := range entities {
		fmt.Println(e.Kind, e.Metadata.Name, e.Spec["owner"])
	}
	var pe *catalog.ParseError
	if errors.As(err, &pe) {
		for _, p := range pe.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// Component petstore team-a
	// document 2 (line 10): metadata.name: required, must be a non-empty string
}

// A discovery re-run on a provider without an owner-wide search reads the
// catalog file in each repository; with NotFoundMaxAge it does not ask
// again, within that age, the repositories that have none.
func ExampleDiscover_notFoundMaxAge() {
	s := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Tokens: []string{"bb-token"}, SearchDisabled: true})
	defer s.Close()
	for i := range 10 {
		r := fakebitbucketcloud.Repo{Workspace: "acme", Slug: fmt.Sprintf("svc-%d", i), Files: []fake.File{{Path: "README.md", Content: []byte("# svc\n")}}}
		if i < 6 {
			r.Files = append(r.Files, fake.File{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")})
		}
		if _, err := s.AddRepo(r); err != nil {
			fmt.Println(err)
			return
		}
	}
	reg, err := integrations.NewRegistry(integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
		Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret("bb-token")}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := scm.NewClient(reg, res, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{
		integrations.BitbucketCloud: bitbucketcloudscm.Opener(&bitbucketcloudscm.Options{NoCodeSearch: true})}})
	if err != nil {
		fmt.Println(err)
		return
	}
	owner := "https://" + s.Host() + "/acme"
	opts := &catalog.DiscoverOptions{NotFoundMaxAge: 10 * time.Minute}
	for run := 1; run <= 2; run++ {
		before := s.Stats()
		locs, err := catalog.Discover(context.Background(), client, owner, opts)
		if err != nil {
			fmt.Println(err)
			return
		}
		after := s.Stats()
		fmt.Printf("run %d: %d catalog files, %d requests, %d answered 304\n", run, len(locs), after.API-before.API, after.NotModified-before.NotModified)
	}
	// Output:
	// run 1: 6 catalog files, 11 requests, 0 answered 304
	// run 2: 6 catalog files, 7 requests, 6 answered 304
}
