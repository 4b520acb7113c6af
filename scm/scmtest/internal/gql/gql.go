// Package gql is the GraphQL executor of scmkit's fake provider servers.
// It knows GraphQL, not the providers: queries are parsed and validated by
// github.com/vektah/gqlparser/v2 against a schema subset (so the fake
// refuses what the real service refuses), variables are coerced, and the
// validated document is walked (fields, aliases, arguments, inline
// fragments and fragment spreads on object, interface and union types,
// @skip and @include, __typename, lists, nulls propagated from non-null
// fields) over values that the fake's resolvers return. Errors are worded
// as graphql-ruby, the GraphQL server of both GitHub and GitLab, words
// them; [Page] cuts connections' pages as both providers do.
//
// A fake loads its schema once with [LoadSchema], builds an [Executor] with
// its resolvers, and for each request calls [Executor.Prepare] (the
// errors are the service's validation errors) then [Operation.Execute].
// Each fake writes the errors in its provider's shape.
package gql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// LoadSchema loads a schema subset from SDL: type definitions copied
// verbatim from a provider's published schema. References to types the
// subset leaves out are dropped (fields and arguments of such types,
// fields with a required argument of such a type, interfaces, union
// members and directives not defined), so that the subset need not be
// closed; the rest is validated as GraphQL requires.
func LoadSchema(name, sdl string) (*ast.Schema, error) {
	doc, err := parser.ParseSchemas(validator.Prelude, &ast.Source{Name: name, Input: sdl})
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, d := range doc.Definitions {
		known[d.Name] = true
	}
	dirs := map[string]bool{}
	for _, d := range doc.Directives {
		dirs[d.Name] = true
	}
	keepArg := func(a *ast.ArgumentDefinition) bool { return known[a.Type.Name()] }
	for _, d := range append(slices.Clone(doc.Definitions), doc.Extensions...) {
		d.Interfaces = slices.DeleteFunc(d.Interfaces, func(n string) bool { return !known[n] })
		d.Types = slices.DeleteFunc(d.Types, func(n string) bool { return !known[n] })
		d.Directives = slices.DeleteFunc(d.Directives, func(x *ast.Directive) bool { return !dirs[x.Name] })
		d.Fields = slices.DeleteFunc(d.Fields, func(f *ast.FieldDefinition) bool {
			for _, a := range f.Arguments {
				if !keepArg(a) && a.Type.NonNull && a.DefaultValue == nil {
					return true
				}
			}
			f.Arguments = slices.DeleteFunc(f.Arguments, func(a *ast.ArgumentDefinition) bool { return !keepArg(a) })
			f.Directives = slices.DeleteFunc(f.Directives, func(x *ast.Directive) bool { return !dirs[x.Name] })
			return !known[f.Type.Name()]
		})
	}
	return validator.ValidateSchemaDocument(doc)
}

// Request is a GraphQL request as POSTed: {"query", "variables",
// "operationName"}.
type Request struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// Location is a position in the query, 1-based.
type Location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Error is a GraphQL error: a syntax or validation error of the request,
// or a field's error during execution.
type Error struct {
	// Message is the error's message.
	Message string
	// Locations are the positions in the query it concerns.
	Locations []Location
	// Path is the response path of the field that failed (execution
	// errors), nil otherwise.
	Path []any
	// Rule is the validation rule that failed (gqlparser's name, e.g.
	// "FieldsOnCorrectType"), or "" for other errors.
	Rule string
	// Extra holds further members of the error object, as the provider
	// sends them (e.g. "type", "extensions").
	Extra map[string]any
}

func (e *Error) Error() string { return e.Message }

// MarshalJSON encodes e as an error object of a GraphQL response.
func (e *Error) MarshalJSON() ([]byte, error) {
	m := map[string]any{"message": e.Message}
	if len(e.Locations) > 0 {
		m["locations"] = e.Locations
	}
	if e.Path != nil {
		m["path"] = e.Path
	}
	for k, v := range e.Extra {
		m[k] = v
	}
	return json.Marshal(m)
}

