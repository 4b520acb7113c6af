package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/catalog"
)

const twoEntities = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: petstore
  namespace: default
  title: Pet Store
  description: Sells pets.
  labels:
    tier: "1"
  annotations:
    github.com/project-slug: acme/petstore
  tags: [java, web]
  links:
    - url: https://petstore.example.com
      title: Site
      icon: web
spec:
  type: service
  lifecycle: production
  owner: team-a
  providesApis: [petstore-api]
---
# a comment-only document is skipped
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: petstore-api
spec:
  type: openapi
  definition:
    $text: ./openapi.yaml
`

func TestParse(t *testing.T) {
	got, err := catalog.Parse([]byte(twoEntities))
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.Entity{
		{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
			Metadata: catalog.Metadata{Name: "petstore", Namespace: "default", Title: "Pet Store", Description: "Sells pets.",
				Labels: map[string]string{"tier": "1"}, Annotations: map[string]string{"github.com/project-slug": "acme/petstore"},
				Tags: []string{"java", "web"}, Links: []catalog.Link{{URL: "https://petstore.example.com", Title: "Site", Icon: "web"}}},
			Spec: map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a", "providesApis": []any{"petstore-api"}}},
		{APIVersion: "backstage.io/v1alpha1", Kind: "API", Metadata: catalog.Metadata{Name: "petstore-api"},
			Spec: map[string]any{"type": "openapi", "definition": map[string]any{"$text": "./openapi.yaml"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      []catalog.Problem
		wantNames []string // entities returned alongside the error
	}{
		{
			name: "every problem at once, with document and line",
			in: `apiVersion: v1
kind: Component
metadata:
  name: ok
---
kind: Component
metadata:
  name: no-api-version
---
apiVersion: v1
kind: Component
metadata:
  title: no name
---
apiVersion: v1
kind: ""
metadata: {name: x}
---
- a
- list
---
apiVersion: v1
kind: Group
metadata: [x]
---
apiVersion: v1
kind: User
---
apiVersion: v1
kind: User
metadata:
  name: second-ok
`,
			want: []catalog.Problem{
				{Document: 2, Line: 6, Field: "apiVersion", Msg: "required, must be a non-empty string"},
				{Document: 3, Line: 12, Field: "metadata.name", Msg: "required, must be a non-empty string"},
				{Document: 4, Line: 16, Field: "kind", Msg: "required, must be a non-empty string"},
				{Document: 5, Line: 19, Msg: "expected a mapping (an entity), got a list"},
				{Document: 6, Line: 24, Msg: "cannot unmarshal !!seq into catalog.Metadata"},
				{Document: 7, Line: 26, Field: "metadata", Msg: "required, must be a mapping with a name"},
			},
			wantNames: []string{"ok", "second-ok"},
		},
		{
			name: "wrong types",
			in: `apiVersion: v1
kind: Component
metadata:
  name: [not, a, string]
  labels:
    a: {b: c}
  tags: x
`,
			want: []catalog.Problem{
				{Document: 1, Line: 4, Msg: "cannot unmarshal !!seq into string"},
				{Document: 1, Line: 6, Msg: "cannot unmarshal !!map into string"},
				{Document: 1, Line: 7, Msg: "cannot unmarshal !!str `x` into []string"},
			},
		},
		{
			name: "syntax error stops the stream",
			in: `apiVersion: v1
kind: Component
metadata: {name: ok}
---
apiVersion: v1
kind: [unclosed
---
apiVersion: v1
kind: Component
metadata: {name: never-read}
`,
			// go.yaml.in/yaml/v3 names the line before the unclosed list.
			want:      []catalog.Problem{{Document: 2, Line: 5, Msg: "did not find expected ',' or ']'"}},
			wantNames: []string{"ok"},
		},
		{
			name: "duplicate key",
			in:   "apiVersion: v1\nkind: A\nkind: B\nmetadata: {name: x}\n",
			want: []catalog.Problem{{Document: 1, Line: 3, Msg: `mapping key "kind" already defined at line 2`}},
		},
		{
			name: "scalar document",
			in:   "just a string\n",
			want: []catalog.Problem{{Document: 1, Line: 1, Msg: "expected a mapping (an entity), got a scalar"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := catalog.Parse([]byte(tt.in))
			if scm.Code(err) != scm.InvalidArgument {
				t.Fatalf("code %v (%v); want InvalidArgument", scm.Code(err), err)
			}
			var pe *catalog.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("errors.As(*ParseError) = false for %v", err)
			}
			if diff := cmp.Diff(tt.want, pe.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			var names []string
			for _, e := range got {
				names = append(names, e.Metadata.Name)
			}
			if diff := cmp.Diff(tt.wantNames, names); diff != "" {
				t.Errorf("entities returned with the error (-want +got):\n%s", diff)
			}
			if msg := err.Error(); !strings.Contains(msg, "document ") {
				t.Errorf("message %q names no document", msg)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "---\n", "# only a comment\n", "---\n---\n", "~\n"} {
		got, err := catalog.Parse([]byte(in))
		if err != nil || len(got) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no entity and no error", in, got, err)
		}
	}
}

func TestParseAliasBomb(t *testing.T) {
	// A billion-laughs document must fail, not exhaust memory.
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: C\nmetadata: {name: x}\nspec:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("  a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	if _, err := catalog.Parse([]byte(b.String())); scm.Code(err) != scm.InvalidArgument {
		t.Errorf("Parse(alias bomb) = %v; want InvalidArgument", err)
	}
}
