package org_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/org"
)

// A GitHub org and an LDAP directory both have alice: the catalog holds
// one alice, the first provider's, and says so; her memberships are not
// combined with the other provider's (a GitHub login is its owner's
// choice, and must not gain the directory user's groups).
func TestMerge(t *testing.T) {
	ldap := &org.Snapshot{
		Users:    []org.User{{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"group:default/ldap-admins"}}}},
		Groups:   []org.Group{{Metadata: org.Metadata{Name: "ldap-admins"}, Spec: org.GroupSpec{Type: "team"}}},
		Warnings: []string{"ldap: skipped one entry"},
	}
	github := &org.Snapshot{
		Users: []org.User{
			{Metadata: org.Metadata{Name: "Alice"}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}},
			{Metadata: org.Metadata{Name: "bob"}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}},
		},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "platform-team"}, Spec: org.GroupSpec{Type: "team", Members: []string{"bob", "Alice"}}}},
	}
	m := org.Merge(ldap, nil, github)
	if err := m.Validate(); err != nil {
		t.Fatalf("the merged snapshot is not valid: %v", err)
	}
	if len(m.Users) != 2 || len(m.Groups) != 2 {
		t.Fatalf("got %d users and %d groups; want alice, bob, ldap-admins and platform-team", len(m.Users), len(m.Groups))
	}
	alice := m.User(org.UserRef("", "alice"))
	if alice == nil || strings.Join(alice.Spec.MemberOf, ",") != "group:default/ldap-admins" {
		t.Errorf("alice: %+v; want the directory's, with its groups only", alice)
	}
	w := strings.Join(m.Warnings, "\n")
	if !strings.Contains(w, "ldap: skipped one entry") || !strings.Contains(w, "user:default/alice: in snapshot 0 and snapshot 2 (as user:default/Alice); kept from snapshot 0, left out of snapshot 2") {
		t.Errorf("warnings %q", w)
	}
	if github.Groups[0].Spec.Members[0] != "bob" {
		t.Error("Merge reordered an input's members")
	}
	// Memberships are not combined: the GitHub team listing its Alice
	// does not take the directory's alice in, and a GitHub user naming
	// the directory's group does not join it.
	github.Users[1].Spec.MemberOf = append(github.Users[1].Spec.MemberOf, "ldap-admins")
	m = org.Merge(ldap, github)
	x := org.NewIndex(m)
	if x.IsMember(org.UserRef("", "alice"), org.GroupRef("", "platform-team")) {
		t.Error("the directory's alice is a member of the GitHub team that listed GitHub's Alice")
	}
	if x.IsMember(org.UserRef("", "bob"), org.GroupRef("", "ldap-admins")) {
		t.Error("GitHub's bob joined the directory's ldap-admins by naming it")
	}
	if !x.IsMember(org.UserRef("", "bob"), org.GroupRef("", "platform-team")) || !x.IsMember(org.UserRef("", "alice"), org.GroupRef("", "ldap-admins")) {
		t.Error("a membership within one provider was lost")
	}
	if !strings.Contains(strings.Join(m.Warnings, "\n"), "2 membership references left out") {
		t.Errorf("warnings %q do not count the 2 references left out", m.Warnings)
	}
}

// TestMergeNamesSources (review 29, point 8): Merge's warnings name the
// providers by Snapshot.Source, as the readers set it, not by position;
// without one (or with two alike), the position says which.
func TestMergeNamesSources(t *testing.T) {
	team := func(source, member string) *org.Snapshot {
		return &org.Snapshot{Source: source,
			Users:  []org.User{{Metadata: org.Metadata{Name: member}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}}},
			Groups: []org.Group{{Metadata: org.Metadata{Name: "platform-team"}, Spec: org.GroupSpec{Type: "team", Members: []string{member}}}}}
	}
	m := org.Merge(team("ldapOrg:corp", "alice"), team("githubOrg:partner", "frank"))
	want := "group:default/platform-team: in ldapOrg:corp and githubOrg:partner (as group:default/platform-team); kept from ldapOrg:corp, left out of githubOrg:partner"
	if !slices.Contains(m.Warnings, want) {
		t.Errorf("warnings %q\nwant %q", m.Warnings, want)
	}
	m = org.Merge(team("githubOrg:a", "alice"), team("", "frank"), team("githubOrg:a", "bob"))
	for _, w := range []string{"in githubOrg:a (snapshot 0) and snapshot 1", "in githubOrg:a (snapshot 0) and githubOrg:a (snapshot 2)"} {
		if !slices.ContainsFunc(m.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning %q in %q", w, m.Warnings)
		}
	}
}
