package ldapconn

import (
	"strings"
	"testing"
)

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"member;range=0-1499", "member;range=1500-*", "member;RANGE=3-2", "member", "member;range=-1-5", "m;range=9999999999999999999-*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		attr, lo, hi, ok := parseRange(s)
		if !ok {
			return
		}
		if lo < 0 || (hi != -1 && hi < lo) || !strings.HasPrefix(s, attr) {
			t.Fatalf("parseRange(%q) = %q %d %d", s, attr, lo, hi)
		}
	})
}
