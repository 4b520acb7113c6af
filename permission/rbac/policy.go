package rbac

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/permission"
)

// Membership is the organisation a policy resolves roles in: who is a
// direct member of which group, and which group is the child of which.
// Build it from an org snapshot or any catalog. Refs compare as
// Backstage compares them: case-insensitively, a ref without a kind taken
// as a user (a key of Users) or a group (a group named), a ref without a
// namespace in "default": "User:alice" is "user:default/alice". The
// signed-in user's ref and ownership refs are compared the same way.
type Membership struct {
	// Users maps a user ref to the refs of the groups she is a direct
	// member of (her memberOf relations).
	Users map[string][]string
	// Parents maps a group ref to the refs of its parent groups
	// (spec.parent; a group has at most one in Backstage, more are
	// accepted).
	Parents map[string][]string

	// invalid, when not empty, is why the Membership must not be used
	// (set by FromSnapshot for a snapshot with duplicate entities).
	invalid string
}

// Options configure a [Policy]. Nil means the defaults.
type Options struct {
	// MaxDepth bounds group inheritance, as permission.rbac.maxDepth: a
	// user holds the roles of her direct groups and of their ancestors up
	// to MaxDepth levels above them. Nil means no bound; 0 means direct
	// groups only.
	MaxDepth *int
	// SuperUsers are user or group refs allowed everything, as
	// permission.rbac.admin.superUsers (groups: direct members only).
	SuperUsers []string
	// UseOwnershipEntityRefs also trusts the user's ownership refs (her
	// token's ent claim) for direct role bindings (g lines naming those
	// refs, without inheritance), as the RBAC plugin's
	// useOwnershipEntityRefs. Otherwise only the Membership counts.
	UseOwnershipEntityRefs bool
	// Conditional are conditional policies (see [ParseConditional]).
	Conditional []ConditionalPolicy
	// PreferPermissionLines is permission.rbac.policyDecisionPrecedence:
	// "basic": for a resource permission, the user's p lines (naming the
	// permission or its resource type) decide when any of her roles has
	// one, and her conditional policies only otherwise. False is the
	// plugin's default, "conditional": conditional policies first.
	PreferPermissionLines bool
	// DefaultRole, when set, is a role ref every signed-in user holds,
	// as through a binding of her own (permission.rbac.defaultPermissions
	// .defaultRole; [Load] adds its basicPermissions as p lines). An
	// anonymous caller does not hold it.
	DefaultRole string
}

// Policy is the community RBAC plugin's policy: role bindings from the
// CSV's g lines and from group membership (with inheritance), permission
// policies from its p lines, super users and conditional policies. It
// implements [permission.Policy] and is safe for concurrent use; it is
// immutable once built (rebuild it to reload).
type Policy struct {
	source   string
	roles    []string // role id → role ref
	rules    map[ruleKey]*ruleSet
	conds    map[condKey][]*ConditionalPolicy
	bindings map[string][]binding // subject key → roles bound to it
	groups   map[string]*groupEntry
	users    map[string]*userEntry
	supers   map[string]bool
	def      *binding // the default role every user holds, if any
	maxDepth int      // -1: unbounded
	useEnt   bool
	words    int
	cycles   [][]string

	files []*File // what it was built from, for WithMembership
	opts  Options
	m     *Membership // and the organisation, for Live.ReloadFiles
}

type ruleKey struct {
	obj string
	act permission.Action
}

type condKey struct {
	rt  string
	act permission.Action
}

// ruleSet holds the p lines of one (object, action): the roles allowed
// and denied, and the line that says so for each role.
type ruleSet struct {
	allow, deny         roleSet
	allowLine, denyLine []*Line // by role id
}

type binding struct {
	role int
	line *Line
}

// roleSet is a bit set of role ids.
type roleSet []uint64

func (s roleSet) add(i int) { s[i>>6] |= 1 << (uint(i) & 63) }

func (s roleSet) has(i int) bool { return i>>6 < len(s) && s[i>>6]&(1<<(uint(i)&63)) != 0 }

func (s roleSet) or(o roleSet) {
	for i := range o {
		s[i] |= o[i]
	}
}

// first returns the lowest role id in both s and o.
func (s roleSet) first(o roleSet) (int, bool) {
	for i := range min(len(s), len(o)) {
		if w := s[i] & o[i]; w != 0 {
			return i<<6 + bits.TrailingZeros64(w), true
		}
	}
	return 0, false
}

