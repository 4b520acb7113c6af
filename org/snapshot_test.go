package org

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scmkit/scmkit/errcode"
)

func sample() *Snapshot {
	return &Snapshot{
		Groups: []Group{
			{Metadata: Metadata{Name: "platform-team", Annotations: map[string]string{"github.com/team-slug": "acme/platform-team"}},
				Spec: GroupSpec{Type: "team", Parent: "engineering", Members: []string{"jane", "user:default/bob"}, Profile: Profile{DisplayName: "Platform"}}},
			{Metadata: Metadata{Name: "engineering", Description: "All engineers"},
				Spec: GroupSpec{Type: "team", Children: []string{"platform-team"}}},
		},
		Users: []User{
			{Metadata: Metadata{Name: "jane", Annotations: map[string]string{"github.com/user-login": "jane"}},
				Spec: UserSpec{Profile: Profile{DisplayName: "Jane Doe", Email: "jane@example.com"}, MemberOf: []string{"platform-team"}}},
			{Metadata: Metadata{Name: "bob"}},
		},
	}
}

func TestSnapshotYAMLRoundTrip(t *testing.T) {
	s := sample()
	s.Sort()
	var buf bytes.Buffer
	if err := s.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: engineering\n",
		"kind: User\n", "memberOf: []\n", "children: []\n", "github.com/user-login: jane\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("YAML lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "kind: Group") > strings.Index(out, "kind: User") {
		t.Error("groups must come before users")
	}
	got, err := ParseYAML(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got.Sort()
	// nil and empty lists are the same entity.
	if diff := cmp.Diff(s, got, cmpEmpty); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	var again bytes.Buffer
	if err := got.WriteYAML(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != out {
		t.Errorf("second write differs:\n%s\n---- vs ----\n%s", again.String(), out)
	}
}

var cmpEmpty = cmp.Transformer("emptyNil", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestSortDeterministic(t *testing.T) {
	a, b := sample(), sample()
	b.Users[0], b.Users[1] = b.Users[1], b.Users[0]
	b.Groups[0].Spec.Members = []string{"user:default/bob", "jane"}
	a.Sort()
	b.Sort()
	var wa, wb bytes.Buffer
	if err := a.WriteYAML(&wa); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteYAML(&wb); err != nil {
		t.Fatal(err)
	}
	if wa.String() != wb.String() {
		t.Error("the same organisation in another order writes different YAML")
	}
}

func TestParseYAML(t *testing.T) {
	tests := []struct {
		name, in      string
		users, groups int
		wantErr       bool
	}{
		{"other kinds ignored", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {type: service}\n---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: u}\nspec: {memberOf: []}\n", 1, 0, false},
		{"v1beta1 accepted", "apiVersion: backstage.io/v1beta1\nkind: Group\nmetadata: {name: g}\nspec: {type: team, children: []}\n", 0, 1, false},
		{"empty", "", 0, 0, false},
		{"bad apiVersion", "apiVersion: example.com/v1\nkind: User\nmetadata: {name: u}\nspec: {}\n", 0, 0, true},
		{"bad spec", "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: u}\nspec: {memberOf: 3}\n", 0, 0, true},
		{"not yaml", "kind: [\n", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseYAML([]byte(tt.in))
			if tt.wantErr {
				if errcode.CodeOf(err) != errcode.InvalidArgument {
					t.Fatalf("err = %v, want InvalidArgument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Users) != tt.users || len(s.Groups) != tt.groups {
				t.Errorf("got %d users %d groups, want %d %d", len(s.Users), len(s.Groups), tt.users, tt.groups)
			}
		})
	}
}

func TestReadFS(t *testing.T) {
	var buf bytes.Buffer
	s := sample()
	if err := s.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"org/a.yaml":   {Data: buf.Bytes()},
		"org/b.yaml":   {Data: []byte("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: carol}\nspec: {memberOf: [engineering]}\n")},
		"org/skip.txt": {Data: []byte("not yaml: [")},
	}
	got, err := ReadFS(fsys, "org/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Users) != 3 || len(got.Groups) != 2 || got.Users[0].Metadata.Name != "bob" {
		t.Errorf("ReadFS = %d users (%v), %d groups", len(got.Users), got.Users, len(got.Groups))
	}
	_, err = ReadFS(fsys, "org/*.txt")
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "org/skip.txt") ||
		strings.Count(err.Error(), "(InvalidArgument)") != 1 {
		t.Errorf("bad file: err = %v; want InvalidArgument naming the file, its code said once", err)
	}
}

func TestValidate(t *testing.T) {
	if err := sample().Validate(); err != nil {
		t.Fatalf("valid sample: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Snapshot)
		want   string
	}{
		{"bad name", func(s *Snapshot) { s.Users[0].Metadata.Name = "jane doe" }, `invalid name "jane doe"`},
		{"bad namespace", func(s *Snapshot) { s.Users[0].Metadata.Namespace = "Acme" }, `invalid namespace "Acme"`},
		{"duplicate", func(s *Snapshot) { s.Users[1].Metadata.Name = "JANE" }, "user:default/JANE: duplicate entity"},
		{"no type", func(s *Snapshot) { s.Groups[0].Spec.Type = "" }, "spec.type is empty"},
		{"bad ref", func(s *Snapshot) { s.Users[0].Spec.MemberOf = []string{"group:"} }, "spec.memberOf"},
		{"cycle", func(s *Snapshot) { s.Groups[1].Spec.Parent = "platform-team" },
			"group parent cycle: group:default/engineering -> group:default/platform-team -> group:default/engineering"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sample()
			tt.mutate(s)
			err := s.Validate()
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want InvalidArgument containing %q", err, tt.want)
			}
		})
	}
}

