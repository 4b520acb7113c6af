package permission

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/catalog"
)

// A RuleFunc applies a rule to a resource with the condition's params. It
// returns an error for params of the wrong shape, never for a resource
// that does not match.
type RuleFunc func(resource any, params map[string]any) (bool, error)

// RuleDef is a permission rule: a named test of a resource of one type,
// such as the catalog's IS_ENTITY_OWNER.
type RuleDef struct {
	Name         string
	ResourceType string
	Description  string
	// Params names the parameters, e.g. ["claims"]; Required those that
	// must be present.
	Params   []string
	Required []string
	Apply    RuleFunc
	// CheckParams, if set, checks the params' values (their types and
	// shapes) without a resource. It runs for every condition of a tree
	// before anything is evaluated, so that a tree with a bad leaf is
	// refused whatever the resource, and whether or not it exists; a
	// rule without it can only report bad values when it is applied.
	// The catalog's rules have it.
	CheckParams func(params map[string]any) error
	// ParamSchemas describe the params in the metadata a plugin serves
	// (see [Rules.Metadata]): a JSON Schema per parameter name, e.g.
	// {"type":"string","description":"Name of the label to match on"}.
	// A parameter without one is described by {} (any value).
	ParamSchemas map[string]map[string]any
}

// Rules is a set of rules by resource type and name. The zero Rules is
// empty; [CatalogRules] returns the catalog's. A Rules is not changed once
// made ([Rules.With] returns a copy), so it is safe for concurrent use.
type Rules struct {
	by map[[2]string]RuleDef
	// compilers prepare the params of the catalog's rules once per
	// condition (see compile); a def that replaces one loses it.
	compilers map[[2]string]ruleCompiler
}

// NewRules returns a rule set holding defs. A later def with the same
// resource type and name replaces an earlier one. The catalog's rules
// read each condition's params once per batch only in the Rules
// [CatalogRules] returns and its [Rules.With] copies; their defs copied
// into NewRules are applied with their Apply, which reads the params for
// every resource.
func NewRules(defs ...RuleDef) *Rules {
	r := &Rules{by: make(map[[2]string]RuleDef, len(defs))}
	for _, d := range defs {
		r.by[[2]string{d.ResourceType, d.Name}] = d
	}
	return r
}

// With returns a copy of r with defs added.
func (r *Rules) With(defs ...RuleDef) *Rules {
	n := &Rules{by: maps.Clone(r.by), compilers: maps.Clone(r.compilers)}
	if n.by == nil {
		n.by = map[[2]string]RuleDef{}
	}
	for _, d := range defs {
		k := [2]string{d.ResourceType, d.Name}
		n.by[k] = d
		delete(n.compilers, k)
	}
	return n
}

// Lookup returns the rule for a resource type and name.
func (r *Rules) Lookup(resourceType, name string) (RuleDef, bool) {
	if r == nil {
		return RuleDef{}, false
	}
	d, ok := r.by[[2]string{resourceType, name}]
	return d, ok
}

// List returns the rules sorted by resource type and name.
func (r *Rules) List() []RuleDef {
	if r == nil {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(r.by), func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	out := make([]RuleDef, 0, len(keys))
	for _, k := range keys {
		out = append(out, r.by[k])
	}
	return out
}

// Evaluate applies c to resource. A condition anywhere in the tree whose
// rule is unknown or whose params are missing a required parameter or
// name one the rule does not take (all checked before anything is
// evaluated), params of the wrong type, or a
// tree that fails [Criteria.Validate] with the default limits gives an
// InvalidArgument *errcode.Error, as does a rule that panics. A nil resource (one that does not exist)
// is never matched: Evaluate returns false, so that the caller denies,
// without telling that it does not exist.
func (r *Rules) Evaluate(c *Criteria, resource any) (bool, error) {
	if err := c.Validate(Limits{}); err != nil {
		return false, err
	}
	// Every condition is checked (compiled) before any is evaluated:
	// a tree with a bad leaf must be refused whatever the resource, not
	// allow one and refuse another.
	m, err := r.compile(c, nil)
	if err != nil {
		return false, err
	}
	return m.evaluate(resource)
}

// missing reports whether a loaded resource stands for one that does not
// exist: nil, or a nil pointer, map, slice or interface in an any.
func missing(resource any) bool {
	if resource == nil {
		return true
	}
	switch v := reflect.ValueOf(resource); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// checkParams runs def.CheckParams, turning a panic into an error.
func checkParams(def RuleDef, params map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errcode.Newf(errcode.InvalidArgument, "permission.Evaluate", "rule %s panicked checking its parameters", def.Name)
		}
	}()
	if err := def.CheckParams(params); err != nil {
		return errcode.Newf(errcode.InvalidArgument, "permission.Evaluate", "rule %s: %s", def.Name, errMsg(err))
	}
	return nil
}