// groupEntry is a group with the roles it holds, through its own
// bindings and those of its ancestors within MaxDepth.
type groupEntry struct {
	ref   string
	roles roleSet
	via   []roleVia // by role id order
	cycle []string  // a cycle met above this group, if any
}

// roleVia says how a group holds a role: the group path from it up to the
// group bound to the role, and the binding line.
type roleVia struct {
	role int
	path []string
	line *Line
}

type userEntry struct {
	ref    string
	roles  roleSet
	direct []binding     // roles bound to the user herself
	groups []*groupEntry // her direct groups
	super  string        // the super user entry that matched, if any
	cycle  []string
}

// WithMembership returns the policy p's files and options build against
// the organisation m: what to serve once an organisation reader's Update
// or Read has a new snapshot ([FromSnapshot]), without reading the files
// again. p is unchanged.
func (p *Policy) WithMembership(m *Membership) (*Policy, error) {
	return New(p.files, m, &p.opts)
}

// New builds a policy from parsed CSV files (later files add to earlier
// ones), the organisation m (nil: only the CSV's g lines) and opts.
// Building indexes every user and group of m once, so that a decision is
// a few map lookups and bit operations. It returns InvalidArgument for a
// bad super user ref, a conditional policy naming an undefined role, or a
// Membership [FromSnapshot] made of a snapshot with duplicate entities.
func New(files []*File, m *Membership, opts *Options) (*Policy, error) {
	const op = "rbac.New"
	if opts == nil {
		opts = &Options{}
	}
	if m != nil && m.invalid != "" {
		return nil, errcode.New(errcode.InvalidArgument, op, m.invalid)
	}
	p := &Policy{
		files:    slices.Clone(files),
		opts:     *opts,
		m:        m,
		rules:    map[ruleKey]*ruleSet{},
		conds:    map[condKey][]*ConditionalPolicy{},
		bindings: map[string][]binding{},
		groups:   map[string]*groupEntry{},
		users:    map[string]*userEntry{},
		supers:   map[string]bool{},
		maxDepth: -1,
		useEnt:   opts.UseOwnershipEntityRefs,
	}
	if opts.MaxDepth != nil {
		if *opts.MaxDepth < 0 {
			return nil, errcode.New(errcode.InvalidArgument, op, "maxDepth must not be negative")
		}
		p.maxDepth = *opts.MaxDepth
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	p.source = strings.Join(names, ",")
	roleIdx := map[string]int{}
	roleOf := func(ref string) int {
		if i, ok := roleIdx[ref]; ok {
			return i
		}
		roleIdx[ref] = len(p.roles)
		p.roles = append(p.roles, ref)
		return len(p.roles) - 1
	}
	for _, f := range files {
		for i := range f.Lines {
			roleOf(f.Lines[i].Role)
		}
	}
	for _, cp := range opts.Conditional {
		if _, ok := roleIdx[cp.RoleEntityRef]; !ok {
			roleOf(cp.RoleEntityRef)
		}
	}
	if opts.DefaultRole != "" {
		ref, err := normRef(opts.DefaultRole, "")
		if err != nil || !strings.HasPrefix(ref, "role:") {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "default role %q is not a role ref (role:<namespace>/<name>)", opts.DefaultRole)
		}
		p.def = &binding{roleOf(ref), &Line{Kind: "g", Role: ref, Text: "permission.rbac.defaultPermissions.defaultRole: " + ref}}
	}
	p.words = (len(p.roles) + 63) / 64
	newSet := func() roleSet { return make(roleSet, p.words) }
	for _, f := range files {
		for i := range f.Lines {
			l := &f.Lines[i]
			r := roleIdx[l.Role]
			switch l.Kind {
			case "g":
				k := key(l.Subject, "")
				p.bindings[k] = append(p.bindings[k], binding{r, l})
			case "p":
				rk := ruleKey{l.Object, l.Action}
				rs := p.rules[rk]
				if rs == nil {
					rs = &ruleSet{allow: newSet(), deny: newSet(), allowLine: make([]*Line, len(p.roles)), denyLine: make([]*Line, len(p.roles))}
					p.rules[rk] = rs
				}
				if l.Effect == "deny" {
					rs.deny.add(r)
					if rs.denyLine[r] == nil {
						rs.denyLine[r] = l
					}
				} else {
					rs.allow.add(r)
					if rs.allowLine[r] == nil {
						rs.allowLine[r] = l
					}
				}
			}
		}
	}
	conds := slices.Clone(opts.Conditional)
	for i := range conds {
		cp := &conds[i]
		if err := cp.validate(); err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "conditional policy " + cp.Source, Err: err}
		}
		for _, a := range cp.PermissionMapping {
			k := condKey{cp.ResourceType, a}
			p.conds[k] = append(p.conds[k], cp)
		}
	}
	for _, s := range opts.SuperUsers {
		ref, err := normRef(s, "user")
		if err != nil {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "super user %q is not a user or group ref", s)
		}
		p.supers[ref] = true
	}
	// Refs are keyed as Backstage compares them, so that two spellings
	// of one user or group ("User:alice", "user:default/alice") are one.
	var users, parents map[string][]string
	if m != nil {
		users, parents = make(map[string][]string, len(m.Users)), make(map[string][]string, len(m.Parents))
		for u, gs := range m.Users {
			k := key(u, "user")
			have, seen := users[k]
			if !seen && !slices.ContainsFunc(gs, func(g string) bool { return key(g, "group") != g }) {
				users[k] = slices.Clip(gs) // already in key form: shared, not copied
				continue
			}
			list := slices.Clone(have)
			for _, g := range gs {
				if gk := key(g, "group"); !slices.Contains(list, gk) {
					list = append(list, gk)
				}
			}
			users[k] = list
		}
		for g, ps := range m.Parents {
			k := key(g, "group")
			for _, pr := range ps {
				if pk := key(pr, "group"); !slices.Contains(parents[k], pk) {
					parents[k] = append(parents[k], pk)
				}
			}
		}
	}
	p.cycles = findCycles(parents)
	onCycle := map[string][]string{}
	for _, c := range p.cycles {
		for _, g := range c[:len(c)-1] {
			onCycle[g] = c
		}
	}
	// Every group that is a parent, a member's group or a binding's
	// subject gets an entry.
	for g := range parents {
		p.group(g, parents, onCycle, newSet)
	}
	for sub := range p.bindings {
		if strings.HasPrefix(sub, "group:") {
			p.group(sub, parents, onCycle, newSet)
		}
	}
	for uk, gs := range users {
		e := &userEntry{ref: uk, roles: newSet()}
		for _, g := range gs {
			ge := p.group(g, parents, onCycle, newSet)
			e.groups = append(e.groups, ge)
			e.roles.or(ge.roles)
			if ge.cycle != nil && e.cycle == nil {
				e.cycle = ge.cycle
			}
			if p.supers[ge.ref] && e.super == "" {
				e.super = ge.ref
			}
		}
		p.bindUser(e)
		p.users[uk] = e
	}
	return p, nil
}

