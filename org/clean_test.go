package org

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	long := strings.Repeat("é", MaxTextBytes) // 2 bytes each
	for _, tt := range []struct {
		name      string
		in        string
		multiline bool
		max       int
		want      string
	}{
		{"clean", "Jane Doe <jane@acme.example>", false, MaxTextBytes, "Jane Doe <jane@acme.example>"},
		{"NUL", "Jane\x00Doe", false, MaxTextBytes, "JaneDoe"},
		{"escape sequence", "\x1b[31mred\x1b[0m", false, MaxTextBytes, "[31mred[0m"},
		{"not UTF-8", "Jos\xe9", false, MaxTextBytes, "Jos\uFFFD"},
		{"C1 control and DEL", "a\u0085b\x7fc", false, MaxTextBytes, "abc"},
		{"line breaks in one line", "two\nlines\r\tx", false, MaxTextBytes, "twolinesx"},
		{"line breaks in a description", "two\nlines\r\tx", true, MaxTextBytes, "two\nlines\tx"},
		{"YAML and JSON special text kept", "--- !!binary {\"a\": [1]} # x: 'y'", false, MaxTextBytes, "--- !!binary {\"a\": [1]} # x: 'y'"},
		{"cut on a character boundary", long, false, MaxTextBytes, long[:MaxTextBytes]},
		{"odd cut", "a" + long, false, MaxTextBytes, "a" + long[:MaxTextBytes-2]},
		{"not cut", long + long, false, -1, long + long},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanText(tt.in, tt.multiline, tt.max); got != tt.want {
				t.Errorf("cleanText(%.40q) = %.40q (%d bytes), want %.40q (%d bytes)", tt.in, got, len(got), tt.want, len(tt.want))
			}
		})
	}
}

// TestSnapshotClean: every free-text field is cleaned, names and refs are
// not, and the YAML written afterwards holds no control character and no
// !!binary value.
func TestSnapshotClean(t *testing.T) {
	bad := "x\x00\x1b\xff"
	s := &Snapshot{
		Users: []User{{Metadata: Metadata{Name: "jane", Title: bad, Description: bad + "\n", Annotations: map[string]string{"a": bad}},
			Spec: UserSpec{Profile: Profile{DisplayName: bad, Email: bad, Picture: bad}, MemberOf: []string{"g"}}}},
		Groups: []Group{{Metadata: Metadata{Name: "g", Description: bad},
			Spec: GroupSpec{Type: bad, Profile: Profile{DisplayName: bad}, Members: []string{"jane"}}}},
	}
	s.Clean()
	u, g := s.Users[0], s.Groups[0]
	for _, got := range []string{u.Metadata.Title, u.Spec.Profile.DisplayName,
		u.Spec.Profile.Picture, g.Metadata.Description, g.Spec.Type, g.Spec.Profile.DisplayName} {
		if got != "x\uFFFD" {
			t.Errorf("cleaned to %q, want %q", got, "x\uFFFD")
		}
	}
	// An annotation's line breaks and tabs are kept (a YAML block ends in one).
	s2 := &Snapshot{Users: []User{{Metadata: Metadata{Name: "joe", Annotations: map[string]string{"example.com/note": "line\tone\n", "example.com/ad": "a\r\nb"}}}}}
	s2.Clean()
	if s2.Users[0].Metadata.Annotations["example.com/note"] != "line\tone\n" || s2.Users[0].Metadata.Annotations["example.com/ad"] != "a\nb" || len(s2.Warnings) != 0 {
		t.Errorf("a multi-line annotation: %q, warnings %q", s2.Users[0].Metadata.Annotations, s2.Warnings)
	}
	// Identifiers are left out, not cleaned into another value.
	if _, ok := u.Metadata.Annotations["a"]; ok || u.Spec.Profile.Email != "" {
		t.Errorf("annotation %q, e-mail %q: want both left out", u.Metadata.Annotations["a"], u.Spec.Profile.Email)
	}
	if len(s.Warnings) != 2 || !strings.Contains(s.Warnings[0]+s.Warnings[1], "user jane: annotation a left out") ||
		!strings.Contains(s.Warnings[0]+s.Warnings[1], "user jane: e-mail address left out") {
		t.Errorf("warnings = %q", s.Warnings)
	}
	if u.Metadata.Description != "x\uFFFD\n" || u.Metadata.Name != "jane" || u.Spec.MemberOf[0] != "g" || g.Spec.Members[0] != "jane" {
		t.Errorf("user %+v, group %+v", u, g)
	}
	var buf bytes.Buffer
	if err := s.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	if y := buf.String(); strings.Contains(y, "!!binary") || strings.Contains(y, `\0`) || strings.Contains(y, `\e`) {
		t.Errorf("YAML still carries a hostile value:\n%s", y)
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "Jane", "a\x00b", "\xff\xfe", "\u2028\u0085", strings.Repeat("ü", 20)} {
		f.Add(s, true, 7)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool, max int) {
		max = max % 64
		got := cleanText(s, multiline, max)
		if !utf8.ValidString(got) {
			t.Fatalf("cleanText(%q) = %q: not UTF-8", s, got)
		}
		if max >= 0 && len(got) > max {
			t.Fatalf("cleanText(%q, %d) = %q: longer than the cap", s, max, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
				t.Fatalf("cleanText(%q) = %q: control character %U kept", s, got, r)
			}
		}
		if again := cleanText(got, multiline, max); again != got {
			t.Fatalf("cleanText is not idempotent: %q -> %q -> %q", s, got, again)
		}
		if isClean(s, multiline) && (max < 0 || len(s) <= max) && got != s {
			t.Fatalf("a clean value changed: %q -> %q", s, got)
		}
	})
}

// TestCleanNeverMakesAnotherIdentifier: a hostile directory value that
// would clean into another user's e-mail address or annotation value is
// left out, so that no sign-in resolver matches the wrong user by it.
func TestCleanNeverMakesAnotherIdentifier(t *testing.T) {
	s := &Snapshot{Users: []User{
		{Metadata: Metadata{Name: "admin", Annotations: map[string]string{"example.com/id": "42"}}, Spec: UserSpec{Profile: Profile{Email: "admin@corp.example"}}},
		{Metadata: Metadata{Name: "mallory", Annotations: map[string]string{"example.com/id": "4\x002"}}, Spec: UserSpec{Profile: Profile{Email: "admin\x00@corp.example"}}},
	}}
	s.Clean()
	if a, m := s.Users[0], s.Users[1]; a.Spec.Profile.Email != "admin@corp.example" || a.Metadata.Annotations["example.com/id"] != "42" ||
		m.Spec.Profile.Email == a.Spec.Profile.Email || m.Metadata.Annotations["example.com/id"] == "42" {
		t.Fatalf("admin %+v, mallory %+v", a, m)
	}
}
