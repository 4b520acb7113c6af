package identity_test

import (
	"context"
	"fmt"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org"
)

// A LiveCatalog follows the organisation: swap in each snapshot an org
// reader returns, and sign-in resolution and ownership refs see it from
// the next lookup on.
func ExampleLiveCatalog() {
	ctx := context.Background()
	alice := org.Ref{Kind: "user", Namespace: "default", Name: "alice"}
	teams := []org.Group{{Metadata: org.Metadata{Name: "team-a"}}, {Metadata: org.Metadata{Name: "team-b"}}}
	catalog := identity.NewLiveCatalog(&org.Snapshot{Groups: teams,
		Users: []org.User{{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"team-a"}}}}})
	groups, _ := catalog.GroupsOf(ctx, alice, false)
	fmt.Println("before:", groups[0])

	// A webhook said alice moved teams; the org reader's Update returned:
	err := catalog.Swap(&org.Snapshot{Groups: teams,
		Users: []org.User{{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"team-b"}}}}})
	if err != nil {
		fmt.Println(err) // a snapshot with an entity twice is refused
		return
	}
	groups, _ = catalog.GroupsOf(ctx, alice, false)
	fmt.Println("after:", groups[0])
	// Output:
	// before: group:default/team-a
	// after: group:default/team-b
}