// bindUser adds the roles bound to the user herself (and the default
// role) and her super user status by name.
func (p *Policy) bindUser(e *userEntry) {
	for _, b := range p.bindings[e.ref] {
		e.roles.add(b.role)
		e.direct = append(e.direct, b)
	}
	if p.def != nil && !e.roles.has(p.def.role) {
		e.roles.add(p.def.role)
		e.direct = append(e.direct, *p.def)
	}
	if p.supers[e.ref] {
		e.super = e.ref
	}
}

// group returns the entry of group g, computing the roles it holds
// through its ancestors within maxDepth, breadth first, so that each role
// is explained by its shortest path.
func (p *Policy) group(g string, parents map[string][]string, onCycle map[string][]string, newSet func() roleSet) *groupEntry {
	if e, ok := p.groups[g]; ok {
		return e
	}
	e := &groupEntry{ref: g, roles: newSet()}
	p.groups[g] = e
	type step struct {
		g    string
		path []string
	}
	queue := []step{{g, []string{g}}}
	visited := map[string]bool{g: true}
	for depth := 0; len(queue) > 0; depth++ {
		var next []step
		for _, s := range queue {
			if c := onCycle[s.g]; c != nil && e.cycle == nil {
				e.cycle = c
			}
			for _, b := range p.bindings[s.g] {
				if !e.roles.has(b.role) {
					e.roles.add(b.role)
					e.via = append(e.via, roleVia{b.role, s.path, b.line})
				}
			}
			if p.maxDepth >= 0 && depth >= p.maxDepth {
				continue
			}
			for _, pr := range parents[s.g] {
				if !visited[pr] {
					visited[pr] = true
					next = append(next, step{pr, append(slices.Clip(s.path), pr)})
				}
			}
		}
		queue = next
	}
	slices.SortFunc(e.via, func(a, b roleVia) int { return a.role - b.role })
	return e
}

