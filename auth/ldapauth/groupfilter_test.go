package ldapauth_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/internal/testsvc"
)

// TestGroupSearchEscapesTheUsersDN signs in, with a group search on slapd,
// users whose DNs hold filter metacharacters. "adm*"'s DN, put in the
// group filter as it is, would be a substring filter matching admin's
// groups too; "paren(x)"'s would not parse. Each gets exactly its own
// groups.
func TestGroupSearchEscapesTheUsersDN(t *testing.T) {
	testsvc.Require(t, "slapd", "slapd ldap-utils", "/usr/sbin")
	users := map[string]string{"admin": "admins", "adm*": "users", "paren(x)": "contractors"}
	var ldif bytes.Buffer
	for uid, group := range users {
		dn := "uid=" + uid + "," + testsvc.SlapdPeopleDN
		fmt.Fprintf(&ldif, "dn: %s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nuserPassword: pw-%s\n\n", dn, uid, uid, uid, uid)
		fmt.Fprintf(&ldif, "dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\nmember: %s\n\n", group, testsvc.SlapdGroupsDN, group, dn)
	}
	s := testsvc.StartSlapd(t, &testsvc.SlapdOptions{LDIF: ldif.Bytes()})
	c := baseConfig(s)
	c.Groups = &ldapauth.GroupsConfig{SearchBase: testsvc.SlapdGroupsDN}
	a := newAuth(t, c, nil)
	for uid, group := range users {
		r, err := a.AuthenticateFrom(t.Context(), uid, "pw-"+uid, "")
		if err != nil {
			t.Errorf("%s: %v", uid, err)
			continue
		}
		if want := []string{group}; !slices.Equal(r.GroupNames, want) {
			t.Errorf("%s is in %q, want %q", uid, r.GroupNames, want)
		}
	}
}
