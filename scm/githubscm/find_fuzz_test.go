package githubscm_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// FuzzFindFilesAnswer: GitHub's GraphQL answer to a search for
// catalog-info.yaml across an owner is untrusted. Whatever it says, the
// repositories found are the owner's, each with a valid repository name
// (one path segment, never "." or "..").
func FuzzFindFilesAnswer(f *testing.F) {
	f.Add(`{"data":{"repositoryOwner":{"login":"acme","repositories":{"nodes":[` +
		`{"name":"api","url":"https://github.com/acme/api","owner":{"login":"acme"},"defaultBranchRef":{"name":"main"},"object":{"__typename":"Blob","oid":"abc"}},` +
		`{"name":"web","url":"https://github.com/ACME/web","owner":{"login":"ACME"},"defaultBranchRef":{"name":"main"},"object":null}],` +
		`"pageInfo":{"hasNextPage":true,"endCursor":"Y3Vyc29yOjEwMA=="}}}}}`)
	f.Add(`{"data":{"repositoryOwner":{"login":"acme","repositories":{"nodes":[{"name":"api","owner":{"login":"other"},"defaultBranchRef":{"name":"main"},"object":{"__typename":"Blob","oid":"x"}}],"pageInfo":{}}}}}`)
	f.Add(`{"data":{"repositoryOwner":{"login":"acme","repositories":{"nodes":[{"name":"..","owner":{"login":"acme"}},{"name":"a/b","owner":{"login":"acme"}},{"name":"","owner":{"login":"acme"}}],"pageInfo":{}}}}}`)
	f.Add(`{"data":{"repositoryOwner":null}}`)
	f.Add(`{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}`)
	d, err := githubscm.New(&integrations.Integration{Kind: integrations.GitHub, Host: "github.com", APIBaseURL: "https://api.github.com"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		hc := &http.Client{Transport: adaptertest.NewAnswer(body)}
		page, err := d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "acme", Path: "catalog-info.yaml"})
		if err != nil {
			return
		}
		for _, r := range page.Results {
			if !strings.EqualFold(r.Repository.Owner, "acme") {
				t.Fatalf("found %s/%s, not a repository of acme", r.Repository.Owner, r.Repository.Name)
			}
			if n := r.Repository.Name; n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\") {
				t.Fatalf("found a repository named %q", n)
			}
		}
	})
}
