// Package orgtest seeds the fakes an embedder of package org tests against
// with one small, consistent organisation, the same on every source:
// GitHub (scm/scmtest/fakegithub), GitLab (scm/scmtest/fakegitlab) and
// Microsoft Graph (org/orgtest/fakegraph).
//
// The organisation: engineering, with child teams platform-team (and its
// child sre) and web. alice and bob are in platform-team, erin in sre,
// carol in web, dave in engineering itself; frank belongs to no team. On
// GitHub and GitLab the logins are the names above; on Graph the users'
// mail is name@acme.example, so their entity names are
// "alice_acme.example" and so on, and the tenant "Acme" is the root group.
//
// So "only members of group:default/platform-team may register
// components" holds for alice and bob, and, through the tree, everyone but
// frank is in group:default/engineering.
package orgtest

import (
	"fmt"

	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// Person is one member of the demo organisation.
type Person struct {
	Login string
	Name  string
	Team  string // "" for none
}

// People are the members of the demo organisation.
var People = []Person{
	{"alice", "Alice Liddell", "platform-team"},
	{"bob", "Bob Builder", "platform-team"},
	{"carol", "Carol Danvers", "web"},
	{"dave", "Dave Bowman", "engineering"},
	{"erin", "Erin Brockovich", "sre"},
	{"frank", "Frank Poole", ""},
}

// Teams are the demo organisation's teams, parents first.
var Teams = []struct{ Slug, Name, Parent, Description string }{
	{"engineering", "Engineering", "", "Everyone who builds things"},
	{"platform-team", "Platform Team", "engineering", "Runs the developer platform"},
	{"sre", "SRE", "platform-team", "Site reliability"},
	{"web", "Web", "engineering", "The web front ends"},
}

func members(team string) []string {
	var out []string
	for _, p := range People {
		if p.Team == team {
			out = append(out, p.Login)
		}
	}
	return out
}

// SeedGitHub adds the demo organisation to a fake GitHub as organisation
// org.
func SeedGitHub(s *fakegithub.Server, org string) error {
	for _, p := range People {
		if err := s.AddOrgMember(org, fakegithub.OrgMember{Login: p.Login, Name: p.Name, Email: p.Login + "@acme.example"}); err != nil {
			return err
		}
	}
	for _, t := range Teams {
		if err := s.AddTeam(org, fakegithub.Team{Slug: t.Slug, Name: t.Name, Parent: t.Parent, Description: t.Description, Members: members(t.Slug)}); err != nil {
			return err
		}
	}
	return nil
}

// SeedGitLab adds the demo organisation to a fake GitLab under the group
// root: root/engineering, root/engineering/platform-team, and so on, each
// person a direct member of their team's group; frank is only a user of
// the instance.
func SeedGitLab(s *fakegitlab.Server, root string) error {
	path := map[string]string{}
	for _, t := range Teams {
		p := root + "/" + t.Slug
		if t.Parent != "" {
			p = path[t.Parent] + "/" + t.Slug
		}
		path[t.Slug] = p
		if err := s.AddGroup(p); err != nil {
			return err
		}
		s.SetGroupDescription(p, t.Description)
	}
	for _, p := range People {
		m := fakegitlab.Member{Username: p.Login, Name: p.Name, PublicEmail: p.Login + "@acme.example"}
		if p.Team == "" {
			s.AddOrgUser(m)
			continue
		}
		if err := s.AddGroupMember(path[p.Team], m); err != nil {
			return err
		}
	}
	return nil
}

// SeedGraph adds the demo organisation to a fake Graph tenant: a security
// group per team (nested as the teams are) and a user per person.
func SeedGraph(s *fakegraph.Server) error {
	ids := map[string]string{}
	for _, p := range People {
		ids[p.Login] = s.PutUser(fakegraph.User{DisplayName: p.Name, Mail: p.Login + "@acme.example",
			UserPrincipalName: p.Login + "@acme.example", AccountEnabled: true})
	}
	for _, t := range Teams {
		ids[t.Slug] = s.NewID()
	}
	for _, t := range Teams {
		var m []string
		for _, l := range members(t.Slug) {
			m = append(m, ids[l])
		}
		for _, c := range Teams {
			if c.Parent == t.Slug {
				m = append(m, ids[c.Slug])
			}
		}
		s.PutGroup(fakegraph.Group{ID: ids[t.Slug], DisplayName: t.Name, MailNickname: t.Slug, Description: t.Description,
			SecurityEnabled: true, Members: m})
	}
	if len(ids) != len(People)+len(Teams) {
		return fmt.Errorf("orgtest: duplicate names in the demo organisation")
	}
	return nil
}
