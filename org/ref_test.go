package org

import (
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in, kind, ns string
		want         Ref
		wantErr      bool
	}{
		{in: "group:default/platform-team", want: Ref{"group", "default", "platform-team"}},
		{in: "platform-team", kind: "group", want: Ref{"group", "default", "platform-team"}},
		{in: "platform-team", kind: "group", ns: "acme", want: Ref{"group", "acme", "platform-team"}},
		{in: "acme/platform-team", kind: "group", want: Ref{"group", "acme", "platform-team"}},
		{in: "user:jane", want: Ref{"user", "default", "jane"}},
		{in: "User:Acme/Jane", want: Ref{"User", "Acme", "Jane"}},
		// A slash before the colon: the colon is part of the name.
		{in: "ns/a:b", kind: "group", want: Ref{"group", "ns", "a:b"}},
		{in: "platform-team", wantErr: true},
		{in: "", kind: "group", wantErr: true},
		{in: ":x", kind: "group", wantErr: true},
		{in: "group:/x", wantErr: true},
		{in: "group:ns/", wantErr: true},
		{in: "group:", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRef(tt.in, tt.kind, tt.ns)
		if tt.wantErr {
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("ParseRef(%q) = %v, %v; want InvalidArgument", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRef(%q, %q, %q) = %#v, %v; want %#v", tt.in, tt.kind, tt.ns, got, err, tt.want)
		}
	}
}

func TestRefStringEqualCompare(t *testing.T) {
	r := Ref{"Group", "Default", "Platform-Team"}
	if got, want := r.String(), "group:default/Platform-Team"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if !r.Equal(GroupRef("", "platform-team")) {
		t.Error("Equal is not case-insensitive or ignores the default namespace")
	}
	if r.Equal(UserRef("", "platform-team")) || r.Equal(GroupRef("other", "platform-team")) {
		t.Error("Equal matched a different kind or namespace")
	}
	if r.Key() != GroupRef("", "PLATFORM-TEAM").Key() {
		t.Error("Key differs for equal refs")
	}
	if Compare(GroupRef("", "a"), GroupRef("", "B")) >= 0 || Compare(GroupRef("", "z"), UserRef("", "a")) >= 0 {
		t.Error("Compare order wrong")
	}
	if Compare(r, GroupRef("default", "platform-team")) == 0 {
		t.Error("Compare must break case ties deterministically")
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"group:default/x", "x", "a/b", "k:n/m:x", ":", "/", "a:b/c/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s, "group", "")
		if err != nil {
			return
		}
		if r.Kind == "" || r.Namespace == "" || r.Name == "" {
			t.Fatalf("ParseRef(%q) = %#v with an empty part", s, r)
		}
		// Formatting and parsing again gives an equal ref when the name has
		// no slash or colon that would be read as a separator.
		r2, err := ParseRef(r.String(), "", "")
		if err != nil {
			t.Fatalf("ParseRef(%q) (from %q): %v", r.String(), s, err)
		}
		if !r2.Equal(r) {
			t.Fatalf("round trip %q: %#v != %#v", s, r2, r)
		}
	})
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"John.Doe@Contoso.com", "john.doe_contoso.com"},
		{"My Group (Reader)", "my_group_reader"},
		{"  Platform Team  ", "platform_team"},
		{"a__b", "a_b"},
		{"a___b___", "a_b"},
		{"Zoë Müller", "zo_m_ller"},
		{"x😀y", "x_y"},
		{"dev-ops.team_1", "dev-ops.team_1"},
		{"___", ""},
		// JavaScript's toLowerCase: U+0130 becomes "i" and a combining dot
		// (then '_'); KELVIN SIGN becomes 'k'.
		{"\u0130pek.Y\u0130lmaz@Contoso.com", "i_pek.yi_lmaz_contoso.com"},
		{"\u212Aelvin", "kelvin"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{
		"a": true, "platform-team": true, "a.b_c-d": true, "A1": true,
		"": false, "-a": false, "a-": false, ".a": false, "a b": false, "a/b": false,
		string(make([]byte, 64)): false,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":  true,  // 63
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": false, // 64
	} {
		if got := ValidName(s); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{"default": true, "acme-1": true, "Acme": false, "a_b": false, "-a": false, "": false} {
		if got := ValidNamespace(s); got != want {
			t.Errorf("ValidNamespace(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestRefFoldsASCIIOnly: refs compare and key case-insensitively for ASCII
// letters only, so a name from untrusted input with a character that
// Unicode folds or lower-cases to an ASCII letter (KELVIN SIGN, U+0130,
// LATIN SMALL LETTER LONG S) never names another entity, and Equal agrees
// with Key as documented.
func TestRefFoldsASCIIOnly(t *testing.T) {
	tests := []struct {
		a, b  Ref
		equal bool
	}{
		{UserRef("", "kate"), UserRef("", "\u212Aate"), false},
		{UserRef("", "admin"), UserRef("", "adm\u0130n"), false},
		{UserRef("", "sam"), UserRef("", "\u017Fam"), false},
		{UserRef("", "i"), UserRef("", "\u0130"), false},
		{Ref{"user", "default", "x"}, Ref{"u\u017Fer", "default", "x"}, false},
		{UserRef("", "Kate"), UserRef("DEFAULT", "kATE"), true},
		{UserRef("", "Zo\u00eb"), UserRef("", "Zo\u00eb"), true},
	}
	for _, tt := range tests {
		if got := tt.a.Equal(tt.b); got != tt.equal {
			t.Errorf("%q.Equal(%q) = %v, want %v", tt.a, tt.b, got, tt.equal)
		}
		if got := tt.a.Key() == tt.b.Key(); got != tt.equal {
			t.Errorf("keys %q and %q equal = %v, want %v", tt.a.Key(), tt.b.Key(), got, tt.equal)
		}
		if got := Compare(tt.a, tt.b) == 0; got != (tt.a == tt.b) {
			t.Errorf("Compare(%q, %q) == 0 is %v", tt.a, tt.b, got)
		}
	}
	x := NewIndex(&Snapshot{
		Users:  []User{{Metadata: Metadata{Name: "kate"}, Spec: UserSpec{MemberOf: []string{"admins"}}}, {Metadata: Metadata{Name: "admin"}, Spec: UserSpec{MemberOf: []string{"admins"}}}},
		Groups: []Group{{Metadata: Metadata{Name: "admins"}, Spec: GroupSpec{Type: "team"}}},
	})
	for _, u := range []string{"\u212Aate", "adm\u0130n", "\u212AATE"} {
		if x.IsMember(UserRef("", u), GroupRef("", "admins")) || x.GroupsOf(UserRef("", u)) != nil {
			t.Errorf("%q is taken for a member of admins", u)
		}
	}
	if !x.IsMember(UserRef("", "KATE"), GroupRef("", "Admins")) {
		t.Error("KATE is not a member of Admins")
	}
}
