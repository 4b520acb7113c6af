package fakegitlab

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small GraphQL parser for executable documents: operations (query),
// variable definitions with defaults, fields with aliases and arguments,
// nested selection sets, and every value literal. Fragments, directives
// and mutations are refused with a GraphQL error.

type gqlPos struct{ line, col int }

type gqlField struct {
	alias, name string
	args        []gqlArg
	sel         []*gqlField
	pos         gqlPos
}

func (f *gqlField) key() string {
	if f.alias != "" {
		return f.alias
	}
	return f.name
}

type gqlArg struct {
	name string
	val  gqlValue
}

// gqlValue is a literal: nil, bool, int64, float64, string, gqlEnum,
// gqlVar, []gqlValue or []gqlObjField.
type gqlValue any

type gqlEnum string

type gqlVar string

type gqlObjField struct {
	name string
	val  gqlValue
}

type gqlVarDef struct {
	name    string
	typ     string // as written, e.g. "[String!]!"
	def     gqlValue
	hasDef  bool
	nonNull bool
}

type gqlOp struct {
	kind string // "query"
	name string
	vars []gqlVarDef
	sel  []*gqlField
}

type gqlTok struct {
	kind byte // 'n' name, 'i' int, 'f' float, 's' string, 'p' punctuator, 0 EOF
	s    string
	pos  gqlPos
}

type gqlParser struct {
	src  string
	i    int
	line int
	ls   int // index of the line's start
	tok  gqlTok
}

type gqlSyntaxError struct {
	msg string
	pos gqlPos
}

func (e *gqlSyntaxError) Error() string { return e.msg }

func parseGQL(src string) (ops []*gqlOp, err error) {
	p := &gqlParser{src: src, line: 1}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*gqlSyntaxError)
			if !ok {
				panic(r)
			}
			ops, err = nil, se
		}
	}()
	p.next()
	for p.tok.kind != 0 {
		ops = append(ops, p.operation())
	}
	if len(ops) == 0 {
		p.fail("Unexpected end of document")
	}
	return ops, nil
}

func (p *gqlParser) fail(format string, a ...any) {
	panic(&gqlSyntaxError{msg: fmt.Sprintf(format, a...), pos: p.tok.pos})
}

func (p *gqlParser) next() {
	// Skip ignored tokens: whitespace, commas, comments, BOM.
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == '\n':
			p.i++
			p.line++
			p.ls = p.i
		case c == ' ' || c == '\t' || c == '\r' || c == ',':
			p.i++
		case c == '#':
			for p.i < len(p.src) && p.src[p.i] != '\n' {
				p.i++
			}
		case strings.HasPrefix(p.src[p.i:], "\ufeff"):
			p.i += 3
		default:
			goto tok
		}
	}
	p.tok = gqlTok{pos: gqlPos{p.line, p.i - p.ls + 1}}
	return
tok:
	pos := gqlPos{p.line, p.i - p.ls + 1}
	c := p.src[p.i]
	switch {
	case strings.HasPrefix(p.src[p.i:], "..."):
		p.i += 3
		p.tok = gqlTok{kind: 'p', s: "...", pos: pos}
	case strings.IndexByte("!$&()\\:=@[]{}|", c) >= 0:
		p.i++
		p.tok = gqlTok{kind: 'p', s: string(c), pos: pos}
	case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		j := p.i
		for j < len(p.src) && (p.src[j] == '_' || 'a' <= p.src[j] && p.src[j] <= 'z' || 'A' <= p.src[j] && p.src[j] <= 'Z' || '0' <= p.src[j] && p.src[j] <= '9') {
			j++
		}
		p.tok = gqlTok{kind: 'n', s: p.src[p.i:j], pos: pos}
		p.i = j
	case c == '-' || '0' <= c && c <= '9':
		j := p.i + 1
		kind := byte('i')
		for j < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[j]) >= 0 {
			if strings.IndexByte(".eE", p.src[j]) >= 0 {
				kind = 'f'
			}
			j++
		}
		p.tok = gqlTok{kind: kind, s: p.src[p.i:j], pos: pos}
		p.i = j
	case c == '"':
		p.tok = gqlTok{kind: 's', s: p.str(), pos: pos}
	default:
		r, _ := utf8.DecodeRuneInString(p.src[p.i:])
		p.tok.pos = pos
		p.fail("Parse error on %q (error) at [%d, %d]", string(r), pos.line, pos.col)
	}
}

// str reads a string or block string literal starting at p.i.
func (p *gqlParser) str() string {
	if strings.HasPrefix(p.src[p.i:], `"""`) {
		end := strings.Index(p.src[p.i+3:], `"""`)
		if end < 0 {
			p.fail("Unterminated string")
		}
		raw := p.src[p.i+3 : p.i+3+end]
		p.line += strings.Count(raw, "\n")
		p.i += 6 + end
		return strings.TrimSpace(raw)
	}
	var b strings.Builder
	j := p.i + 1
	for {
		if j >= len(p.src) || p.src[j] == '\n' {
			p.fail("Unterminated string")
		}
		c := p.src[j]
		if c == '"' {
			p.i = j + 1
			return b.String()
		}
		if c != '\\' {
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(p.src) {
			p.fail("Unterminated string")
		}
		switch e := p.src[j+1]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if j+6 > len(p.src) {
				p.fail("Bad unicode escape")
			}
			n, err := strconv.ParseUint(p.src[j+2:j+6], 16, 32)
			if err != nil {
				p.fail("Bad unicode escape")
			}
			b.WriteRune(rune(n))
			j += 4
		default:
			p.fail("Bad escape \\%c", e)
		}
		j += 2
	}
}

