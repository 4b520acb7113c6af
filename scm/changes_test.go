package scm_test

import (
	"fmt"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/scm"
)

func TestChangesFromFS(t *testing.T) {
	fsys := fstest.MapFS{
		"catalog-info.yaml": {Data: []byte("kind: Component\n")},
		"src/main.go":       {Data: []byte("package main\n")},
		"bin/run.sh":        {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
		"link":              {Data: []byte("/etc/passwd"), Mode: fs.ModeSymlink},
		"empty":             {Mode: fs.ModeDir},
	}
	got, err := scm.ChangesFromFS(fsys, "services/orders/", scm.Upsert)
	if err != nil {
		t.Fatal(err)
	}
	want := "[services/orders/bin/run.sh x #!/bin/sh\n services/orders/catalog-info.yaml - kind: Component\n services/orders/src/main.go - package main\n]"
	var s []string
	for _, c := range got {
		x := "-"
		if c.Executable {
			x = "x"
		}
		if c.Action != scm.Upsert {
			t.Errorf("%s: action %v", c.Path, c.Action)
		}
		s = append(s, c.Path+" "+x+" "+string(c.Content))
	}
	if fmt.Sprint(s) != want {
		t.Errorf("got %q; want %q", fmt.Sprint(s), want)
	}
	for _, dir := range []string{"../x", "a/../../b", "a//b"} {
		if _, err := scm.ChangesFromFS(fsys, dir, scm.Upsert); scm.Code(err) != scm.InvalidArgument {
			t.Errorf("dir %q: %v; want InvalidArgument", dir, err)
		}
	}
	if _, err := scm.ChangesFromFS(fstest.MapFS{"pipe": {Mode: fs.ModeNamedPipe}}, "", scm.Upsert); scm.Code(err) != scm.InvalidArgument {
		t.Errorf("a named pipe: %v; want InvalidArgument", err)
	}
}

// A rendered template becomes the changes of one pull request.
func ExampleChangesFromFS() {
	rendered := fstest.MapFS{ // a Client.ReadTree snapshot, rendered
		"catalog-info.yaml": {Data: []byte("kind: Component\nmetadata:\n  name: orders\n")},
		"README.md":         {Data: []byte("# orders\n")},
	}
	changes, err := scm.ChangesFromFS(rendered, "services/orders", scm.Upsert)
	if err != nil {
		panic(err)
	}
	for _, c := range changes {
		fmt.Println(c.Path)
	}
	// Then: client.OpenPullRequest(ctx, scm.PullRequestSpec{..., Changes: changes})
	// Output:
	// services/orders/README.md
	// services/orders/catalog-info.yaml
}
