package fakegithub

import (
	_ "embed"
	"fmt"
	"strings"
)

// githubSchemaSDL is the part of GitHub's GraphQL schema the fake answers,
// verbatim from @octokit/graphql-schema (see testdata/NOTICE at the
// module root).
//
//go:embed github-schema.graphql
var githubSchemaSDL string

// GQLSchema is a parsed GraphQL schema (SDL), enough to validate
// executable documents: object, interface, union, enum, input and scalar
// types, fields with their arguments.
type GQLSchema struct {
	types map[string]*gqlType
}

type gqlType struct {
	kind       string // "type", "interface", "union", "enum", "input", "scalar"
	name       string
	fields     map[string]*gqlField
	interfaces []string
	members    []string
	enumValues map[string]bool
}

type gqlField struct {
	name string
	typ  string
	args map[string]gqlInputValue
}

type gqlInputValue struct {
	typ        string
	hasDefault bool
}

// GitHubSchema parses and returns the subset of GitHub's GraphQL schema
// the fake serves (Query.repositoryOwner, Query.repository, Repository,
// Ref, Commit, Blob, Tree, TreeEntry, PullRequest and their connections,
// as GitHub defines them). The fake refuses, as GitHub does, any query
// that is not valid against it.
func GitHubSchema() *GQLSchema {
	s, err := ParseGraphQLSchema(githubSchemaSDL)
	if err != nil {
		panic("fakegithub: embedded schema: " + err.Error())
	}
	return s
}

// ParseGraphQLSchema parses GraphQL SDL.
func ParseGraphQLSchema(sdl string) (sch *GQLSchema, err error) {
	p := &gqlParser{src: sdl, line: 1}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(gqlSyntaxError)
			if !ok {
				panic(r)
			}
			sch, err = nil, pe
		}
	}()
	p.next()
	sch = &GQLSchema{types: map[string]*gqlType{}}
	for _, b := range []string{"String", "Int", "Float", "Boolean", "ID"} {
		sch.types[b] = &gqlType{kind: "scalar", name: b}
	}
	for p.tok.kind != "eof" {
		if p.tok.kind == "string" { // description
			p.next()
			continue
		}
		kw := p.expect("name", "")
		switch kw {
		case "schema":
			p.skipBraces()
		case "directive":
			p.expect("punct", "@")
			p.expect("name", "")
			if p.is("punct", "(") {
				p.inputValueDefs("(", ")")
			}
			if p.is("name", "repeatable") {
				p.next()
			}
			p.expect("name", "on")
			if p.is("punct", "|") {
				p.next()
			}
			p.expect("name", "")
			for p.is("punct", "|") {
				p.next()
				p.expect("name", "")
			}
		case "scalar":
			name := p.expect("name", "")
			p.directives()
			sch.types[name] = &gqlType{kind: "scalar", name: name}
		case "type", "interface":
			t := &gqlType{kind: kw, name: p.expect("name", ""), fields: map[string]*gqlField{}}
			if p.is("name", "implements") {
				p.next()
				if p.is("punct", "&") {
					p.next()
				}
				t.interfaces = append(t.interfaces, p.expect("name", ""))
				for p.is("punct", "&") {
					p.next()
					t.interfaces = append(t.interfaces, p.expect("name", ""))
				}
			}
			p.directives()
			p.expect("punct", "{")
			for !p.is("punct", "}") {
				if p.tok.kind == "string" {
					p.next()
					continue
				}
				f := &gqlField{name: p.expect("name", ""), args: map[string]gqlInputValue{}}
				if p.is("punct", "(") {
					f.args = p.inputValueDefs("(", ")")
				}
				p.expect("punct", ":")
				f.typ = p.typeRef()
				p.directives()
				t.fields[f.name] = f
			}
			p.next()
			sch.types[t.name] = t
		case "input":
			t := &gqlType{kind: kw, name: p.expect("name", "")}
			p.directives()
			p.inputValueDefs("{", "}")
			sch.types[t.name] = t
		case "enum":
			t := &gqlType{kind: kw, name: p.expect("name", ""), enumValues: map[string]bool{}}
			p.directives()
			p.expect("punct", "{")
			for !p.is("punct", "}") {
				if p.tok.kind == "string" {
					p.next()
					continue
				}
				t.enumValues[p.expect("name", "")] = true
				p.directives()
			}
			p.next()
			sch.types[t.name] = t
		case "union":
			t := &gqlType{kind: kw, name: p.expect("name", "")}
			p.directives()
			p.expect("punct", "=")
			if p.is("punct", "|") {
				p.next()
			}
			t.members = append(t.members, p.expect("name", ""))
			for p.is("punct", "|") {
				p.next()
				t.members = append(t.members, p.expect("name", ""))
			}
			sch.types[t.name] = t
		default:
			p.fail("unexpected " + kw)
		}
	}
	return sch, nil
}

