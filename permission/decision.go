package permission

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// Result is a decision's outcome, written as Backstage writes it.
type Result string

// The results.
const (
	Allow       Result = "ALLOW"
	Deny        Result = "DENY"
	Conditional Result = "CONDITIONAL"
)

// Decision is a policy's answer for one permission. A CONDITIONAL
// decision names the plugin that owns the resource type and the
// conditions a resource must meet.
type Decision struct {
	Result       Result
	PluginID     string
	ResourceType string
	Conditions   *Criteria
	// Reason explains the decision. It is not part of Backstage's wire
	// shape.
	Reason Reason
}

// Reason says why a decision was taken: which rule, which role, which
// group path. Policies fill the fields that apply.
type Reason struct {
	// Policy names the policy or step that decided, e.g. "rbac",
	// "service principal", "permission disabled", "conditions".
	Policy string `json:"policy"`
	// Summary is one human-readable sentence.
	Summary string `json:"summary"`
	// Rule is the policy line that decided, as written, and Line its
	// line number in its file (0 when not from a file).
	Rule string `json:"rule,omitempty"`
	Line int    `json:"line,omitempty"`
	// Source names the policy file.
	Source string `json:"source,omitempty"`
	// Role is the role whose rule decided.
	Role string `json:"role,omitempty"`
	// Path is how the user holds Role: her own ref, then each group
	// from the one she is a direct member of up to the one bound to
	// Role. Only her ref when she is bound directly.
	Path []string `json:"path,omitempty"`
	// Binding is the role binding line that grants Role to the last
	// element of Path, and BindingLine its line number.
	Binding     string `json:"binding,omitempty"`
	BindingLine int    `json:"bindingLine,omitempty"`
}

// String returns the summary with the rule and path, on one line.
func (r Reason) String() string {
	var b strings.Builder
	b.WriteString(r.Policy)
	if r.Summary != "" {
		b.WriteString(": " + r.Summary)
	}
	if r.Rule != "" {
		fmt.Fprintf(&b, " [%s", r.Rule)
		if r.Line > 0 {
			fmt.Fprintf(&b, " at %s:%d", r.Source, r.Line)
		}
		b.WriteString("]")
	}
	if len(r.Path) > 0 {
		b.WriteString(" via " + strings.Join(r.Path, " → "))
	}
	switch {
	case r.Binding != "" && r.BindingLine > 0:
		fmt.Fprintf(&b, " [%s at %s:%d]", r.Binding, r.Source, r.BindingLine)
	case r.Binding != "":
		fmt.Fprintf(&b, " [%s]", r.Binding)
	}
	return b.String()
}

// Limits bound a condition tree. The zero Limits means [DefaultLimits].
type Limits struct {
	MaxDepth int // nesting of allOf/anyOf/not; a lone condition is depth 1
	MaxNodes int // criteria and conditions in the tree
	MaxItems int // entries of one allOf or anyOf
}

// DefaultLimits are the RBAC plugin's validation limits for conditional
// trees: depth 12, 256 nodes, 64 items per criteria.
var defaultLimits = Limits{MaxDepth: 12, MaxNodes: 256, MaxItems: 64}

// DefaultLimits returns the RBAC plugin's limits for condition trees: depth
// 12, 256 nodes, 64 items per allOf or anyOf.
func DefaultLimits() Limits { return defaultLimits }

func (l Limits) orDefault() Limits {
	if l == (Limits{}) {
		return defaultLimits
	}
	return l
}

// Criteria is a condition tree: exactly one of AllOf, AnyOf, Not or
// Condition is set. Its JSON is Backstage's: {"allOf":[…]}, {"anyOf":[…]},
// {"not":{…}} or {"rule":…, "resourceType":…, "params":{…}}.
type Criteria struct {
	AllOf     []*Criteria
	AnyOf     []*Criteria
	Not       *Criteria
	Condition *Condition
}

// Condition is a leaf of a condition tree: a rule applied to a resource
// with parameters.
type Condition struct {
	Rule         string         `json:"rule"`
	ResourceType string         `json:"resourceType"`
	Params       map[string]any `json:"params,omitempty"`
}

// Rule returns a criteria holding one condition.
func Rule(resourceType, rule string, params map[string]any) *Criteria {
	return &Criteria{Condition: &Condition{Rule: rule, ResourceType: resourceType, Params: params}}
}

// AllOf returns a criteria met when every c is.
func AllOf(c ...*Criteria) *Criteria { return &Criteria{AllOf: c} }

// AnyOf returns a criteria met when some c is.
func AnyOf(c ...*Criteria) *Criteria { return &Criteria{AnyOf: c} }

// Not returns a criteria met when c is not.
func Not(c *Criteria) *Criteria { return &Criteria{Not: c} }

// MarshalJSON writes c in Backstage's shape.
func (c *Criteria) MarshalJSON() ([]byte, error) {
	switch {
	case c == nil:
		return []byte("null"), nil
	case c.AllOf != nil:
		return json.Marshal(struct {
			AllOf []*Criteria `json:"allOf"`
		}{c.AllOf})
	case c.AnyOf != nil:
		return json.Marshal(struct {
			AnyOf []*Criteria `json:"anyOf"`
		}{c.AnyOf})
	case c.Not != nil:
		return json.Marshal(struct {
			Not *Criteria `json:"not"`
		}{c.Not})
	case c.Condition != nil:
		return json.Marshal(c.Condition)
	}
	return nil, errcode.New(errcode.InvalidArgument, "permission.Criteria.MarshalJSON", "empty criteria")
}

