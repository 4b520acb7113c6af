package gql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2/ast"
)

// A tiny library schema: an interface, a union, an enum, a list, a
// non-null field, a required argument, and references to types the subset
// leaves out (Missing, Gone), which LoadSchema drops.
const sdl = `
type Query implements Node & Gone {
  id: ID!
  book(id: ID!): Book
  books(first: Int = 2, genre: Genre): [Book!]!
  search(text: String!): [Result]
  broken: Book
  missing(x: Missing!): String
  missingArg(x: Missing, y: Int): Int
  gone: Missing
}
type Mutation { rename(id: ID!, title: String!): Book }
interface Node { id: ID! }
type Book implements Node @nope {
  id: ID!
  title: String! @deprecated(reason: "no")
  genre: Genre
  author: Author
}
type Author implements Node { id: ID! name: String }
union Result = Book | Author | Missing
enum Genre { NOVEL POETRY }
`

type book struct{ id, title, genre, author string }

func (book) Typename() string { return "Book" }

var books = []book{{"b1", "Dune", "NOVEL", "a1"}, {"b2", "Odes", "POETRY", "a2"}, {"b3", "", "NOVEL", ""}}

func testExecutor(t testing.TB) *Executor {
	t.Helper()
	s, err := LoadSchema("tiny.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	find := func(id string) any {
		for _, b := range books {
			if b.id == id {
				return b
			}
		}
		return nil
	}
	return &Executor{Schema: s, Resolvers: map[string]Resolver{
		"Query.book": func(f *Field) (any, error) { id, _ := String(f.Args, "id"); return find(id), nil },
		"Query.books": func(f *Field) (any, error) {
			n, _ := Int(f.Args, "first")
			var out []book
			for _, b := range books {
				if g, ok := f.Args["genre"].(string); (!ok || g == b.genre) && len(out) < n {
					out = append(out, b)
				}
			}
			return out, nil
		},
		"Query.search": func(f *Field) (any, error) {
			return []any{books[0], map[string]any{"__typename": "Author", "name": Resolver(func(*Field) (any, error) { return "Anon", nil })}, nil}, nil
		},
		"Mutation.rename": func(f *Field) (any, error) {
			b, _ := find(f.Args["id"].(string)).(book)
			b.title = f.Args["title"].(string)
			return b, nil
		},
		"Query.broken": func(f *Field) (any, error) {
			return nil, &Error{Message: "no such book", Extra: map[string]any{"type": "NOT_FOUND"}}
		},
		"Book": func(f *Field) (any, error) {
			b := f.Parent.(book)
			switch f.Name {
			case "id":
				return b.id, nil
			case "title":
				if b.title == "" {
					return nil, nil
				}
				return b.title, nil
			case "genre":
				return b.genre, nil
			case "author":
				if b.author == "" {
					return nil, errors.New("author unknown")
				}
				return map[string]any{"id": b.author, "name": func(f *Field) (any, error) { return "N" + f.Parent.(map[string]any)["id"].(string), nil }}, nil
			}
			return nil, nil
		},
	}}
}

func run(t *testing.T, x *Executor, req Request) (map[string]any, []*Error) {
	t.Helper()
	op, errs := x.Prepare(req)
	if errs != nil {
		return nil, errs
	}
	data, errs := op.Execute(context.Background(), nil)
	// Round-trip through JSON, as a client sees it.
	b, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Data map[string]any }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Data, errs
}

func TestLoadSchemaDropsWhatTheSubsetLeavesOut(t *testing.T) {
	s, err := LoadSchema("tiny.graphql", sdl)
	if err != nil {
		t.Fatal(err)
	}
	q := s.Types["Query"]
	for _, f := range []string{"missing", "gone"} {
		if q.Fields.ForName(f) != nil {
			t.Errorf("Query.%s kept; want dropped", f)
		}
	}
	if f := q.Fields.ForName("missingArg"); f == nil || len(f.Arguments) != 1 || f.Arguments[0].Name != "y" {
		t.Errorf("Query.missingArg = %v; want only argument y", f)
	}
	if got := len(s.Types["Result"].Types); got != 2 {
		t.Errorf("Result has %d members; want 2", got)
	}
	if q.Interfaces[0] != "Node" || len(q.Interfaces) != 1 {
		t.Errorf("Query implements %v; want [Node]", q.Interfaces)
	}
	if _, err := LoadSchema("bad", "type Query { a: Int } type Query { b: Int }"); err == nil {
		t.Error("a schema that redeclares a type loaded")
	}
	if _, err := LoadSchema("bad", "type Query {"); err == nil {
		t.Error("a schema with a syntax error loaded")
	}
}

