package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/scm"
)

// showOrg reads the acme organisation's members and teams from the fake
// GitHub as Backstage User and Group entities and answers the question a
// permission policy asks: who is in group:default/platform-team?
func showOrg(ctx context.Context, w *world, out io.Writer) error {
	if err := orgtest.SeedGitHub(w.github, "acme"); err != nil {
		return err
	}
	cfg := githuborg.Config{ID: "production", GitHubURL: "http://" + w.github.Host(), Orgs: []string{"acme"}}

	// With the configuration above, the resolver picks the GitHub App
	// installed on acme; it was not granted Members (read), and the error
	// says so.
	r, err := githuborg.New(cfg, &githuborg.Options{Registry: w.reg, Resolver: w.resolver})
	if err != nil {
		return err
	}
	_, err = r.Read(ctx)
	if scm.Code(err) != scm.PermissionDenied {
		return fmt.Errorf("reading with the GitHub App: want PermissionDenied, got %v", err)
	}
	var e *scm.Error
	if !errors.As(err, &e) {
		return err
	}
	fmt.Fprintf(out, "as the GitHub App: %s\n  %s\n", e.Code, e.Msg)

	// The service token has read:org: a resolver that knows only it.
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: w.github.Host(), APIBaseURL: w.github.APIBaseURL(), Token: integrations.NewSecret(secrets["GITHUB_TOKEN"])}}})
	if err != nil {
		return err
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		return err
	}
	var requests int
	r, err = githuborg.New(cfg, &githuborg.Options{Registry: reg, Resolver: res,
		Progress: func(p org.Progress) { requests = p.Requests }})
	if err != nil {
		return err
	}
	snap, err := r.Read(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "as the service token: %d users and %d groups, %s\n", len(snap.Users), len(snap.Groups), plural(requests, "request"))

	team := org.MustParseRef("group:default/platform-team", "", "")
	idx := org.NewIndex(snap)
	var names []string
	for _, u := range idx.MembersOf(team) {
		names = append(names, u.String())
	}
	fmt.Fprintf(out, "members of %s (sre below it included): %s\n", team, strings.Join(names, ", "))
	tab := table(out)
	fmt.Fprintln(tab, "USER\tDIRECT GROUPS\tMAY REGISTER COMPONENTS")
	for _, login := range []string{"alice", "erin", "carol", "frank"} {
		u := org.UserRef("", login)
		var direct []string
		for _, g := range idx.DirectGroupsOf(u) {
			direct = append(direct, g.Name)
		}
		fmt.Fprintf(tab, "%s\t%s\t%v\n", u, strings.Join(direct, ","), idx.IsMember(u, team))
	}
	return tab.Flush()
}
