package ldaporg

import (
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/org"
)

// Two entries whose DNs compare equal under Go's case folding but are two
// entries under LDAP's (U+0130 İ lower-cases to i, which LDAP's matching
// rules keep apart from i) never share one normal form; and entries whose
// normal forms do clash resolve to neither, with a warning, instead of the
// later one taking the earlier one's groups.
func TestCollidingDNsResolveToNeither(t *testing.T) {
	if a, _ := NormalizeDN("cn=İvan,dc=example,dc=org"); a == func() string { b, _ := NormalizeDN("cn=ivan,dc=example,dc=org"); return b }() {
		t.Errorf("cn=İvan and cn=ivan have one normal form %q", a)
	}
	newSnap := func() *org.Snapshot {
		return &org.Snapshot{
			Users: []org.User{
				{Metadata: org.Metadata{Name: "ivan"}, Spec: org.UserSpec{MemberOf: []string{}}},
				{Metadata: org.Metadata{Name: "mallory"}, Spec: org.UserSpec{MemberOf: []string{}}},
			},
			Groups: []org.Group{{Metadata: org.Metadata{Name: "admins"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}}},
		}
	}
	groups := []entry{{dn: "cn=admins,ou=groups,dc=example,dc=org", rdn: "admins", members: []string{"cn=ivan,ou=people,dc=example,dc=org"}}}

	snap := newSnap()
	resolve(snap, []entry{{dn: "cn=ivan,ou=people,dc=example,dc=org"}, {dn: "cn=İvan,ou=people,dc=example,dc=org"}}, groups)
	if got := snap.Users[1].Spec.MemberOf; len(got) != 0 {
		t.Errorf("mallory (cn=İvan) memberOf = %v: admins names cn=ivan, another entry", got)
	}
	if got := snap.Users[0].Spec.MemberOf; !slices.Equal(got, []string{"group:default/admins"}) {
		t.Errorf("ivan memberOf = %v, want admins", got)
	}

	snap = newSnap() // one DN, listed for two entries
	resolve(snap, []entry{{dn: "cn=ivan,ou=people,dc=example,dc=org"}, {dn: "CN=Ivan, ou=people,dc=example,dc=org"}}, groups)
	for _, u := range snap.Users {
		if len(u.Spec.MemberOf) != 0 {
			t.Errorf("%s memberOf = %v; want none: the reference is ambiguous", u.Metadata.Name, u.Spec.MemberOf)
		}
	}
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "two entries have the DN") {
		t.Errorf("warnings = %q", snap.Warnings)
	}
}
