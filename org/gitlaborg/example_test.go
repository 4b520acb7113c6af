package gitlaborg_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// Example reads a GitLab group tree installed under a sub-path, as a
// self-managed instance at https://host/gitlab is. In production the
// registry comes from app-config.yaml and the Config from
// catalog.providers.gitlab.<id> (DecodeConfig).
func Example() {
	fake := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"glpat-example"}, RelativePath: "/gitlab"})
	defer fake.Close()
	if err := orgtest.SeedGitLab(fake, "acme"); err != nil {
		log.Fatal(err)
	}
	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), BaseURL: fake.URL(), Token: integrations.NewSecret("glpat-example")}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	r, err := gitlaborg.New(gitlaborg.Config{ID: "acme", Host: fake.Host(), Group: "acme", OrgEnabled: true, RestrictUsersToGroup: true},
		&gitlaborg.Options{Registry: reg, Resolver: res})
	if err != nil {
		log.Fatal(err)
	}
	snap, err := r.Read(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range snap.Groups {
		fmt.Printf("%s (parent %q): %v\n", g.Metadata.Name, g.Spec.Parent, g.Spec.Members)
	}
	fmt.Println(fake.Stats().Total, "request")
	// Output:
	// acme (parent ""): []
	// engineering (parent "acme"): [dave]
	// engineering-platform-team (parent "engineering"): [alice bob]
	// engineering-platform-team-sre (parent "engineering-platform-team"): [erin]
	// engineering-web (parent "engineering"): [carol]
	// 1 request
}

// Example_instance reads every group and every active user of a
// self-managed instance, as a catalog.providers.gitlab.<id> block without
// group does: group names are full paths with '/' replaced by '-'.
func Example_instance() {
	fake := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"glpat-example"}})
	defer fake.Close()
	if err := orgtest.SeedGitLab(fake, "acme"); err != nil {
		log.Fatal(err)
	}
	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), BaseURL: fake.URL(), Token: integrations.NewSecret("glpat-example")}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	// In app-config.yaml:
	//   catalog:
	//     providers:
	//       gitlab:
	//         instance:
	//           host: gitlab.example.com
	//           orgEnabled: true
	r, err := gitlaborg.New(gitlaborg.Config{ID: "instance", Host: fake.Host(), OrgEnabled: true},
		&gitlaborg.Options{Registry: reg, Resolver: res})
	if err != nil {
		log.Fatal(err)
	}
	snap, err := r.Read(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range snap.Groups {
		fmt.Printf("%s (parent %q): %v\n", g.Metadata.Name, g.Spec.Parent, g.Spec.Members)
	}
	fmt.Println(len(snap.Users), "users,", fake.Stats().Total, "requests")
	// Output:
	// acme (parent ""): []
	// acme-engineering (parent "acme"): [dave]
	// acme-engineering-platform-team (parent "acme-engineering"): [alice bob]
	// acme-engineering-platform-team-sre (parent "acme-engineering-platform-team"): [erin]
	// acme-engineering-web (parent "acme-engineering"): [carol]
	// 6 users, 2 requests
}
