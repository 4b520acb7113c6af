package ldaporg_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/ldaporg"
	"github.com/scmkit/scmkit/org/ldaporg/fakead"
)

const (
	adBase   = "DC=corp,DC=example,DC=com"
	adUsers  = "OU=Users," + adBase
	adGroups = "OU=Groups," + adBase
	adSvc    = "CN=svc-backstage,OU=Service," + adBase
	adSvcPW  = "svc-password"
	adBigN   = 3200 // above two ranges of 1,500
)

func adUserDN(i int) string { return fmt.Sprintf("CN=User %04d,%s", i, adUsers) }

// adPresent says which of the adBigN member DNs of "All Staff" exist as
// user entries: 100 in each of the three ranges AD returns (0-1499,
// 1500-2999, 3000-*), which keeps the test fast.
func adPresent(i int) bool { return i < 100 || (i >= 1500 && i < 1600) || i >= 3100 }

// adUsersN is the number of user entries.
const adUsersN = 300

// adDirectory: "All Staff" has adBigN member DNs (the users carry no
// memberOf: only range retrieval finds them); "Platform" is nested in
// "Engineering", which is nested in "All Staff".
func adDirectory() []*fakead.Entry {
	var es []*fakead.Entry
	members := make([]string, 0, adBigN)
	for i := range adBigN {
		dn := adUserDN(i)
		members = append(members, dn)
		if !adPresent(i) {
			continue
		}
		es = append(es, &fakead.Entry{DN: dn, Attrs: map[string][]string{
			"objectClass":    {"top", "person", "organizationalPerson", "user"},
			"cn":             {fmt.Sprintf("User %04d", i)},
			"sAMAccountName": {fmt.Sprintf("u%04d", i)},
			"displayName":    {fmt.Sprintf("User %04d", i)},
			"mail":           {fmt.Sprintf("u%04d@corp.example.com", i)},
			"objectGUID":     {fakead.GUID(0x0a1b2c3d, 0x4e5f, 0x6071, 0x8293, uint64(i))},
		}})
	}
	es[1].Attrs["memberOf"] = []string{"cn=PLATFORM,ou=groups,dc=CORP,dc=example,dc=com"} // odd case: DNs compare parsed
	es = append(es,
		&fakead.Entry{DN: "CN=All Staff," + adGroups, Attrs: map[string][]string{
			"objectClass": {"top", "group"}, "cn": {"all-staff"}, "member": append(members, "CN=Engineering,"+adGroups),
			"objectGUID": {fakead.GUID(1, 2, 3, 4, 5)}, "groupType": {"-2147483646"},
		}},
		&fakead.Entry{DN: "CN=Engineering," + adGroups, Attrs: map[string][]string{
			"objectClass": {"top", "group"}, "cn": {"engineering"}, "member": {"CN=Platform," + adGroups, adUserDN(0)},
			"memberOf": {"CN=All Staff," + adGroups},
		}},
		&fakead.Entry{DN: "CN=Platform," + adGroups, Attrs: map[string][]string{
			"objectClass": {"top", "group"}, "cn": {"platform"}, "description": {"Platform team"},
		}},
		// A cycle: each is the other's member.
		&fakead.Entry{DN: "CN=Ping," + adGroups, Attrs: map[string][]string{"objectClass": {"group"}, "cn": {"ping"}, "member": {"CN=Pong," + adGroups}}},
		&fakead.Entry{DN: "CN=Pong," + adGroups, Attrs: map[string][]string{"objectClass": {"group"}, "cn": {"pong"}, "member": {"CN=Ping," + adGroups}}},
	)
	return es
}

func adConfig(s *fakead.Server, pageSize int) ldaporg.Config {
	return ldaporg.Config{
		Target: s.URL,
		Bind:   &ldaporg.BindConfig{DN: adSvc, Secret: integrations.NewSecret(adSvcPW)},
		Users: ldaporg.SearchList[ldaporg.UserMap]{{
			DN:      adUsers,
			Options: ldaporg.SearchOptions{Filter: "(&(objectClass=user)(objectClass=person))", Paged: ldaporg.Paged{Enabled: true, PageSize: pageSize}, Attributes: []string{"*"}},
			Map:     ldaporg.UserMap{Name: "sAMAccountName", RDN: "cn", DisplayName: "displayName"},
		}},
		Groups: ldaporg.SearchList[ldaporg.GroupMap]{{
			DN:      adGroups,
			Options: ldaporg.SearchOptions{Filter: "(objectClass=group)", Paged: ldaporg.Paged{Enabled: true, PageSize: pageSize}, Attributes: []string{"*"}},
			Set:     map[string]any{"spec.type": "team"},
		}},
		Vendor: &ldaporg.VendorConfig{DNAttributeName: "distinguishedName", UUIDAttributeName: "objectGUID"},
	}
}

