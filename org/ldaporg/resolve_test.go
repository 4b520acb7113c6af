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

// TestNormalizeDNKeepsEscapes: a comma, plus or backslash escaped in a
// value is part of the value, never a separator: "cn=a\,cn=b,..." (one
// entry whose cn holds a comma) and "cn=a,cn=b,..." (another entry, one
// level deeper) are different DNs; spellings of one DN (case, spaces
// around separators, hex escapes, RDN order) stay equal.
func TestNormalizeDNKeepsEscapes(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{`cn=a\,cn=b,dc=x`, `cn=a,cn=b,dc=x`, false},
		{`cn=a\+uid=b,dc=x`, `cn=a+uid=b,dc=x`, false},
		{`cn=a\\,dc=x`, `cn=a\,dc=x`, false},
		{`cn=a\ ,dc=x`, `cn=a,dc=x`, false},
		{`cn\=x=y,dc=x`, `cn=x\=y,dc=x`, false},
		{"cn=#0403E29C93,dc=x", "cn=#0403E29C94,dc=x", false},
		{"cn=#0401FF,dc=x", "cn=#0401FE,dc=x", false},
		{`cn=Jos\C3\A9,dc=x`, "CN=JOSÉ,dc=x", true},
		{`CN=Smith\, John, OU=People,DC=Example`, `cn=smith\2c john,ou=people,dc=example`, true},
		{`cn=a+uid=b,dc=x`, `UID=B + CN=A,dc=x`, true},
		{`cn=devs,ou=groups,dc=example,dc=org`, `CN=Devs, OU=Groups,DC=Example,DC=Org`, true},
	} {
		na, okA := NormalizeDN(tc.a)
		nb, okB := NormalizeDN(tc.b)
		if !okA || !okB || (na == nb) != tc.same {
			t.Errorf("NormalizeDN(%q) = %q, NormalizeDN(%q) = %q; want equal: %v", tc.a, na, tc.b, nb, tc.same)
		}
	}
}

// TestResolveDNWithEscapedComma: a group's member reference names the
// user whose cn holds an escaped comma ("Smith,cn=John"), not another
// user whose DN reads the same once the escape is dropped (cn=Smith under
// cn=John).
func TestResolveDNWithEscapedComma(t *testing.T) {
	snap := &org.Snapshot{
		Users: []org.User{
			{Metadata: org.Metadata{Name: "smith-john"}, Spec: org.UserSpec{MemberOf: []string{}}},
			{Metadata: org.Metadata{Name: "smith"}, Spec: org.UserSpec{MemberOf: []string{}}},
		},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "admins"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}}},
	}
	users := []entry{
		{dn: `cn=Smith\,cn=John,ou=people,dc=example,dc=org`},
		{dn: `cn=Smith,cn=John,ou=people,dc=example,dc=org`},
	}
	groups := []entry{{dn: "cn=admins,ou=groups,dc=example,dc=org", rdn: "admins", members: []string{`cn=smith\2Ccn=John,ou=people,dc=example,dc=org`}}}
	resolve(snap, users, groups)
	if got := snap.Users[0].Spec.MemberOf; !slices.Equal(got, []string{"group:default/admins"}) {
		t.Errorf("smith-john.memberOf = %v, want the admins group", got)
	}
	if got := snap.Users[1].Spec.MemberOf; len(got) != 0 {
		t.Errorf("smith.memberOf = %v, want none: admins names another entry", got)
	}
}
