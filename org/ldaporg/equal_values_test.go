package ldaporg

import (
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/org"
)

// TestResolveEqualValues: a value two users (or two groups) hold as RDN or
// UUID names neither; one entry's RDN value equal to another's UUID is
// ambiguous too. A user and a group sharing a value (a POSIX user private
// group) are not ambiguous: a member reference is the user. Only a value
// some reference uses is warned about.
func TestResolveEqualValues(t *testing.T) {
	snap := &org.Snapshot{
		Users: []org.User{
			{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{}}},
			{Metadata: org.Metadata{Name: "alice", Namespace: "contractors"}, Spec: org.UserSpec{MemberOf: []string{}}},
			{Metadata: org.Metadata{Name: "carol"}, Spec: org.UserSpec{MemberOf: []string{}}},
			{Metadata: org.Metadata{Name: "dave"}, Spec: org.UserSpec{MemberOf: []string{}}},
			{Metadata: org.Metadata{Name: "erin"}, Spec: org.UserSpec{MemberOf: []string{}}},
			{Metadata: org.Metadata{Name: "erin", Namespace: "contractors"}, Spec: org.UserSpec{MemberOf: []string{}}},
		},
		Groups: []org.Group{
			{Metadata: org.Metadata{Name: "admins"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}},
			{Metadata: org.Metadata{Name: "alice-group"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}},
		},
	}
	users := []entry{
		{dn: "uid=alice,ou=people,dc=example,dc=org", rdn: "alice", uuid: "u-1"},
		{dn: "uid=alice,ou=contractors,dc=example,dc=org", rdn: "ALICE", uuid: "u-2"},
		{dn: "uid=carol,ou=people,dc=example,dc=org", rdn: "carol", uuid: "u-3"},
		{dn: "uid=dave,ou=people,dc=example,dc=org", rdn: "u-3", uuid: "u-4"}, // rdn = carol's uuid
		// Ambiguous too, but nothing names erin by value: no warning.
		{dn: "uid=erin,ou=people,dc=example,dc=org", rdn: "erin"},
		{dn: "uid=erin,ou=contractors,dc=example,dc=org", rdn: "erin"},
	}
	groups := []entry{
		{dn: "cn=admins,ou=groups,dc=example,dc=org", rdn: "admins", members: []string{"alice", "u-1", "u-3", "u-4"}},
		{dn: "cn=alice,ou=groups,dc=example,dc=org", rdn: "alice", members: []string{"carol"}},
	}
	resolve(snap, users, groups)
	got := map[string][]string{}
	for _, u := range snap.Users {
		m := slices.Clone(u.Spec.MemberOf)
		slices.Sort(m)
		got[u.Ref().String()] = m
	}
	want := map[string][]string{
		"user:default/alice":     {"group:default/admins"}, // by its uuid u-1 only
		"user:contractors/alice": nil,
		"user:default/carol":     {"group:default/alice-group"}, // by rdn carol; u-3 is ambiguous
		"user:default/dave":      {"group:default/admins"},      // by its uuid u-4
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s memberOf %v, want %v", k, got[k], w)
		}
	}
	var n int
	for _, w := range snap.Warnings {
		w = strings.ToLower(w)
		if strings.Contains(w, `"alice"`) && strings.Contains(w, "ou=people") && strings.Contains(w, "ou=contractors") ||
			strings.Contains(w, `"u-3"`) && strings.Contains(w, "uid=carol") && strings.Contains(w, "uid=dave") {
			n++
		}
	}
	if n != 2 || len(snap.Warnings) != 2 {
		t.Errorf("warnings %q, want one for alice and one for u-3", snap.Warnings)
	}
}