func FuzzParseYAML(f *testing.F) {
	var buf bytes.Buffer
	if err := sample().WriteYAML(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("kind: User\napiVersion: backstage.io/v1alpha1\n"))
	f.Add([]byte("---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: jane\n  annotations:\n    github.com/user-login: jane\n" +
		"spec:\n  profile: {displayName: Jane, email: jane@example.com}\n  memberOf: [team-a]\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\n" +
		"metadata: {name: team-a, description: A}\nspec: {type: team, children: [], members: [jane]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseYAML(data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := s.WriteYAML(&out); err != nil {
			t.Fatalf("write of a parsed snapshot: %v", err)
		}
		s2, err := ParseYAML(out.Bytes())
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, out.String())
		}
		if len(s2.Users) != len(s.Users) || len(s2.Groups) != len(s.Groups) {
			t.Fatalf("reparse lost entities")
		}
		// Entity for entity, field for field (warnings are not written).
		if diff := cmp.Diff(s, s2, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Snapshot{}, "Warnings")); diff != "" {
			t.Fatalf("round trip (-parsed +reparsed):\n%s\n%s", diff, out.String())
		}
	})
}

func TestEntityJSON(t *testing.T) {
	s := sample()
	b, err := json.Marshal(s.Users[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"backstage.io/v1alpha1","kind":"User","metadata":{"name":"jane","annotations":{"github.com/user-login":"jane"}},"spec":{"profile":{"displayName":"Jane Doe","email":"jane@example.com"},"memberOf":["platform-team"]}}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	var u User
	if err := json.Unmarshal(b, &u); err != nil || !cmp.Equal(u, s.Users[0]) {
		t.Errorf("round trip: %v %+v", err, u)
	}
	gb, err := json.Marshal(s.Groups[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(gb), `{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"engineering","description":"All engineers"},"spec":{"type":"team","children":["platform-team"]}`) {
		t.Errorf("group JSON = %s", gb)
	}
	if b, _ := json.Marshal(s.Users[1]); !strings.Contains(string(b), `"memberOf":[]`) {
		t.Errorf("nil memberOf: %s", b)
	}
	if b, _ := json.Marshal(s.Groups[0]); !strings.Contains(string(b), `"children":[]`) {
		t.Errorf("nil children: %s", b)
	}
	var g Group
	if err := json.Unmarshal(b, &g); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("a User read as a Group: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"apiVersion":"x/v1","kind":"User"}`), &u); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("bad apiVersion: %v", err)
	}
}
