package org

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextBytes caps each free-text value [Snapshot.Clean] leaves in an
// entity (a title, a description, a display name, an e-mail address, an
// annotation's value): far above any real one, far below what would make
// one directory value a burden on every catalog read.
const MaxTextBytes = 8 << 10

// Clean makes every free-text value of the snapshot's entities safe to
// hand to Backstage, whatever the directory held: bytes that are not
// UTF-8 become U+FFFD (YAML would write them as !!binary, which
// Backstage does not read as a string, and JSON as U+FFFD), control
// characters are removed (a NUL, which the catalog's PostgreSQL text
// columns refuse, would fail the provider's whole batch; an escape
// sequence would reach terminals and logs) except a description's line
// breaks and tabs, and a value longer than [MaxTextBytes] is cut there, on
// a character boundary. Names, namespaces and refs are left as they are
// ([Snapshot.Validate] checks them); a picture is cleaned but not cut (a
// data URL may be long). Warnings, which name directory values and are
// logged, lose their control characters too. Every reader calls Clean
// before it returns a snapshot; it changes nothing in a clean one.
func (s *Snapshot) Clean() {
	for i := range s.Users {
		u := &s.Users[i]
		cleanMeta(&u.Metadata)
		cleanProfile(&u.Spec.Profile)
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		cleanMeta(&g.Metadata)
		cleanProfile(&g.Spec.Profile)
		g.Spec.Type = cleanText(g.Spec.Type, false, MaxTextBytes)
	}
	for i, w := range s.Warnings {
		s.Warnings[i] = cleanText(w, false, -1) // they name directory values
	}
}

func cleanMeta(m *Metadata) {
	m.Title = cleanText(m.Title, false, MaxTextBytes)
	m.Description = cleanText(m.Description, true, MaxTextBytes)
	for k, v := range m.Annotations {
		m.Annotations[k] = cleanText(v, false, MaxTextBytes)
	}
}

func cleanProfile(p *Profile) {
	p.DisplayName = cleanText(p.DisplayName, false, MaxTextBytes)
	p.Email = cleanText(p.Email, false, MaxTextBytes)
	p.Picture = cleanText(p.Picture, false, -1)
}

// cleanText returns s as valid UTF-8 without control characters (but for
// '\n' and '\t' when multiline), cut to at most max bytes (max < 0: not
// cut). A clean s is returned as it is, without copying.
func cleanText(s string, multiline bool, max int) string {
	if isClean(s, multiline) && (max < 0 || len(s) <= max) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			continue
		}
		if max >= 0 && b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isClean(s string, multiline bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 || c == 0x7f) && !(multiline && (c == '\n' || c == '\t')) {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unicode.IsControl(r) {
			return false
		}
		i += n
	}
	return true
}
