package scm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/scm"
)

// A scaffolder's publish step: fetch a template, then create a repository
// holding it in one initial commit.
func ExampleClient_CreateRepository() {
	ctx := context.Background()
	c := exampleClient()
	skeleton, err := c.ReadTree(ctx, "https://github.com/acme/service/tree/main/templates/web/skeleton", nil)
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.CreateRepository(ctx, "https://github.com/acme", &scm.RepositorySpec{
		Name:        "web-app",
		Description: "Created from the web template",
		Visibility:  scm.Private,
	}, skeleton)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Owner+"/"+r.Name, r.DefaultBranch, r.Private)

	// Names the provider would refuse fail before any request.
	_, err = c.CreateRepository(ctx, "https://github.com/acme", &scm.RepositorySpec{Name: "web app"}, skeleton)
	fmt.Println(scm.Code(err))

	// An existing repository is never overwritten.
	_, err = c.CreateRepository(ctx, "https://github.com/acme", &scm.RepositorySpec{Name: "web-app"}, skeleton)
	fmt.Println(scm.Code(err))
	// Output:
	// acme/web-app main true
	// InvalidArgument
	// AlreadyExists
}
