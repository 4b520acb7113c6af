package permission

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/scmkit/scmkit/errcode"
)

// A ruleCompiler prepares a rule for one condition's params: it checks
// them and returns a function applying the rule to a resource, with the
// work that function does per resource (see matcher.cost). The catalog's
// rules have one, so that a tree applied to a thousand refs reads its
// params (a claims array, a dotted key) once, not once per ref.
type ruleCompiler func(params map[string]any) (match func(resource any) (bool, error), cost int, err error)

// nodeCost is the work counted for each node of a compiled tree per
// resource, before what its rule does with its params.
const nodeCost = 16

// maxApplyWork bounds the work of one ApplyConditions batch: the sum,
// over its items, of the cost of the item's compiled conditions times
// its refs. A batch within MaxItems and the tree limits whose rules
// hash or compare a few dozen bytes per condition stays far below it
// (1,000 refs × 256 conditions × 64 bytes is 16 Mi); a 1 MiB body that
// makes each of its refs rescan long params does not.
const maxApplyWork = 1 << 26

// A matcher is a condition tree compiled for a batch: each condition's
// rule and params are looked up and prepared once, then applied to every
// resource of the batch.
type matcher struct {
	match func(resource any) (bool, error)
	// cost is the work the matcher does per resource: nodeCost per node
	// plus, for a rule, the bytes of its params it hashes or compares
	// per resource (for a rule without a compiler, which reads its
	// params afresh for every resource, their whole size).
	cost int
}

// evaluate applies m to resource. A resource that does not exist (nil,
// or a typed nil such as a nil *catalog.Entity) is never matched.
func (m matcher) evaluate(resource any) (bool, error) {
	if missing(resource) {
		return false, nil
	}
	return m.match(resource)
}

// compile checks every condition of c, which has been validated (its
// rule is known, its params are the rule's and, when the rule can check
// them without a resource, of the right shape), and prepares it for
// evaluation. Its errors are InvalidArgument. memo, when not nil, holds
// the subtrees compiled so far in a batch, and gets c's: a subtree that
// several trees share (Not(owner) and owner) is compiled once.
func (r *Rules) compile(c *Criteria, memo map[*Criteria]matcher) (matcher, error) {
	if m, ok := memo[c]; ok {
		return m, nil
	}
	m, err := r.compileNode(c, memo)
	if err == nil && memo != nil {
		memo[c] = m
	}
	return m, err
}

func (r *Rules) compileNode(c *Criteria, memo map[*Criteria]matcher) (matcher, error) {
	switch {
	case c.Not != nil:
		sub, err := r.compile(c.Not, memo)
		if err != nil {
			return matcher{}, err
		}
		return matcher{cost: nodeCost + sub.cost, match: func(res any) (bool, error) {
			ok, err := sub.match(res)
			return !ok && err == nil, err
		}}, nil
	case c.Condition == nil:
		list, all := c.AnyOf, false
		if c.AllOf != nil {
			list, all = c.AllOf, true
		}
		subs := make([]func(any) (bool, error), len(list))
		cost := nodeCost
		for i, e := range list {
			m, err := r.compile(e, memo)
			if err != nil {
				return matcher{}, err
			}
			subs[i], cost = m.match, cost+m.cost
		}
		return matcher{cost: cost, match: func(res any) (bool, error) {
			// Every branch is evaluated, without short-circuit: a rule
			// that can report bad params only when applied (no
			// CheckParams) then fails the tree for every resource,
			// instead of allowing one and refusing another.
			every, some := true, false
			for _, f := range subs {
				ok, err := f(res)
				if err != nil {
					return false, err
				}
				every, some = every && ok, some || ok
			}
			if all {
				return every, nil
			}
			return some, nil
		}}, nil
	}
	return r.compileCondition(c.Condition)
}

// compileCondition checks and prepares one condition.
func (r *Rules) compileCondition(cond *Condition) (matcher, error) {
	const op = "permission.Evaluate"
	def, ok := r.Lookup(cond.ResourceType, cond.Rule)
	if !ok {
		return matcher{}, errcode.Newf(errcode.InvalidArgument, op, "no rule %s for resource type %s", cond.Rule, cond.ResourceType)
	}
	for _, p := range def.Required {
		if _, ok := cond.Params[p]; !ok {
			return matcher{}, errcode.Newf(errcode.InvalidArgument, op, "rule %s needs the parameter %q", def.Name, p)
		}
	}
	for p := range cond.Params {
		if !slices.Contains(def.Params, p) {
			return matcher{}, errcode.Newf(errcode.InvalidArgument, op, "rule %s has no parameter %q", def.Name, p)
		}
	}
	if comp := r.compilers[[2]string{def.ResourceType, def.Name}]; comp != nil {
		f, cost, err := runCompiler(def.Name, comp, cond.Params)
		if err != nil {
			return matcher{}, err
		}
		return matcher{cost: nodeCost + cost, match: func(res any) (bool, error) { return guard(def.Name, f, res) }}, nil
	}
	if def.CheckParams != nil {
		if err := checkParams(def, cond.Params); err != nil {
			return matcher{}, err
		}
	}
	params := cond.Params
	return matcher{cost: nodeCost + valueSize(params), match: func(res any) (bool, error) { return apply(def, res, params) }}, nil
}

