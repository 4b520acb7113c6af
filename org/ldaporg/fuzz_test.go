package ldaporg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func FuzzNormalizeDN(f *testing.F) {
	for _, s := range []string{"CN=Devs, OU=Groups,DC=Example,DC=Org", "uid=o\\2aHara,ou=people", "cn=a+sn=b,dc=x", "#0403", "cn=\\", "", "cn=a\\,cn=b,dc=x", "cn=\\#x\\ ,dc=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := NormalizeDN(s)
		if !ok {
			return
		}
		// Normalising is idempotent on what it accepted, up to escaping:
		// the normal form of the normal form's upper-case twin is the same.
		if n2, ok := NormalizeDN(strings.ToUpper(s)); ok && strings.ToLower(n2) != n2 {
			t.Fatalf("not lower-case: %q", n2)
		}
		if n != strings.ToLower(n) {
			t.Fatalf("NormalizeDN(%q) = %q, not lower-case", s, n)
		}
		// The normal form is a DN whose normal form is itself (escapes
		// kept), when no value needed the hex form.
		if !strings.Contains(n, "#") {
			if n2, ok := NormalizeDN(n); !ok || n2 != n {
				t.Fatalf("NormalizeDN(%q) = %q, whose normal form is %q (%v)", s, n, n2, ok)
			}
		}
	})
}

func FuzzConfig(f *testing.F) {
	f.Add(`{"target":"ldaps://h","users":{"dn":"ou=p","options":{"paged":true}},"groups":[{"dn":"ou=g","options":{"paged":{"pageSize":7}}}]}`)
	f.Add(`{"target":"ldap://h","users":[],"groups":{"dn":"x","options":{"scope":"sub","paged":false}}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var c Config
		if json.Unmarshal([]byte(s), &c) != nil {
			return
		}
		r, err := New(c, nil)
		if err != nil {
			return
		}
		r.Close()
		for _, u := range c.Users {
			if u.Options.Paged.Enabled && u.Options.Paged.PageSize <= 0 {
				t.Fatalf("paged with page size %d", u.Options.Paged.PageSize)
			}
		}
	})
}

func FuzzDecodeSID(f *testing.F) {
	f.Add([]byte{1, 5, 0, 0, 0, 0, 0, 5, 0x15, 0, 0, 0, 0xdc, 0xf4, 0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46, 0x82, 0x8b, 0xa6, 0x28, 0, 2, 0, 0})
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0})       // S-1-1-0, Everyone
	f.Add([]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // a 48-bit authority, no sub-authority
	f.Add([]byte{1, 5, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, ok := DecodeSID(b)
		if !ok {
			return
		}
		parts := strings.Split(s, "-")
		if parts[0] != "S" || len(parts) != 3+int(b[1]) || len(b) != 8+4*int(b[1]) {
			t.Fatalf("DecodeSID(%x) = %q", b, s)
		}
		for _, p := range parts[1:] {
			if p == "" || strings.ContainsFunc(p, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'F' || r == 'x') }) {
				t.Fatalf("DecodeSID(%x) = %q: part %q", b, s, p)
			}
		}
	})
}

// FuzzPlainNeedsNoEscape: what NormalizeDN writes as is (plain) is what
// go-ldap's RFC 4514 escaping would write.
func FuzzPlainNeedsNoEscape(f *testing.F) {
	for _, s := range [][2]string{{"cn", "Devs"}, {"CN", "a b"}, {"uid", "o'hara"}, {"cn", " x"}, {"cn", "#x"}, {"c=n", "x"}, {"cn", "a,b"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, typ, value string) {
		if !plain(typ) || !plain(value) {
			return
		}
		typ, value = strings.ToLower(typ), strings.ToLower(value)
		if got := (&ldap.AttributeTypeAndValue{Type: typ, Value: value}).String(); got != typ+"="+value {
			t.Fatalf("plain(%q, %q), but go-ldap escapes it as %q", typ, value, got)
		}
	})
}
