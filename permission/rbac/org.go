package rbac

import (
	"github.com/scmkit/scmkit/org"
)

// FromSnapshot returns the Membership of an organisation snapshot, with
// Backstage's membership rules: a user is a direct member of the groups
// her spec.memberOf names and of those whose spec.members name her; a
// group's parents are its spec.parent and the groups whose spec.children
// name it. Refs that do not parse are skipped (org.Snapshot.Validate
// reports them).
func FromSnapshot(s *org.Snapshot) *Membership {
	m := &Membership{Users: map[string][]string{}, Parents: map[string][]string{}}
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
		}
		groups, _ := u.MemberOfRefs()
		for _, g := range groups {
			addUser(u.Ref(), g)
		}
	}
	for i := range s.Groups {
		g := &s.Groups[i]
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
	return m
}