func startAD(t testing.TB) *fakead.Server {
	return fakead.Start(t, adDirectory(), map[string]string{adSvc: adSvcPW})
}

func TestActiveDirectory(t *testing.T) {
	s := startAD(t)
	const pageSize = 100
	c := adConfig(s, pageSize)
	r := newADReaderWithCA(t, s, c)
	snap, err := r.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Users) != adUsersN || len(snap.Groups) != 5 {
		t.Fatalf("%d users, %d groups", len(snap.Users), len(snap.Groups))
	}
	// ceil(300/100) + ceil(3/100) searches, plus the two further ranges
	// of All Staff's member attribute (1500-2999, 3000-*).
	if got, want := r.Stats().Searches, int64(3+1+2); got != want {
		t.Errorf("searches = %d, want %d", got, want)
	}
	// The cycle is broken, with a warning, instead of failing the read.
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "cycle") {
		t.Errorf("warnings = %q", snap.Warnings)
	}
	// Every user is in all-staff: range retrieval completed the group.
	for i := range snap.Users {
		if !slices.Contains(snap.Users[i].Spec.MemberOf, "group:default/all-staff") {
			t.Fatalf("%s not in all-staff: range retrieval incomplete", snap.Users[i].Metadata.Name)
		}
	}
	u := snap.User(org.UserRef("", "u0001"))
	if u == nil {
		t.Fatal("u0001 missing")
	}
	wantGUID := "0a1b2c3d-4e5f-6071-8293-000000000001"
	if got := u.Metadata.Annotations[ldaporg.AnnotationUUID]; got != wantGUID {
		t.Errorf("objectGUID = %q, want %q", got, wantGUID)
	}
	if got := u.Metadata.Annotations[ldaporg.AnnotationDN]; got != adUserDN(1) {
		t.Errorf("dn annotation = %q", got)
	}
	if got := u.Metadata.Annotations[ldaporg.AnnotationRDN]; got != "User 0001" {
		t.Errorf("rdn annotation = %q", got)
	}
	// memberOf written in another case still resolves.
	if !slices.Equal(u.Spec.MemberOf, []string{"group:default/all-staff", "group:default/platform"}) {
		t.Errorf("u0001 memberOf = %v", u.Spec.MemberOf)
	}
	u0 := snap.User(org.UserRef("", "u0000"))
	if !slices.Equal(u0.Spec.MemberOf, []string{"group:default/all-staff", "group:default/engineering"}) {
		t.Errorf("u0000 memberOf = %v", u0.Spec.MemberOf)
	}
	// Nesting from both directions: engineering's memberOf and all-staff's
	// member name the same edge; platform's parent comes from
	// engineering's member.
	eng, plat, all := snap.Group(org.GroupRef("", "engineering")), snap.Group(org.GroupRef("", "platform")), snap.Group(org.GroupRef("", "all-staff"))
	if eng.Spec.Parent != "group:default/all-staff" || plat.Spec.Parent != "group:default/engineering" ||
		!slices.Equal(all.Spec.Children, []string{"group:default/engineering"}) || all.Spec.Parent != "" {
		t.Errorf("nesting: eng %+v plat %+v all %+v", eng.Spec, plat.Spec, all.Spec)
	}
	if plat.Metadata.Description != "Platform team" || all.Spec.Type != "team" {
		t.Errorf("platform %+v all %+v", plat.Metadata, all.Spec)
	}
}

