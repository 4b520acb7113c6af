package fakebitbucketcloud

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// quote quotes s as a BBQL string, as clients write it.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func TestBBQL(t *testing.T) {
	for _, tc := range []struct {
		q     string
		terms []term
		or    bool
		err   string
	}{
		{q: ``},
		{q: `name = "a"`, terms: []term{{"name", "a"}}},
		{q: `name="a" OR name = "b"`, terms: []term{{"name", "a"}, {"name", "b"}}, or: true},
		{q: `name = "a" and name = "b"`, terms: []term{{"name", "a"}, {"name", "b"}}},
		{q: `name = "this OR that" OR name = "x AND y"`, terms: []term{{"name", "this OR that"}, {"name", "x AND y"}}, or: true},
		{q: `name = "say \"hi\" \\ bye"`, terms: []term{{"name", `say "hi" \ bye`}}},
		{q: `name = "a" OR name = "b" AND name = "c"`, err: "Invalid query"},
		{q: `name = "a`, err: "Invalid query"},
		{q: `name = "a" name = "b"`, err: "Invalid query"},
		{q: `name = "a"OR name = "b"`, err: "Invalid query"},
		{q: "name = \"a\nb\"", terms: []term{{"name", "a\nb"}}},
		{q: `name = "\x"`, err: "Invalid query"},
		{q: `title = "a"`, err: "Invalid field: title"},
		{q: `name ~ "a"`, err: "Invalid query"},
	} {
		terms, or, err := bbql(tc.q, "name")
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("bbql(%q): %v; want %q", tc.q, err, tc.err)
			}
			continue
		}
		if err != nil || or != tc.or || !cmp.Equal(terms, tc.terms, cmp.AllowUnexported(term{})) {
			t.Errorf("bbql(%q) = %v, %v, %v; want %v, %v", tc.q, terms, or, err, tc.terms, tc.or)
		}
	}
}

// FuzzBBQL: any values, quoted and joined by OR, parse back to themselves;
// no input makes the parser panic.
func FuzzBBQL(f *testing.F) {
	f.Add("a", "b OR c", `q"u\ote`)
	f.Add("", " AND ", "path/with spaces/ü.txt")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		bbql(a+b+c, "path") //nolint:errcheck // must not panic
		vals := []string{a, b, c}
		var parts []string
		for _, v := range vals {
			parts = append(parts, "path = "+quote(v))
		}
		terms, or, err := bbql(strings.Join(parts, " OR "), "path")
		if err != nil || !or || len(terms) != 3 {
			t.Fatalf("bbql of %q: %v, or %v, %v", vals, terms, or, err)
		}
		for i, v := range vals {
			if terms[i].value != v {
				t.Errorf("term %d = %q; want %q", i, terms[i].value, v)
			}
		}
	})
}
