package scm_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// exampleClient returns a client whose github.com integration is served by
// an in-memory world holding acme/service.
func exampleClient() *scm.Client {
	w := memscm.New()
	err := w.AddRepo("acme", "service", "main", memscm.Files(map[string]string{
		"catalog-info.yaml":                        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: service\n",
		"README.md":                                "# service\n",
		"templates/web/template.yaml":              "kind: Template\n",
		"templates/web/skeleton/README.md":         "# ${{ values.name }}\n",
		"templates/web/skeleton/catalog-info.yaml": "kind: Component\n",
	}))
	if err != nil {
		log.Fatal(err)
	}
	// A nil registry knows github.com, gitlab.com and bitbucket.org; a nil
	// resolver sends no credential (memscm needs none).
	c, err := scm.NewClient(nil, nil, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: w.Opener(nil)},
	})
	if err != nil {
		log.Fatal(err)
	}
	return c
}

func ExampleClient_ReadFile() {
	ctx := context.Background()
	c := exampleClient()

	f, err := c.ReadFile(ctx, "https://github.com/acme/service/blob/main/catalog-info.yaml", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(f.Content))

	// Re-read only if changed.
	_, err = c.ReadFile(ctx, f.URL, &scm.ReadFileOptions{IfNoneMatch: f.ETag})
	fmt.Println(scm.Code(err))

	// A missing file is NotFound, which is also fs.ErrNotExist.
	_, err = c.ReadFile(ctx, "https://github.com/acme/service/blob/main/nope.yaml", nil)
	fmt.Println(scm.Code(err), errors.Is(err, fs.ErrNotExist))
	// Output:
	// apiVersion: backstage.io/v1alpha1
	// kind: Component
	// metadata:
	//   name: service
	// NotModified
	// NotFound true
}

func ExampleClient_ReadTree() {
	ctx := context.Background()
	c := exampleClient()

	fsys, err := c.ReadTree(ctx, "https://github.com/acme/service/tree/main/templates/web", nil)
	if err != nil {
		log.Fatal(err)
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fmt.Println(p)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// skeleton/README.md
	// skeleton/catalog-info.yaml
	// template.yaml
}

func ExampleClient_OpenPullRequest() {
	ctx := context.Background()
	c := exampleClient()

	spec := &scm.PullRequestSpec{
		RepoURL: "https://github.com/acme/service",
		Branch:  "add-docs",
		Title:   "Add docs",
		Changes: []scm.Change{
			{Path: "docs/index.md", Action: scm.Create, Content: []byte("# Docs\n")},
			{Path: "scripts/build.sh", Content: []byte("#!/bin/sh\n"), Executable: true},
			{Path: "README.md", Action: scm.Delete},
		},
	}
	pr, err := c.OpenPullRequest(ctx, spec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pr.Number, pr.Branch, "->", pr.Base, "existing:", pr.Existing)

	// Opening it again returns the same pull request.
	pr, err = c.OpenPullRequest(ctx, spec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pr.Number, "existing:", pr.Existing)

	f, err := c.ReadFile(ctx, "https://github.com/acme/service/blob/add-docs/docs/index.md", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(f.Content))

	// Invalid specs fail before any request.
	_, err = c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: spec.RepoURL, Branch: "x", Title: "t",
		Changes: []scm.Change{{Path: "../escape"}}})
	fmt.Println(scm.Code(err))
	// Output:
	// 1 add-docs -> main existing: false
	// 1 existing: true
	// # Docs
	// InvalidArgument
}

func ExampleClient_Search() {
	ctx := context.Background()
	c := exampleClient()

	res, err := c.Search(ctx, "https://github.com/acme/service/blob/main/**/catalog-info.yaml", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res {
		fmt.Println(r.URL)
	}
	// Output:
	// https://github.com/acme/service/blob/main/catalog-info.yaml
	// https://github.com/acme/service/blob/main/templates/web/skeleton/catalog-info.yaml
}
