package org

import (
	"slices"
)

// Index answers membership questions about a [Snapshot] in constant time.
// Membership is Backstage's: a user is a direct member of a group when the
// user's spec.memberOf names it or the group's spec.members names the user;
// a user is a member of a group G when directly a member of G or of any
// group below G (a group whose parent chain, via spec.parent or a parent's
// spec.children, reaches G).
//
// Build it once with [NewIndex] (time and memory linear in the entities and
// the transitive memberships); an Index is immutable and safe for concurrent
// use. Refs name entities case-insensitively; queries whose refs are already
// in lower case do not allocate.
//
// Groups and users that are only referenced (a memberOf naming a group
// outside the snapshot) are part of the index, as Backstage keeps such
// relations too. Cycles in group parents do not loop: every group on a cycle
// is treated as an ancestor of every other, and [Index.Cycles] reports them.
type Index struct {
	spaces    map[string]*space // lower-case namespace -> its entities
	def       *space            // spaces[DefaultNamespace], the usual case
	userRefs  []Ref
	groupRefs []Ref

	direct    [][]int32 // user -> direct groups, sorted
	trans     [][]int32 // user -> direct and inherited groups, sorted
	members   [][]int32 // group -> users, direct and inherited, sorted
	ancestors [][]int32 // group -> itself and its ancestors, sorted
	pairs     map[uint64]struct{}
	cycles    [][]Ref
}

// space holds the ids of one namespace's users and groups by lower-case
// name.
type space struct {
	users, groups map[string]int32
}

// lower returns s with ASCII letters in lower case (as [Ref.Key] folds),
// without allocating when it has no upper-case letter.
func lower(s string) string { return asciiLower(s) }

// space returns the namespace's entities, creating them when create is set.
func (x *Index) space(namespace string, create bool) *space {
	if namespace == "" || namespace == DefaultNamespace {
		if x.def == nil && create {
			x.def = &space{map[string]int32{}, map[string]int32{}}
			x.spaces[DefaultNamespace] = x.def
		}
		return x.def
	}
	ns := lower(namespace)
	sp := x.spaces[ns]
	if sp == nil && create {
		sp = &space{map[string]int32{}, map[string]int32{}}
		x.spaces[ns] = sp
		if ns == DefaultNamespace {
			x.def = sp
		}
	}
	return sp
}

// NewIndex builds the index of s. Refs that do not parse are ignored (see
// [Snapshot.Validate] for reporting them).
func NewIndex(s *Snapshot) *Index {
	x := &Index{spaces: map[string]*space{}}
	for i := range s.Groups {
		x.group(s.Groups[i].Ref())
	}
	for i := range s.Users {
		x.user(s.Users[i].Ref())
	}
	// Edges: user -> direct groups; group -> parents.
	var userGroups [][]int32
	var parents [][]int32
	addUG := func(u, g int32) {
		for int(u) >= len(userGroups) {
			userGroups = append(userGroups, nil)
		}
		userGroups[u] = append(userGroups[u], g)
	}
	addParent := func(child, parent int32) {
		for int(child) >= len(parents) {
			parents = append(parents, nil)
		}
		parents[child] = append(parents[child], parent)
	}
	for i := range s.Users {
		u := &s.Users[i]
		ui := x.user(u.Ref())
		refs, _ := parseRefsLenient(u.Spec.MemberOf, KindGroup, u.Metadata.Namespace)
		for _, r := range refs {
			if EqualFoldASCII(r.Kind, KindGroup) {
				addUG(ui, x.group(r))
			}
		}
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		gi := x.group(g.Ref())
		if p, ok, err := g.ParentRef(); ok && err == nil && EqualFoldASCII(p.Kind, KindGroup) {
			addParent(gi, x.group(p))
		}
		refs, _ := parseRefsLenient(g.Spec.Children, KindGroup, g.Metadata.Namespace)
		for _, c := range refs {
			if EqualFoldASCII(c.Kind, KindGroup) {
				addParent(x.group(c), gi)
			}
		}
		refs, _ = parseRefsLenient(g.Spec.Members, KindUser, g.Metadata.Namespace)
		for _, m := range refs {
			if EqualFoldASCII(m.Kind, KindUser) {
				addUG(x.user(m), gi)
			}
		}
	}
	nu, ng := len(x.userRefs), len(x.groupRefs)
	userGroups = grow(userGroups, nu)
	parents = grow(parents, ng)

	x.computeAncestors(parents)

	x.direct = make([][]int32, nu)
	x.trans = make([][]int32, nu)
	x.members = make([][]int32, ng)
	stamp := make([]int32, ng) // stamp[g] == u+1 when g is already in trans[u]
	total := 0
	for u := range nu {
		x.direct[u] = sortedUnique(userGroups[u])
		var t []int32
		for _, g := range x.direct[u] {
			for _, a := range x.ancestors[g] {
				if stamp[a] != int32(u)+1 {
					stamp[a] = int32(u) + 1
					t = append(t, a)
				}
			}
		}
		slices.Sort(t)
		x.trans[u] = t
		total += len(t)
	}
	x.pairs = make(map[uint64]struct{}, total)
	for u := range nu {
		for _, g := range x.trans[u] {
			x.pairs[pair(int32(u), g)] = struct{}{}
			x.members[g] = append(x.members[g], int32(u))
		}
	}
	return x
}

