package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/examples/internal/testenv"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// The tests set an environment variable (the config's token), so they
// are not parallel.

// newTemplates seeds acme/templates with a service template beside
// another one.
func newTemplates(t *testing.T) *testenv.GitHub {
	t.Helper()
	g := testenv.NewGitHub(t)
	_, err := g.Server.AddRepo(fakegithub.Repo{Owner: "acme", Name: "templates", Files: []fakegithub.File{
		{Path: "service/template.yaml", Content: []byte("kind: Template\n")},
		{Path: "service/skeleton/README.md", Content: []byte("# ${{ values.name }}\n")},
		{Path: "service/skeleton/scripts/build.sh", Content: []byte("#!/bin/sh\necho build\n"), Executable: true},
		{Path: "service/skeleton/link", Content: []byte("README.md"), Symlink: true}, // left out
		{Path: "escape/skeleton/link", Content: []byte("../../../etc/passwd"), Symlink: true},
		{Path: "website/template.yaml", Content: []byte("kind: Template\n")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// readDir returns the files under dir with their contents, and the modes
// of the executable ones.
func readDir(t *testing.T, dir string) (files map[string]string, exec []string) {
	t.Helper()
	files = map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(b)
		if info, _ := d.Info(); info.Mode()&0o111 != 0 {
			exec = append(exec, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, exec
}

func TestFetch(t *testing.T) {
	g := newTemplates(t)
	out := filepath.Join(t.TempDir(), "new", "dir") // created as needed
	o := testenv.Exec(t, run, "-config", g.Config, "-out", out, g.WebURL("acme/templates/tree/main/service"))
	if o.Err != nil {
		t.Fatalf("run: %v\nstderr: %s", o.Err, o.Stderr)
	}
	files, exec := readDir(t, out)
	want := map[string]string{
		"template.yaml":             "kind: Template\n",
		"skeleton/README.md":        "# ${{ values.name }}\n",
		"skeleton/scripts/build.sh": "#!/bin/sh\necho build\n",
	}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("files written (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"skeleton/scripts/build.sh"}, exec); diff != "" {
		t.Errorf("executable files (-want +got):\n%s", diff)
	}
	for _, line := range []string{
		"15  template.yaml",
		"21  skeleton/README.md",
		"21  skeleton/scripts/build.sh  (executable)",
		"wrote 3 files (57 bytes) to " + out,
	} {
		if !strings.Contains(o.Stdout, line) {
			t.Errorf("stdout lacks %q; got:\n%s", line, o.Stdout)
		}
	}
	// The folder holds a symbolic link, which GraphQL cannot carry: one
	// GraphQL query, then the archive (one API call, which redirects to
	// the download host).
	if st := g.Stats(); st.API != 2 || st.Download != 1 {
		t.Errorf("requests: got %d API and %d downloads; want 2 and 1", st.API, st.Download)
	}
	if !strings.Contains(o.Stdout, "3 HTTP requests") {
		t.Errorf("stdout does not count 3 requests; got:\n%s", o.Stdout)
	}
}

func TestNonEmptyDir(t *testing.T) {
	g := newTemplates(t)
	u := g.WebURL("acme/templates/tree/main/service")
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "template.yaml"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "mine.txt"), []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	o := testenv.Exec(t, run, "-config", g.Config, "-out", out, u)
	if scm.Code(o.Err) != scm.AlreadyExists || !strings.Contains(o.Err.Error(), "-force") {
		t.Fatalf("run into a non-empty dir: got %v; want an AlreadyExists error mentioning -force", o.Err)
	}
	if st := g.Stats(); st.API != 0 {
		t.Errorf("a refused destination made %d requests; want 0", st.API)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "template.yaml")); string(b) != "old\n" {
		t.Errorf("template.yaml was changed to %q", b)
	}

	o = testenv.Exec(t, run, "-config", g.Config, "-out", out, "-force", u)
	if o.Err != nil {
		t.Fatalf("run -force: %v", o.Err)
	}
	files, _ := readDir(t, out)
	if files["template.yaml"] != "kind: Template\n" || files["mine.txt"] != "keep\n" || len(files) != 4 {
		t.Errorf("after -force got files %v; want the tree plus mine.txt", files)
	}
}

// TestForceRefusesSymlinkInOut: with -force, a symbolic link already in
// -out where the tree has a directory is refused, and nothing is written
// where it points (os.CopyFS would write through it).
func TestForceRefusesSymlinkInOut(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	g := newTemplates(t)
	base := t.TempDir()
	out, outside := filepath.Join(base, "out"), filepath.Join(base, "outside")
	for _, d := range []string{out, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(out, "skeleton")); err != nil {
		t.Fatal(err)
	}
	o := testenv.Exec(t, run, "-config", g.Config, "-out", out, "-force", g.WebURL("acme/templates/tree/main/service"))
	if scm.Code(o.Err) != scm.AlreadyExists || !strings.Contains(o.Err.Error(), "symbolic links are not followed") {
		t.Fatalf("run -force into a dir holding a link: got %v; want AlreadyExists about the link", o.Err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote %v through the link", entries)
	}
}

func TestFetchErrors(t *testing.T) {
	g := newTemplates(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode scm.ErrorCode
		wantMsg  string
	}{
		{name: "missing directory", args: []string{"-out", t.TempDir(), g.WebURL("acme/templates/tree/main/nope")}, wantCode: scm.NotFound},
		{name: "missing repository", args: []string{"-out", t.TempDir(), g.WebURL("acme/nope/tree/main/service")}, wantCode: scm.NotFound},
		{name: "too many files", args: []string{"-out", t.TempDir(), "-max-files", "2", g.WebURL("acme/templates/tree/main/service")},
			wantCode: scm.InvalidArgument, wantMsg: "files"},
		{name: "too deep", args: []string{"-out", t.TempDir(), "-max-depth", "2", g.WebURL("acme/templates/tree/main/service")},
			wantCode: scm.InvalidArgument, wantMsg: "deeper than 2 elements"},
		{name: "link outside the tree", args: []string{"-out", t.TempDir(), g.WebURL("acme/templates/tree/main/escape")},
			wantCode: scm.InvalidArgument, wantMsg: "outside the extracted tree"},
		{name: "out is a file", args: []string{"-out", file, g.WebURL("acme/templates/tree/main/service")}, wantCode: scm.AlreadyExists},
		{name: "no out", args: []string{g.WebURL("acme/templates/tree/main/service")}, wantMsg: "-out is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testenv.Exec(t, run, append([]string{"-config", g.Config}, tt.args...)...)
			t.Logf("error: %v", o.Err)
			if o.Err == nil {
				t.Fatalf("run succeeded; want an error\nstdout: %s", o.Stdout)
			}
			if tt.wantCode != scm.OK {
				if got := scm.Code(o.Err); got != tt.wantCode {
					t.Errorf("code: got %v; want %v", got, tt.wantCode)
				}
			}
			if !strings.Contains(o.Err.Error(), tt.wantMsg) {
				t.Errorf("error %q lacks %q", o.Err, tt.wantMsg)
			}
		})
	}
}

func TestFetchRepositoryRoot(t *testing.T) {
	g := testenv.NewGitHub(t)
	g.AddRepo(t, "acme", "small", "README.md", "# small\n", "src/main.go", "package main\n")
	out := t.TempDir()
	o := testenv.Exec(t, run, "-config", g.Config, "-out", out, g.WebURL("acme/small"))
	if o.Err != nil {
		t.Fatalf("run: %v\nstderr: %s", o.Err, o.Stderr)
	}
	files, _ := readDir(t, out)
	if diff := cmp.Diff(map[string]string{"README.md": "# small\n", "src/main.go": "package main\n"}, files); diff != "" {
		t.Errorf("files written (-want +got):\n%s", diff)
	}
}
