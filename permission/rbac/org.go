package rbac

import (
	"fmt"
	"strings"

	"github.com/scmkit/scmkit/org"
)

// FromSnapshot returns the Membership of an organisation snapshot, with
// Backstage's membership rules: a user is a direct member of the groups
// her spec.memberOf names and of those whose spec.members name her; a
// group's parents are its spec.parent and the groups whose spec.children
// name it. Refs that do not parse are skipped (org.Snapshot.Validate
// reports them).
//
// A snapshot holding two entities with one ref (two users, or two
// groups, of the same namespace and name) is refused: the Membership it
// returns makes [New], [Load], [LoadFiles], [Policy.WithMembership] and
// [Live.SetMembership] fail with InvalidArgument naming the duplicates.
// Such a snapshot comes from appending the snapshots of several
// providers: the memberships of one provider's group would then grant
// its roles to the members of another provider's group of the same name
// (whoever controls a same-named team elsewhere). Combine snapshots with
// [org.Merge], which keeps one entity per ref and never combines
// memberships across providers.
func FromSnapshot(s *org.Snapshot) *Membership {
	m := &Membership{Users: map[string][]string{}, Parents: map[string][]string{}}
	var dups []string
	addUser := func(u, g org.Ref) {
		k := u.Key()
		for _, have := range m.Users[k] {
			if have == g.Key() {
				return
			}
		}
		m.Users[k] = append(m.Users[k], g.Key())
	}
	addParent := func(child, parent org.Ref) {
		k := child.Key()
		for _, have := range m.Parents[k] {
			if have == parent.Key() {
				return
			}
		}
		m.Parents[k] = append(m.Parents[k], parent.Key())
	}
	for i := range s.Users {
		u := &s.Users[i]
		if _, ok := m.Users[u.Ref().Key()]; !ok {
			m.Users[u.Ref().Key()] = nil
		} else {
			dups = append(dups, u.Ref().String())
		}
		groups, _ := u.MemberOfRefs()
		for _, g := range groups {
			addUser(u.Ref(), g)
		}
	}
	groups := make(map[string]bool, len(s.Groups))
	for i := range s.Groups {
		g := &s.Groups[i]
		if k := g.Ref().Key(); groups[k] {
			dups = append(dups, g.Ref().String())
		} else {
			groups[k] = true
		}
		if members, err := g.MemberRefs(); err == nil {
			for _, u := range members {
				addUser(u, g.Ref())
			}
		}
		if p, ok, err := g.ParentRef(); err == nil && ok {
			addParent(g.Ref(), p)
		}
		if children, err := g.ChildRefs(); err == nil {
			for _, c := range children {
				addParent(c, g.Ref())
			}
		}
	}
	if len(dups) > 0 {
		m.invalid = duplicatesError(dups)
	}
	return m
}

// duplicatesError is the error of a snapshot with duplicate entities.
func duplicatesError(dups []string) string {
	const show = 5
	list := strings.Join(dups[:min(len(dups), show)], ", ")
	if len(dups) > show {
		list += fmt.Sprintf(" and %d more", len(dups)-show)
	}
	return fmt.Sprintf("the organisation snapshot has duplicate entities (%s), as when the snapshots of several providers are appended: "+
		"memberships would then grant one provider's group roles to the members of another's same-named group; combine snapshots with org.Merge", list)
}
