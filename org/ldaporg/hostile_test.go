package ldaporg_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/ldaporg/fakead"
)

// TestHostileDirectoryValues: an entry's display name in Latin-1 (bytes
// that are not UTF-8), with a NUL and an escape sequence, and a
// description of a megabyte, reach the snapshot cleaned, and the catalog
// file written from it holds neither a !!binary value nor a control
// character.
func TestHostileDirectoryValues(t *testing.T) {
	s := fakead.Start(t, []*fakead.Entry{
		{DN: "CN=Jose," + adUsers, Attrs: map[string][]string{"objectClass": {"user"}, "cn": {"Jose"}, "sAMAccountName": {"jose"},
			"displayName": {"Jos\xe9 \x00\x1b[2JP\xe9rez"}, "description": {strings.Repeat("d", 1<<20)}}},
		{DN: "CN=Team," + adGroups, Attrs: map[string][]string{"objectClass": {"group"}, "cn": {"team"},
			"description": {"line one\nline two\x00"}, "member": {"CN=Jose," + adUsers}}},
	}, map[string]string{adSvc: adSvcPW})
	c := adConfig(s, 100)
	c.Users[0].Options.Filter = "(objectClass=user)"
	c.Users[0].Map.Description = "description"
	snap, err := newADReaderWithCA(t, s, c).Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u := snap.User(org.UserRef("", "jose"))
	if u == nil || len(snap.Groups) != 1 {
		t.Fatalf("users %v, groups %v", snap.Users, snap.Groups)
	}
	if got, want := u.Spec.Profile.DisplayName, "Jos\uFFFD [2JP\uFFFDrez"; got != want {
		t.Errorf("display name = %q, want %q", got, want)
	}
	if len(u.Metadata.Description) != org.MaxTextBytes {
		t.Errorf("description of %d bytes, want %d", len(u.Metadata.Description), org.MaxTextBytes)
	}
	if got := snap.Groups[0].Metadata.Description; got != "line one\nline two" {
		t.Errorf("group description = %q", got)
	}
	var buf bytes.Buffer
	if err := snap.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	y := buf.String()
	if strings.Contains(y, "!!binary") || !utf8.ValidString(y) || strings.ContainsFunc(y, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		t.Errorf("the catalog file carries a hostile value:\n%.400s", y)
	}
}

// TestObjectSidAsUUID: Active Directory's objectSid is binary; named as
// the vendor's UUID attribute it is written in its text form
// (S-1-5-21-...), as objectGUID is, not as bytes, and memberships by
// that UUID still resolve.
func TestObjectSidAsUUID(t *testing.T) {
	sid := func(rid byte) string {
		return string([]byte{1, 5, 0, 0, 0, 0, 0, 5, 0x15, 0, 0, 0, 0xdc, 0xf4, 0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46, 0x82, 0x8b, 0xa6, 0x28, rid, 2, 0, 0})
	}
	s := fakead.Start(t, []*fakead.Entry{
		{DN: "CN=Jane," + adUsers, Attrs: map[string][]string{"objectClass": {"user"}, "cn": {"Jane"}, "sAMAccountName": {"jane"}, "objectSid": {sid(0x50)}}},
		{DN: "CN=Team," + adGroups, Attrs: map[string][]string{"objectClass": {"group"}, "cn": {"team"}, "objectSid": {sid(0)},
			"member": {"S-1-5-21-1004336348-1177238915-682003330-592"}}},
	}, map[string]string{adSvc: adSvcPW})
	c := adConfig(s, 100)
	c.Users[0].Options.Filter = "(objectClass=user)"
	c.Vendor.UUIDAttributeName = "objectSid"
	snap, err := newADReaderWithCA(t, s, c).Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u, g := snap.User(org.UserRef("", "jane")), snap.Group(org.GroupRef("", "team"))
	if u == nil || g == nil {
		t.Fatalf("users %v, groups %v", snap.Users, snap.Groups)
	}
	if got, want := u.Metadata.Annotations["backstage.io/ldap-uuid"], "S-1-5-21-1004336348-1177238915-682003330-592"; got != want {
		t.Errorf("user uuid = %q, want %q", got, want)
	}
	if got, want := g.Metadata.Annotations["backstage.io/ldap-uuid"], "S-1-5-21-1004336348-1177238915-682003330-512"; got != want {
		t.Errorf("group uuid = %q, want %q", got, want)
	}
	if len(g.Spec.Members) != 0 || len(u.Spec.MemberOf) != 1 {
		t.Errorf("members %v, memberOf %v: want jane in team by her SID", g.Spec.Members, u.Spec.MemberOf)
	}
}