// errMsg is an error's message without its op, when it has one.
func errMsg(err error) string {
	if e, ok := err.(*errcode.Error); ok && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}

// apply runs a rule, turning a panic into an error: a rule that cannot
// cope with a resource or its params matches nothing.
func apply(def RuleDef, resource any, params map[string]any) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, errcode.Newf(errcode.InvalidArgument, "permission.Evaluate", "rule %s panicked", def.Name)
		}
	}()
	if def.Apply == nil {
		return false, errcode.Newf(errcode.InvalidArgument, "permission.Evaluate", "rule %s has no Apply function", def.Name)
	}
	return def.Apply(resource, params)
}

// Names of the catalog's permission rules.
const (
	IsEntityOwner = "IS_ENTITY_OWNER"
	HasAnnotation = "HAS_ANNOTATION"
	IsEntityKind  = "IS_ENTITY_KIND"
	HasLabel      = "HAS_LABEL"
	HasMetadata   = "HAS_METADATA"
	HasSpec       = "HAS_SPEC"
)

// CatalogRules returns the catalog's rules for resource type
// catalog-entity, applied to a *catalog.Entity as Backstage's catalog
// applies them:
//
//   - IS_ENTITY_OWNER {claims: [refs]}: some ownedBy relation of the entity
//     (or, for an entity read from a file without relations, its
//     spec.owner as a ref of kind group in the entity's namespace) is one
//     of claims, compared case-insensitively;
//   - HAS_ANNOTATION {annotation, value?}: the annotation is present, and
//     equal to value when given;
//   - IS_ENTITY_KIND {kinds: [kinds]}: the kind is one of kinds, compared
//     case-insensitively;
//   - HAS_LABEL {label}: the label is present;
//   - HAS_METADATA / HAS_SPEC {key, value?}: the value at the dotted key
//     path of metadata / spec: for an array, contains value (or is not
//     empty); otherwise equals value (or is truthy, as in JavaScript).
func CatalogRules() *Rules {
	rt := CatalogEntityResourceType
	// The param schemas and descriptions are those the catalog serves at
	// /.well-known/backstage/permissions/metadata.
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	strs := func(desc string) map[string]any {
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": desc}
	}
	property := func(part string) map[string]map[string]any {
		return map[string]map[string]any{
			"key":   str("Property within the entities " + part + " to match on"),
			"value": str("Value of the given property to match on"),
		}
	}
	type rule struct {
		def  RuleDef
		comp entityCompiler
	}
	rules := []rule{
		{RuleDef{Name: IsEntityOwner, ResourceType: rt, Description: "Allow entities owned by a specified claim",
			Params: []string{"claims"}, Required: []string{"claims"},
			ParamSchemas: map[string]map[string]any{"claims": strs("List of claims to match at least one on within ownedBy")}}, isEntityOwner},
		{RuleDef{Name: HasAnnotation, ResourceType: rt, Description: "Allow entities with the specified annotation",
			Params: []string{"annotation", "value"}, Required: []string{"annotation"},
			ParamSchemas: map[string]map[string]any{"annotation": str("Name of the annotation to match on"), "value": str("Value of the annotation to match on")}}, hasAnnotation},
		{RuleDef{Name: IsEntityKind, ResourceType: rt, Description: "Allow entities matching a specified kind",
			Params: []string{"kinds"}, Required: []string{"kinds"},
			ParamSchemas: map[string]map[string]any{"kinds": strs("List of kinds to match at least one of")}}, isEntityKind},
		{RuleDef{Name: HasLabel, ResourceType: rt, Description: "Allow entities with the specified label",
			Params: []string{"label"}, Required: []string{"label"},
			ParamSchemas: map[string]map[string]any{"label": str("Name of the label to match on")}}, hasLabel},
		{RuleDef{Name: HasMetadata, ResourceType: rt, Description: "Allow entities with the specified metadata subfield",
			Params: []string{"key", "value"}, Required: []string{"key"},
			ParamSchemas: property("metadata")}, hasProperty(metadataValue)},
		{RuleDef{Name: HasSpec, ResourceType: rt, Description: "Allow entities with the specified spec subfield",
			Params: []string{"key", "value"}, Required: []string{"key"},
			ParamSchemas: property("spec")}, hasProperty(func(e *catalog.Entity, parts []string) any { return get(e.Spec, parts) })},
	}
	defs := make([]RuleDef, len(rules))
	compilers := make(map[[2]string]ruleCompiler, len(rules))
	for i, r := range rules {
		// Apply and CheckParams are the compiler's, for a caller
		// that applies a def alone or copies it into other Rules.
		r.def.Apply, r.def.CheckParams = entityRule(r.comp), entityParams(r.comp)
		defs[i] = r.def
		compilers[[2]string{r.def.ResourceType, r.def.Name}] = entityMatcher(r.comp)
	}
	out := NewRules(defs...)
	out.compilers = compilers
	return out
}

