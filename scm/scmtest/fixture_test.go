package scmtest

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestBasic(t *testing.T) {
	fx := Basic()
	var paths []string
	for _, f := range fx.Files {
		paths = append(paths, f.Path)
	}
	want := []string{
		"README.md",
		"catalog-info.yaml",
		"docs/index.md",
		"templates/service/assets/icon.bin",
		"templates/service/scripts/bootstrap.sh",
		"templates/service/skeleton/README.md",
		"templates/service/skeleton/catalog-info.yaml",
		"templates/service/skeleton/src/main.go",
		"templates/service/template.yaml",
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("Basic() paths (-want +got):\n%s", diff)
	}
	bin := fx.File("templates/service/assets/icon.bin")
	if bin == nil || !bytes.Contains(bin.Content, []byte{0}) || !bytes.HasPrefix(bin.Content, []byte("\x89PNG")) {
		t.Errorf("icon.bin = %v; want binary content decoded from base64", bin)
	}
	var exec []string
	for _, f := range fx.Files {
		if f.Executable {
			exec = append(exec, f.Path)
		}
	}
	if diff := cmp.Diff([]string{"templates/service/scripts/bootstrap.sh"}, exec); diff != "" {
		t.Errorf("executable files (-want +got):\n%s", diff)
	}
	if fx.File("nope") != nil {
		t.Error(`File("nope") != nil`)
	}
	// Each call returns a copy.
	fx.Files[0].Content[0] = 'X'
	if Basic().Files[0].Content[0] == 'X' {
		t.Error("Basic() shares its content between calls")
	}
}

func TestFixtureFS(t *testing.T) {
	fx := Basic()
	fsys := fx.FS()
	if err := fstest.TestFS(fsys, fx.Under("")...); err != nil {
		t.Fatal(err)
	}
	info, err := fs.Stat(fsys, "templates/service/scripts/bootstrap.sh")
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("Stat(bootstrap.sh) = %v, %v; want mode 0755", info, err)
	}
	got := fx.Under("templates/service/skeleton")
	want := []string{"README.md", "catalog-info.yaml", "src/main.go"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Under (-want +got):\n%s", diff)
	}
}

func TestWorld(t *testing.T) {
	var names []string
	for _, r := range World() {
		names = append(names, r.Name)
		if !slices.IsSortedFunc(r.Files, func(a, b FixtureFile) int { return strings.Compare(a.Path, b.Path) }) {
			t.Errorf("%s: files not sorted", r.Name)
		}
	}
	if diff := cmp.Diff([]string{BasicRepo, SecondRepo, ThirdRepo}, names); diff != "" {
		t.Errorf("World() (-want +got):\n%s", diff)
	}
}

func TestParseFixtureRejects(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"bad path", "-- ../x --\nx\n"},
		{"bad base64", "base64: a.bin\n-- a.bin --\n!!!\n"},
	} {
		if _, err := parseFixture("x", []byte(tc.data)); err == nil {
			t.Errorf("%s: parseFixture succeeded; want an error", tc.name)
		}
	}
}

func TestFaultKindString(t *testing.T) {
	if got := FaultRateLimit.String(); got != "FaultRateLimit" {
		t.Errorf("FaultRateLimit.String() = %q", got)
	}
	if got := FaultKind(99).String(); got != "FaultKind(99)" {
		t.Errorf("FaultKind(99).String() = %q", got)
	}
}