func newADReaderWithCA(t testing.TB, s *fakead.Server, c ldaporg.Config) *ldaporg.Reader {
	t.Helper()
	r, err := ldaporg.New(c, &ldaporg.Options{TLS: &tls.Config{RootCAs: s.CAPool}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestInChain(t *testing.T) {
	s := startAD(t)
	// One entry per search, as AD with more transitive groups or members
	// than its MaxPageSize (1,000): the searches must page.
	s.MaxPageSize = 1
	r := newADReaderWithCA(t, s, adConfig(s, 100))
	groups, err := r.TransitiveGroups(t.Context(), adGroups, "cn=user 0000,ou=users,dc=corp,dc=example,dc=com")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(groups)
	if !slices.Equal(groups, []string{"CN=All Staff," + adGroups, "CN=Engineering," + adGroups}) {
		t.Errorf("transitive groups = %v", groups)
	}
	members, err := r.TransitiveMembers(t.Context(), adGroups, "CN=All Staff,"+adGroups)
	if err != nil {
		t.Fatal(err)
	}
	// Under the groups, only engineering carries a memberOf chain to All
	// Staff.
	if !slices.Equal(members, []string{"CN=Engineering," + adGroups}) {
		t.Errorf("transitive members under groups = %v", members)
	}
	if _, err := r.TransitiveGroups(t.Context(), adGroups, "not a dn"); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("bad DN: %v", err)
	}
}

func TestServerStopsAnsweringMidSearch(t *testing.T) {
	s := startAD(t)
	s.StallAfter.Store(3) // pages 1 and 2 come back, page 3 never does
	r, err := ldaporg.New(adConfig(s, 100), &ldaporg.Options{TLS: &tls.Config{RootCAs: s.CAPool}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	start := time.Now()
	snap, err := r.Read(t.Context())
	if snap != nil || errcode.CodeOf(err) != errcode.DeadlineExceeded {
		t.Fatalf("snapshot %v, err %v; want none and DeadlineExceeded", snap != nil, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("gave up after %v", d)
	}
	if open := r.Stats().Open; open != 0 {
		t.Fatalf("%d connections left open", open)
	}
}

// TestRepeatedPagingCookie: a directory whose paged search never advances
// (the same cookie again) ends the read with an error, not an endless
// loop reading the same page.
func TestRepeatedPagingCookie(t *testing.T) {
	s := startAD(t)
	s.RepeatCookie.Store(true)
	r := newADReaderWithCA(t, s, adConfig(s, 100))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	snap, err := r.Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(fmt.Sprint(err), "repeated a page cursor") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the repeated cookie", snap != nil, err)
	}
	if n := s.Searches.Load(); n > 3 {
		t.Errorf("searches = %d, want at most 3", n)
	}
}

// TestPagingCookieIgnored: a directory that answers every page with the
// first one, under a cookie never sent before, ends the read with an
// error instead of a paged search that never ends.
func TestPagingCookieIgnored(t *testing.T) {
	s := startAD(t)
	s.IgnoreCookie.Store(true)
	r := newADReaderWithCA(t, s, adConfig(s, 100))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	snap, err := r.Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(fmt.Sprint(err), "repeated a page") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the repeated page", snap != nil, err)
	}
	if n := s.Searches.Load(); n > 3 {
		t.Errorf("searches = %d, want at most 3", n)
	}
}

// TestEndlessRange: range retrieval whose ranges never end (each further
// range brings no value not read before) ends the read with an error
// instead of searching forever.
func TestEndlessRange(t *testing.T) {
	s := startAD(t)
	s.EndlessRange.Store(true)
	r := newADReaderWithCA(t, s, adConfig(s, 1000))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	snap, err := r.Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(fmt.Sprint(err), "range retrieval") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the range retrieval", snap != nil, err)
	}
	if n := s.Searches.Load(); n > 4 {
		t.Errorf("searches = %d, want at most 4", n)
	}
}

// TestEndlessEmptyPages: a directory whose paged search sends empty pages
// under ever-new cookies (AD sends a few when a page takes too long) ends
// the read with an error after orgx's bound on empty pages in a row.
func TestEndlessEmptyPages(t *testing.T) {
	s := startAD(t)
	s.EmptyPages.Store(true)
	r := newADReaderWithCA(t, s, adConfig(s, 100))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	snap, err := r.Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(fmt.Sprint(err), "repeated a page") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable", snap != nil, err)
	}
	if n := s.Searches.Load(); n > 1002 {
		t.Errorf("searches = %d, want at most 1002", n)
	}
}
