package integrations

import (
	"strings"
	"testing"
)

// TestHostProblemBounds: the edges of a host name the other tests leave
// open: the 253-byte limit exactly, IPv4 octets written with a leading
// zero (read as octal by some resolvers), IPv6 zones and IPv4-mapped
// addresses, and the first letter of the ranges checked.
func TestHostProblemBounds(t *testing.T) {
	label := strings.Repeat("a", 63)
	name253 := label + "." + label + "." + label + "." + strings.Repeat("b", 61) // 63*3+61+3 = 253
	for _, tc := range []struct {
		name, host string
		wantErr    string // substring; "" means valid
	}{
		{"253-byte name", name253, ""},
		{"254-byte name", name253 + "b", "longer than 253"},
		{"IPv4 octet with a leading zero", "010.0.0.1", "not a valid IPv4"},
		{"IPv4 last octet with a leading zero", "10.0.0.01", "not a valid IPv4"},
		{"IPv6 with a zone", "[fe80::1%eth0]", "not a valid IPv6"},
		{"IPv4-mapped IPv6", "[::ffff:10.0.0.1]", "not a valid IPv6"},
		{"fragment", "foo#x", "path, query or fragment"},
		{"capital A", "A.example.com", "lower-case"},
		{"capital Z", "Z", "lower-case"},
	} {
		got := hostProblem(tc.host)
		if tc.wantErr == "" && got != "" || tc.wantErr != "" && !strings.Contains(got, tc.wantErr) {
			t.Errorf("%s: hostProblem(%q) = %q; want %q", tc.name, tc.host, got, tc.wantErr)
		}
	}
	if len(name253) != 253 {
		t.Fatalf("test name is %d bytes", len(name253))
	}
}
