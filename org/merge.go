package org

import (
	"fmt"
	"slices"
)

// Merge returns one snapshot of the users and groups of snaps, as a
// catalog fed by several org providers (a GitHub org and an LDAP
// directory, say) holds them, sorted. An entity is kept from the first
// snapshot that has it (by ref, compared as Backstage compares refs); the
// same ref in a later snapshot is left out, with a warning naming both
// snapshots by their position in snaps, as Backstage keeps the entity of
// the provider that registered it first and refuses the other
// ("conflicting entity"). Entities are not combined: two providers' users
// of one name are not known to be one person (a GitHub login is chosen by
// its owner, an LDAP uid by the directory's administrators), and the
// memberships of one must not reach whoever signs in as the other. List
// the provider you trust most first. The warnings of snaps are kept,
// before Merge's own. snaps are not modified; nil ones are skipped.
func Merge(snaps ...*Snapshot) *Snapshot {
	out := &Snapshot{}
	type kept struct {
		snap int
		ref  Ref
	}
	owner := map[string]kept{} // ref key → the entity kept
	var conflicts []string
	keep := func(i int, r Ref) bool {
		k := r.Key()
		if first, ok := owner[k]; ok {
			conflicts = append(conflicts, fmt.Sprintf("%s: in snapshots %d and %d (as %s); kept from snapshot %d, left out of snapshot %d",
				first.ref, first.snap, i, r, first.snap, i))
			return false
		}
		owner[k] = kept{i, r}
		return true
	}
	for i, s := range snaps {
		if s == nil {
			continue
		}
		out.Warnings = append(out.Warnings, s.Warnings...)
		for _, u := range s.Users {
			if keep(i, u.Ref()) {
				out.Users = append(out.Users, cloneUser(u))
			}
		}
		for _, g := range s.Groups {
			if keep(i, g.Ref()) {
				out.Groups = append(out.Groups, cloneGroup(g))
			}
		}
	}
	out.Warnings = append(out.Warnings, conflicts...)
	out.Sort()
	return out
}

// cloneUser and cloneGroup copy what Sort reorders, so that sorting the
// merged snapshot does not reorder the inputs' lists.
func cloneUser(u User) User {
	u.Spec.MemberOf = slices.Clone(u.Spec.MemberOf)
	return u
}

func cloneGroup(g Group) Group {
	g.Spec.Children = slices.Clone(g.Spec.Children)
	g.Spec.Members = slices.Clone(g.Spec.Members)
	return g
}
