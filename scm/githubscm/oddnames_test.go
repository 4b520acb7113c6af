package githubscm_test

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestReadTreeOddNameElsewhere: git allows a backslash in a name, and
// GitHub's tarball holds the whole repository. A template folder read
// from the tarball (it holds a binary file, so the GraphQL read falls
// back) is read whole whatever names the rest of the repository holds;
// the odd name is outside the folder and never in the snapshot.
func TestReadTreeOddNameElsewhere(t *testing.T) {
	both(t, func(t *testing.T, ghe bool) {
		e := newEnv(t, ghe, nil)
		e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{
			{Path: `docs/windows\path.md`, Content: []byte("odd\n")},
			{Path: "templates/svc/template.yaml", Content: []byte("kind: Template\n")},
			{Path: "templates/svc/logo.png", Content: []byte{0x89, 'P', 'N', 'G', 0, 1, 2}},
		}})
		fsys, err := e.c.ReadTree(t.Context(), e.web("acme/svc/tree/main/templates/svc"), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				got = append(got, p)
			}
			return err
		})
		if diff := cmp.Diff([]string{"logo.png", "template.yaml"}, got); diff != "" {
			t.Errorf("files (-want +got):\n%s", diff)
		}
	})
}
