package ldaporg

import (
	"testing"

	"github.com/scmkit/scmkit/org"
)

// A reference that is a DN of one RDN (an entry at the root of a naming
// context) resolves by DN.
func TestSingleRDNDNReference(t *testing.T) {
	snap := &org.Snapshot{
		Users:  []org.User{{Metadata: org.Metadata{Name: "jane"}, Spec: org.UserSpec{MemberOf: []string{}}}},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "admins"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}}},
	}
	users := []entry{{dn: "uid=jane,o=acme", rdn: "jane", refs: []string{"cn=admins"}}}
	groups := []entry{{dn: "cn=admins", rdn: "admins"}}
	resolve(snap, users, groups)
	if got := snap.Users[0].Spec.MemberOf; len(got) != 1 {
		t.Errorf("jane memberOf = %v; want admins, by its one-RDN DN", got)
	}
}

// A one-RDN DN reference names the entry with that DN, not one whose RDN
// value spells it.
func TestSingleRDNDNNotTakenByValue(t *testing.T) {
	snap := &org.Snapshot{
		Users: []org.User{
			{Metadata: org.Metadata{Name: "ivan"}, Spec: org.UserSpec{MemberOf: []string{}}},
			{Metadata: org.Metadata{Name: "mallory"}, Spec: org.UserSpec{MemberOf: []string{}}},
		},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "admins"}, Spec: org.GroupSpec{Type: "team", Children: []string{}}}},
	}
	users := []entry{{dn: "uid=ivan", rdn: "ivan"}, {dn: `uid=uid\=ivan,o=acme`, rdn: "uid=ivan"}}
	groups := []entry{{dn: "cn=admins,o=acme", rdn: "admins", members: []string{"uid=ivan"}}}
	resolve(snap, users, groups)
	if len(snap.Users[1].Spec.MemberOf) != 0 || len(snap.Users[0].Spec.MemberOf) != 1 {
		t.Errorf("member uid=ivan resolved to mallory, not to the entry with that DN")
	}
}
