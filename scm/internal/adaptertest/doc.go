package adaptertest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// PackageDoc returns the package documentation of the Go file at path
// (relative to the test's directory), every run of white space made one
// space, so that a test can hold the code to what the doc promises.
func PackageDoc(t testing.TB, path string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatalf("%s has no package documentation", path)
	}
	return strings.Join(strings.Fields(f.Doc.Text()), " ")
}

// memberRef is a reference to a member of a type in a comment: Type.Name,
// maybe qualified by the package's name, and not part of a longer
// selector (other.Type.Name).
var memberRef = regexp.MustCompile(`(^|[^\w.])(?:(\w+)\.)?([A-Z]\w*)\.([A-Z]\w*)`)

// DocMemberRefs checks the comments of the non-test Go files of the
// package in dir (pkg is its name): every Type.Name they write, where Type
// is a type declared in the package, must name a field or method of it.
// It reports each one that does not with t.Errorf, and returns how many
// it checked. A type that embeds another package's type, or is an alias,
// is not held to it.
func DocMemberRefs(t testing.TB, dir, pkg string) (checked int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	members := map[string]map[string]bool{} // type → its fields and methods
	embeds := map[string][]string{}         // type → the types it embeds
	opaque := map[string]bool{}             // aliases, and types embedding another package's
	add := func(typ, name string) {
		if members[typ] == nil {
			members[typ] = map[string]bool{}
		}
		members[typ][name] = true
	}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					ts, ok := s.(*ast.TypeSpec)
					if !ok {
						continue
					}
					name := ts.Name.Name
					if members[name] == nil {
						members[name] = map[string]bool{}
					}
					if ts.Assign != 0 {
						opaque[name] = true
						continue
					}
					var fields *ast.FieldList
					switch tt := ts.Type.(type) {
					case *ast.StructType:
						fields = tt.Fields
					case *ast.InterfaceType:
						fields = tt.Methods
					}
					if fields == nil {
						continue
					}
					for _, fl := range fields.List {
						for _, n := range fl.Names {
							add(name, n.Name)
						}
						if len(fl.Names) == 0 {
							typ := fl.Type
							if st, ok := typ.(*ast.StarExpr); ok {
								typ = st.X
							}
							typ = typeName(typ)
							switch e := typ.(type) {
							case *ast.Ident:
								add(name, e.Name)
								embeds[name] = append(embeds[name], e.Name)
							case *ast.SelectorExpr:
								add(name, e.Sel.Name)
								opaque[name] = true
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil || len(d.Recv.List) == 0 {
					continue
				}
				typ := d.Recv.List[0].Type
				if st, ok := typ.(*ast.StarExpr); ok {
					typ = st.X
				}
				if id, ok := typeName(typ).(*ast.Ident); ok {
					add(id.Name, d.Name.Name)
				}
			}
		}
	}
	var has func(typ, name string, depth int) (found, unknown bool)
	has = func(typ, name string, depth int) (bool, bool) {
		if members[typ][name] {
			return true, false
		}
		if opaque[typ] || depth > 5 {
			return false, true
		}
		for _, e := range embeds[typ] {
			if found, unknown := has(e, name, depth+1); found || unknown {
				return found, unknown
			}
		}
		return false, false
	}
	for _, f := range files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				for _, m := range memberRef.FindAllStringSubmatch(c.Text, -1) {
					qual, typ, name := m[2], m[3], m[4]
					if qual != "" && qual != pkg {
						continue // another package's type
					}
					if _, ok := members[typ]; !ok {
						continue // not a type of this package
					}
					checked++
					if found, unknown := has(typ, name, 0); !found && !unknown {
						t.Errorf("%s: a comment names %s.%s, but %s has no field or method %s", fset.Position(c.Pos()), typ, name, typ, name)
					}
				}
			}
		}
	}
	return checked
}

// typeName is typ without its type arguments: Box for Box[int], Pair for
// Pair[K, V].
func typeName(typ ast.Expr) ast.Expr {
	switch ix := typ.(type) {
	case *ast.IndexExpr:
		return ix.X
	case *ast.IndexListExpr:
		return ix.X
	}
	return typ
}
