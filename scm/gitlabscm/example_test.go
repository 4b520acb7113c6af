package gitlabscm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// Reading a file and discovering catalog files on a self-managed GitLab
// installed under /gitlab (here the fake one), with a group token.
func Example() {
	gl := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"glpat-example"}, RelativePath: "/gitlab"})
	defer gl.Close()
	for _, p := range []string{"svc", "lib"} {
		files := []fakegitlab.File{{Path: "README.md", Content: []byte("# " + p + "\n")}}
		if p == "svc" {
			files = append(files, fakegitlab.File{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")})
		}
		if _, _, err := gl.AddProject(fakegitlab.Project{Namespace: "acme/platform", Path: p, Files: files}); err != nil {
			log.Fatal(err)
		}
	}

	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host:        gl.Host(),
		APIBaseURL:  gl.APIBaseURL(), // http://HOST/gitlab/api/v4
		BaseURL:     gl.URL(),        // http://HOST/gitlab
		Credentials: []integrations.ScopedCredential{{Owners: []string{"acme"}, Token: integrations.NewSecret("glpat-example")}},
	}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := scm.NewClient(reg, res, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitLab: gitlabscm.Opener(nil)},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	f, err := client.ReadFile(ctx, gl.URL()+"/acme/platform/svc/-/blob/main/README.md", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(f.Content))

	for found, err := range client.FindFiles(ctx, gl.URL()+"/groups/acme", "catalog-info.yaml") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(found.Repository.Owner+"/"+found.Repository.Name, found.Path)
	}
	fmt.Println(gl.Stats().Total, "requests")
	// Output:
	// # svc
	// acme/platform/svc catalog-info.yaml
	// 2 requests
}
