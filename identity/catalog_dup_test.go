package identity

import (
	"context"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// TestCatalogRefusesDuplicates: two providers' snapshots appended (each
// with a "platform-team", the second's holding frank) must not make frank
// a member of platform-team: NewSnapshotCatalog, NewLiveCatalog and Swap
// refuse the snapshot, naming the duplicated entities and org.Merge,
// and the lookups fail rather than answer with combined memberships.
func TestCatalogRefusesDuplicates(t *testing.T) {
	ctx := context.Background()
	acme := &org.Snapshot{
		Users:  []org.User{{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}}},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "platform-team"}, Spec: org.GroupSpec{Type: "team", Members: []string{"alice"}}}},
	}
	partner := &org.Snapshot{
		Users:  []org.User{{Metadata: org.Metadata{Name: "frank"}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}}},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "platform-team"}, Spec: org.GroupSpec{Type: "team", Members: []string{"frank"}}}},
	}
	appended := &org.Snapshot{Users: append(append([]org.User{}, acme.Users...), partner.Users...),
		Groups: append(append([]org.Group{}, acme.Groups...), partner.Groups...)}
	frank := org.Ref{Kind: "user", Namespace: "default", Name: "frank"}

	check := func(what string, err error) {
		t.Helper()
		if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Fatalf("%s: %v, want InvalidArgument", what, err)
		}
		for _, want := range []string{"group:default/platform-team", "org.Merge"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not name %s", what, err, want)
			}
		}
	}
	c := NewSnapshotCatalog(appended)
	check("Err", c.Err())
	gs, err := c.GroupsOf(ctx, frank, true)
	check("GroupsOf", err)
	if len(gs) != 0 {
		t.Errorf("frank's groups from an appended snapshot: %v", gs)
	}
	_, err = c.FindUsers(ctx, Filter{Ref: frank})
	check("FindUsers", err)

	_, err = NewLiveCatalog(appended).GroupsOf(ctx, frank, false)
	check("NewLiveCatalog", err)

	l := NewLiveCatalog(acme)
	check("Swap", l.Swap(appended))
	if gs, err := l.GroupsOf(ctx, frank, true); err != nil || len(gs) != 0 {
		t.Errorf("after a refused Swap: frank's groups %v %v, want the previous snapshot's (none)", gs, err)
	}

	merged := org.Merge(acme, partner)
	c = NewSnapshotCatalog(merged)
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
	if gs, err := c.GroupsOf(ctx, frank, true); err != nil || len(gs) != 0 {
		t.Errorf("merged: frank's groups %v %v, want none (memberships are not combined across providers)", gs, err)
	}
	if err := l.Swap(merged); err != nil {
		t.Errorf("Swap(merged): %v", err)
	}
}