func (p *gqlParser) is(kind byte, s string) bool { return p.tok.kind == kind && p.tok.s == s }

func (p *gqlParser) expect(s string) {
	if !p.is('p', s) {
		p.unexpected()
	}
	p.next()
}

func (p *gqlParser) unexpected() {
	what := p.tok.s
	if p.tok.kind == 0 {
		p.fail("Unexpected end of document")
	}
	p.fail("Parse error on %q (%s) at [%d, %d]", what, tokName(p.tok), p.tok.pos.line, p.tok.pos.col)
}

func tokName(t gqlTok) string {
	switch t.kind {
	case 'n':
		return "IDENTIFIER"
	case 'i':
		return "INT"
	case 'f':
		return "FLOAT"
	case 's':
		return "STRING"
	}
	switch t.s {
	case "{":
		return "LCURLY"
	case "}":
		return "RCURLY"
	case "(":
		return "LPAREN"
	case ")":
		return "RPAREN"
	}
	return "PUNCTUATOR"
}

func (p *gqlParser) name() string {
	if p.tok.kind != 'n' {
		p.unexpected()
	}
	s := p.tok.s
	p.next()
	return s
}

func (p *gqlParser) operation() *gqlOp {
	op := &gqlOp{kind: "query"}
	if p.is('p', "{") {
		op.sel = p.selectionSet()
		return op
	}
	switch {
	case p.is('n', "query"):
		p.next()
	case p.is('n', "mutation"), p.is('n', "subscription"):
		p.fail("fakegitlab: %s operations are not supported", p.tok.s)
	case p.is('n', "fragment"):
		p.fail("fakegitlab: fragments are not supported")
	default:
		p.unexpected()
	}
	if p.tok.kind == 'n' {
		op.name = p.name()
	}
	if p.is('p', "(") {
		p.next()
		for !p.is('p', ")") {
			p.expect("$")
			v := gqlVarDef{name: p.name()}
			p.expect(":")
			v.typ = p.typeRef()
			v.nonNull = strings.HasSuffix(v.typ, "!")
			if p.is('p', "=") {
				p.next()
				v.def, v.hasDef = p.value(true), true
			}
			op.vars = append(op.vars, v)
		}
		p.next()
	}
	if p.is('p', "@") {
		p.fail("fakegitlab: directives are not supported")
	}
	op.sel = p.selectionSet()
	return op
}

func (p *gqlParser) typeRef() string {
	var t string
	if p.is('p', "[") {
		p.next()
		t = "[" + p.typeRef() + "]"
		p.expect("]")
	} else {
		t = p.name()
	}
	if p.is('p', "!") {
		p.next()
		t += "!"
	}
	return t
}

func (p *gqlParser) selectionSet() []*gqlField {
	p.expect("{")
	var out []*gqlField
	for !p.is('p', "}") {
		if p.is('p', "...") {
			p.fail("fakegitlab: fragments are not supported")
		}
		out = append(out, p.field())
	}
	if len(out) == 0 {
		p.unexpected()
	}
	p.next()
	return out
}

func (p *gqlParser) field() *gqlField {
	f := &gqlField{pos: p.tok.pos}
	f.name = p.name()
	if p.is('p', ":") {
		p.next()
		f.alias, f.name = f.name, p.name()
	}
	if p.is('p', "(") {
		p.next()
		for !p.is('p', ")") {
			a := gqlArg{name: p.name()}
			p.expect(":")
			a.val = p.value(false)
			f.args = append(f.args, a)
		}
		p.next()
	}
	if p.is('p', "@") {
		p.fail("fakegitlab: directives are not supported")
	}
	if p.is('p', "{") {
		f.sel = p.selectionSet()
	}
	return f
}

func (p *gqlParser) value(constant bool) gqlValue {
	t := p.tok
	switch {
	case t.kind == 'p' && t.s == "$" && !constant:
		p.next()
		return gqlVar(p.name())
	case t.kind == 'i':
		p.next()
		n, err := strconv.ParseInt(t.s, 10, 64)
		if err != nil {
			p.fail("Invalid number %s", t.s)
		}
		return n
	case t.kind == 'f':
		p.next()
		f, err := strconv.ParseFloat(t.s, 64)
		if err != nil {
			p.fail("Invalid number %s", t.s)
		}
		return f
	case t.kind == 's':
		p.next()
		return t.s
	case t.kind == 'n':
		p.next()
		switch t.s {
		case "true":
			return true
		case "false":
			return false
		case "null":
			return nil
		}
		return gqlEnum(t.s)
	case t.kind == 'p' && t.s == "[":
		p.next()
		list := []gqlValue{}
		for !p.is('p', "]") {
			list = append(list, p.value(constant))
		}
		p.next()
		return list
	case t.kind == 'p' && t.s == "{":
		p.next()
		obj := []gqlObjField{}
		for !p.is('p', "}") {
			f := gqlObjField{name: p.name()}
			p.expect(":")
			f.val = p.value(constant)
			obj = append(obj, f)
		}
		p.next()
		return obj
	}
	p.unexpected()
	return nil
}
