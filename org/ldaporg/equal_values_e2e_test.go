package ldaporg_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/ldaporg"
	"github.com/scmkit/scmkit/org/ldaporg/fakead"
)

// TestMemberUIDOfTwoEqualRDNs (review 28, finding 3): uid=alice in
// OU=People and in OU=Contractors, read by two users blocks; a posixGroup's
// memberUid alice could be either, so it resolves to neither (as a DN two
// entries share does), with a warning naming both DNs. The last entry read
// used to take it silently.
func TestMemberUIDOfTwoEqualRDNs(t *testing.T) {
	const base = "DC=corp,DC=example,DC=com"
	s := fakead.Start(t, []*fakead.Entry{
		{DN: "uid=alice,OU=People," + base, Attrs: map[string][]string{"objectClass": {"posixAccount"}, "uid": {"alice"}, "cn": {"Alice Employee"}}},
		{DN: "uid=alice,OU=Contractors," + base, Attrs: map[string][]string{"objectClass": {"posixAccount"}, "uid": {"alice"}, "cn": {"Alice Contractor"}}},
		{DN: "uid=bob,OU=People," + base, Attrs: map[string][]string{"objectClass": {"posixAccount"}, "uid": {"bob"}, "cn": {"Bob"}}},
		{DN: "cn=admins," + adGroups, Attrs: map[string][]string{"objectClass": {"posixGroup"}, "cn": {"admins"}, "memberUid": {"alice", "bob"}}},
	}, map[string]string{adSvc: adSvcPW})
	c := ldaporg.Config{
		Target: s.URL,
		Bind:   &ldaporg.BindConfig{DN: adSvc, Secret: integrations.NewSecret(adSvcPW)},
		Users: ldaporg.SearchList[ldaporg.UserMap]{
			{DN: "OU=People," + base, Options: ldaporg.SearchOptions{Filter: "(objectClass=posixAccount)"}},
			{DN: "OU=Contractors," + base, Options: ldaporg.SearchOptions{Filter: "(objectClass=posixAccount)"},
				Set: map[string]any{"metadata.namespace": "contractors"}},
		},
		Groups: ldaporg.SearchList[ldaporg.GroupMap]{{
			DN: adGroups, Options: ldaporg.SearchOptions{Filter: "(objectClass=posixGroup)"},
			Map: ldaporg.GroupMap{Members: "memberUid"}, Set: map[string]any{"spec.type": "team"},
		}},
	}
	snap, err := newADReaderWithCA(t, s, c).Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	x := org.NewIndex(snap)
	admins := org.GroupRef("", "admins")
	if x.IsMember(org.UserRef("contractors", "alice"), admins) || x.IsMember(org.UserRef("", "alice"), admins) {
		t.Errorf("memberUid alice, which two entries hold, resolved to one: members of admins %v", x.MembersOf(admins))
	}
	if !x.IsMember(org.UserRef("", "bob"), admins) {
		t.Errorf("bob, the only uid=bob, is not a member of admins: %v", x.MembersOf(admins))
	}
	if !slices.ContainsFunc(snap.Warnings, func(w string) bool {
		return strings.Contains(w, `"alice"`) && strings.Contains(w, "OU=People") && strings.Contains(w, "OU=Contractors")
	}) {
		t.Errorf("no warning names both alice entries: %q", snap.Warnings)
	}
}
