package org

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextBytes caps each free-text value [Snapshot.Clean] leaves in an
// entity (a title, a description, a display name, an e-mail address, an
// annotation's value): far above any real one, far below what would make
// one directory value a burden on every catalog read.
const MaxTextBytes = 8 << 10

// Clean makes every value of the snapshot's entities safe to hand to
// Backstage, whatever the directory held. In free text (a title, a
// description, a display name, a group type, a picture), bytes that are
// not UTF-8 become U+FFFD (YAML would write them as !!binary, which
// Backstage does not read as a string, and JSON as U+FFFD), control
// characters are removed (a NUL, which the catalog's PostgreSQL text
// columns refuse, would fail the provider's whole batch; an escape
// sequence would reach terminals and logs) except a description's line
// breaks and tabs, and a value longer than [MaxTextBytes] is cut there, on
// a character boundary; a picture is cleaned but not cut (a data URL may
// be long).
//
// An e-mail address and an annotation are identifiers that sign-in
// resolvers and other providers match on: cleaning one would make a
// different value that may be another user's ("a\x00@x" would become
// "a@x"). Such a value that is not valid UTF-8, holds a control
// character (but for an annotation's line breaks and tabs) or is longer
// than MaxTextBytes is removed instead, with a warning naming the entity.
//
// Names, namespaces and refs are left as they are ([Snapshot.Validate]
// checks them). Warnings, which name directory values and are logged,
// lose their control characters too. Every reader calls Clean before it
// returns a snapshot; it changes nothing in a clean one.
func (s *Snapshot) Clean() {
	var dropped []string
	for i := range s.Users {
		u := &s.Users[i]
		dropped = cleanMeta(&u.Metadata, "user", dropped)
		dropped = cleanProfile(&u.Spec.Profile, "user "+u.Metadata.Name, dropped)
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		dropped = cleanMeta(&g.Metadata, "group", dropped)
		dropped = cleanProfile(&g.Spec.Profile, "group "+g.Metadata.Name, dropped)
		g.Spec.Type = cleanText(g.Spec.Type, false, MaxTextBytes)
	}
	s.Warnings = append(s.Warnings, dropped...)
	for i, w := range s.Warnings {
		s.Warnings[i] = cleanText(w, false, -1) // they name directory values
	}
}

func cleanMeta(m *Metadata, kind string, dropped []string) []string {
	m.Title = cleanText(m.Title, false, MaxTextBytes)
	m.Description = cleanText(m.Description, true, MaxTextBytes)
	for _, k := range slices.Sorted(maps.Keys(m.Annotations)) { // warnings in a stable order
		// Line breaks and tabs are kept: a mapped multi-line value (a
		// YAML block ends in one) is an annotation Backstage takes.
		v := m.Annotations[k]
		if strings.Contains(v, "\r\n") { // Active Directory's line breaks
			v = strings.ReplaceAll(v, "\r\n", "\n")
			m.Annotations[k] = v
		}
		if !isClean(v, true) || len(v) > MaxTextBytes {
			delete(m.Annotations, k)
			dropped = append(dropped, droppedValue(kind+" "+m.Name, "annotation "+k))
		}
	}
	return dropped
}

func cleanProfile(p *Profile, who string, dropped []string) []string {
	p.DisplayName = cleanText(p.DisplayName, false, MaxTextBytes)
	if !isClean(p.Email, false) || len(p.Email) > MaxTextBytes {
		p.Email = ""
		dropped = append(dropped, droppedValue(who, "e-mail address"))
	}
	p.Picture = cleanText(p.Picture, false, -1)
	return dropped
}

func droppedValue(who, what string) string {
	return who + ": " + what + " left out: it is not valid UTF-8, holds control characters or is longer than " + strconv.Itoa(MaxTextBytes) + " bytes"
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