// runCompiler runs a rule's compiler, turning a panic into an error.
func runCompiler(name string, comp ruleCompiler, params map[string]any) (f func(any) (bool, error), cost int, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, cost, err = nil, 0, errcode.Newf(errcode.InvalidArgument, "permission.Evaluate", "rule %s panicked checking its parameters", name)
		}
	}()
	if f, cost, err = comp(params); err != nil {
		return nil, 0, errcode.Newf(errcode.InvalidArgument, "permission.Evaluate", "rule %s: %s", name, errMsg(err))
	}
	return f, cost, nil
}

// guard applies a compiled rule, turning a panic into an error, as apply
// does.
func guard(name string, f func(any) (bool, error), resource any) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, errcode.Newf(errcode.InvalidArgument, "permission.Evaluate", "rule %s panicked", name)
		}
	}()
	return f(resource)
}

// valueSize is the size of a JSON-like value: one per value, plus the
// bytes of its strings and keys, counted up to maxApplyWork+1 (a cost
// beyond what any batch may spend). A value that contains itself, which
// a Go caller can build and JSON cannot, or that is nested deeper than
// maxValueDepth, counts as that cap: it is sized in bounded time and
// stack, never forever.
func valueSize(v any) int { return sizeUpTo(v, maxApplyWork+1, 0) }

// maxValueDepth is deeper than any JSON the standard decoder reads
// (10,000 levels).
const maxValueDepth = 10000

// sizeUpTo is valueSize counted up to limit: it returns
// min(size, limit), and stops as soon as it reaches limit.
func sizeUpTo(v any, limit, depth int) int {
	if depth > maxValueDepth {
		return limit
	}
	n := 1
	switch x := v.(type) {
	case string:
		n += len(x)
	case []any:
		for _, e := range x {
			if n >= limit {
				break
			}
			n += sizeUpTo(e, limit-n, depth+1)
		}
	case []string:
		for _, e := range x {
			n += 1 + len(e)
		}
	case map[string]any:
		for k, e := range x {
			if n >= limit {
				break
			}
			n += len(k)
			n += sizeUpTo(e, max(limit-n, 0), depth+1)
		}
	}
	return min(n, limit)
}

// foldKey returns a key for s such that foldKey(a) == foldKey(b) exactly
// when strings.EqualFold(a, b): each rune is replaced by one member of
// its simple case-folding orbit, the ASCII lower-case letter when the
// orbit has one (so "K" and the Kelvin sign are "k"), else the orbit's
// least rune. An ASCII string without upper-case letters is its own key,
// without allocating.
func foldKey(s string) string {
	ascii, lower := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			lower = false
		}
	}
	switch {
	case ascii && lower:
		return s
	case ascii:
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune is foldKey for one rune.
func foldRune(r rune) rune {
	least, ascii := r, rune(-1)
	for f := r; ; {
		if f < utf8.RuneSelf {
			ascii = f
		}
		least = min(least, f)
		if f = unicode.SimpleFold(f); f == r {
			break
		}
	}
	if ascii >= 0 {
		return unicode.ToLower(ascii) // ASCII: its lower-case letter, or itself
	}
	return least
}

// asciiFoldSet is a set of entity refs compared folding ASCII case only,
// as entity refs compare (org.Ref.Key): under Unicode's folding the claim
// user:default/\u212Aate (KELVIN SIGN) would be kate's.
type asciiFoldSet map[string]struct{}

func newASCIIFoldSet(list []string) asciiFoldSet {
	s := make(asciiFoldSet, len(list))
	for _, e := range list {
		s[string(asciiLowerBytes([]byte(e)))] = struct{}{}
	}
	return s
}

func (s asciiFoldSet) has(v string) bool {
	for i := 0; i < len(v); i++ {
		if 'A' <= v[i] && v[i] <= 'Z' {
			return s.hasBytes([]byte(v))
		}
	}
	_, ok := s[v]
	return ok
}

// hasBytes is has(string(b)); it may change b, and does not allocate.
func (s asciiFoldSet) hasBytes(b []byte) bool {
	_, ok := s[string(asciiLowerBytes(b))]
	return ok
}

// asciiLowerBytes puts b's ASCII letters in lower case, in place, and
// returns b.
func asciiLowerBytes(b []byte) []byte {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// foldSet is a set of strings compared as strings.EqualFold compares
// them.
type foldSet map[string]struct{}

func newFoldSet(list []string) foldSet {
	s := make(foldSet, len(list))
	for _, e := range list {
		s[foldKey(e)] = struct{}{}
	}
	return s
}

func (s foldSet) has(v string) bool {
	_, ok := s[foldKey(v)]
	return ok
}
