package githubscm_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestSearchFallsBackToReadTree: when GitHub truncates the recursive tree
// listing, Search reads the directory with ReadTree instead and still
// finds every match, for 1 tree request and 1 GraphQL query (the folder's
// files; no tarball).
func TestSearchFallsBackToReadTree(t *testing.T) {
	files := []fakegithub.File{
		{Path: "README.md", Content: []byte("# svc\n")},
		{Path: "templates/a/template.yaml", Content: []byte("kind: Template\n")},
		{Path: "templates/a/skeleton/catalog-info.yaml", Content: []byte("kind: Component\n")},
		{Path: "templates/b/docs/index.md", Content: []byte("# b\n")},
		{Path: "templates/b/template.yaml", Content: []byte("kind: Template\n")},
		{Path: "templates/c/nested/deep/template.yaml", Content: []byte("kind: Template\n")},
		{Path: "templates/c/template.yml", Content: []byte("not matched\n")},
	}
	const pattern = "acme/svc/blob/main/templates/**/template.yaml"
	both(t, func(t *testing.T, ghe bool) {
		full := newEnv(t, ghe, nil)
		full.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: files})
		want, err := full.c.Search(t.Context(), full.web(pattern), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != 3 {
			t.Fatalf("Search on the full listing found %d files; want 3", len(want))
		}

		e := newEnvWith(t, ghe, &fakegithub.Options{Tokens: []string{goodToken}, TreeLimit: 3}, nil)
		e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: files})
		before := e.s.Stats()
		got, err := e.c.Search(t.Context(), e.web(pattern), nil)
		if err != nil {
			t.Fatal(err)
		}
		after := e.s.Stats()
		// The fakes run on different ports: compare paths, and URLs
		// relative to each fake's web host.
		rel := func(rs []scm.SearchResult, host string) []scm.SearchResult {
			out := make([]scm.SearchResult, len(rs))
			for i, r := range rs {
				out[i] = scm.SearchResult{Path: r.Path, URL: r.URL[len("https://"+host):]}
			}
			return out
		}
		if diff := cmp.Diff(rel(want, full.s.Host()), rel(got, e.s.Host())); diff != "" {
			t.Errorf("Search after a truncated listing differs (-want +got):\n%s", diff)
		}
		routes := diffRoutes(before.Routes, after.Routes)
		wantRoutes := map[string]int{
			"GET /repos/{owner}/{repo}/git/trees/{sha...}": 1,
			"POST /graphql": 1,
		}
		if diff := cmp.Diff(wantRoutes, routes); diff != "" {
			t.Errorf("requests per route differ (-want +got):\n%s", diff)
		}
		if api, dl := after.API-before.API, after.Download-before.Download; api != 2 || dl != 0 {
			t.Errorf("requests: API %d, download %d; want API 2, download 0", api, dl)
		}
	})
}
