package scm_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// A catalog re-reading a location whose file is gone: with DirAsMissing a
// read costs 1 request on GitLab instead of 2, and with NotFoundMaxAge the
// NotFound is remembered (in the client's FileCache, for this credential)
// so that re-reads within 5 minutes cost none.
func ExampleReadFileOptions_notFoundMaxAge() {
	gl := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"glpat-service"}})
	defer gl.Close()
	if _, _, err := gl.AddProject(fakegitlab.Project{Namespace: "acme", Path: "svc",
		Files: []fakegitlab.File{{Path: "README.md", Content: []byte("# svc\n")}}}); err != nil {
		log.Fatal(err)
	}
	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: gl.Host(), APIBaseURL: gl.APIBaseURL(), BaseURL: gl.URL(), Token: integrations.NewSecret("glpat-service")}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	c, err := scm.NewClient(reg, res, &scm.Options{Drivers: adapters.All(nil)})
	if err != nil {
		log.Fatal(err)
	}
	location := gl.URL() + "/acme/svc/-/blob/main/catalog-info.yaml"
	for _, o := range []*scm.ReadFileOptions{nil, {DirAsMissing: true},
		{DirAsMissing: true, NotFoundMaxAge: 5 * time.Minute}, {DirAsMissing: true, NotFoundMaxAge: 5 * time.Minute}} {
		before := gl.Stats().Total
		_, err := c.ReadFile(context.Background(), location, o)
		fmt.Printf("%v after %d requests\n", scm.Code(err), gl.Stats().Total-before)
	}
	// Output:
	// NotFound after 2 requests
	// NotFound after 1 requests
	// NotFound after 1 requests
	// NotFound after 0 requests
}
