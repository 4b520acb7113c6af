package rbac

import (
	"context"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/permission"
)

// providerSnapshots are the snapshots of two org providers whose teams
// share a name: acme's platform-team (alice) holds the registrar role;
// frankcorp's platform-team (frank, who created that organisation) must
// not. Both put their entities in namespace default, as Backstage's
// githubOrg does unless told otherwise.
func providerSnapshots() (acme, partner *org.Snapshot) {
	acme = &org.Snapshot{
		Users:  []org.User{{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}}},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "platform-team"}, Spec: org.GroupSpec{Type: "team", Members: []string{"alice"}}}},
	}
	partner = &org.Snapshot{
		Users: []org.User{
			{Metadata: org.Metadata{Name: "frank"}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}},
			{Metadata: org.Metadata{Name: "Alice"}},
		},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "Platform-Team"}, Spec: org.GroupSpec{Type: "team", Members: []string{"frank"}}}},
	}
	return acme, partner
}

// TestFromSnapshotRefusesDuplicates: a snapshot made by appending two
// providers' snapshots (what examples/portal did) granted acme's
// platform-team role to frank, a member of another provider's same-named
// team (fail-open). Such a Membership is now refused by every way a
// policy is built from it, with an error naming the duplicates and
// pointing to org.Merge; the merged snapshot still builds, and frank
// holds nothing there.
func TestFromSnapshotRefusesDuplicates(t *testing.T) {
	acme, partner := providerSnapshots()
	appended := &org.Snapshot{Users: append(append([]org.User{}, acme.Users...), partner.Users...),
		Groups: append(append([]org.Group{}, acme.Groups...), partner.Groups...)}
	if appended.Validate() == nil {
		t.Fatal("org.Validate accepts the appended snapshot; the test's premise is wrong")
	}
	m := FromSnapshot(appended)
	f, err := ParseCSV("policy.csv", strings.NewReader("p, role:default/registrar, catalog.entity.create, create, allow\ng, group:default/platform-team, role:default/registrar\n"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Fatalf("%s with duplicate entities: %v, want InvalidArgument", what, err)
		}
		for _, want := range []string{"user:default/alice", "group:default/platform-team", "org.Merge"} {
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
				t.Errorf("%s: %q does not name %s", what, err, want)
			}
		}
	}
	p, err := New([]*File{f}, m, nil)
	if p != nil {
		q := permission.Query{Permission: perm(permission.CatalogEntityCreate)}
		d, _ := p.Decide(context.Background(), q, user("user:default/frank"))
		t.Errorf("policy built from duplicates: frank %s (%s)", d.Result, d.Reason)
	}
	check("New", err)

	good, err := New([]*File{f}, FromSnapshot(acme), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = good.WithMembership(m)
	check("WithMembership", err)
	live := NewLive(good)
	check("Live.SetMembership", live.SetMembership(m))
	if live.Policy() != good {
		t.Error("Live.SetMembership swapped in a policy despite the error")
	}

	merged := org.Merge(acme, partner)
	if len(merged.Warnings) == 0 {
		t.Error("org.Merge gave no warning for the same-named entities")
	}
	if err := live.SetMembership(FromSnapshot(merged)); err != nil {
		t.Fatalf("merged snapshot: %v", err)
	}
	q := permission.Query{Permission: perm(permission.CatalogEntityCreate)}
	for who, want := range map[string]permission.Result{"user:default/alice": permission.Allow, "user:default/frank": permission.Deny} {
		if d, _ := live.Decide(context.Background(), q, user(who)); d.Result != want {
			t.Errorf("merged: %s %s, want %s (%s)", who, d.Result, want, d.Reason)
		}
	}
}
