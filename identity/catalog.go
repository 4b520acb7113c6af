package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// Filter selects catalog users, as Backstage's catalog filters do:
// values compare case-insensitively. Exactly one of Ref, Annotation or
// Email is set.
type Filter struct {
	// Ref matches the user's ref (kind user).
	Ref org.Ref
	// Annotation and Value match metadata.annotations[Annotation].
	Annotation, Value string
	// Email matches spec.profile.email.
	Email string
}

// String describes the filter, e.g. "annotation github.com/user-id=MDQ6".
func (f Filter) String() string {
	switch {
	case f.Annotation != "":
		return "annotation " + f.Annotation + "=" + f.Value
	case f.Email != "":
		return "spec.profile.email=" + f.Email
	}
	return "ref " + f.Ref.String()
}

// Catalog is where sign-in resolvers look users up and ownership refs
// come from: an [org.Snapshot] through [NewSnapshotCatalog], or any catalog
// the embedder wraps.
type Catalog interface {
	// FindUsers returns the users matching f (case-insensitively, as the
	// catalog's filters); none is not an error.
	FindUsers(ctx context.Context, f Filter) ([]org.User, error)
	// GroupsOf returns the refs of the groups user is a direct member of
	// or, when transitive, also of every group above them. It returns a
	// Conflict *errcode.Error when transitive and the groups reach a
	// cycle.
	GroupsOf(ctx context.Context, user org.Ref, transitive bool) ([]org.Ref, error)
}

// SnapshotCatalog is a [Catalog] over an [org.Snapshot], indexed once:
// lookups are map reads. It is immutable and safe for concurrent use. The
// zero SnapshotCatalog is not usable; make one with [NewSnapshotCatalog].
type SnapshotCatalog struct {
	byRef   map[string][]int
	byEmail map[string][]int
	byAnno  map[string][]int // key "annotation\x00lower(value)"
	users   []org.User
	index   *org.Index
	onCycle map[string][]org.Ref
	err     error // the snapshot is refused: every lookup returns err
}

// NewSnapshotCatalog indexes s. The snapshot must not change afterwards.
//
// A snapshot in which two users or two groups have one ref (as appending
// the snapshots of two providers gives, when both have a "platform-team")
// is refused: the catalog returns an InvalidArgument error naming them
// from every lookup, and from [SnapshotCatalog.Err], rather than answer
// with the two entities' memberships combined, which would give the
// members of either the roles bound to the name. Combine several
// providers' snapshots with [org.Merge], which keeps one entity per ref
// and never mixes memberships across providers.
func NewSnapshotCatalog(s *org.Snapshot) *SnapshotCatalog {
	return newSnapshotCatalog("identity.NewSnapshotCatalog", s)
}

func newSnapshotCatalog(op string, s *org.Snapshot) *SnapshotCatalog {
	if err := duplicates(op, s); err != nil {
		return &SnapshotCatalog{err: err}
	}
	c := &SnapshotCatalog{byRef: map[string][]int{}, byEmail: map[string][]int{}, byAnno: map[string][]int{},
		users: s.Users, index: org.NewIndex(s), onCycle: map[string][]org.Ref{}}
	for i := range s.Users {
		u := &s.Users[i]
		c.byRef[u.Ref().Key()] = append(c.byRef[u.Ref().Key()], i)
		if e := u.Spec.Profile.Email; e != "" {
			c.byEmail[strings.ToLower(e)] = append(c.byEmail[strings.ToLower(e)], i)
		}
		for k, v := range u.Metadata.Annotations {
			key := k + "\x00" + strings.ToLower(v)
			c.byAnno[key] = append(c.byAnno[key], i)
		}
	}
	for _, cyc := range c.index.Cycles() {
		for _, g := range cyc {
			c.onCycle[g.Key()] = cyc
		}
	}
	return c
}

// maxNamed bounds the duplicate refs an error names.
const maxNamed = 10

// duplicates returns an InvalidArgument error naming the refs that more
// than one user or group of s has, or nil.
func duplicates(op string, s *org.Snapshot) error {
	seen := make(map[string]int, len(s.Users)+len(s.Groups))
	var dups []org.Ref
	see := func(r org.Ref) {
		k := r.Key()
		seen[k]++
		if seen[k] == 2 {
			dups = append(dups, r)
		}
	}
	for i := range s.Users {
		see(s.Users[i].Ref())
	}
	for i := range s.Groups {
		see(s.Groups[i].Ref())
	}
	if len(dups) == 0 {
		return nil
	}
	slices.SortFunc(dups, org.Compare)
	names := make([]string, 0, min(len(dups), maxNamed))
	for _, r := range dups[:min(len(dups), maxNamed)] {
		names = append(names, r.String())
	}
	more := ""
	if len(dups) > maxNamed {
		more = fmt.Sprintf(" and %d more", len(dups)-maxNamed)
	}
	return errcode.Newf(errcode.InvalidArgument, op, "the snapshot has %d entities more than once (%s%s), as appending two providers' snapshots "+
		"gives; their memberships would be combined, giving the members of either the roles bound to the name: combine snapshots "+
		"with org.Merge, which keeps one entity per ref", len(dups), strings.Join(names, ", "), more)
}

