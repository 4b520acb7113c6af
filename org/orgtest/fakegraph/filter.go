package fakegraph

import (
	"errors"
	"fmt"
	"strings"
)

// A small OData $filter evaluator: comparisons (eq, ne) of a property with
// a string, boolean or null literal; startswith(p,'x') and endswith(p,'x');
// not, and, or and parentheses. ne, not and endswith are Graph's
// "advanced queries": they need ConsistencyLevel: eventual.

type expr interface{ eval(obj map[string]any) any }

type (
	propExpr string
	litExpr  struct{ v any }
	binExpr  struct {
		op   string
		l, r expr
	}
	notExpr  struct{ e expr }
	funcExpr struct {
		name string
		p    expr
		arg  expr
	}
)

func (p propExpr) eval(o map[string]any) any { return o[string(p)] }
func (l litExpr) eval(map[string]any) any    { return l.v }
func (n notExpr) eval(o map[string]any) any  { return !truthy(n.e.eval(o)) }

func (b binExpr) eval(o map[string]any) any {
	switch b.op {
	case "and":
		return truthy(b.l.eval(o)) && truthy(b.r.eval(o))
	case "or":
		return truthy(b.l.eval(o)) || truthy(b.r.eval(o))
	case "eq":
		return equal(b.l.eval(o), b.r.eval(o))
	case "ne":
		return !equal(b.l.eval(o), b.r.eval(o))
	}
	return false
}

func (f funcExpr) eval(o map[string]any) any {
	v, _ := f.p.eval(o).(string)
	a, _ := f.arg.eval(o).(string)
	v, a = strings.ToLower(v), strings.ToLower(a)
	if f.name == "startswith" {
		return strings.HasPrefix(v, a)
	}
	return strings.HasSuffix(v, a)
}

func truthy(v any) bool { b, _ := v.(bool); return b }

func equal(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return strings.EqualFold(as, bs)
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

type filterParser struct {
	toks     []string
	pos      int
	advanced bool
}

func parseFilter(s string) (expr, bool, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, false, err
	}
	p := &filterParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, false, err
	}
	if p.pos != len(p.toks) {
		return nil, false, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return e, p.advanced, nil
}

func lex(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, errors.New("unterminated string")
			}
			toks = append(toks, "'"+b.String())
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' && s[j] != ',' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) next() string { t := p.peek(); p.pos++; return t }

func (p *filterParser) or() (expr, error) {
	l, err := p.and()
	for err == nil && strings.EqualFold(p.peek(), "or") {
		p.next()
		var r expr
		r, err = p.and()
		l = binExpr{"or", l, r}
	}
	return l, err
}

func (p *filterParser) and() (expr, error) {
	l, err := p.unary()
	for err == nil && strings.EqualFold(p.peek(), "and") {
		p.next()
		var r expr
		r, err = p.unary()
		l = binExpr{"and", l, r}
	}
	return l, err
}

func (p *filterParser) unary() (expr, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.next()
		p.advanced = true
		e, err := p.unary()
		return notExpr{e}, err
	}
	return p.cmp()
}

func (p *filterParser) cmp() (expr, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	switch op := strings.ToLower(p.peek()); op {
	case "eq", "ne":
		p.next()
		if op == "ne" {
			p.advanced = true
		}
		r, err := p.primary()
		return binExpr{op, l, r}, err
	}
	return l, nil
}

func (p *filterParser) primary() (expr, error) {
	t := p.next()
	switch {
	case t == "":
		return nil, errors.New("unexpected end")
	case t == "(":
		e, err := p.or()
		if err == nil && p.next() != ")" {
			err = errors.New("missing )")
		}
		return e, err
	case strings.HasPrefix(t, "'"):
		return litExpr{t[1:]}, nil
	case t == "true" || t == "false":
		return litExpr{t == "true"}, nil
	case t == "null":
		return litExpr{nil}, nil
	case strings.EqualFold(t, "startswith") || strings.EqualFold(t, "endswith"):
		name := strings.ToLower(t)
		if name == "endswith" {
			p.advanced = true
		}
		if p.next() != "(" {
			return nil, errors.New("missing (")
		}
		prop, err := p.primary()
		if err != nil {
			return nil, err
		}
		if p.next() != "," {
			return nil, errors.New("missing ,")
		}
		arg, err := p.primary()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("missing )")
		}
		return funcExpr{name, prop, arg}, nil
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/') {
			return nil, fmt.Errorf("unexpected %q", t)
		}
	}
	return propExpr(t), nil
}
