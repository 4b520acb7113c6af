package msgraph_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
)

// TestGroupNameSquatting (review 28, finding 1): a group any member may
// create, named so that it normalises to an existing group's name ("Admins!"
// and "admins" both make "admins"), must not take that name, whichever
// object id sorts first. A contested name goes to no group, with one warning
// naming every claimant.
func TestGroupNameSquatting(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	alice := f.PutUser(fakegraph.User{DisplayName: "Alice", Mail: "alice@contoso.com", AccountEnabled: true})
	mallory := f.PutUser(fakegraph.User{DisplayName: "Mallory", Mail: "mallory@contoso.com", AccountEnabled: true})
	const squat, real = "00000000-aaaa-4000-8000-000000000000", "ffffffff-aaaa-4000-8000-000000000000"
	f.PutGroup(fakegraph.Group{ID: squat, DisplayName: "Admins!", MailNickname: "Admins!", SecurityEnabled: true, Members: []string{mallory}})
	f.PutGroup(fakegraph.Group{ID: real, DisplayName: "admins", MailNickname: "admins", SecurityEnabled: true, Members: []string{alice}})
	snap, err := newReader(t, cfgFor(f), nil).Read(context.Background())
	must(t, err)
	x := org.NewIndex(snap)
	admins := org.GroupRef("", "admins")
	if x.IsMember(org.UserRef("", "mallory_contoso.com"), admins) {
		t.Errorf("mallory, who created a group named %q, is a member of group:default/admins (members %v)", "Admins!", x.MembersOf(admins))
	}
	if x.IsMember(org.UserRef("", "alice_contoso.com"), admins) {
		t.Errorf("alice is a member of the contested group:default/admins")
	}
	if snap.Group(admins) != nil {
		t.Errorf("the contested name admins was given to a group")
	}
	if n := slices.IndexFunc(snap.Warnings, func(w string) bool {
		return strings.Contains(w, squat) && strings.Contains(w, real) && strings.Contains(w, `"admins"`)
	}); n < 0 {
		t.Errorf("no warning names both claimants of admins: %q", snap.Warnings)
	}
	// The users still sync; only the contested group is left out.
	if len(snap.Users) != 2 {
		t.Errorf("%d users, want 2", len(snap.Users))
	}
}

// TestUserNameContested: two users whose mails normalise to one name (the
// path is shared with groups) get neither, with a warning naming both.
func TestUserNameContested(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	a := f.PutUser(fakegraph.User{DisplayName: "A", Mail: "a+b@contoso.com", AccountEnabled: true})
	b := f.PutUser(fakegraph.User{DisplayName: "B", Mail: "a_b@contoso.com", AccountEnabled: true})
	c := f.PutUser(fakegraph.User{DisplayName: "C", Mail: "c@contoso.com", AccountEnabled: true})
	f.PutGroup(fakegraph.Group{DisplayName: "team", MailNickname: "team", SecurityEnabled: true, Members: []string{a, b, c}})
	snap, err := newReader(t, cfgFor(f), nil).Read(context.Background())
	must(t, err)
	if len(snap.Users) != 1 || snap.Users[0].Metadata.Name != "c_contoso.com" {
		t.Errorf("users = %v, want only c_contoso.com", snap.Users)
	}
	if !slices.ContainsFunc(snap.Warnings, func(w string) bool { return strings.Contains(w, a) && strings.Contains(w, b) }) {
		t.Errorf("no warning names both %s and %s: %q", a, b, snap.Warnings)
	}
	if g := snap.Group(org.GroupRef("", "team")); g == nil || !slices.Equal(g.Spec.Members, []string{"c_contoso.com"}) {
		t.Errorf("team = %+v", g)
	}
}

