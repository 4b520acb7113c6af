package ldaporg

import (
	"slices"
	"testing"

	"github.com/scmkit/scmkit/org"
)

// TestResolveUserPrivateGroups: in a POSIX directory every user has a
// group of the same name (uid=jane, cn=jane) and groups list members by
// uid (memberUid). A member reference by value is the user, not the
// same-named group: jane is a member of developers, and her private group
// is not nested in it.
func TestResolveUserPrivateGroups(t *testing.T) {
	snap := &org.Snapshot{
		Users: []org.User{{Metadata: org.Metadata{Name: "jane"}, Spec: org.UserSpec{MemberOf: []string{}}}},
		Groups: []org.Group{
			{Metadata: org.Metadata{Name: "developers"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}},
			{Metadata: org.Metadata{Name: "jane-group"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}},
			{Metadata: org.Metadata{Name: "all"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}},
		},
	}
	users := []entry{{dn: "uid=jane,ou=people,dc=example,dc=org", rdn: "jane"}}
	groups := []entry{
		{dn: "cn=developers,ou=groups,dc=example,dc=org", rdn: "developers", members: []string{"jane"}, refs: []string{"all"}},
		{dn: "cn=jane,ou=groups,dc=example,dc=org", rdn: "jane", members: []string{"jane"}},
		{dn: "cn=all,ou=groups,dc=example,dc=org", rdn: "all"},
	}
	resolve(snap, users, groups)
	jane := snap.Users[0]
	slices.Sort(jane.Spec.MemberOf)
	if want := []string{"group:default/developers", "group:default/jane-group"}; !slices.Equal(jane.Spec.MemberOf, want) {
		t.Errorf("jane.memberOf = %v, want %v", jane.Spec.MemberOf, want)
	}
	if dev := snap.Groups[0]; len(dev.Spec.Children) != 0 || dev.Spec.Parent != "group:default/all" {
		t.Errorf("developers: children %v parent %q, want none and group:default/all (memberOf by value is a group)", dev.Spec.Children, dev.Spec.Parent)
	}
	if pg := snap.Groups[1]; pg.Spec.Parent != "" {
		t.Errorf("jane's private group has parent %q", pg.Spec.Parent)
	}
}
