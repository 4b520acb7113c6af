package integrations

import (
	"net/url"
	"strings"
)

// fullyDecode percent-decodes s repeatedly until it no longer changes, as
// Backstage's parseGitUrlSafe does. An invalid escape ("%zz") is kept as
// it is instead of stopping the decoding, so that a stray '%' cannot hide
// an encoded ".." behind it.
func fullyDecode(s string) string {
	for {
		d := decodeOnce(s)
		if d == s {
			return s
		}
		s = d
	}
}

func decodeOnce(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// hasDotSegment reports whether s, once fully decoded, has a "." or ".."
// segment, with both '/' and '\' taken as separators.
func hasDotSegment(s string) bool {
	d := fullyDecode(s)
	for _, seg := range strings.FieldsFunc(d, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// hasControl reports whether s has an ASCII control character.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// segments is a URL path split into segments, both as escaped in the URL
// and decoded once.
type segments struct {
	raw      []string // escaped, as in the URL
	dec      []string // decoded once
	trailing bool     // the path ended in "/"
}

// splitPath splits an escaped URL path after refusing traversal: any "."
// or ".." segment at any decoding depth, control characters, empty
// segments ("//") and an encoded '/' inside a segment.
func splitPath(escaped string) (segments, string) {
	var s segments
	if hasDotSegment(escaped) {
		return s, "path traversal is not allowed in the URL (a . or .. segment, possibly percent-encoded)"
	}
	if hasControl(fullyDecode(escaped)) {
		return s, "the URL path contains a control character"
	}
	p := strings.TrimPrefix(escaped, "/")
	if p == "" {
		return s, ""
	}
	if strings.HasSuffix(p, "/") {
		s.trailing = true
		p = strings.TrimSuffix(p, "/")
	}
	for _, r := range strings.Split(p, "/") {
		if r == "" {
			return segments{}, "the URL path has an empty segment (//)"
		}
		d, err := url.PathUnescape(r)
		if err != nil {
			return segments{}, "the URL path has an invalid percent-escape"
		}
		if strings.Contains(d, "/") {
			return segments{}, "an encoded / (%2F) inside a path segment is not supported"
		}
		s.raw = append(s.raw, r)
		s.dec = append(s.dec, d)
	}
	return s, ""
}

// refProblem checks a ref taken from a query parameter or a Location.
func refProblem(ref string) string {
	if ref == "" {
		return ""
	}
	if hasControl(fullyDecode(ref)) {
		return "the ref contains a control character"
	}
	if hasDotSegment(ref) {
		return "the ref must not contain . or .. segments"
	}
	for _, seg := range strings.Split(ref, "/") {
		if seg == "" {
			return "the ref must not start or end with / or contain //"
		}
	}
	return ""
}

// pathProblem checks a Location.Path or other slash-separated name.
func pathProblem(p string) string {
	if p == "" {
		return ""
	}
	if hasControl(fullyDecode(p)) {
		return "contains a control character"
	}
	if hasDotSegment(p) {
		return "path traversal (a . or .. segment) is not allowed"
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			return "must not start or end with / or contain //"
		}
	}
	return ""
}

// escapeSegments escapes each '/'-separated segment of p for a URL path.
func escapeSegments(p string) string {
	if p == "" {
		return ""
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// pickRef splits rest (the segments after /blob/ and the like) into a ref
// and a path. The ref is the first segment, unless at (the "at" query
// parameter) is a segment prefix of rest: then at is the ref. This is how
// a branch whose name contains "/" is written unambiguously.
func pickRef(rest []string, at string) (ref string, n int) {
	if at != "" {
		as := strings.Split(at, "/")
		if len(as) <= len(rest) {
			match := true
			for i := range as {
				if as[i] != rest[i] {
					match = false
					break
				}
			}
			if match {
				return at, len(as)
			}
		}
	}
	return rest[0], 1
}

// atQuery returns "?at=<ref>" when ref contains "/", else "".
func atQuery(ref string) string {
	if strings.Contains(ref, "/") {
		return "?at=" + url.QueryEscape(ref)
	}
	return ""
}
