package ldaporg_test

import (
	"testing"

	"github.com/scmkit/scmkit/org/ldaporg"
)

// TestDecodeSIDRefusesMoreThan15SubAuthorities: a SID has at most 15
// sub-authorities (revision 1); a value claiming 16, even of the matching
// length, is not a SID.
func TestDecodeSIDRefusesMoreThan15SubAuthorities(t *testing.T) {
	sid := func(n int) []byte {
		b := make([]byte, 8+4*n)
		b[0], b[1], b[7] = 1, byte(n), 5
		return b
	}
	if s, ok := ldaporg.DecodeSID(sid(15)); !ok {
		t.Errorf("15 sub-authorities: %q, %v; want a SID", s, ok)
	}
	if s, ok := ldaporg.DecodeSID(sid(16)); ok {
		t.Errorf("16 sub-authorities: %q, %v; want refused", s, ok)
	}
}
