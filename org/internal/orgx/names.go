package orgx

import (
	"fmt"
	"slices"
	"strings"
)

// Names hands out the entity names of one kind in one namespace, compared
// as Backstage compares them: without regard to case.
//
// A name two distinct holders claim is contested and goes to none of them:
// the data that would pick a winner (listing order, object ids, creation
// order, the paths and display names people choose) is in the hands of
// whoever can create a group, so any first-come rule lets a newcomer take
// an existing group's name, its members' roles with it. One warning names
// every claimant. Only a name the reader's own configuration gives (see
// [Names.Reserve]) wins over claimants.
//
// Use it in two passes: [Names.Reserve] and [Names.Claim] for every entity,
// then [Names.Settle] once, before using any name.
type Names struct {
	kind     string               // "user" or "group", for warnings
	reserved map[string]string    // lower-case name -> the reserving holder's who
	claims   map[string][]claimer // lower-case name -> its distinct claimants, in claim order
	order    []string             // lower-case names in first-claim order
	warnings *[]string
}

type claimer struct{ name, holder, who string }

// NewNames returns the names of entities of kind ("user", "group"); the
// warnings of refused claims are added to warnings (a snapshot's Warnings)
// by [Names.Settle].
func NewNames(kind string, warnings *[]string) *Names {
	return &Names{kind: kind, reserved: map[string]string{}, claims: map[string][]claimer{}, warnings: warnings}
}

// Reserve gives name to the entity who (as warnings name it) whatever
// else claims it: for names that come from the reader's configuration or
// the directory's own identity (a tenant's root group, the configured
// GitLab group), which no member chooses. A claim of a reserved name is
// refused with a warning.
func (n *Names) Reserve(name, who string) {
	k := strings.ToLower(name)
	if _, dup := n.reserved[k]; !dup {
		n.reserved[k] = who
	}
}

// Claim records that holder (a stable key: an object id, a lower-case
// path) wants name; who is how warnings name it. Claims by one holder
// count once. Whether it gets the name is known after [Names.Settle].
func (n *Names) Claim(name, holder, who string) {
	k := strings.ToLower(name)
	cs, seen := n.claims[k]
	if !seen {
		n.order = append(n.order, k)
	}
	if slices.ContainsFunc(cs, func(c claimer) bool { return c.holder == holder }) {
		return
	}
	n.claims[k] = append(cs, claimer{name, holder, who})
}

// Settle decides every claim and returns the holders that got their names.
// It adds one warning per refused name, in first-claim order:
//
//   - "<kind> <who>: skipped: its name ... is already <kind> <other>'s"
//     for a claim of a reserved name;
//   - "<kind> name ... is contested, so none of its claimants has it:
//     <who>, <who>..." (claimants sorted) when two holders claim it.
//
// Call it once: each call adds the warnings again.
func (n *Names) Settle() map[string]bool {
	got := make(map[string]bool, len(n.claims))
	for _, k := range n.order {
		cs := n.claims[k]
		if other, ok := n.reserved[k]; ok {
			for _, c := range cs {
				*n.warnings = append(*n.warnings, fmt.Sprintf("%s %s: skipped: its name %q is already %s %s's", n.kind, c.who, c.name, n.kind, other))
			}
			continue
		}
		if len(cs) == 1 {
			got[cs[0].holder] = true
			continue
		}
		who := make([]string, len(cs))
		for i, c := range cs {
			who[i] = c.who
		}
		slices.Sort(who)
		*n.warnings = append(*n.warnings, fmt.Sprintf("%s name %q is contested, so none of its claimants has it (any of them could be an impostor): %s",
			n.kind, cs[0].name, strings.Join(who, ", ")))
	}
	return got
}
