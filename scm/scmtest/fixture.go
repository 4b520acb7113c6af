package scmtest

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing/fstest"

	"golang.org/x/tools/txtar"
)

// Names of the repositories every harness seeds under its owner, and of
// their default branch.
const (
	// BasicRepo holds the files of [Basic].
	BasicRepo = "basic"
	// SecondRepo holds a README.md and a catalog-info.yaml.
	SecondRepo = "second"
	// ThirdRepo holds only a README.md (no catalog-info.yaml).
	ThirdRepo = "third"
	// MissingRepo names a repository that must not exist.
	MissingRepo = "no-such-repo"
	// DefaultBranch is every seeded repository's default branch.
	DefaultBranch = "main"
)

//go:embed testdata/basic.txtar
var basicTxtar []byte

// FixtureFile is one file of a fixture repository.
type FixtureFile struct {
	Path       string // slash-separated, repository-relative
	Content    []byte
	Executable bool // git mode 100755
}

// Fixture is the content of one repository the harness seeds.
type Fixture struct {
	Name  string
	Files []FixtureFile // sorted by Path
}

// File returns the fixture's file p, or nil.
func (f *Fixture) File(p string) *FixtureFile {
	i, ok := slices.BinarySearchFunc(f.Files, p, func(x FixtureFile, p string) int { return strings.Compare(x.Path, p) })
	if !ok {
		return nil
	}
	return &f.Files[i]
}

// FS returns the fixture as an fs.FS, executable files with mode 0755 and
// the others 0644, for seeding fakes (memscm.World.AddRepo takes it).
func (f *Fixture) FS() fs.FS {
	m := fstest.MapFS{}
	for _, x := range f.Files {
		m[x.Path] = &fstest.MapFile{Data: slices.Clone(x.Content), Mode: fileMode(x.Executable)}
	}
	return m
}

// fileMode is the mode of a fixture's or a tree's file: 0755 when
// executable, else 0644.
func fileMode(executable bool) fs.FileMode {
	if executable {
		return 0o755
	}
	return 0o644
}

// Under returns the paths of the fixture's files under dir ("" for all),
// relative to dir, sorted.
func (f *Fixture) Under(dir string) []string {
	var out []string
	for _, x := range f.Files {
		if p, ok := strings.CutPrefix(x.Path, dir+"/"); ok || dir == "" {
			out = append(out, p)
		}
	}
	return out
}

// Basic returns the fixture repository [BasicRepo], parsed from the
// embedded testdata/basic.txtar: catalog-info.yaml, README.md,
// docs/index.md and a templates/service/ directory with nested files, an
// executable script (templates/service/scripts/bootstrap.sh) and a binary
// file (templates/service/assets/icon.bin). Each call returns a new copy.
func Basic() *Fixture {
	f, err := parseFixture(BasicRepo, basicTxtar)
	if err != nil {
		panic("scmtest: embedded basic.txtar: " + err.Error())
	}
	return f
}

// World returns every repository a harness seeds under its owner, in
// name order: [BasicRepo], [SecondRepo], [ThirdRepo].
func World() []*Fixture {
	return []*Fixture{
		Basic(),
		{Name: SecondRepo, Files: []FixtureFile{
			{Path: "README.md", Content: []byte("# second\n")},
			{Path: "catalog-info.yaml", Content: []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: second\nspec:\n  type: library\n  lifecycle: production\n  owner: team-b\n")},
		}},
		{Name: ThirdRepo, Files: []FixtureFile{
			{Path: "README.md", Content: []byte("# third\n")},
		}},
	}
}

// parseFixture reads a txtar fixture whose comment may carry
// "executable: PATH" and "base64: PATH" lines.
func parseFixture(name string, data []byte) (*Fixture, error) {
	a := txtar.Parse(data)
	attr := map[string]bool{} // the comment's lines, "base64: PATH" among them
	for line := range strings.Lines(string(a.Comment)) {
		attr[strings.TrimSpace(line)] = true
	}
	f := &Fixture{Name: name}
	for _, x := range a.Files {
		if !fs.ValidPath(x.Name) {
			return nil, fmt.Errorf("invalid path %q", x.Name)
		}
		content := slices.Clone(x.Data) // x.Data points into the embedded file
		if attr["base64: "+x.Name] {
			d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(x.Data)))
			if err != nil {
				return nil, fmt.Errorf("%s: %v", x.Name, err)
			}
			content = d
		}
		f.Files = append(f.Files, FixtureFile{Path: x.Name, Content: content, Executable: attr["executable: "+x.Name]})
	}
	slices.SortFunc(f.Files, func(a, b FixtureFile) int { return strings.Compare(a.Path, b.Path) })
	return f, nil
}