func TestExecute(t *testing.T) {
	x := testExecutor(t)
	for _, tt := range []struct {
		name     string
		req      Request
		want     map[string]any
		wantErrs []string // "message @ path"
	}{
		{
			name: "aliases, arguments, variables and defaults",
			req: Request{Query: `query Q($g: Genre, $id: ID!) { one: book(id: $id) { title } novels: books(genre: $g) { id } all: books(first: 5) { id } }`,
				Variables: map[string]any{"g": "NOVEL", "id": "b2"}},
			want: map[string]any{"one": map[string]any{"title": "Odes"}, "novels": []any{map[string]any{"id": "b1"}, map[string]any{"id": "b3"}},
				"all": []any{map[string]any{"id": "b1"}, map[string]any{"id": "b2"}, map[string]any{"id": "b3"}}},
		},
		{
			name: "fragments on concrete and abstract types, merged selections, __typename",
			req: Request{Query: `{ book(id: "b1") { ...F ... on Node { id } author { name } author { id } }
  search(text: "x") { __typename ... on Book { title } ... on Author { name } } }
fragment F on Book { __typename title }`},
			want: map[string]any{
				"book":   map[string]any{"__typename": "Book", "title": "Dune", "id": "b1", "author": map[string]any{"name": "Na1", "id": "a1"}},
				"search": []any{map[string]any{"__typename": "Book", "title": "Dune"}, map[string]any{"__typename": "Author", "name": "Anon"}, nil},
			},
		},
		{
			name: "skip and include",
			req:  Request{Query: `query($s: Boolean!) { book(id: "b1") { id @skip(if: $s) title @include(if: $s) } }`, Variables: map[string]any{"s": true}},
			want: map[string]any{"book": map[string]any{"title": "Dune"}},
		},
		{
			name:     "a field error nulls the field and is reported with its path and extras",
			req:      Request{Query: `{ broken { id } b: book(id: "b3") { author { id } } }`},
			want:     map[string]any{"broken": nil, "b": map[string]any{"author": nil}},
			wantErrs: []string{"no such book @ [broken]", "author unknown @ [b author]"},
		},
		{
			name:     "a null non-null field nulls its parent",
			req:      Request{Query: `{ book(id: "b3") { id title } }`},
			want:     map[string]any{"book": nil},
			wantErrs: []string{"Cannot return null for non-nullable field @ [book title]"},
		},
		{
			name:     "a null in a list of non-null items nulls the list, and up to the nullable parent",
			req:      Request{Query: `{ books(first: 3) { title } }`},
			want:     nil,
			wantErrs: []string{"Cannot return null for non-nullable field @ [books 2 title]"},
		},
		{
			name:     "a field missing from a map parent is an error",
			req:      Request{Query: `{ search(text: "x") { ... on Author { id } } }`},
			want:     map[string]any{"search": []any{map[string]any{}, nil, nil}},
			wantErrs: []string{"the fake does not serve Author.id @ [search 1 id]"},
		},
		{
			name: "mutation",
			req:  Request{Query: `mutation($t: String!) { rename(id: "b1", title: $t) { id title } }`, Variables: map[string]any{"t": "Arrakis"}},
			want: map[string]any{"rename": map[string]any{"id": "b1", "title": "Arrakis"}},
		},
		{
			name: "operation by name",
			req:  Request{Query: `query A { book(id: "b1") { id } } query B { book(id: "b2") { id } }`, OperationName: "B"},
			want: map[string]any{"book": map[string]any{"id": "b2"}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data, errs := run(t, x, tt.req)
			if diff := cmp.Diff(tt.want, data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			var got []string
			for _, e := range errs {
				got = append(got, fmt.Sprint(e.Message, " @ ", e.Path))
			}
			if diff := cmp.Diff(tt.wantErrs, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("error extras and locations in JSON", func(t *testing.T) {
		op, _ := x.Prepare(Request{Query: "{\n  broken { id } }"})
		_, errs := op.Execute(context.Background(), nil)
		want := `{"locations":[{"line":2,"column":3}],"message":"no such book","path":["broken"],"type":"NOT_FOUND"}`
		if got := jsonOf(t, errs[0]); got != want {
			t.Errorf("error = %s; want %s", got, want)
		}
	})
}

// TestExecuteSelectionOrder checks that the data encodes its fields in
// the order of the selection set, fragments' fields where they are spread,
// and that an Object leaves escaping HTML to the encoder it is written with.
func TestExecuteSelectionOrder(t *testing.T) {
	x := testExecutor(t)
	op, errs := x.Prepare(Request{Query: `mutation { z: rename(id: "b1", title: "<a&b>") { title ...F id } } fragment F on Book { genre __typename author { name id } }`})
	if errs != nil {
		t.Fatal(errs)
	}
	data, errs := op.Execute(context.Background(), nil)
	if errs != nil {
		t.Fatal(errs)
	}
	want := `{"z":{"title":"<a&b>","genre":"NOVEL","__typename":"Book","author":{"name":"Na1","id":"a1"},"id":"b1"}}`
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(data); err != nil || buf.String() != want+"\n" {
		t.Errorf("data = %s (%v); want %s", buf.String(), err, want)
	}
	escaped := strings.NewReplacer("<", `\u003c`, "&", `\u0026`, ">", `\u003e`).Replace(want)
	if got := jsonOf(t, data); got != escaped {
		t.Errorf("json.Marshal(data) = %s; want %s", got, escaped)
	}
}

func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPrepareRefuses checks that what a GraphQL service refuses is refused,
// with the rule and a location.
func TestPrepareRefuses(t *testing.T) {
	x := testExecutor(t)
	for _, tt := range []struct {
		name, query string
		vars        map[string]any
		op          string
		rule        string
	}{
		{"syntax", `{ book(id: ) }`, nil, "", ""},
		{"no operation", ` `, nil, "", ""},
		{"unknown field", `{ book(id: "x") { nope } }`, nil, "", "FieldsOnCorrectType"},
		{"unknown argument", `{ book(id: "x", n: 1) { id } }`, nil, "", "KnownArgumentNames"},
		{"missing required argument", `{ book { id } }`, nil, "", "ProvidedRequiredArguments"},
		{"wrong argument type", `{ books(first: "two") { id } }`, nil, "", "ValuesOfCorrectType"},
		{"bad enum value", `{ books(genre: DRAMA) { id } }`, nil, "", "ValuesOfCorrectType"},
		{"fragment that never applies", `{ book(id: "x") { ... on Author { name } } }`, nil, "", "PossibleFragmentSpreads"},
		{"unknown fragment", `{ book(id: "x") { ...F } }`, nil, "", "KnownFragmentNames"},
		{"unused variable", `query($v: Int) { book(id: "x") { id } }`, nil, "", "NoUnusedVariables"},
		{"nullable variable in a non-null position", `query($v: ID) { book(id: $v) { id } }`, nil, "", "VariablesInAllowedPosition"},
		{"leaf without selection", `{ book(id: "x") }`, nil, "", "ScalarLeafs"},
		{"field dropped from the subset", `{ gone }`, nil, "", "FieldsOnCorrectType"},
		{"unknown mutation", `mutation { x }`, nil, "", "FieldsOnCorrectType"},
		{"subscription on a schema without", `subscription { x }`, nil, "", "KnownRootType"},
		{"missing required variable", `query($v: ID!) { book(id: $v) { id } }`, nil, "", ""},
		{"variable of the wrong type", `query($v: Int) { books(first: $v) { id } }`, map[string]any{"v": "x"}, "", ""},
		{"several operations, no name", `query A { id } query B { id }`, nil, "", ""},
		{"unknown operation", `query A { id }`, nil, "C", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op, errs := x.Prepare(Request{Query: tt.query, Variables: tt.vars, OperationName: tt.op})
			if op != nil || len(errs) == 0 {
				t.Fatalf("Prepare(%s) = %v, %v; want errors", tt.query, op, errs)
			}
			if tt.rule != "" && errs[0].Rule != tt.rule {
				t.Errorf("rule = %q (%s); want %q", errs[0].Rule, errs[0].Message, tt.rule)
			}
			if tt.rule != "" && len(errs[0].Locations) == 0 {
				t.Errorf("no location for %s", errs[0].Message)
			}
		})
	}
}

func TestWalk(t *testing.T) {
	x := testExecutor(t)
	op, errs := x.Prepare(Request{Query: `query($n: Int) { a: books(first: $n) { ...F author { id } } } fragment F on Book { id }`, Variables: map[string]any{"n": 4}})
	if errs != nil {
		t.Fatal(errs)
	}
	var seen []string
	err := op.Walk("", func(f *ast.Field, args map[string]any, up any) (any, error) {
		n, _ := Int(args, "first")
		seen = append(seen, up.(string)+f.Name+strings.Repeat("*", n))
		if f.Name == "id" && up == "books/author/" {
			return nil, errors.New("stop")
		}
		return up.(string) + f.Name + "/", nil
	})
	if want := []string{"books****", "books/id", "books/author", "books/author/id"}; !cmp.Equal(seen, want) {
		t.Errorf("walk = %v; want %v", seen, want)
	}
	if err == nil || err.Error() != "stop" {
		t.Errorf("Walk = %v; want stop", err)
	}
}

func TestArgs(t *testing.T) {
	args := map[string]any{"a": int64(3), "b": 4.0, "c": 4.5, "d": json.Number("7"), "e": 8, "s": "x"}
	for _, tt := range []struct {
		name string
		want int
		ok   bool
	}{{"a", 3, true}, {"b", 4, true}, {"c", 4, false}, {"d", 7, true}, {"e", 8, true}, {"s", 0, false}, {"z", 0, false}} {
		if got, ok := Int(args, tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("Int(%s) = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if s, ok := String(args, "s"); s != "x" || !ok {
		t.Errorf("String(s) = %q, %v", s, ok)
	}
}

// FuzzPrepare feeds arbitrary queries and variables to the parser,
// validator and executor: none may panic, and a prepared operation always
// executes.
func FuzzPrepare(f *testing.F) {
	x := testExecutor(f)
	for _, q := range []string{`{ book(id: "b1") { id title author { name } } }`, `query($g: Genre) { books(genre: $g) { ...F } } fragment F on Book { id }`,
		`{ search(text: "") { __typename ... on Node { id } } }`, `{ __schema { types { name } } }`, `{`, `query A { id } query B { id }`, `{ books(first: -1) { id @skip(if: true) } }`} {
		f.Add(q, `{"g":"NOVEL"}`, "")
	}
	f.Fuzz(func(t *testing.T, query, vars, opName string) {
		var v map[string]any
		_ = json.Unmarshal([]byte(vars), &v)
		op, errs := x.Prepare(Request{Query: query, Variables: v, OperationName: opName})
		if (op == nil) == (len(errs) == 0) {
			t.Fatalf("Prepare returned %v and %v", op, errs)
		}
		if op != nil {
			op.Execute(context.Background(), nil)
			_ = op.Walk(nil, func(*ast.Field, map[string]any, any) (any, error) { return nil, nil })
		}
	})
}

// TestRubyWording checks that refusals are worded as graphql-ruby, the
// GraphQL server of GitHub and GitLab, words them.
func TestRubyWording(t *testing.T) {
	x := testExecutor(t)
	for _, tt := range []struct {
		query, want, code string
		vars              map[string]any
	}{
		{`{ book(id: "b1") { nope } }`, "Field 'nope' doesn't exist on type 'Book'", "undefinedField", nil},
		{`{ book(id: "b1") }`, "Field must have selections (field 'book' returns Book but has no selections. Did you mean 'book { ... }'?)", "selectionMismatch", nil},
		{`{ book(id: ) { id } }`, `Parse error on ")" (RPAREN) at [1, 12]`, "", nil},
		{`{ book(id: "b1) { id } }`, "Unterminated string", "", nil},
		{`{ book(id: "b1") { id }`, "Unexpected end of document", "", nil},
		{`query($a: Int, $v: ID!) { books(first: $a) { id } book(id: $v) { id } }`, "Variable $v of type ID! was provided invalid value", "", map[string]any{"a": 1}},
	} {
		_, errs := x.Prepare(Request{Query: tt.query, Variables: tt.vars})
		if len(errs) == 0 {
			t.Errorf("Prepare(%s) accepted", tt.query)
			continue
		}
		ext, _ := errs[0].Extra["extensions"].(map[string]any)
		code, _ := ext["code"].(string)
		if errs[0].Message != tt.want || code != tt.code {
			t.Errorf("Prepare(%s) = %q (code %q); want %q (code %q)", tt.query, errs[0].Message, code, tt.want, tt.code)
		}
	}
}
