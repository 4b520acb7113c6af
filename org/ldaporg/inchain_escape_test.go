package ldaporg_test

import (
	"testing"
)

// TestInChainEscapesTheDN: a DN holding filter characters (parentheses,
// '*', a backslash), valid in a DN, is matched as a value in the
// LDAP_MATCHING_RULE_IN_CHAIN filter, never read as filter syntax: the
// search is well formed and finds nothing.
func TestInChainEscapesTheDN(t *testing.T) {
	s := startAD(t)
	r := newADReaderWithCA(t, s, adConfig(s, 100))
	for _, dn := range []string{
		"cn=x)(cn=*,ou=users,dc=corp,dc=example,dc=com",
		"cn=*,ou=users,dc=corp,dc=example,dc=com",
		`cn=a\\b,ou=users,dc=corp,dc=example,dc=com`,
	} {
		groups, err := r.TransitiveGroups(t.Context(), adGroups, dn)
		if err != nil || len(groups) != 0 {
			t.Errorf("TransitiveGroups(%q) = %v, %v; want none and no error", dn, groups, err)
		}
		members, err := r.TransitiveMembers(t.Context(), adGroups, dn)
		if err != nil || len(members) != 0 {
			t.Errorf("TransitiveMembers(%q) = %v, %v; want none and no error", dn, members, err)
		}
	}
}