// An entityCompiler checks a catalog rule's params and returns the rule
// for them, with the bytes of its params it hashes or compares per
// entity.
type entityCompiler func(params map[string]any) (match func(*catalog.Entity) bool, cost int, err error)

// entityParams checks a catalog rule's params without an entity.
func entityParams(comp entityCompiler) func(map[string]any) error {
	return func(p map[string]any) error {
		_, _, err := comp(p)
		return err
	}
}

// entityRule is a catalog rule as a RuleFunc: its params compiled for
// one entity.
func entityRule(comp entityCompiler) RuleFunc {
	return func(resource any, params map[string]any) (bool, error) {
		match, _, err := comp(params)
		if err != nil {
			return false, err
		}
		e, err := asEntity(resource)
		if err != nil || e == nil {
			return false, err
		}
		return match(e), nil
	}
}

// entityMatcher is a catalog rule's compiler for [Rules.compile].
func entityMatcher(comp entityCompiler) ruleCompiler {
	return func(params map[string]any) (func(any) (bool, error), int, error) {
		match, cost, err := comp(params)
		if err != nil {
			return nil, 0, err
		}
		return func(resource any) (bool, error) {
			e, err := asEntity(resource)
			if err != nil || e == nil {
				return false, err
			}
			return match(e), nil
		}, cost, nil
	}
}

// asEntity returns the catalog entity a resource is.
func asEntity(resource any) (*catalog.Entity, error) {
	switch r := resource.(type) {
	case *catalog.Entity:
		return r, nil
	case catalog.Entity:
		return &r, nil
	}
	return nil, errcode.Newf(errcode.InvalidArgument, "permission.Evaluate", "catalog rule applied to a %T, not a catalog entity: "+
		"the catalog-entity loader (AuthorizerOptions.Loaders) must give *catalog.Entity values", resource)
}

func paramErr(name, want string) error {
	return errcode.Newf(errcode.InvalidArgument, "permission.Evaluate", "parameter %q must be %s", name, want)
}

func stringParam(p map[string]any, name string) (string, bool, error) {
	v, ok := p[name]
	if !ok || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, paramErr(name, "a string")
	}
	return s, true, nil
}