func grow(s [][]int32, n int) [][]int32 {
	for len(s) < n {
		s = append(s, nil)
	}
	return s
}

func parseRefsLenient(ss []string, kind, ns string) ([]Ref, error) {
	out := make([]Ref, 0, len(ss))
	for _, s := range ss {
		if r, err := ParseRef(s, kind, ns); err == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func sortedUnique(s []int32) []int32 {
	slices.Sort(s)
	return slices.Compact(s)
}

func pair(u, g int32) uint64 { return uint64(uint32(u))<<32 | uint64(uint32(g)) }

func (x *Index) user(r Ref) int32 {
	return intern(x.space(r.Namespace, true).users, &x.userRefs, UserRef(r.Namespace, r.Name))
}

func (x *Index) group(r Ref) int32 {
	return intern(x.space(r.Namespace, true).groups, &x.groupRefs, GroupRef(r.Namespace, r.Name))
}

// intern returns the id of ref, one of a namespace's users or groups (ids,
// by lower-case name), adding it to ids and refs when it is new.
func intern(ids map[string]int32, refs *[]Ref, ref Ref) int32 {
	k := lower(ref.Name)
	if i, ok := ids[k]; ok {
		return i
	}
	i := int32(len(*refs))
	ids[k] = i
	*refs = append(*refs, ref)
	return i
}

// computeAncestors fills x.ancestors with Tarjan's strongly connected
// components over child -> parent edges: components come out parents first,
// so each one's ancestors are its own groups plus its parents' ancestors.
func (x *Index) computeAncestors(parents [][]int32) {
	n := len(parents)
	x.ancestors = make([][]int32, n)
	index := make([]int32, n)
	low := make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int32
	next := int32(0)
	type frame struct{ v, edge int32 }
	for root := range n {
		if index[root] != -1 {
			continue
		}
		call := []frame{{int32(root), 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if int(f.edge) < len(parents[v]) {
				w := parents[v][f.edge]
				f.edge++
				if index[w] == -1 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] != index[v] {
				continue
			}
			// v roots a component: pop it.
			var comp []int32
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			anc := slices.Clone(comp)
			selfLoop := false
			for _, c := range comp {
				for _, p := range parents[c] {
					if p == c {
						selfLoop = true
					}
					anc = append(anc, x.ancestors[p]...)
				}
			}
			anc = sortedUnique(anc)
			for _, c := range comp {
				x.ancestors[c] = anc
			}
			if len(comp) > 1 || selfLoop {
				x.cycles = append(x.cycles, x.cycleRefs(comp, parents))
			}
		}
	}
	slices.SortFunc(x.cycles, func(a, b []Ref) int { return Compare(a[0], b[0]) })
}

// cycleRefs returns the refs of one cycle through a component, starting at
// its smallest ref and following parent edges inside the component.
func (x *Index) cycleRefs(comp []int32, parents [][]int32) []Ref {
	in := make(map[int32]bool, len(comp))
	start := comp[0]
	for _, c := range comp {
		in[c] = true
		if Compare(x.groupRefs[c], x.groupRefs[start]) < 0 {
			start = c
		}
	}
	var out []Ref
	seen := map[int32]bool{}
	for v := start; !seen[v]; {
		seen[v] = true
		out = append(out, x.groupRefs[v])
		next := int32(-1)
		for _, p := range parents[v] {
			if in[p] && (next == -1 || p == start) {
				next = p
			}
		}
		if next == -1 || next == start {
			break
		}
		v = next
	}
	return out
}

func (x *Index) lookupUser(r Ref) (int32, bool) { return x.lookup(r, KindUser) }

func (x *Index) lookupGroup(r Ref) (int32, bool) { return x.lookup(r, KindGroup) }

// lookup finds r among the users (kind is KindUser) or the groups (kind
// is KindGroup); a ref of another kind is never found, one without a kind
// is taken to be of kind.
func (x *Index) lookup(r Ref, kind string) (int32, bool) {
	if r.Kind != kind && r.Kind != "" && !EqualFoldASCII(r.Kind, kind) {
		return 0, false
	}
	sp := x.space(r.Namespace, false)
	if sp == nil {
		return 0, false
	}
	ids := sp.users
	if kind == KindGroup {
		ids = sp.groups
	}
	i, ok := ids[lower(r.Name)]
	return i, ok
}

// lookupPair finds user among the users and group among the groups.
func (x *Index) lookupPair(user, group Ref) (u, g int32, ok bool) {
	if u, ok = x.lookupUser(user); ok {
		g, ok = x.lookupGroup(group)
	}
	return u, g, ok
}

// IsMember reports whether user is a member of group, directly or through a
// group below it. Refs of the wrong kind are never members.
func (x *Index) IsMember(user, group Ref) bool {
	u, g, ok := x.lookupPair(user, group)
	if !ok {
		return false
	}
	_, ok = x.pairs[pair(u, g)]
	return ok
}

// IsDirectMember reports whether user is a direct member of group.
func (x *Index) IsDirectMember(user, group Ref) bool {
	u, g, ok := x.lookupPair(user, group)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(x.direct[u], g)
	return found
}

// GroupsOf returns the groups user belongs to, directly or through groups
// below them, sorted by ref; nil for an unknown user.
func (x *Index) GroupsOf(user Ref) []Ref { return x.groupsOf(user, x.trans) }

// DirectGroupsOf returns the groups user is a direct member of, sorted by
// ref: Backstage's ownership refs for the user, less the user's own ref.
func (x *Index) DirectGroupsOf(user Ref) []Ref { return x.groupsOf(user, x.direct) }

// groupsOf returns the groups of user in groups (x.direct or x.trans),
// sorted by ref; nil for an unknown user.
func (x *Index) groupsOf(user Ref, groups [][]int32) []Ref {
	u, ok := x.lookupUser(user)
	if !ok {
		return nil
	}
	return x.refs(x.groupRefs, groups[u])
}

// MembersOf returns the users of group, direct members and members of the
// groups below it, sorted by ref.
func (x *Index) MembersOf(group Ref) []Ref {
	g, ok := x.lookupGroup(group)
	if !ok {
		return nil
	}
	return x.refs(x.userRefs, x.members[g])
}

// Ancestors returns the groups above group (its parent, the parent's
// parent, ...), sorted by ref; a group on a cycle is its own ancestor.
func (x *Index) Ancestors(group Ref) []Ref {
	g, ok := x.lookupGroup(group)
	if !ok {
		return nil
	}
	var out []Ref
	onCycle := false
	for _, c := range x.cycles {
		for _, r := range c {
			if r.Equal(x.groupRefs[g]) {
				onCycle = true
			}
		}
	}
	for _, a := range x.ancestors[g] {
		if a != g || onCycle {
			out = append(out, x.groupRefs[a])
		}
	}
	slices.SortFunc(out, Compare)
	return out
}

func (x *Index) refs(all []Ref, ids []int32) []Ref {
	out := make([]Ref, len(ids))
	for i, id := range ids {
		out[i] = all[id]
	}
	slices.SortFunc(out, Compare)
	return out
}

// Cycles returns the cycles found in group parents, each as the refs along
// one loop starting at its smallest ref. A valid organisation has none.
func (x *Index) Cycles() [][]Ref { return slices.Clone(x.cycles) }

// Users returns the number of users known to the index, including users
// only referenced by a group's members.
func (x *Index) Users() int { return len(x.userRefs) }

// Groups returns the number of groups known to the index, including groups
// only referenced.
func (x *Index) Groups() int { return len(x.groupRefs) }