// Field is what a resolver is given: the field to resolve on its parent
// value.
type Field struct {
	// Context is the context given to Execute.
	Context context.Context
	// Type is the name of the parent's object type.
	Type string
	// Name is the field's name; Alias its response key.
	Name, Alias string
	// Args are its arguments, variables substituted and defaults applied.
	Args map[string]any
	// Parent is the value the parent field resolved to (the root value
	// for top-level fields).
	Parent any
	// Path is the field's response path.
	Path []any
	// AST is the field as parsed.
	AST *ast.Field
}

// A Resolver returns the value of a field: a scalar or enum value for a
// leaf; any value for an object (its fields are resolved in turn); for
// an interface or union, a value implementing [Typed] or a map with a
// "__typename" string; a slice for a list; nil for null. An error nulls
// the field and is reported (an *Error keeps its Message and Extra).
type Resolver func(f *Field) (any, error)

// Typed is a value of an object type that names its type, as the values of
// interface and union fields must.
type Typed interface{ Typename() string }

// Executor executes queries against Schema with Resolvers. It holds no
// per-request state; it is safe for concurrent use once set up.
type Executor struct {
	// Schema is the schema queries are validated against.
	Schema *ast.Schema
	// Resolvers are keyed by "Type.field", or by "Type" for every field
	// of a type without its own. A field with neither is read from a
	// map[string]any parent by name: its value, or the value a Resolver
	// stored there returns (an error when the key is missing); it is null
	// on a parent of another type.
	Resolvers map[string]Resolver
}

// Operation is a validated operation ready to execute.
type Operation struct {
	x *Executor
	// Doc is the operation's definition.
	Doc *ast.OperationDefinition
	// Vars are the coerced variables.
	Vars map[string]any
}

// Parse parses query and validates it against schema, returning the
// errors the service would answer, worded as graphql-ruby words them.
func Parse(schema *ast.Schema, query string) (*ast.QueryDocument, []*Error) {
	doc, err := parser.ParseQuery(&ast.Source{Name: "query", Input: query})
	if err != nil {
		return nil, []*Error{fromParser(err, query)}
	}
	if len(doc.Operations) == 0 {
		return nil, []*Error{{Message: "The query holds no operation."}}
	}
	if errs := validator.ValidateWithRules(schema, doc, nil); len(errs) > 0 { // nil: the default rules
		out := make([]*Error, len(errs))
		for i, e := range errs {
			out[i] = fromParser(e, query)
		}
		return nil, out
	}
	return doc, nil
}

// Prepare parses req.Query, validates it against the schema, picks the
// operation and coerces the variables. On failure it returns the errors
// the service would answer, and no operation.
func (x *Executor) Prepare(req Request) (*Operation, []*Error) {
	doc, errs := Parse(x.Schema, req.Query)
	if errs != nil {
		return nil, errs
	}
	op := doc.Operations.ForName(req.OperationName)
	switch {
	case op == nil && req.OperationName == "":
		return nil, []*Error{{Message: "Must provide operation name if query contains multiple operations."}}
	case op == nil:
		return nil, []*Error{{Message: fmt.Sprintf("Unknown operation named %q.", req.OperationName)}}
	}
	vars, err := validator.VariableValues(x.Schema, op, req.Variables)
	if err != nil {
		// gqlparser says "must be defined" and the like, without the
		// variable's name; graphql-ruby names the first one missing.
		e := fromParser(err, req.Query)
		for _, v := range op.VariableDefinitions {
			if v.Type.NonNull && v.DefaultValue == nil && req.Variables[v.Variable] == nil {
				e.Message = fmt.Sprintf("Variable $%s of type %s was provided invalid value", v.Variable, v.Type)
				break
			}
		}
		return nil, []*Error{e}
	}
	return &Operation{x: x, Doc: op, Vars: vars}, nil
}

// fromParser is err, gqlparser's error about query, as graphql-ruby
// words it.
func fromParser(err error, query string) *Error {
	var ge *gqlerror.Error
	if !errors.As(err, &ge) {
		return &Error{Message: err.Error()}
	}
	e := &Error{Message: ge.Message, Rule: ge.Rule}
	for _, l := range ge.Locations {
		e.Locations = append(e.Locations, Location{l.Line, l.Column})
	}
	return rubyError(e, query)
}

