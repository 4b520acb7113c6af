package scm_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
)

// A provider that pages on without end, each page with a repository and a
// new cursor, was followed for ever (only circles and empty pages were
// stopped); now the listing ends with an error after 10,000 pages.
func TestEndlessListingStops(t *testing.T) {
	d := &fakeDriver{listRepos: func(_ context.Context, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
		n, _ := strconv.Atoi(r.Cursor)
		return &driver.RepositoryPage{Repositories: []driver.Repository{{Owner: "acme", Name: "r" + strconv.Itoa(n)}}, Next: strconv.Itoa(n + 1)}, nil
	}}
	c, err := scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: d.opener()}})
	if err != nil {
		t.Fatal(err)
	}
	repos := 0
	var last error
	for _, err := range c.ListRepositories(t.Context(), "https://github.com/acme", nil) {
		if err != nil {
			last = err
			break
		}
		repos++
	}
	if last == nil || !strings.Contains(last.Error(), "sent 10000 pages") {
		t.Fatalf("after %d repositories: %v; want the listing stopped after 10000 pages", repos, last)
	}
	if d.calls != 10_000 || repos != 10_000 {
		t.Errorf("%d pages asked, %d repositories; want 10,000 of each", d.calls, repos)
	}
}
