package fakegithub

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file parses GraphQL executable documents (queries, fragments,
// variables, arguments, aliases, inline fragments, directives), enough to
// answer real queries rather than match their text.

// GQLDocument is a parsed GraphQL executable document.
type GQLDocument struct {
	Operations []*GQLOperation
	Fragments  map[string]*GQLFragment
}

// GQLOperation is one operation of a document.
type GQLOperation struct {
	Kind      string // "query", "mutation" or "subscription"
	Name      string
	Variables []GQLVariable
	Selection []*GQLSelection
}

// GQLVariable is a variable definition.
type GQLVariable struct {
	Name    string
	Type    string // e.g. "String!", "[ID!]"
	Default any
	HasDef  bool
}

// GQLFragment is a named fragment definition.
type GQLFragment struct {
	Name      string
	On        string
	Selection []*GQLSelection
}

// GQLSelection is a field, an inline fragment (Name "" and Fragment true)
// or a fragment spread (Spread set).
type GQLSelection struct {
	Alias     string
	Name      string
	Args      []GQLArgument
	Selection []*GQLSelection
	// Inline fragment: Fragment is true and On is the type condition
	// ("" when absent).
	Fragment bool
	On       string
	// Spread names a fragment spread.
	Spread string
	Line   int
}

// GQLArgument is one argument; Value is a Go value: string, int64,
// float64, bool, nil, GQLEnum, GQLVar, []any or map[string]any.
type GQLArgument struct {
	Name  string
	Value any
}

// GQLVar is a variable reference in a value.
type GQLVar string

// GQLEnum is an enum value.
type GQLEnum string

// ResponseKey is the key of a field in the response: its alias or name.
func (s *GQLSelection) ResponseKey() string {
	if s.Alias != "" {
		return s.Alias
	}
	return s.Name
}

type gqlToken struct {
	kind string // "punct", "name", "int", "float", "string", "eof"
	val  string
	line int
}

type gqlParser struct {
	src  string
	pos  int
	line int
	tok  gqlToken
}

// ParseGraphQL parses a GraphQL executable document.
func ParseGraphQL(src string) (doc *GQLDocument, err error) {
	p := &gqlParser{src: src, line: 1}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(gqlSyntaxError)
			if !ok {
				panic(r)
			}
			doc, err = nil, pe
		}
	}()
	p.next()
	doc = &GQLDocument{Fragments: map[string]*GQLFragment{}}
	for p.tok.kind != "eof" {
		switch {
		case p.is("punct", "{"):
			doc.Operations = append(doc.Operations, &GQLOperation{Kind: "query", Selection: p.selectionSet()})
		case p.is("name", "query"), p.is("name", "mutation"), p.is("name", "subscription"):
			op := &GQLOperation{Kind: p.tok.val}
			p.next()
			if p.tok.kind == "name" {
				op.Name = p.tok.val
				p.next()
			}
			if p.is("punct", "(") {
				op.Variables = p.variableDefs()
			}
			p.directives()
			op.Selection = p.selectionSet()
			doc.Operations = append(doc.Operations, op)
		case p.is("name", "fragment"):
			p.next()
			f := &GQLFragment{Name: p.expect("name", "")}
			if p.expect("name", "on") != "on" {
				p.fail("expected on")
			}
			f.On = p.expect("name", "")
			p.directives()
			f.Selection = p.selectionSet()
			doc.Fragments[f.Name] = f
		default:
			p.fail("unexpected " + p.tok.val)
		}
	}
	if len(doc.Operations) == 0 {
		return nil, gqlSyntaxError{msg: "no operation", line: p.line}
	}
	return doc, nil
}

type gqlSyntaxError struct {
	msg  string
	line int
}

func (e gqlSyntaxError) Error() string {
	return fmt.Sprintf("Parse error on line %d: %s", e.line, e.msg)
}

