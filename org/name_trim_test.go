package org_test

import (
	"testing"

	"github.com/scmkit/scmkit/org"
)

// TestNormalizeNameTrimsAsJavaScript checks the trim against Backstage's
// normalizeEntityName, which trims with JavaScript's String.prototype.trim:
// its white space includes U+FEFF (a byte order mark) but not U+0085
// (NEL), the other way round from Go's strings.TrimSpace. The expected
// values are what Node prints for normalizeEntityName(s).
func TestNormalizeNameTrimsAsJavaScript(t *testing.T) {
	for in, want := range map[string]string{
		"\uFEFFJohn.Doe@Contoso.com":       "john.doe_contoso.com",
		"\u0085John.Doe@Contoso.com":       "_john.doe_contoso.com",
		"\u3000\u00a0john\u2028":           "john",
		" My Group (Reader) ":              "my_group_reader",
		"\u200bjohn":                       "_john", // ZERO WIDTH SPACE is not white space in either
		"\t\v\f\r\njohn.doe@contoso.com\n": "john.doe_contoso.com",
	} {
		if got := org.NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q; Backstage's normalizeEntityName gives %q", in, got, want)
		}
	}
}