// findCycles returns the cycles of the parent graph, each as the refs
// along it with the first repeated at the end.
func findCycles(parents map[string][]string) [][]string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var cycles [][]string
	var stack []string
	var visit func(g string)
	visit = func(g string) {
		color[g] = grey
		stack = append(stack, g)
		for _, pr := range parents[g] {
			switch color[pr] {
			case white:
				visit(pr)
			case grey:
				i := slices.Index(stack, pr)
				c := append(slices.Clone(stack[i:]), pr)
				cycles = append(cycles, c)
			}
		}
		stack = stack[:len(stack)-1]
		color[g] = black
	}
	for _, g := range sortedKeys(parents) {
		if color[g] == white {
			visit(g)
		}
	}
	return cycles
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Cycles returns the cycles found in the group hierarchy, each as the
// group refs along it with the first repeated at the end. Users whose
// groups reach a cycle are denied everything but what super user status
// gives, until the hierarchy is fixed.
func (p *Policy) Cycles() [][]string { return p.cycles }

// Roles returns the refs of the roles user holds, sorted.
func (p *Policy) Roles(user *identity.User) []string {
	if user == nil {
		return nil
	}
	e := p.entry(user)
	var out []string
	for i := range p.roles {
		if e.roles.has(i) {
			out = append(out, p.roles[i])
		}
	}
	slices.Sort(out)
	return out
}

// entry returns the user's index entry; a user the Membership does not
// know gets one built from the bindings of her own ref (and of her
// ownership refs when UseOwnershipEntityRefs is set).
func (p *Policy) entry(user *identity.User) *userEntry {
	uk := key(user.EntityRef, "user")
	e := p.users[uk]
	if e != nil && !p.useEnt {
		return e
	}
	n := &userEntry{ref: uk, roles: make(roleSet, p.words)}
	if e != nil {
		*n = *e
		n.roles = slices.Clone(e.roles)
		n.groups = slices.Clip(n.groups)
	} else {
		p.bindUser(n)
	}
	if p.useEnt {
		for _, r := range user.OwnershipEntityRefs {
			rk := key(r, "user")
			if rk == uk || !strings.HasPrefix(rk, "group:") || slices.ContainsFunc(n.groups, func(g *groupEntry) bool { return g.ref == rk }) {
				continue
			}
			// The token's refs count for their direct bindings only, as
			// in the RBAC plugin.
			ge := &groupEntry{ref: rk, roles: make(roleSet, p.words)}
			for _, b := range p.bindings[rk] {
				ge.roles.add(b.role)
				ge.via = append(ge.via, roleVia{b.role, []string{rk}, b.line})
			}
			n.groups = append(n.groups, ge)
			n.roles.or(ge.roles)
		}
	}
	return n
}

// Decide decides q for user with the RBAC plugin's rules, in its order:
//
//  1. no user: DENY;
//  2. a super user (by her ref or a direct group): ALLOW;
//  3. a user whose groups reach a cycle in the hierarchy: DENY;
//  4. for a resource permission, the conditional policies of her roles for
//     its resource type and action: CONDITIONAL, merged with anyOf when
//     several apply, with $currentUser and $ownerRefs substituted (with
//     PreferPermissionLines, only when none of her roles has a p line for
//     the permission or its resource type and action);
//  5. the p lines of her roles for the permission's name and action or,
//     for a resource permission that no p line of her roles names, for its
//     resource type: DENY if any denies (deny wins), ALLOW if any allows;
//  6. otherwise DENY.
//
// Every decision carries its [permission.Reason]: the line, role and
// group path. A decision for a user the index knows, without conditions,
// does not allocate.
func (p *Policy) Decide(_ context.Context, q permission.Query, user *identity.User) (permission.Decision, error) {
	deny := func(summary string) permission.Decision {
		return permission.Decision{Result: permission.Deny, Reason: permission.Reason{Policy: "rbac", Summary: summary, Source: p.source}}
	}
	if user == nil {
		return deny("no signed-in user"), nil
	}
	e := p.entry(user)
	if e.super != "" {
		return permission.Decision{Result: permission.Allow, Reason: permission.Reason{Policy: "rbac", Summary: "super user",
			Rule: "permission.rbac.admin.superUsers: " + e.super}}, nil
	}
	if e.cycle != nil {
		d := deny("the user's groups reach a cycle in the group hierarchy")
		d.Reason.Path = e.cycle
		return d, nil
	}
	perm := q.Permission
	act := perm.Action()
	if perm.IsResource() && len(p.conds) > 0 && !(p.opts.PreferPermissionLines && p.hasLines(e, perm, act)) {
		if d, ok := p.conditional(e, user, perm, act); ok {
			return d, nil
		}
	}
	obj := perm.Name
	rs := p.rules[ruleKey{obj, act}]
	if perm.IsResource() && (rs == nil || !p.holdsAny(e, rs)) {
		obj = perm.ResourceType
		rs = p.rules[ruleKey{obj, act}]
	}
	if rs == nil {
		return deny("no policy line for this permission, its resource type and action (default deny)"), nil
	}
	if r, ok := rs.deny.first(e.roles); ok {
		return p.decided(permission.Deny, "denied by a deny line of one of the user's roles (deny wins)", rs.denyLine[r], r, e), nil
	}
	if r, ok := rs.allow.first(e.roles); ok {
		return p.decided(permission.Allow, "allowed by a policy line of one of the user's roles", rs.allowLine[r], r, e), nil
	}
	return deny("none of the user's roles has a policy line for this permission or its resource type and action (default deny)"), nil
}

