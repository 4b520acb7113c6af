package identity

import (
	"context"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/org"
)

// TestLiveCatalog: the zero LiveCatalog finds nobody; after Swap, lookups
// see the new snapshot (a user who joined, a membership that changed);
// Swaps and lookups may run together.
func TestLiveCatalog(t *testing.T) {
	ctx := context.Background()
	alice := org.Ref{Kind: "user", Namespace: "default", Name: "alice"}
	var zero LiveCatalog
	if us, err := zero.FindUsers(ctx, Filter{Ref: alice}); err != nil || len(us) != 0 {
		t.Fatalf("zero LiveCatalog: %v %v, want nobody", us, err)
	}
	before := &org.Snapshot{Users: []org.User{{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"team-a"}}}},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "team-a"}, Spec: org.GroupSpec{Type: "team"}}, {Metadata: org.Metadata{Name: "team-b"}, Spec: org.GroupSpec{Type: "team"}}}}
	after := &org.Snapshot{Users: []org.User{{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"team-b"}}},
		{Metadata: org.Metadata{Name: "bob"}}},
		Groups: before.Groups}
	l := NewLiveCatalog(before)
	groups := func() string {
		gs, err := l.GroupsOf(ctx, alice, false)
		if err != nil || len(gs) != 1 {
			t.Fatalf("GroupsOf: %v %v", gs, err)
		}
		return gs[0].Name
	}
	if g := groups(); g != "team-a" {
		t.Fatalf("before: alice in %s", g)
	}
	l.Swap(after)
	if g := groups(); g != "team-b" {
		t.Errorf("after Swap: alice in %s, want team-b", g)
	}
	if us, _ := l.FindUsers(ctx, Filter{Ref: org.Ref{Kind: "user", Namespace: "default", Name: "bob"}}); len(us) != 1 {
		t.Errorf("after Swap: bob not found")
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if i%2 == 0 {
				l.Swap(after)
			} else if _, err := l.GroupsOf(ctx, alice, true); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := zero.GroupsOf(ctxDone, alice, false); err == nil {
		t.Error("a cancelled lookup on the zero LiveCatalog succeeded")
	}
}