func (p *gqlParser) fail(msg string) { panic(gqlSyntaxError{msg: msg, line: p.tok.line}) }

func (p *gqlParser) is(kind, val string) bool { return p.tok.kind == kind && p.tok.val == val }

func (p *gqlParser) expect(kind, val string) string {
	if p.tok.kind != kind || (val != "" && p.tok.val != val) {
		p.fail(fmt.Sprintf("expected %s %q, got %q", kind, val, p.tok.val))
	}
	v := p.tok.val
	p.next()
	return v
}

func (p *gqlParser) next() {
	// Skip ignored tokens: white space, line terminators, commas,
	// comments and a byte order mark.
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r' || c == ',':
			p.pos++
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case strings.HasPrefix(p.src[p.pos:], "\ufeff"):
			p.pos += 3
		default:
			goto tok
		}
	}
	p.tok = gqlToken{kind: "eof", line: p.line}
	return
tok:
	start := p.pos
	c := p.src[p.pos]
	p.tok.line = p.line
	switch {
	case strings.HasPrefix(p.src[p.pos:], "..."):
		p.pos += 3
		p.tok = gqlToken{kind: "punct", val: "...", line: p.line}
	case strings.ContainsRune("!$&()::=@[]{}|", rune(c)):
		p.pos++
		p.tok = gqlToken{kind: "punct", val: string(c), line: p.line}
	case c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z':
		for p.pos < len(p.src) && isNameChar(p.src[p.pos]) {
			p.pos++
		}
		p.tok = gqlToken{kind: "name", val: p.src[start:p.pos], line: p.line}
	case c == '-' || '0' <= c && c <= '9':
		p.pos++
		kind := "int"
		for p.pos < len(p.src) {
			d := p.src[p.pos]
			if '0' <= d && d <= '9' {
				p.pos++
				continue
			}
			if d == '.' || d == 'e' || d == 'E' || ((d == '+' || d == '-') && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E')) {
				kind = "float"
				p.pos++
				continue
			}
			break
		}
		p.tok = gqlToken{kind: kind, val: p.src[start:p.pos], line: p.line}
	case strings.HasPrefix(p.src[p.pos:], `"""`):
		end := strings.Index(p.src[p.pos+3:], `"""`)
		if end < 0 {
			p.fail("unterminated block string")
		}
		raw := p.src[p.pos+3 : p.pos+3+end]
		p.line += strings.Count(raw, "\n")
		p.pos += 6 + end
		p.tok = gqlToken{kind: "string", val: strings.TrimSpace(raw), line: p.line}
	case c == '"':
		p.pos++
		var sb strings.Builder
		for {
			if p.pos >= len(p.src) || p.src[p.pos] == '\n' {
				p.fail("unterminated string")
			}
			d := p.src[p.pos]
			if d == '"' {
				p.pos++
				break
			}
			if d == '\\' && p.pos+1 < len(p.src) {
				e := p.src[p.pos+1]
				p.pos += 2
				switch e {
				case '"', '\\', '/':
					sb.WriteByte(e)
				case 'b':
					sb.WriteByte('\b')
				case 'f':
					sb.WriteByte('\f')
				case 'n':
					sb.WriteByte('\n')
				case 'r':
					sb.WriteByte('\r')
				case 't':
					sb.WriteByte('\t')
				case 'u':
					if p.pos+4 > len(p.src) {
						p.fail("bad escape")
					}
					n, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
					if err != nil {
						p.fail("bad escape")
					}
					sb.WriteRune(rune(n))
					p.pos += 4
				default:
					p.fail("bad escape")
				}
				continue
			}
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			sb.WriteRune(r)
			p.pos += size
		}
		p.tok = gqlToken{kind: "string", val: sb.String(), line: p.line}
	default:
		p.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func isNameChar(c byte) bool {
	return c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

func (p *gqlParser) variableDefs() []GQLVariable {
	p.expect("punct", "(")
	var out []GQLVariable
	for !p.is("punct", ")") {
		p.expect("punct", "$")
		v := GQLVariable{Name: p.expect("name", "")}
		p.expect("punct", ":")
		v.Type = p.typeRef()
		if p.is("punct", "=") {
			p.next()
			v.Default, v.HasDef = p.value(), true
		}
		p.directives()
		out = append(out, v)
	}
	p.next()
	return out
}

func (p *gqlParser) typeRef() string {
	var t string
	if p.is("punct", "[") {
		p.next()
		t = "[" + p.typeRef() + "]"
		p.expect("punct", "]")
	} else {
		t = p.expect("name", "")
	}
	if p.is("punct", "!") {
		p.next()
		t += "!"
	}
	return t
}

func (p *gqlParser) directives() {
	for p.is("punct", "@") {
		p.next()
		p.expect("name", "")
		if p.is("punct", "(") {
			p.arguments()
		}
	}
}

func (p *gqlParser) selectionSet() []*GQLSelection {
	p.expect("punct", "{")
	var out []*GQLSelection
	for !p.is("punct", "}") {
		if p.tok.kind == "eof" {
			p.fail("unexpected end of document")
		}
		out = append(out, p.selection())
	}
	p.next()
	if len(out) == 0 {
		p.fail("empty selection set")
	}
	return out
}

func (p *gqlParser) selection() *GQLSelection {
	line := p.tok.line
	if p.is("punct", "...") {
		p.next()
		switch {
		case p.is("name", "on"):
			p.next()
			sel := &GQLSelection{Fragment: true, On: p.expect("name", ""), Line: line}
			p.directives()
			sel.Selection = p.selectionSet()
			return sel
		case p.tok.kind == "name":
			sel := &GQLSelection{Spread: p.tok.val, Line: line}
			p.next()
			p.directives()
			return sel
		default:
			sel := &GQLSelection{Fragment: true, Line: line}
			p.directives()
			sel.Selection = p.selectionSet()
			return sel
		}
	}
	sel := &GQLSelection{Name: p.expect("name", ""), Line: line}
	if p.is("punct", ":") {
		p.next()
		sel.Alias, sel.Name = sel.Name, p.expect("name", "")
	}
	if p.is("punct", "(") {
		sel.Args = p.arguments()
	}
	p.directives()
	if p.is("punct", "{") {
		sel.Selection = p.selectionSet()
	}
	return sel
}

func (p *gqlParser) arguments() []GQLArgument {
	p.expect("punct", "(")
	var out []GQLArgument
	for !p.is("punct", ")") {
		name := p.expect("name", "")
		p.expect("punct", ":")
		out = append(out, GQLArgument{Name: name, Value: p.value()})
	}
	p.next()
	return out
}

func (p *gqlParser) value() any {
	t := p.tok
	switch {
	case p.is("punct", "$"):
		p.next()
		return GQLVar(p.expect("name", ""))
	case t.kind == "int":
		p.next()
		n, err := strconv.ParseInt(t.val, 10, 64)
		if err != nil {
			p.fail("bad int " + t.val)
		}
		return n
	case t.kind == "float":
		p.next()
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			p.fail("bad float " + t.val)
		}
		return f
	case t.kind == "string":
		p.next()
		return t.val
	case t.kind == "name":
		p.next()
		switch t.val {
		case "true":
			return true
		case "false":
			return false
		case "null":
			return nil
		}
		return GQLEnum(t.val)
	case p.is("punct", "["):
		p.next()
		list := []any{}
		for !p.is("punct", "]") {
			list = append(list, p.value())
		}
		p.next()
		return list
	case p.is("punct", "{"):
		p.next()
		obj := map[string]any{}
		for !p.is("punct", "}") {
			name := p.expect("name", "")
			p.expect("punct", ":")
			obj[name] = p.value()
		}
		p.next()
		return obj
	}
	p.fail("unexpected " + t.val)
	return nil
}