func (p *gqlParser) skipBraces() {
	p.expect("punct", "{")
	depth := 1
	for depth > 0 {
		switch {
		case p.tok.kind == "eof":
			p.fail("unexpected end")
		case p.is("punct", "{"):
			depth++
		case p.is("punct", "}"):
			depth--
		}
		p.next()
	}
}

func (p *gqlParser) inputValueDefs(open, close string) map[string]gqlInputValue {
	p.expect("punct", open)
	out := map[string]gqlInputValue{}
	for !p.is("punct", close) {
		if p.tok.kind == "string" {
			p.next()
			continue
		}
		name := p.expect("name", "")
		p.expect("punct", ":")
		v := gqlInputValue{typ: p.typeRef()}
		if p.is("punct", "=") {
			p.next()
			p.value()
			v.hasDefault = true
		}
		p.directives()
		out[name] = v
	}
	p.next()
	return out
}

// namedType strips list and non-null wrappers: "[String!]!" → "String".
func namedType(t string) string { return strings.Trim(t, "[]!") }

// possible reports whether an object of type typ can be seen where cond
// is expected (equal, implements, or member of).
func (s *GQLSchema) possible(cond, typ string) bool {
	if cond == typ {
		return true
	}
	c, t := s.types[cond], s.types[typ]
	if c == nil || t == nil {
		return false
	}
	switch {
	case c.kind == "interface" && t.kind == "type":
		for _, i := range t.interfaces {
			if i == cond {
				return true
			}
		}
	case c.kind == "union" && t.kind == "type":
		for _, m := range c.members {
			if m == typ {
				return true
			}
		}
	case c.kind == "type" && (t.kind == "interface" || t.kind == "union"):
		return s.possible(typ, cond)
	case c.kind == "interface" && t.kind == "interface":
		for _, x := range s.types {
			if x.kind == "type" && s.possible(cond, x.name) && s.possible(typ, x.name) {
				return true
			}
		}
	}
	return false
}

// Validate checks a document against the schema: fields exist on their
// types, arguments are declared and required ones given, variables are
// declared with compatible types, leaf and object selections are
// well-formed, fragment type conditions are possible, and enum literals
// are values of their enum. It returns every problem found.
func (s *GQLSchema) Validate(doc *GQLDocument) []error {
	var errs []error
	for _, op := range doc.Operations {
		root := "Query"
		if op.Kind != "query" {
			errs = append(errs, fmt.Errorf("operation %q: %s is not supported", op.Name, op.Kind))
			continue
		}
		vars := map[string]GQLVariable{}
		for _, v := range op.Variables {
			vars[v.Name] = v
		}
		used := map[string]bool{}
		errs = append(errs, s.validateSel(doc, op.Selection, root, vars, used, nil)...)
		for _, v := range op.Variables {
			if !used[v.Name] {
				errs = append(errs, fmt.Errorf("variable $%s is declared by %s but not used", v.Name, opName(op)))
			}
			if t := s.types[namedType(v.Type)]; t == nil || (t.kind != "scalar" && t.kind != "enum" && t.kind != "input") {
				errs = append(errs, fmt.Errorf("variable $%s has type %s, which is not an input type", v.Name, v.Type))
			}
		}
	}
	return errs
}

func opName(op *GQLOperation) string {
	if op.Name == "" {
		return "the anonymous " + op.Kind
	}
	return op.Kind + " " + op.Name
}