func stringsParam(p map[string]any, name string) ([]string, error) {
	switch v := p[name].(type) {
	case []string:
		return v, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, paramErr(name, "an array of strings")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, paramErr(name, "an array of strings")
}

// isEntityOwner matches an entity some ownedBy relation of which (or, for
// an entity without relations, whose spec.owner as a full ref) is one of
// the claims, compared folding ASCII case only (as entity refs compare; a
// non-ASCII look-alike of a name is another name). The claims become a set
// once.
func isEntityOwner(p map[string]any) (func(*catalog.Entity) bool, int, error) {
	claims, err := stringsParam(p, "claims")
	if err != nil {
		return nil, 0, err
	}
	set := newASCIIFoldSet(claims)
	return func(e *catalog.Entity) bool {
		for _, r := range e.Relations {
			if r.Type == "ownedBy" && set.has(r.TargetRef) {
				return true
			}
		}
		if len(e.Relations) > 0 {
			return false
		}
		owner, _ := e.Spec["owner"].(string)
		if owner == "" {
			return false
		}
		ns := e.Metadata.Namespace
		if ns == "" {
			ns = "default"
		}
		// The full ref is built in a buffer on the stack, not allocated
		// for every entity.
		var buf [128]byte
		return set.hasBytes(appendFullRef(buf[:0], owner, "group", ns))
	}, 0, nil
}

// appendFullRef appends a short entity ref ("team-a", "group:team-a",
// "default/team-a") completed with the default kind and namespace, its
// kind and namespace lower-cased, to b.
func appendFullRef(b []byte, ref, kind, ns string) []byte {
	if i := strings.IndexByte(ref, ':'); i >= 0 {
		kind, ref = ref[:i], ref[i+1:]
	}
	if i := strings.IndexByte(ref, '/'); i >= 0 {
		ns, ref = ref[:i], ref[i+1:]
	}
	b = appendLower(b, kind)
	b = append(b, ':')
	b = appendLower(b, ns)
	b = append(b, '/')
	return append(b, ref...)
}

// appendLower appends strings.ToLower(s) to b, without allocating when s
// is ASCII.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

func hasAnnotation(p map[string]any) (func(*catalog.Entity) bool, int, error) {
	name, _, err := stringParam(p, "annotation")
	if err != nil {
		return nil, 0, err
	}
	want, hasWant, err := stringParam(p, "value")
	if err != nil {
		return nil, 0, err
	}
	return func(e *catalog.Entity) bool {
		got, ok := e.Metadata.Annotations[name]
		return ok && (!hasWant || got == want)
	}, len(name) + len(want), nil
}

func isEntityKind(p map[string]any) (func(*catalog.Entity) bool, int, error) {
	kinds, err := stringsParam(p, "kinds")
	if err != nil {
		return nil, 0, err
	}
	set := newFoldSet(kinds)
	return func(e *catalog.Entity) bool { return set.has(e.Kind) }, 0, nil
}

func hasLabel(p map[string]any) (func(*catalog.Entity) bool, int, error) {
	name, _, err := stringParam(p, "label")
	if err != nil {
		return nil, 0, err
	}
	return func(e *catalog.Entity) bool {
		_, ok := e.Metadata.Labels[name]
		return ok
	}, len(name), nil
}

// metadataValue is the value at a key path (split at its dots) of e's
// metadata as the catalog stores it (a JSON tree of name, namespace,
// title, description, labels, annotations, tags and links), read from
// the typed fields without building the tree: a rule costs the same
// whatever the size of the entity's labels or annotations. Where the
// tree holds an object or an array of objects, it stands in as
// [nonScalar] (truthy, equal to no value); the tags are a [tagList].
func metadataValue(e *catalog.Entity, parts []string) any {
	m := e.Metadata
	var s string
	switch parts[0] {
	case "labels", "annotations":
		mm := m.Labels
		if parts[0] == "annotations" {
			mm = m.Annotations
		}
		if len(parts) == 1 {
			// An object, even empty, is truthy; a missing one is not.
			if mm == nil {
				return nil
			}
			return nonScalar{}
		}
		v, ok := mm[parts[1]]
		if !ok || len(parts) > 2 {
			return nil
		}
		return v
	case "tags":
		// A path through an array finds nothing.
		if m.Tags == nil || len(parts) > 1 {
			return nil
		}
		return tagList{e}
	case "links":
		// An array of objects: not empty, or falsy; it contains no
		// scalar value.
		if len(m.Links) == 0 || len(parts) > 1 {
			return nil
		}
		return nonScalar{}
	case "name":
		if len(parts) > 1 {
			return nil
		}
		return m.Name
	case "namespace":
		s = m.Namespace
	case "title":
		s = m.Title
	case "description":
		s = m.Description
	default:
		return nil
	}
	if s == "" || len(parts) > 1 {
		return nil
	}
	return s
}

// nonScalar stands for an object or a non-empty array of objects in a
// metadata tree: truthy, and strictly equal to no param value.
type nonScalar struct{}

// tagList is the array of an entity's tags in its metadata tree, read in
// place rather than copied into an []any (and, being one pointer, held in
// an any without allocating).
type tagList struct{ e *catalog.Entity }

// get is lodash's get on a JSON-like tree, for a key path split at its
// dots (objects only: a path through an array finds nothing).
func get(tree map[string]any, parts []string) any {
	var v any = tree
	for _, part := range parts {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// hasProperty is Backstage's createPropertyRule over the values value
// finds: the value at the dotted key path (lodash get); arrays contain
// value or are not empty, other values equal value (===) or are truthy.
// The key is split once.
func hasProperty(value func(e *catalog.Entity, parts []string) any) entityCompiler {
	return func(p map[string]any) (func(*catalog.Entity) bool, int, error) {
		key, _, err := stringParam(p, "key")
		if err != nil {
			return nil, 0, err
		}
		want, hasWant := p["value"]
		if hasWant {
			// null is refused: it would match every entity lacking the key
			// (Backstage's schema takes a string).
			switch want.(type) {
			case string, bool, float64, int, int64:
			default:
				return nil, 0, paramErr("value", "a string, number or boolean")
			}
		}
		parts := strings.Split(key, ".")
		return func(e *catalog.Entity) bool {
			v := value(e, parts)
			if tags, ok := v.(tagList); ok {
				list := tags.e.Metadata.Tags
				if hasWant {
					w, ok := want.(string)
					return ok && slices.Contains(list, w)
				}
				return len(list) > 0
			}
			if list, ok := v.([]any); ok {
				if hasWant {
					return slices.ContainsFunc(list, func(e any) bool { return strictEqual(e, want) })
				}
				return len(list) > 0
			}
			if hasWant {
				return strictEqual(v, want)
			}
			return truthy(v)
		}, len(key) + valueSize(want), nil
	}
}

// strictEqual is JavaScript's === on JSON-like scalars; numbers compare
// by value whatever their Go type.
func strictEqual(a, b any) bool {
	fa, aNum := number(a)
	fb, bNum := number(b)
	if aNum || bNum {
		return aNum && bNum && fa == fb
	}
	switch a.(type) {
	case string, bool, nil:
		return a == b
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

// truthy is JavaScript's !!v on JSON-like values.
func truthy(v any) bool {
	if f, ok := number(v); ok {
		return f != 0 && f == f
	}
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	}
	return true
}
