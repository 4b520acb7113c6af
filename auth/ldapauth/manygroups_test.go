package ldapauth_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/org/ldaporg/fakead"
)

// TestUserInManyGroupsSlapd signs in, with a group search, a user in 600
// groups on slapd, whose soft size limit (500) ends an unpaged search
// early: every group must come back, in two pages. (The test slapd's
// limits let paged searches past it, as a deployment's must:
// size.prtotal=unlimited.)
func TestUserInManyGroupsSlapd(t *testing.T) {
	const n = 600
	testsvc.Require(t, "slapd", "slapd ldap-utils", "/usr/sbin")
	user := "uid=many," + testsvc.SlapdPeopleDN
	var ldif bytes.Buffer
	fmt.Fprintf(&ldif, "dn: %s\nobjectClass: inetOrgPerson\nuid: many\ncn: Many Groups\nsn: Groups\nuserPassword: many-password\n\n", user)
	for i := range n {
		fmt.Fprintf(&ldif, "dn: cn=g%03d,%s\nobjectClass: groupOfNames\ncn: g%03d\nmember: %s\n\n", i, testsvc.SlapdGroupsDN, i, user)
	}
	s := testsvc.StartSlapd(t, &testsvc.SlapdOptions{LDIF: ldif.Bytes()})
	c := baseConfig(s)
	c.Groups = &ldapauth.GroupsConfig{SearchBase: testsvc.SlapdGroupsDN}
	a := newAuth(t, c, nil)
	if _, err := a.AuthenticateFrom(t.Context(), "many", "many-password", ""); err != nil {
		t.Fatal(err) // dials and binds the pools' connections
	}
	before := a.Stats()
	r, err := a.AuthenticateFrom(t.Context(), "many", "many-password", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Groups) != n || len(r.GroupNames) != n {
		t.Fatalf("%d groups, %d names; want %d", len(r.Groups), len(r.GroupNames), n)
	}
	// search, bind, two pages of groups.
	if ops := a.Stats().Ops() - before.Ops(); ops != 4 {
		t.Errorf("%d LDAP operations, want 4", ops)
	}
}

// TestUserInManyGroupsActiveDirectory signs in a user in more groups than
// Active Directory returns at once, both ways: a group search beyond its
// MaxPageSize, and memberOf beyond its MaxValRange (memberOf;range=0-N).
func TestUserInManyGroupsActiveDirectory(t *testing.T) {
	const (
		base   = "DC=corp,DC=example,DC=com"
		svc    = "CN=svc,OU=Service," + base
		userDN = "CN=Ada Lovelace,OU=Users," + base
		n      = 23
	)
	var memberOf []string
	dir := []*fakead.Entry{nil}
	for i := range n {
		g := fmt.Sprintf("CN=g%02d,OU=Groups,%s", i, base)
		memberOf = append(memberOf, g)
		dir = append(dir, &fakead.Entry{DN: g, Attrs: map[string][]string{"objectClass": {"group"}, "cn": {fmt.Sprintf("g%02d", i)}, "member": {userDN}}})
	}
	dir[0] = &fakead.Entry{DN: userDN, Attrs: map[string][]string{"objectClass": {"user"}, "sAMAccountName": {"ada"}, "memberOf": memberOf}}
	ad := fakead.Start(t, dir, map[string]string{svc: "svc-pw", userDN: "ada-pw"})
	ad.MaxPageSize, ad.MaxValRange = 5, 10
	// signIns is an Authenticator for ad, with a group search or memberOf.
	signIns := func(t *testing.T, groupSearch bool) *ldapauth.Authenticator {
		var c ldapauth.Config
		o := &c.LDAPAuthenticationOptions
		o.UserSearchBase, o.UsernameAttribute = base, "sAMAccountName"
		o.AdminDN, o.AdminPassword = svc, integrations.NewSecret("svc-pw")
		o.LDAPOpts.URL = ldapauth.StringList{ad.URL}
		if groupSearch {
			c.Groups = &ldapauth.GroupsConfig{SearchBase: "OU=Groups," + base}
		}
		return newAuth(t, c, &ldapauth.Options{TLS: &tls.Config{RootCAs: ad.CAPool}})
	}
	t.Run("directoryWithoutPaging", func(t *testing.T) {
		// A directory that does not know the paged results control
		// ignores it and sends every group at once: that is a complete
		// answer, not an error.
		ad.NoPaging.Store(true)
		ad.MaxPageSize = 1000
		defer func() { ad.NoPaging.Store(false); ad.MaxPageSize = 5 }()
		a := signIns(t, true)
		r, err := a.AuthenticateFrom(t.Context(), "ada", "ada-pw", "")
		if err != nil || len(r.Groups) != n {
			t.Fatalf("sign-in: %v, %d groups; want %d", err, len(r.Groups), n)
		}
	})
	t.Run("directoryRefusingPaging", func(t *testing.T) {
		// slapd whose limits disable paging or allow smaller pages answers
		// a paged search adminLimitExceeded: one plain search instead.
		ad.RefusePaging.Store(true)
		ad.MaxPageSize = 1000
		defer func() { ad.RefusePaging.Store(false); ad.MaxPageSize = 5 }()
		a := signIns(t, true)
		r, err := a.AuthenticateFrom(t.Context(), "ada", "ada-pw", "")
		if err != nil || len(r.Groups) != n {
			t.Fatalf("sign-in: %v, %d groups; want %d", err, len(r.Groups), n)
		}
	})
	t.Run("controlDroppedMidSearch", func(t *testing.T) {
		// A page without the control after the first is not a last page:
		// the sign-in fails rather than go on with some of the groups.
		ad.DropControl.Store(true)
		defer ad.DropControl.Store(false)
		a := signIns(t, true)
		if r, err := a.AuthenticateFrom(t.Context(), "ada", "ada-pw", ""); errcode.CodeOf(err) != errcode.Unavailable {
			t.Fatalf("sign-in: %v, %v; want Unavailable", r, err)
		}
	})
	t.Run("389DirectoryServerCookies", func(t *testing.T) {
		// 389-DS sends the same cookie on every page (its paging slot):
		// not a loop.
		ad.SlotCookies.Store(true)
		defer ad.SlotCookies.Store(false)
		a := signIns(t, true)
		r, err := a.AuthenticateFrom(t.Context(), "ada", "ada-pw", "")
		if err != nil || len(r.Groups) != n {
			t.Fatalf("sign-in: %v, %d groups; want %d", err, len(r.Groups), n)
		}
	})
	for _, search := range []bool{true, false} {
		t.Run(fmt.Sprintf("groupSearch=%v", search), func(t *testing.T) {
			a := signIns(t, search)
			r, err := a.AuthenticateFrom(t.Context(), "ada", "ada-pw", "")
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, g := range r.Groups {
				seen[g] = true
			}
			if len(seen) != n || len(r.Groups) != n {
				t.Fatalf("%d groups (%d distinct), want %d: %v", len(r.Groups), len(seen), n, r.Groups)
			}
			// And again on a re-check, which reads the groups the same way.
			v, err := a.Verify(t.Context(), r.Identity)
			if err != nil || len(v.Groups) != n {
				t.Fatalf("Verify: %v, %d groups", err, len(v.Groups))
			}
		})
	}
}
