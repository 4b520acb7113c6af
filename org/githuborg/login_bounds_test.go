package githuborg

import (
	"strings"
	"testing"
)

// TestLoginBoundsAreExact: an organisation login is at most 39
// characters, a member's (managed users' end in _shortcode) at most 100.
func TestLoginBoundsAreExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(string) bool
		s    string
		want bool
	}{
		{"39-character organisation", validLogin, strings.Repeat("o", 39), true},
		{"40-character organisation", validLogin, strings.Repeat("o", 40), false},
		{"100-character member", validMember, strings.Repeat("m", 100), true},
		{"101-character member", validMember, strings.Repeat("m", 101), false},
	} {
		if got := tc.fn(tc.s); got != tc.want {
			t.Errorf("%s: %v; want %v", tc.name, got, tc.want)
		}
	}
}
