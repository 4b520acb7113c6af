package scm_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"testing/fstest"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// Opening a pull request can fail after the commit (the host answered 502
// to the request that opens the merge request). Running OpenPullRequest
// again with the same spec, as the error advises, opens it without
// committing the changes a second time. No error shows the token, even
// when a server echoes it.
func ExampleClient_OpenPullRequest_rerun() {
	ctx := context.Background()
	gl := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"glpat-example-token"}})
	defer gl.Close()
	readme := fstest.MapFS{"README.md": {Data: []byte("# service\n")}}
	if _, _, err := gl.AddFS(fakegitlab.Project{Namespace: "acme", Path: "service", DefaultBranch: "main"}, readme); err != nil {
		log.Fatal(err)
	}
	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: gl.Host(), APIBaseURL: gl.APIBaseURL(), BaseURL: gl.URL(), Token: integrations.NewSecret("glpat-example-token")}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	c, err := scm.NewClient(reg, res, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitLab: gitlabscm.Opener(nil)}})
	if err != nil {
		log.Fatal(err)
	}

	gl.Inject(fake.Fault{Kind: fake.FaultServerError, Status: http.StatusBadGateway, Times: 1,
		Method: http.MethodPost, Path: "/api/v4/projects/" + url.PathEscape("acme/service") + "/merge_requests"})
	spec := &scm.PullRequestSpec{
		RepoURL: gl.URL() + "/acme/service",
		Branch:  "add-catalog-info",
		Title:   "Add catalog-info.yaml",
		Changes: []scm.Change{{Path: "catalog-info.yaml", Action: scm.Create, Content: []byte("kind: Component\n")}},
	}
	_, err = c.OpenPullRequest(ctx, spec)
	fmt.Println("first run:", scm.Code(err), strings.Contains(fmt.Sprint(err), "glpat-example-token"))

	pr, err := c.OpenPullRequest(ctx, spec) // the same spec again
	if err != nil {
		log.Fatal(err)
	}
	commits, err := gl.Commits("acme/service", spec.Branch)
	if err != nil {
		log.Fatal(err)
	}
	base, err := gl.Commits("acme/service", "main")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rerun: merge request", pr.Number, "existing:", pr.Existing)
	fmt.Println("commits on the branch:", len(commits)-len(base))
	// Output:
	// first run: Unavailable false
	// rerun: merge request 1 existing: false
	// commits on the branch: 1
}