// UnmarshalJSON reads c from Backstage's shape. It checks the shape of
// every node; [Criteria.Validate] checks the tree's limits. The document
// is decoded once and the tree built from it, so that the time taken is
// linear in its size however deep it nests (decoding node by node
// rescanned every subtree at every level: an 8 KB tree of nested "not"s
// took seconds).
func (c *Criteria) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return errcode.New(errcode.InvalidArgument, "permission.Criteria.UnmarshalJSON", "criteria must be an object")
	}
	n, err := criteriaFrom(v)
	if err != nil {
		return err
	}
	*c = *n
	return nil
}

// criteriaFrom builds a criteria from a decoded JSON value.
func criteriaFrom(v any) (*Criteria, error) {
	const op = "permission.Criteria.UnmarshalJSON"
	raw, ok := v.(map[string]any)
	if !ok || raw == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "criteria must be an object")
	}
	has := func(k string) bool { _, ok := raw[k]; return ok }
	shapes := 0
	for _, k := range []string{"allOf", "anyOf", "not", "rule"} {
		if has(k) {
			shapes++
		}
	}
	if shapes != 1 {
		return nil, errcode.New(errcode.InvalidArgument, op, "criteria must have exactly one of allOf, anyOf, not or rule")
	}
	c := &Criteria{}
	switch {
	case has("allOf"), has("anyOf"):
		key, dst := "allOf", &c.AllOf
		if has("anyOf") {
			key, dst = "anyOf", &c.AnyOf
		}
		if len(raw) != 1 {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "%s criteria has other keys", key)
		}
		entries, ok := raw[key].([]any)
		if !ok || len(entries) == 0 {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "%s must be a non-empty array", key)
		}
		list := make([]*Criteria, len(entries))
		for i, e := range entries {
			if e == nil {
				return nil, errcode.Newf(errcode.InvalidArgument, op, "%s has a null entry", key)
			}
			n, err := criteriaFrom(e)
			if err != nil {
				return nil, err
			}
			list[i] = n
		}
		*dst = list
	case has("not"):
		if len(raw) != 1 {
			return nil, errcode.New(errcode.InvalidArgument, op, "not criteria has other keys")
		}
		n, err := criteriaFrom(raw["not"])
		if err != nil {
			return nil, err
		}
		c.Not = n
	default:
		var cond Condition
		for k, val := range raw {
			switch k {
			case "rule":
				cond.Rule, ok = val.(string)
			case "resourceType":
				cond.ResourceType, ok = val.(string)
			case "params":
				ok = true
				if val != nil {
					cond.Params, ok = val.(map[string]any)
				}
			default:
				ok = false
			}
			if !ok {
				return nil, errcode.Newf(errcode.InvalidArgument, op, "condition must be {rule, resourceType, params}: field %q is unknown or of the wrong type", k)
			}
		}
		if cond.Rule == "" || cond.ResourceType == "" {
			return nil, errcode.New(errcode.InvalidArgument, op, "condition needs a rule and a resourceType")
		}
		c.Condition = &cond
	}
	return c, nil
}

// Validate checks that c is a well-formed tree within l (zero l: the
// defaults): every node has exactly one shape, allOf and anyOf are not
// empty, and the depth, node count and items per criteria are within
// bounds. It returns an InvalidArgument *errcode.Error.
func (c *Criteria) Validate(l Limits) error {
	l = l.orDefault()
	nodes := 0
	var walk func(c *Criteria, depth int) error
	walk = func(c *Criteria, depth int) error {
		const op = "permission.Criteria.Validate"
		if c == nil {
			return errcode.New(errcode.InvalidArgument, op, "criteria is null")
		}
		nodes++
		if nodes > l.MaxNodes {
			return errcode.Newf(errcode.InvalidArgument, op, "condition tree has more than %d nodes", l.MaxNodes)
		}
		if depth > l.MaxDepth {
			return errcode.Newf(errcode.InvalidArgument, op, "condition tree is deeper than %d levels", l.MaxDepth)
		}
		shapes := 0
		for _, set := range []bool{c.AllOf != nil, c.AnyOf != nil, c.Not != nil, c.Condition != nil} {
			if set {
				shapes++
			}
		}
		if shapes != 1 {
			return errcode.New(errcode.InvalidArgument, op, "criteria must have exactly one of allOf, anyOf, not or a condition")
		}
		list := c.AllOf
		if c.AnyOf != nil {
			list = c.AnyOf
		}
		switch {
		case c.Not != nil:
			return walk(c.Not, depth+1)
		case c.Condition != nil:
			if c.Condition.Rule == "" || c.Condition.ResourceType == "" {
				return errcode.New(errcode.InvalidArgument, op, "condition needs a rule and a resourceType")
			}
			return nil
		case len(list) == 0:
			return errcode.New(errcode.InvalidArgument, op, "allOf and anyOf must not be empty")
		case len(list) > l.MaxItems:
			return errcode.Newf(errcode.InvalidArgument, op, "criteria has %d items, more than %d", len(list), l.MaxItems)
		}
		for _, e := range list {
			if err := walk(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(c, 1)
}

// resourceTypesAre reports whether every condition of c is about
// resource type rt.
func (c *Criteria) resourceTypesAre(rt string) bool {
	if c == nil {
		return true
	}
	if c.Condition != nil {
		return c.Condition.ResourceType == rt
	}
	if c.Not != nil && !c.Not.resourceTypesAre(rt) {
		return false
	}
	for _, e := range append(c.AllOf[:len(c.AllOf):len(c.AllOf)], c.AnyOf...) {
		if !e.resourceTypesAre(rt) {
			return false
		}
	}
	return true
}
