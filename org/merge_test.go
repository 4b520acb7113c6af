package org_test

import (
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
	if !strings.Contains(w, "ldap: skipped one entry") || !strings.Contains(w, "user:default/alice: in snapshots 0 and 2 (as user:default/Alice); kept from snapshot 0, left out of snapshot 2") {
		t.Errorf("warnings %q", w)
	}
	if github.Groups[0].Spec.Members[0] != "bob" {
		t.Error("Merge reordered an input's members")
	}
}
