package gitlabscm_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

// TestGraphQLQueryRetriedAfter502: a GraphQL query changes nothing, so
// one 502 is retried as a GET is, instead of failing the discovery.
func TestGraphQLQueryRetriedAfter502(t *testing.T) {
	w := newWorld(t, worldOptions{retry: scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}})
	want := seedGroup(t, w, "big", 30)
	w.s.Inject(fake.Fault{Kind: fake.FaultServerError, Status: http.StatusBadGateway, Method: http.MethodPost, Path: "/api/graphql", Times: 1})
	before := w.requests()
	n := 0
	for _, err := range w.c.FindFiles(t.Context(), w.ownerURL(t, "big"), "catalog-info.yaml") {
		if err != nil {
			t.Fatalf("FindFiles after one 502: %v", err)
		}
		n++
	}
	if got := w.requests() - before; n != want || got != 2 {
		t.Errorf("found %d in %d requests; want %d in 2 (the query twice)", n, got, want)
	}
}