// Walk visits the operation's fields depth first in document order, those
// of every fragment included whatever its type condition, with their
// arguments; fn returns the value handed to the field's children as up,
// and an error stops the walk and is returned. It suits the checks a
// service makes before executing (page sizes, query cost, access).
func (op *Operation) Walk(up any, fn func(f *ast.Field, args map[string]any, up any) (any, error)) error {
	var walk func(set ast.SelectionSet, up any) error
	walk = func(set ast.SelectionSet, up any) error {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				down, err := fn(s, s.ArgumentMap(op.Vars), up)
				if err == nil {
					err = walk(s.SelectionSet, down)
				}
				if err != nil {
					return err
				}
			case *ast.InlineFragment:
				if err := walk(s.SelectionSet, up); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if err := walk(s.Definition.SelectionSet, up); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(op.Doc.SelectionSet, up)
}

// Execute runs the operation on root, the value of the query type, and
// returns the data and the field errors. data is nil when a non-null
// top-level field is null.
func (op *Operation) Execute(ctx context.Context, root any) (data *Object, errs []*Error) {
	ex := &execution{op: op, ctx: ctx}
	typ := op.x.Schema.Query
	switch op.Doc.Operation {
	case ast.Mutation:
		typ = op.x.Schema.Mutation
	case ast.Subscription:
		return nil, []*Error{{Message: "subscriptions are not supported by this fake"}}
	}
	data, _ = ex.object(typ.Name, root, []ast.SelectionSet{op.Doc.SelectionSet}, nil)
	return data, ex.errs
}

type execution struct {
	op   *Operation
	ctx  context.Context
	errs []*Error
}

// group is the fields of one response key, their selections merged.
type group struct {
	key    string
	fields []*ast.Field
}

// collect gathers the fields of sets that apply to the object type typ,
// by response key in document order.
func (ex *execution) collect(typ string, sets []ast.SelectionSet) []*group {
	var out []*group
	byKey := map[string]*group{}
	seen := map[string]bool{}
	var visit func(set ast.SelectionSet)
	visit = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if !ex.include(s.Directives) {
					continue
				}
				k := s.Alias
				if k == "" {
					k = s.Name
				}
				g := byKey[k]
				if g == nil {
					g = &group{key: k}
					byKey[k] = g
					out = append(out, g)
				}
				g.fields = append(g.fields, s)
			case *ast.InlineFragment:
				if ex.include(s.Directives) && ex.applies(s.TypeCondition, typ) {
					visit(s.SelectionSet)
				}
			case *ast.FragmentSpread:
				if ex.include(s.Directives) && !seen[s.Name] && ex.applies(s.Definition.TypeCondition, typ) {
					seen[s.Name] = true
					visit(s.Definition.SelectionSet)
				}
			}
		}
	}
	for _, set := range sets {
		visit(set)
	}
	return out
}

// applies reports whether a fragment on cond applies to the object type typ.
func (ex *execution) applies(cond, typ string) bool {
	if cond == "" || cond == typ {
		return true
	}
	return slices.ContainsFunc(ex.op.x.Schema.PossibleTypes[cond], func(d *ast.Definition) bool { return d.Name == typ })
}

// include applies @skip and @include.
func (ex *execution) include(ds ast.DirectiveList) bool {
	for _, d := range ds {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		if v, _ := d.ArgumentMap(ex.op.Vars)["if"].(bool); v == (d.Name == "skip") {
			return false
		}
	}
	return true
}

// object resolves the groups of sets on v of object type typ; ok is false
// when a non-null field is null, which nulls the object.
func (ex *execution) object(typ string, v any, sets []ast.SelectionSet, path []any) (*Object, bool) {
	out := &Object{}
	for _, g := range ex.collect(typ, sets) {
		f := g.fields[0]
		if f.Name == "__typename" {
			out.set(g.key, typ)
			continue
		}
		p := append(slices.Clone(path), g.key)
		loc := []Location{{f.Position.Line, f.Position.Column}}
		if f.Name == "__schema" || f.Name == "__type" {
			ex.errs = append(ex.errs, &Error{Message: "introspection is not supported by this fake", Path: p, Locations: loc})
			out.set(g.key, nil)
			continue
		}
		val, err := ex.resolve(&Field{Context: ex.ctx, Type: typ, Name: f.Name, Alias: g.key,
			Args: f.ArgumentMap(ex.op.Vars), Parent: v, Path: p, AST: f})
		if err != nil {
			e := &Error{Message: err.Error()}
			if fe := (*Error)(nil); errors.As(err, &fe) {
				e.Message, e.Extra, e.Locations = fe.Message, fe.Extra, fe.Locations
			}
			e.Path = p
			if e.Locations == nil {
				e.Locations = loc
			}
			ex.errs = append(ex.errs, e)
			val = nil
		}
		sets := make([]ast.SelectionSet, len(g.fields))
		for i, f := range g.fields {
			sets[i] = f.SelectionSet
		}
		res, ok := ex.value(f.Definition.Type, val, sets, p, loc, err == nil)
		if !ok {
			return nil, false
		}
		out.set(g.key, res)
	}
	return out, true
}

