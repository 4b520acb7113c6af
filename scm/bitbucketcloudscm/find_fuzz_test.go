package bitbucketcloudscm_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// FuzzFindFilesAnswer: Bitbucket Cloud's code search answer for a
// workspace is untrusted. Whatever it says, the repositories found are
// the workspace's, each with a slug that is one path segment, and the
// next cursor is the workspace's code search on the API host.
func FuzzFindFilesAnswer(f *testing.F) {
	f.Add(`{"values":[{"file":{"path":"catalog-info.yaml","commit":{"hash":"abc","repository":{"slug":"svc","full_name":"acme/svc","mainbranch":{"name":"main"}}}}},` +
		`{"file":{"path":"docs/catalog-info.yaml","commit":{"repository":{"full_name":"acme/other"}}}}],"next":"https://api.bitbucket.org/2.0/workspaces/acme/search/code?page=2"}`)
	f.Add(`{"values":[{"file":{"path":"catalog-info.yaml","commit":{"repository":{"slug":"svc","full_name":"evil/svc","mainbranch":{"name":"main"}}}}}]}`)
	f.Add(`{"values":[{"file":{"path":"catalog-info.yaml","commit":{"repository":{"slug":"..","full_name":"acme/x"}}}},{"file":{"path":"catalog-info.yaml","commit":{"repository":{"slug":"a/b","full_name":"acme/y"}}}},{"file":{"path":"catalog-info.yaml","commit":{"repository":{"full_name":"acme"}}}}]}`)
	d, err := bitbucketcloudscm.New(&integrations.Integration{Kind: integrations.BitbucketCloud, Host: "bitbucket.org",
		APIBaseURL: "https://api.bitbucket.org/2.0", BaseURL: "https://bitbucket.org"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		hc := &http.Client{Transport: adaptertest.NewAnswer(body)}
		page, err := d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "acme", Path: "catalog-info.yaml"})
		if err != nil {
			return
		}
		if page.Next != "" {
			u, err := url.Parse(page.Next)
			if err != nil || u.Host != "api.bitbucket.org" || u.User != nil || !strings.EqualFold(u.EscapedPath(), "/2.0/workspaces/acme/search/code") {
				t.Fatalf("next cursor %q is not the workspace's code search on the API host", page.Next)
			}
		}
		for _, r := range page.Results {
			if !strings.EqualFold(r.Repository.Owner, "acme") {
				t.Fatalf("found %s/%s, not a repository of the workspace acme", r.Repository.Owner, r.Repository.Name)
			}
			if n := r.Repository.Name; n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\") {
				t.Fatalf("found a repository named %q", n)
			}
		}
	})
}
