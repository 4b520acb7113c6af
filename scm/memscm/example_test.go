package memscm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// A unit test of code that opens pull requests, against an in-memory
// github.com.
func Example() {
	ctx := context.Background()
	w := memscm.New()
	if err := w.AddRepo("acme", "service", "main", memscm.Files(map[string]string{"README.md": "# service\n"})); err != nil {
		log.Fatal(err)
	}
	c, err := scm.NewClient(nil, nil, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: w.Opener(nil)},
	})
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.OpenPullRequest(ctx, &scm.PullRequestSpec{
		RepoURL: "https://github.com/acme/service",
		Branch:  "add-catalog-info",
		Title:   "Add catalog-info.yaml",
		Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}},
	})
	if err != nil {
		log.Fatal(err)
	}

	// Assert on the world.
	for _, pr := range w.PullRequests("acme", "service") {
		fmt.Printf("#%d %s: %s -> %s\n", pr.Number, pr.Title, pr.Branch, pr.Base)
	}
	content, _, _ := w.File("acme", "service", "add-catalog-info", "catalog-info.yaml")
	fmt.Print(string(content))
	fmt.Println("requests:", w.Requests())

	// Make the next call fail as a rate-limited host would.
	w.Inject(memscm.Fault{Code: scm.RateLimited, Status: 429, Times: 1})
	_, err = c.ReadFile(ctx, "https://github.com/acme/service/blob/main/README.md", nil)
	fmt.Println(scm.Code(err))
	// Output:
	// #1 Add catalog-info.yaml: add-catalog-info -> main
	// kind: Component
	// requests: 1
	// RateLimited
}
