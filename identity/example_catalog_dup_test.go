package identity_test

import (
	"fmt"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org"
)

// ExampleNewSnapshotCatalog shows the catalog refusing two providers'
// snapshots appended: both have a platform-team, and answering from them
// would combine the two teams' members. org.Merge keeps the first's.
func ExampleNewSnapshotCatalog() {
	team := func(member string) *org.Snapshot {
		return &org.Snapshot{
			Users:  []org.User{{Metadata: org.Metadata{Name: member}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}}},
			Groups: []org.Group{{Metadata: org.Metadata{Name: "platform-team"}, Spec: org.GroupSpec{Type: "team"}}},
		}
	}
	acme, partner := team("alice"), team("frank")
	appended := &org.Snapshot{Users: append(acme.Users, partner.Users...), Groups: append(acme.Groups, partner.Groups...)}
	fmt.Println(identity.NewSnapshotCatalog(appended).Err() != nil)
	fmt.Println(identity.NewSnapshotCatalog(org.Merge(acme, partner)).Err())
	// Output:
	// true
	// <nil>
}
