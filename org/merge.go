package org

import (
	"fmt"
)

// Merge returns one snapshot of the users and groups of snaps, as a
// catalog fed by several org providers (a GitHub org and an LDAP
// directory, say) holds them, sorted. An entity is kept from the first
// snapshot that has it (by ref, compared as Backstage compares refs); the
// same ref in a later snapshot is left out, with a warning naming both
// snapshots by their [Snapshot.Source] ("githubOrg:acme", as every reader
// sets it; by their position in snaps, "snapshot 1", when it is empty or
// two have the same), as Backstage keeps the entity of
// the provider that registered it first and refuses the other
// ("conflicting entity"). List the provider you trust most first.
//
// Memberships are never combined across snapshots: two providers' users
// or groups of one name are not known to be one (a GitHub login or team
// name is chosen by its owner, an LDAP uid or group by the directory's
// administrators), and what one provider says of its own entity must not
// reach whoever holds the other's name. So a reference (memberOf,
// members, children, parent) of an entity kept from one snapshot is kept
// only when it names an entity kept from that same snapshot, or one that
// no snapshot has (an entity elsewhere in the catalog); a reference to
// another snapshot's entity, or to its own snapshot's entity that was
// left out, is dropped, and the warnings count them. The warnings of
// snaps are kept, before Merge's own. snaps are not modified; nil ones are
// skipped.
func Merge(snaps ...*Snapshot) *Snapshot {
	type kept struct {
		snap int
		ref  Ref
	}
	owner := map[string]kept{} // ref key → the entity kept
	name := names(snaps)
	var conflicts []string
	keep := func(i int, r Ref) bool {
		k := r.Key()
		if first, ok := owner[k]; ok {
			conflicts = append(conflicts, fmt.Sprintf("%s: in %s and %s (as %s); kept from %s, left out of %s",
				first.ref, name[first.snap], name[i], r, name[first.snap], name[i]))
			return false
		}
		owner[k] = kept{i, r}
		return true
	}
	// Which snapshot keeps each ref, first, so that references can be
	// judged whatever their order.
	type entity struct {
		snap  int
		user  *User
		group *Group
	}
	var entities []entity
	for i, s := range snaps {
		if s == nil {
			continue
		}
		for j := range s.Users {
			if keep(i, s.Users[j].Ref()) {
				entities = append(entities, entity{snap: i, user: &s.Users[j]})
			}
		}
		for j := range s.Groups {
			if keep(i, s.Groups[j].Ref()) {
				entities = append(entities, entity{snap: i, group: &s.Groups[j]})
			}
		}
	}
	dropped := 0
	// own keeps the references of snapshot i that stay within it.
	own := func(i int, refs []string, kind, ns string) []string {
		var out []string
		for _, s := range refs {
			r, err := ParseRef(s, kind, ns)
			if err == nil {
				// Kept from another snapshot: another provider's entity,
				// or the copy that replaced this snapshot's own.
				if k, ok := owner[r.Key()]; ok && k.snap != i {
					dropped++
					continue
				}
			}
			out = append(out, s) // unparsable refs stay, for Validate to report
		}
		return out
	}
	out := &Snapshot{}
	for _, s := range snaps {
		if s != nil {
			out.Warnings = append(out.Warnings, s.Warnings...)
		}
	}
	for _, e := range entities {
		if u := e.user; u != nil {
			c := *u
			c.Spec.MemberOf = own(e.snap, u.Spec.MemberOf, KindGroup, u.Metadata.Namespace)
			out.Users = append(out.Users, c)
			continue
		}
		g := e.group
		c := *g
		c.Spec.Members = own(e.snap, g.Spec.Members, KindUser, g.Metadata.Namespace)
		c.Spec.Children = own(e.snap, g.Spec.Children, KindGroup, g.Metadata.Namespace)
		if g.Spec.Parent != "" {
			if p := own(e.snap, []string{g.Spec.Parent}, KindGroup, g.Metadata.Namespace); len(p) == 0 {
				c.Spec.Parent = ""
			}
		}
		out.Groups = append(out.Groups, c)
	}
	out.Warnings = append(out.Warnings, conflicts...)
	if dropped > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("org.Merge: %d membership references left out: they named another snapshot's entity, "+
			"or their own snapshot's entity that another snapshot's copy replaced (memberships are not combined across providers)", dropped))
	}
	out.Sort()
	return out
}

// names are the names of snaps in Merge's warnings: each one's Source,
// or "snapshot i" where it is empty, and both where two share it.
func names(snaps []*Snapshot) []string {
	count := map[string]int{}
	for _, s := range snaps {
		if s != nil && s.Source != "" {
			count[s.Source]++
		}
	}
	out := make([]string, len(snaps))
	for i, s := range snaps {
		switch {
		case s == nil || s.Source == "":
			out[i] = fmt.Sprintf("snapshot %d", i)
		case count[s.Source] > 1:
			out[i] = fmt.Sprintf("%s (snapshot %d)", s.Source, i)
		default:
			out[i] = s.Source
		}
	}
	return out
}
