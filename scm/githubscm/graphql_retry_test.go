package githubscm_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestGraphQLQueryRetriedAfter502: a GraphQL query changes nothing, so
// one 502 (GitHub's load balancers answer them) is retried as a GET is,
// instead of failing a discovery over 300 repositories outright.
func TestGraphQLQueryRetriedAfter502(t *testing.T) {
	e := newEnv(t, false, nil)
	for i := range 300 {
		r := fakegithub.Repo{Owner: "big", Name: fmt.Sprintf("r%03d", i)}
		if i%10 == 0 {
			r.Files = []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}
		}
		e.addRepo(t, r)
	}
	e.s.Inject(fake.Fault{Kind: fake.FaultServerError, Status: http.StatusBadGateway, Method: http.MethodPost, Path: "/graphql", Times: 1})
	found := 0
	n := e.count(func() {
		for _, err := range e.c.FindFiles(t.Context(), e.web("big"), "catalog-info.yaml") {
			if err != nil {
				t.Fatalf("FindFiles after one 502: %v", err)
			}
			found++
		}
	})
	if found != 30 || n != 4 {
		t.Errorf("found %d in %d requests; want 30 in 4 (3 pages, one of them twice)", found, n)
	}
}
