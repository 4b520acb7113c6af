package githuborg

import (
	"crypto/sha256"
	"strings"
	"sync"

	"github.com/scmkit/scmkit/org"
)

// origins remembers which organisation the latest snapshots of a single
// organisation without teams, found from the app's installations, are
// of: nothing in such a snapshot names it (its users are in the default
// namespace, and no team carries the organisation in its slug
// annotation), and Update must not apply an event of another
// installation to them. A snapshot is known by a digest of its entities,
// so a snapshot this Reader did not return (or one it returned before
// the last few) is not recognised, and Update answers Conflict as before.
type origins struct {
	mu   sync.Mutex
	last [8]origin // a ring, newest at (next-1) mod len
	next int
}

type origin struct {
	sum   [sha256.Size]byte
	login string
}

// remember records that snap is of the organisation login.
func (o *origins) remember(snap *org.Snapshot, login string) {
	sum := digest(snap)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.last[o.next%len(o.last)] = origin{sum, login}
	o.next++
}

// of reports whether snap is one this Reader remembered as the
// organisation login's.
func (o *origins) of(snap *org.Snapshot, login string) bool {
	sum := digest(snap)
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range min(o.next, len(o.last)) {
		// The newest record of this digest decides.
		x := o.last[(o.next-1-i)%len(o.last)]
		if x.sum == sum {
			return strings.EqualFold(x.login, login)
		}
	}
	return false
}

// digest is a digest of the entities of snap (sorted, as Read and Update
// return them): names, namespaces, user ids and memberships.
func digest(snap *org.Snapshot) [sha256.Size]byte {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, u := range snap.Users {
		field("U")
		field(u.Metadata.Namespace)
		field(u.Metadata.Name)
		field(u.Metadata.Annotations["github.com/user-id"])
		for _, g := range u.Spec.MemberOf {
			field(g)
		}
	}
	for _, g := range snap.Groups {
		field("G")
		field(g.Metadata.Namespace)
		field(g.Metadata.Name)
		field(g.Metadata.Annotations["github.com/team-slug"])
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
