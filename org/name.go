package org

import (
	"strings"
	"unicode"
)

// NormalizeName turns an arbitrary string (an e-mail address, a display
// name, a mail nickname) into an entity name exactly as Backstage's
// Microsoft Graph provider does (normalizeEntityName): trim what
// JavaScript's String.prototype.trim removes (tab, vertical tab, form
// feed, the space separators of Unicode category Zs, U+FEFF, and the line
// terminators LF, CR, U+2028 and U+2029; unlike strings.TrimSpace, not
// U+0085), lower-case, replace every character outside [a-zA-Z0-9_.-]
// with '_', drop trailing underscores, then collapse runs of underscores.
//
// For example "John.Doe@Contoso.com" becomes "john.doe_contoso.com" and
// "My Group (Reader)" becomes "my_group_reader". The result may still be
// invalid (empty, or starting with a dot); check it with [ValidName].
func NormalizeName(s string) string {
	s = strings.TrimFunc(s, jsSpace)
	var b strings.Builder
	b.Grow(len(s))
	for _, c := range s {
		if c == '\u0130' {
			// JavaScript lower-cases LATIN CAPITAL LETTER I WITH DOT ABOVE
			// to "i" and a combining dot above (two characters); Go's
			// unicode.ToLower to "i" alone.
			b.WriteString("i_")
			continue
		}
		c = unicode.ToLower(c)
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
			b.WriteRune(c)
		default:
			// JavaScript's regexp replaces each UTF-16 code unit; characters
			// outside the basic plane are two code units, hence two '_'.
			b.WriteByte('_')
			if c > 0xFFFF {
				b.WriteByte('_')
			}
		}
	}
	out := strings.TrimRight(b.String(), "_")
	for strings.Contains(out, "__") {
		out = strings.ReplaceAll(out, "__", "_")
	}
	return out
}

// jsSpace reports whether JavaScript's String.prototype.trim removes c:
// its WhiteSpace (tab, vertical tab, form feed, U+FEFF and the Zs
// category) and LineTerminator (LF, CR, U+2028, U+2029). Go's
// strings.TrimSpace differs: it removes U+0085 and keeps U+FEFF.
func jsSpace(c rune) bool {
	switch c {
	case '\t', '\v', '\f', '\n', '\r', '\uFEFF', '\u2028', '\u2029':
		return true
	}
	return unicode.Is(unicode.Zs, c)
}

// ValidName reports whether s is a valid entity name for Backstage: 1 to 63
// characters of [a-zA-Z0-9_.-], beginning and ending with a letter or digit.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && ((i == 0 || i == len(s)-1) || (c != '-' && c != '_' && c != '.')) {
			return false
		}
	}
	return true
}

// ValidNamespace reports whether s is a valid namespace for Backstage: a DNS
// label of 1 to 63 characters of [a-z0-9-], beginning and ending with a
// letter or digit.
func ValidNamespace(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(s)-1 || c != '-') {
			return false
		}
	}
	return true
}
