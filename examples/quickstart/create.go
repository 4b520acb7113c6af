package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing/fstest"

	"github.com/scmkit/scmkit/scm"
)

// createRepository creates acme/orders on GitHub from the template's
// skeleton, as the signed-in user: the scaffolder's publish:github job.
// It then reads a file back, and shows that creating it again is refused.
func createRepository(ctx context.Context, w *world, out io.Writer) error {
	skeleton, err := w.client.ReadTree(ctx, webURL(w.github.Host(), "acme/templates/tree/main/templates/go-service/skeleton"), nil)
	if err != nil {
		return err
	}
	// Render the template's values into a new tree.
	files := fstest.MapFS{}
	err = fs.WalkDir(skeleton, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(skeleton, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		body := strings.ReplaceAll(strings.ReplaceAll(string(data), "${{ values.name }}", "orders"), "${{ values.owner }}", "team-orders")
		files[p] = &fstest.MapFile{Data: []byte(body), Mode: info.Mode().Perm()}
		return nil
	})
	if err != nil {
		return err
	}
	owner := webURL(w.github.Host(), "acme")
	spec := &scm.RepositorySpec{Name: "orders", Description: "The orders service", Topics: []string{"go", "backstage"}}

	_, err = w.user().CreateRepository(ctx, owner, &scm.RepositorySpec{Name: "orders service!"}, files)
	fmt.Fprintf(out, "a name GitHub would refuse: %v, before any request\n", scm.Code(err))
	if scm.Code(err) != scm.InvalidArgument {
		return fmt.Errorf("a bad name: %v", err)
	}

	var r *scm.CreatedRepository
	n, err := w.cost(func() (err error) { r, err = w.user().CreateRepository(ctx, owner, spec, files); return err })
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "as alice: %s/%s created with %d files in one commit %.12s on %s: %s\n  %s\n",
		r.Owner, r.Name, len(files), r.CommitID, r.DefaultBranch, plural(n, "request"), r.WebURL)
	fmt.Fprintln(out, "  (create it empty, push one root commit with git's smart HTTP protocol: ref advertisement and receive-pack, then the topics)")

	f, err := w.client.ReadFile(ctx, webURL(w.github.Host(), "acme/orders/blob/"+r.DefaultBranch+"/catalog-info.yaml"), nil)
	if err != nil {
		return err
	}
	if !strings.Contains(string(f.Content), "orders") {
		return fmt.Errorf("catalog-info.yaml of acme/orders = %q; want the rendered template", f.Content)
	}
	fmt.Fprintf(out, "read back acme/orders/catalog-info.yaml: %d bytes\n", len(f.Content))

	n, err = w.cost(func() error { _, err := w.user().CreateRepository(ctx, owner, spec, files); return err })
	fmt.Fprintf(out, "again: %v, %s, nothing written\n", scm.Code(err), plural(n, "request"))
	if scm.Code(err) != scm.AlreadyExists {
		return fmt.Errorf("creating acme/orders again: %v", err)
	}
	return nil
}
