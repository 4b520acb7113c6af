package org

import (
	"cmp"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// DefaultNamespace is the namespace of an entity or ref that names none.
const DefaultNamespace = "default"

// The kinds of entity this package produces.
const (
	KindUser  = "user"
	KindGroup = "group"
)

// Ref is a Backstage entity reference, kind:namespace/name. Kind and
// namespace compare case-insensitively and are written in lower case; the
// name keeps its case when formatted but compares case-insensitively too,
// as Backstage's catalog does.
//
// Case is folded for ASCII letters only. Valid names and namespaces are
// ASCII, so this changes nothing for them; it keeps a name from untrusted
// input such as "\u212Aate" (KELVIN SIGN) or "adm\u0130n" (LATIN CAPITAL
// LETTER I WITH DOT ABOVE) from naming the entity "kate" or "admin".
type Ref struct {
	Kind      string // "user", "group", ... as written; compare with Equal or Key
	Namespace string // as parsed; ParseRef fills in the default namespace
	Name      string
}

// UserRef returns the ref user:<namespace>/<name>; an empty namespace is
// [DefaultNamespace].
func UserRef(namespace, name string) Ref { return Ref{KindUser, nsOrDefault(namespace), name} }

// GroupRef returns the ref group:<namespace>/<name>; an empty namespace is
// [DefaultNamespace].
func GroupRef(namespace, name string) Ref { return Ref{KindGroup, nsOrDefault(namespace), name} }

func nsOrDefault(ns string) string {
	if ns == "" {
		return DefaultNamespace
	}
	return ns
}

// ParseRef parses a ref of the form [<kind>:][<namespace>/]<name> as
// Backstage's parseEntityRef does: a missing kind is defaultKind (an error
// when that is empty too), a missing namespace is defaultNamespace or, when
// that is empty, [DefaultNamespace]. A slash before the first colon means the
// colon belongs to the name. Empty parts are errors.
func ParseRef(s, defaultKind, defaultNamespace string) (Ref, error) {
	const op = "org.ParseRef"
	colon := strings.IndexByte(s, ':')
	slash := strings.IndexByte(s, '/')
	if slash != -1 && slash < colon {
		colon = -1
	}
	var r Ref
	hasKind, hasNS := colon != -1, slash != -1
	if hasKind {
		r.Kind = s[:colon]
	}
	if hasNS {
		r.Namespace = s[colon+1 : slash]
	}
	r.Name = s[max(colon+1, slash+1):]
	if (hasKind && r.Kind == "") || (hasNS && r.Namespace == "") || r.Name == "" {
		return Ref{}, errcode.Newf(errcode.InvalidArgument, op,
			"entity reference %q was not on the form [<kind>:][<namespace>/]<name>", s)
	}
	if !hasKind {
		if defaultKind == "" {
			return Ref{}, errcode.Newf(errcode.InvalidArgument, op,
				"entity reference %q had missing or empty kind (e.g. did not start with \"group:\" or similar)", s)
		}
		r.Kind = defaultKind
	}
	if !hasNS {
		r.Namespace = nsOrDefault(defaultNamespace)
	}
	return r, nil
}

// MustParseRef is [ParseRef] for refs known to be valid, such as constants
// in tests and examples; it panics on an error.
func MustParseRef(s, defaultKind, defaultNamespace string) Ref {
	r, err := ParseRef(s, defaultKind, defaultNamespace)
	if err != nil {
		panic(err)
	}
	return r
}

// String formats the ref as Backstage's stringifyEntityRef does:
// kind and namespace in lower case, the name as it is, e.g.
// "group:default/platform-team". An empty namespace is written as
// [DefaultNamespace].
func (r Ref) String() string {
	return asciiLower(r.Kind) + ":" + asciiLower(nsOrDefault(r.Namespace)) + "/" + r.Name
}

// Equal reports whether r and o name the same entity: every part compares
// case-insensitively and an empty namespace is [DefaultNamespace].
func (r Ref) Equal(o Ref) bool {
	return EqualFoldASCII(r.Kind, o.Kind) &&
		EqualFoldASCII(nsOrDefault(r.Namespace), nsOrDefault(o.Namespace)) &&
		EqualFoldASCII(r.Name, o.Name)
}

// Key returns the canonical, lower-case form of r, suitable as a map key:
// two refs whose kind and namespace hold no ':' or '/' (a namespace
// [ValidNamespace] accepts holds neither) are Equal exactly when their
// keys are equal.
// Without that, the parts are not told apart: {user a b/c} and
// {user a/b c} have one key.
func (r Ref) Key() string { return asciiLower(r.String()) }

// Compare orders refs by kind, namespace and name, case-insensitively (and
// by exact bytes only to break ties), for deterministic output.
func Compare(a, b Ref) int {
	if c := cmp.Compare(asciiLower(a.Kind), asciiLower(b.Kind)); c != 0 {
		return c
	}
	if c := cmp.Compare(asciiLower(nsOrDefault(a.Namespace)), asciiLower(nsOrDefault(b.Namespace))); c != 0 {
		return c
	}
	if c := cmp.Compare(asciiLower(a.Name), asciiLower(b.Name)); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r == Ref{} }

// asciiLower returns s with ASCII letters in lower case and every other
// byte as it is; it does not allocate when s has no upper-case letter.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// EqualFoldASCII reports whether a and b are equal with ASCII letters
// compared case-insensitively and every other byte exactly. It is how
// Backstage names and refs compare: unlike strings.EqualFold, a Unicode
// fold ("\u212Aate", KELVIN SIGN, for "kate") never matches.
func EqualFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
