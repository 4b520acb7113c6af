package ldaporg

import (
	"testing"

	"github.com/scmkit/scmkit/org"
)

// A reference that is a DN resolves by DN only: to a DN left out as
// ambiguous it resolves to nothing, never to an entry whose RDN value
// spells that DN.
func TestAmbiguousDNDoesNotFallBackToValue(t *testing.T) {
	snap := &org.Snapshot{
		Users: []org.User{
			{Metadata: org.Metadata{Name: "ivan"}, Spec: org.UserSpec{MemberOf: []string{}}},
			{Metadata: org.Metadata{Name: "ivan2"}, Spec: org.UserSpec{MemberOf: []string{}}},
			{Metadata: org.Metadata{Name: "mallory"}, Spec: org.UserSpec{MemberOf: []string{}}},
		},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "admins"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}}},
	}
	const target = "cn=ivan,ou=people,dc=example,dc=org"
	users := []entry{
		{dn: target},
		{dn: "CN=Ivan,ou=people,dc=example,dc=org"},
		{dn: `cn=cn\=ivan\,ou\=people\,dc\=example\,dc\=org,ou=people,dc=example,dc=org`, rdn: target},
	}
	groups := []entry{{dn: "cn=admins,ou=groups,dc=example,dc=org", rdn: "admins", members: []string{target}}}
	resolve(snap, users, groups)
	if got := snap.Users[2].Spec.MemberOf; len(got) != 0 {
		t.Errorf("mallory memberOf = %v: the ambiguous DN %s resolved to her by RDN value", got, target)
	}
}

// A reference by value that holds '=' (a base64 value) is no DN: it still
// resolves by value.
func TestValueReferenceWithEqualsSign(t *testing.T) {
	snap := &org.Snapshot{
		Users:  []org.User{{Metadata: org.Metadata{Name: "jane"}, Spec: org.UserSpec{MemberOf: []string{}}}},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "admins"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}}},
	}
	users := []entry{{dn: "cn=jane,ou=people,dc=example,dc=org", uuid: "dGVzdA=="}}
	groups := []entry{{dn: "cn=admins,ou=groups,dc=example,dc=org", rdn: "admins", members: []string{"dGVzdA=="}}}
	resolve(snap, users, groups)
	if got := snap.Users[0].Spec.MemberOf; len(got) != 1 || got[0] != "group:default/admins" {
		t.Errorf("jane memberOf = %v; want admins, by her base64 id", got)
	}
}
