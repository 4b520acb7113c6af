package githuborg_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// Example reads a GitHub organisation's members and teams and lists who is
// in group:default/platform-team. A fake GitHub stands in for github.com;
// in production the registry comes from app-config.yaml (config.Load) and
// the Config from catalog.providers.githubOrg (DecodeConfig).
func Example() {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"ghp_example"}})
	defer fake.Close()
	if err := orgtest.SeedGitHub(fake, "acme"); err != nil {
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
	r, err := githuborg.New(githuborg.Config{ID: "production", GitHubURL: "http://" + fake.Host(), Orgs: []string{"acme"}},
		&githuborg.Options{Registry: reg, Resolver: res})
	if err != nil {
		log.Fatal(err)
	}
	snap, err := r.Read(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, u := range org.NewIndex(snap).MembersOf(org.MustParseRef("group:default/platform-team", "", "")) {
		names = append(names, u.Name)
	}
	fmt.Printf("%d users, %d groups in %d request\n", len(snap.Users), len(snap.Groups), fake.Stats().API)
	fmt.Println("platform-team:", strings.Join(names, ", "))
	// Output:
	// 6 users, 4 groups in 1 request
	// platform-team: alice, bob, erin
}

// Example_excludeSuspendedUsers reads an organisation of GitHub Enterprise
// Server (API at /api/v3, GraphQL at /api/graphql) with Backstage's
// excludeSuspendedUsers: the account a site administrator suspended is no
// user and no team's member, at no request more.
func Example_excludeSuspendedUsers() {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"ghp_example"}, EnterpriseServer: true})
	defer fake.Close()
	if err := orgtest.SeedGitHub(fake, "acme"); err != nil {
		log.Fatal(err)
	}
	fake.SuspendUser("bob", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: fake.Host(), APIBaseURL: fake.GHEAPIBaseURL(), Token: integrations.NewSecret("ghp_example")}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	r, err := githuborg.New(githuborg.Config{ID: "ghes", GitHubURL: "http://" + fake.Host(), Orgs: []string{"acme"}, ExcludeSuspendedUsers: true},
		&githuborg.Options{Registry: reg, Resolver: res})
	if err != nil {
		log.Fatal(err)
	}
	snap, err := r.Read(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, u := range org.NewIndex(snap).MembersOf(org.MustParseRef("group:default/platform-team", "", "")) {
		names = append(names, u.Name)
	}
	fmt.Printf("%d users, %d groups in %d request; bob read: %v\n", len(snap.Users), len(snap.Groups), fake.Stats().API, snap.User(org.UserRef("", "bob")) != nil)
	fmt.Println("platform-team:", strings.Join(names, ", "))
	// Output:
	// 5 users, 4 groups in 1 request; bob read: false
	// platform-team: alice, erin
}