func (s *GQLSchema) validateSel(doc *GQLDocument, sels []*GQLSelection, typ string, vars map[string]GQLVariable, used map[string]bool, seen map[string]bool) []error {
	var errs []error
	t := s.types[typ]
	if t == nil {
		return []error{fmt.Errorf("type %s is not in the schema", typ)}
	}
	for _, sel := range sels {
		switch {
		case sel.Spread != "":
			f := doc.Fragments[sel.Spread]
			if f == nil {
				errs = append(errs, fmt.Errorf("line %d: fragment %s is not defined", sel.Line, sel.Spread))
				continue
			}
			if seen[f.Name] {
				errs = append(errs, fmt.Errorf("line %d: fragment %s spreads itself", sel.Line, f.Name))
				continue
			}
			if !s.possible(f.On, typ) {
				errs = append(errs, fmt.Errorf("line %d: fragment %s on %s can never apply to %s", sel.Line, f.Name, f.On, typ))
				continue
			}
			seen2 := map[string]bool{f.Name: true}
			for k := range seen {
				seen2[k] = true
			}
			errs = append(errs, s.validateSel(doc, f.Selection, f.On, vars, used, seen2)...)
		case sel.Fragment:
			on := sel.On
			if on == "" {
				on = typ
			}
			if s.types[on] == nil {
				errs = append(errs, fmt.Errorf("line %d: no type %s", sel.Line, on))
				continue
			}
			if !s.possible(on, typ) {
				errs = append(errs, fmt.Errorf("line %d: fragment on %s can never apply to %s", sel.Line, on, typ))
				continue
			}
			errs = append(errs, s.validateSel(doc, sel.Selection, on, vars, used, seen)...)
		default:
			if sel.Name == "__typename" {
				if len(sel.Selection) > 0 || len(sel.Args) > 0 {
					errs = append(errs, fmt.Errorf("line %d: __typename takes no arguments or selection", sel.Line))
				}
				continue
			}
			f := t.fields[sel.Name]
			if f == nil {
				errs = append(errs, fmt.Errorf("line %d: Field '%s' doesn't exist on type '%s'", sel.Line, sel.Name, typ))
				continue
			}
			given := map[string]bool{}
			for _, a := range sel.Args {
				given[a.Name] = true
				def, ok := f.args[a.Name]
				if !ok {
					errs = append(errs, fmt.Errorf("line %d: Field '%s' doesn't accept argument '%s'", sel.Line, sel.Name, a.Name))
					continue
				}
				errs = append(errs, s.validateValue(sel, a.Name, a.Value, def.typ, vars, used)...)
			}
			for name, def := range f.args {
				if strings.HasSuffix(def.typ, "!") && !def.hasDefault && !given[name] {
					errs = append(errs, fmt.Errorf("line %d: Field '%s' is missing required argument '%s'", sel.Line, sel.Name, name))
				}
			}
			rt := s.types[namedType(f.typ)]
			switch {
			case rt == nil:
				errs = append(errs, fmt.Errorf("line %d: type %s of field %s is not in the schema", sel.Line, f.typ, sel.Name))
			case rt.kind == "scalar" || rt.kind == "enum":
				if len(sel.Selection) > 0 {
					errs = append(errs, fmt.Errorf("line %d: field %s of type %s cannot have a selection", sel.Line, sel.Name, f.typ))
				}
			default:
				if len(sel.Selection) == 0 {
					errs = append(errs, fmt.Errorf("line %d: field %s of type %s must have a selection of subfields", sel.Line, sel.Name, f.typ))
					continue
				}
				errs = append(errs, s.validateSel(doc, sel.Selection, rt.name, vars, used, seen)...)
			}
		}
	}
	return errs
}

// validateValue checks an argument value against its declared type.
func (s *GQLSchema) validateValue(sel *GQLSelection, arg string, v any, typ string, vars map[string]GQLVariable, used map[string]bool) []error {
	where := fmt.Sprintf("line %d: argument %s of %s", sel.Line, arg, sel.Name)
	switch x := v.(type) {
	case GQLVar:
		used[string(x)] = true
		d, ok := vars[string(x)]
		if !ok {
			return []error{fmt.Errorf("%s: variable $%s is not declared", where, x)}
		}
		if namedType(d.Type) != namedType(typ) {
			return []error{fmt.Errorf("%s: variable $%s of type %s cannot be used where %s is expected", where, x, d.Type, typ)}
		}
		if strings.HasSuffix(typ, "!") && !strings.HasSuffix(d.Type, "!") && !d.HasDef {
			return []error{fmt.Errorf("%s: nullable variable $%s (%s) cannot be used where %s is expected", where, x, d.Type, typ)}
		}
		return nil
	case nil:
		if strings.HasSuffix(typ, "!") {
			return []error{fmt.Errorf("%s: null given for non-null %s", where, typ)}
		}
		return nil
	case []any:
		inner := strings.TrimSuffix(typ, "!")
		if strings.HasPrefix(inner, "[") {
			inner = strings.TrimSuffix(strings.TrimPrefix(inner, "["), "]")
		}
		var errs []error
		for _, e := range x {
			errs = append(errs, s.validateValue(sel, arg, e, inner, vars, used)...)
		}
		return errs
	}
	if strings.HasPrefix(strings.TrimSuffix(typ, "!"), "[") { // a single value coerces to a list
		return s.validateValue(sel, arg, v, strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(typ, "!"), "["), "]"), vars, used)
	}
	t := s.types[namedType(typ)]
	if t == nil {
		return []error{fmt.Errorf("%s: type %s is not in the schema", where, typ)}
	}
	switch x := v.(type) {
	case GQLEnum:
		if t.kind != "enum" || !t.enumValues[string(x)] {
			return []error{fmt.Errorf("%s: %s is not a value of %s", where, x, typ)}
		}
	case string:
		if t.kind != "scalar" || t.name == "Int" || t.name == "Float" || t.name == "Boolean" {
			return []error{fmt.Errorf("%s: string given for %s", where, typ)}
		}
	case int64:
		if t.name != "Int" && t.name != "Float" && t.name != "ID" && t.kind != "scalar" {
			return []error{fmt.Errorf("%s: number given for %s", where, typ)}
		}
	case bool:
		if t.name != "Boolean" {
			return []error{fmt.Errorf("%s: boolean given for %s", where, typ)}
		}
	case map[string]any:
		if t.kind != "input" {
			return []error{fmt.Errorf("%s: object given for %s", where, typ)}
		}
	}
	return nil
}