// Object is an object of a response: its fields in the order of the
// selection set, as GraphQL answers them. It encodes as a JSON object.
type Object struct {
	keys []string
	vals []any
}

func (o *Object) set(k string, v any) { o.keys, o.vals = append(o.keys, k), append(o.vals, v) }

// MarshalJSON encodes o as a JSON object, its members in order. It does
// not escape HTML: the encoder o is written with decides.
func (o *Object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`"` + k + `":`) // a response key is a GraphQL name: nothing to escape
		if err := enc.Encode(o.vals[i]); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func (ex *execution) resolve(f *Field) (any, error) {
	rs := ex.op.x.Resolvers
	if r := rs[f.Type+"."+f.Name]; r != nil {
		return r(f)
	}
	if r := rs[f.Type]; r != nil {
		return r(f)
	}
	m, ok := f.Parent.(map[string]any)
	if !ok {
		return nil, nil
	}
	v, ok := m[f.Name]
	switch fn := v.(type) {
	case Resolver:
		return fn(f)
	case func(*Field) (any, error):
		return fn(f)
	case nil:
		if !ok {
			return nil, fmt.Errorf("the fake does not serve %s.%s", f.Type, f.Name)
		}
	}
	return v, nil
}

// value completes v of type t; ok is false when a null must propagate to
// the parent. report says whether a null in a non-null position is to be
// reported (it is not when the resolver's error already was).
func (ex *execution) value(t *ast.Type, v any, sets []ast.SelectionSet, path []any, loc []Location, report bool) (any, bool) {
	null := func(report bool) (any, bool) {
		if t.NonNull && report {
			ex.errs = append(ex.errs, &Error{Message: "Cannot return null for non-nullable field", Path: path, Locations: loc})
		}
		return nil, !t.NonNull
	}
	rv := reflect.ValueOf(v)
	if v == nil || (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map) && rv.IsNil() {
		return null(report)
	}
	if t.Elem != nil {
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			ex.errs = append(ex.errs, &Error{Message: fmt.Sprintf("internal error: %T is not a list", v), Path: path, Locations: loc})
			return null(false)
		}
		list := make([]any, rv.Len())
		for i := range list {
			item, ok := ex.value(t.Elem, rv.Index(i).Interface(), sets, append(slices.Clone(path), i), loc, true)
			if !ok {
				return null(false)
			}
			list[i] = item
		}
		return list, true
	}
	def := ex.op.x.Schema.Types[t.NamedType]
	switch def.Kind {
	case ast.Object, ast.Interface, ast.Union:
		typ := def.Name
		if def.Kind != ast.Object {
			typ = typename(v)
			if !ex.applies(def.Name, typ) {
				ex.errs = append(ex.errs, &Error{Message: fmt.Sprintf("internal error: %T is not a possible type of %s", v, def.Name), Path: path, Locations: loc})
				return null(false)
			}
		}
		obj, ok := ex.object(typ, v, sets, path)
		if !ok {
			return null(false)
		}
		return obj, true
	}
	return v, true
}

func typename(v any) string {
	switch x := v.(type) {
	case Typed:
		return x.Typename()
	case map[string]any:
		s, _ := x["__typename"].(string)
		return s
	}
	return ""
}

// Int returns the integer argument name, whatever numeric type it was
// decoded as.
func Int(args map[string]any, name string) (int, bool) {
	switch v := args[name].(type) {
	case int64:
		return int(v), true
	case int:
		return v, true
	case float64:
		return int(v), v == float64(int(v))
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	}
	return 0, false
}

// String returns the string argument name.
func String(args map[string]any, name string) (string, bool) {
	s, ok := args[name].(string)
	return s, ok
}