// hasLines reports whether one of e's roles has a p line for perm's name
// or resource type and act.
func (p *Policy) hasLines(e *userEntry, perm permission.Permission, act permission.Action) bool {
	for _, obj := range []string{perm.Name, perm.ResourceType} {
		if rs := p.rules[ruleKey{obj, act}]; rs != nil && p.holdsAny(e, rs) {
			return true
		}
	}
	return false
}

func (p *Policy) holdsAny(e *userEntry, rs *ruleSet) bool {
	_, a := rs.allow.first(e.roles)
	_, d := rs.deny.first(e.roles)
	return a || d
}

// decided builds a decision explained by line l of role r.
func (p *Policy) decided(res permission.Result, summary string, l *Line, r int, e *userEntry) permission.Decision {
	reason := permission.Reason{Policy: "rbac", Summary: summary, Rule: l.Text, Line: l.Number, Source: p.source, Role: p.roles[r]}
	p.how(&reason, r, e)
	return permission.Decision{Result: res, Reason: reason}
}

// how fills the group path and binding by which e holds role r.
func (p *Policy) how(reason *permission.Reason, r int, e *userEntry) {
	for _, b := range e.direct {
		if b.role == r {
			reason.Binding, reason.BindingLine = b.line.Text, b.line.Number
			return
		}
	}
	for _, g := range e.groups {
		if !g.roles.has(r) {
			continue
		}
		i, ok := slices.BinarySearchFunc(g.via, r, func(v roleVia, r int) int { return v.role - r })
		if ok {
			reason.Path = g.via[i].path
			reason.Binding, reason.BindingLine = g.via[i].line.Text, g.via[i].line.Number
			return
		}
	}
}

// conditional returns the CONDITIONAL decision of e's roles for a
// resource permission, if any applies.
func (p *Policy) conditional(e *userEntry, user *identity.User, perm permission.Permission, act permission.Action) (permission.Decision, bool) {
	cps := p.conds[condKey{perm.ResourceType, act}]
	var match []*ConditionalPolicy
	var roles []string
	for _, cp := range cps {
		// roles were indexed in New, so the lookup cannot fail
		for r, ref := range p.roles {
			if ref == cp.RoleEntityRef && e.roles.has(r) {
				match = append(match, cp)
				roles = append(roles, ref)
				break
			}
		}
	}
	if len(match) == 0 {
		return permission.Decision{}, false
	}
	crit := make([]*permission.Criteria, len(match))
	sources := make([]string, len(match))
	var owners []string // the user's ownership refs in the catalog's form
	for i, cp := range match {
		crit[i] = cp.Conditions
		if cp.aliases {
			if owners == nil {
				owners = make([]string, len(user.OwnershipEntityRefs))
				for j, r := range user.OwnershipEntityRefs {
					owners[j] = key(r, "user")
				}
			}
			crit[i] = substitute(cp.Conditions, key(user.EntityRef, "user"), owners)
		}
		sources[i] = cp.Source
	}
	c := crit[0]
	if len(crit) > 1 {
		c = permission.AnyOf(crit...)
	}
	d := permission.Decision{Result: permission.Conditional, PluginID: match[0].PluginID, ResourceType: perm.ResourceType, Conditions: c,
		Reason: permission.Reason{Policy: "rbac", Summary: fmt.Sprintf("conditional policies of roles %s", strings.Join(roles, ", ")),
			Rule: strings.Join(sources, ", "), Role: roles[0], Source: p.source}}
	for r, ref := range p.roles {
		if ref == roles[0] {
			p.how(&d.Reason, r, e)
			break
		}
	}
	return d, true
}