// Err returns nil, or why the snapshot was refused (see
// [NewSnapshotCatalog]): every lookup then returns this error.
func (c *SnapshotCatalog) Err() error { return c.err }

// FindUsers implements [Catalog].
func (c *SnapshotCatalog) FindUsers(ctx context.Context, f Filter) ([]org.User, error) {
	if err := errcode.FromContext(ctx, "identity.FindUsers"); err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, c.err
	}
	var ids []int
	switch {
	case f.Annotation != "":
		ids = c.byAnno[f.Annotation+"\x00"+strings.ToLower(f.Value)]
	case f.Email != "":
		ids = c.byEmail[strings.ToLower(f.Email)]
	default:
		ids = c.byRef[f.Ref.Key()]
	}
	out := make([]org.User, len(ids))
	for i, id := range ids {
		out[i] = c.users[id]
	}
	return out, nil
}

// GroupsOf implements [Catalog] with Backstage's membership (the user's
// spec.memberOf and the groups whose spec.members name her).
func (c *SnapshotCatalog) GroupsOf(ctx context.Context, user org.Ref, transitive bool) ([]org.Ref, error) {
	if err := errcode.FromContext(ctx, "identity.GroupsOf"); err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, c.err
	}
	if !transitive {
		return c.index.DirectGroupsOf(user), nil
	}
	groups := c.index.GroupsOf(user)
	for _, g := range groups {
		if cyc := c.onCycle[g.Key()]; cyc != nil {
			names := make([]string, len(cyc))
			for i, r := range cyc {
				names[i] = r.String()
			}
			return nil, errcode.Newf(errcode.Conflict, "identity.GroupsOf",
				"the groups of %s reach a cycle in the group hierarchy (%s → %s); fix the parents in the catalog", user, strings.Join(names, " → "), names[0])
		}
	}
	return groups, nil
}

// LiveCatalog is a [Catalog] whose snapshot can be replaced while it
// serves: an organisation reader's Update (a webhook) or a scheduled Read
// gives a new [org.Snapshot], and [LiveCatalog.Swap] makes the next
// lookups see it. Lookups already running finish on the snapshot they
// started with. The zero LiveCatalog finds nobody. It is safe for
// concurrent use.
type LiveCatalog struct {
	c atomic.Pointer[SnapshotCatalog]
}

// NewLiveCatalog returns a LiveCatalog serving s (nil: nobody until the
// first Swap). A snapshot [NewSnapshotCatalog] refuses (entities more than
// once) is served as refused: every lookup returns the error, until a
// Swap succeeds.
func NewLiveCatalog(s *org.Snapshot) *LiveCatalog {
	l := &LiveCatalog{}
	if s != nil {
		l.c.Store(NewSnapshotCatalog(s))
	}
	return l
}

// Swap indexes s and serves it from the next lookup on. The snapshot must
// not change afterwards (an org reader's Update returns a new one). A
// snapshot [NewSnapshotCatalog] refuses (entities more than once: combine
// providers with [org.Merge]) is not served: Swap returns the
// InvalidArgument error naming them and the catalog keeps serving the
// snapshot it had.
func (l *LiveCatalog) Swap(s *org.Snapshot) error {
	c := newSnapshotCatalog("identity.LiveCatalog.Swap", s)
	if c.err != nil {
		return c.err
	}
	l.c.Store(c)
	return nil
}

// FindUsers implements [Catalog] on the snapshot in force.
func (l *LiveCatalog) FindUsers(ctx context.Context, f Filter) ([]org.User, error) {
	c := l.c.Load()
	if c == nil {
		if err := errcode.FromContext(ctx, "identity.FindUsers"); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return c.FindUsers(ctx, f)
}

// GroupsOf implements [Catalog] on the snapshot in force.
func (l *LiveCatalog) GroupsOf(ctx context.Context, user org.Ref, transitive bool) ([]org.Ref, error) {
	c := l.c.Load()
	if c == nil {
		if err := errcode.FromContext(ctx, "identity.GroupsOf"); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return c.GroupsOf(ctx, user, transitive)
}