// TestGroupCannotTakeTheRootName: the tenant's root group is named by the
// tenant, which no member controls; a group normalising to its name is left
// out and the root keeps it.
func TestGroupCannotTakeTheRootName(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	mallory := f.PutUser(fakegraph.User{DisplayName: "Mallory", Mail: "mallory@contoso.com", AccountEnabled: true})
	snap, err := newReader(t, cfgFor(f), nil).Read(context.Background())
	must(t, err)
	var root string
	for _, g := range snap.Groups {
		if g.Spec.Type == "root" {
			root = g.Metadata.Name
		}
	}
	if root == "" {
		t.Fatal("no root group")
	}
	id := f.PutGroup(fakegraph.Group{ID: "00000000-0000-4000-8000-000000000000", DisplayName: strings.ToUpper(root) + "!", SecurityEnabled: true, Members: []string{mallory}})
	snap, err = newReader(t, cfgFor(f), nil).Read(context.Background())
	must(t, err)
	g := snap.Group(org.GroupRef("", root))
	if g == nil || g.Spec.Type != "root" {
		t.Fatalf("group %s = %+v, want the root", root, g)
	}
	if org.NewIndex(snap).IsMember(org.UserRef("", "mallory_contoso.com"), org.GroupRef("", root)) {
		t.Errorf("mallory is a member of the root %s", root)
	}
	if !slices.ContainsFunc(snap.Warnings, func(w string) bool { return strings.Contains(w, id) && strings.Contains(w, "skipped") }) {
		t.Errorf("no warning names %s: %q", id, snap.Warnings)
	}
}

// TestParentTakenByAnyGroupOwner (review 28, finding 6): a group that lists
// another group as a member is one of its parents; the owner of a group
// named to sort first ("aaa") who adds a real group to it must not cut the
// real parent: the child stays in every parent's children and its members
// stay members of every parent.
func TestParentTakenByAnyGroupOwner(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	alice := f.PutUser(fakegraph.User{DisplayName: "Alice", Mail: "alice@contoso.com", AccountEnabled: true})
	admins := f.PutGroup(fakegraph.Group{DisplayName: "admins", MailNickname: "admins", SecurityEnabled: true, Members: []string{alice}})
	f.PutGroup(fakegraph.Group{DisplayName: "it-staff", MailNickname: "it-staff", SecurityEnabled: true, Members: []string{admins}})
	f.PutGroup(fakegraph.Group{DisplayName: "aaa", MailNickname: "aaa", SecurityEnabled: true, Members: []string{admins}})
	snap, err := newReader(t, cfgFor(f), nil).Read(context.Background())
	must(t, err)
	must(t, snap.Validate())
	x := org.NewIndex(snap)
	alices := org.UserRef("", "alice_contoso.com")
	if !x.IsMember(alices, org.GroupRef("", "it-staff")) {
		t.Errorf("alice (admins, a member group of it-staff) is not a member of it-staff once group aaa also lists admins; her groups %v", x.GroupsOf(alices))
	}
	if it := snap.Group(org.GroupRef("", "it-staff")); it == nil || !slices.Contains(it.Spec.Children, "admins") {
		t.Errorf("it-staff = %+v, want admins among its children", it)
	}
	if u := snap.User(alices); u == nil || !slices.Contains(u.Spec.MemberOf, "it-staff") || !slices.Contains(u.Spec.MemberOf, "aaa") {
		t.Errorf("alice's memberOf = %v, want aaa and it-staff among them", u)
	}
}

// TestParentCycleWithSeveralParents: with every parent kept, a cycle of
// group memberships (a in b, b in a) beside a third parent (c lists a) is
// still broken with a warning, and the snapshot is valid and acyclic.
func TestParentCycleWithSeveralParents(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	jane := f.PutUser(fakegraph.User{DisplayName: "Jane", Mail: "jane@contoso.com", AccountEnabled: true})
	const a, b = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
	f.PutGroup(fakegraph.Group{ID: a, DisplayName: "a", MailNickname: "a", SecurityEnabled: true, Members: []string{jane, b}})
	f.PutGroup(fakegraph.Group{ID: b, DisplayName: "b", MailNickname: "b", SecurityEnabled: true, Members: []string{a}})
	f.PutGroup(fakegraph.Group{DisplayName: "c", MailNickname: "c", SecurityEnabled: true, Members: []string{a}})
	snap, err := newReader(t, cfgFor(f), nil).Read(context.Background())
	must(t, err)
	must(t, snap.Validate())
	x := org.NewIndex(snap)
	if c := x.Cycles(); len(c) != 0 {
		t.Errorf("cycles left: %v", c)
	}
	if !slices.ContainsFunc(snap.Warnings, func(w string) bool { return strings.Contains(w, "cycle") }) {
		t.Errorf("no cycle warning: %q", snap.Warnings)
	}
	if !x.IsMember(org.UserRef("", "jane_contoso.com"), org.GroupRef("", "c")) {
		t.Errorf("jane (in a, which c lists) is not a member of c: %v", x.GroupsOf(org.UserRef("", "jane_contoso.com")))
	}
}
