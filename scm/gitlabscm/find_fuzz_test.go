package gitlabscm_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// FuzzFindFilesAnswer: GitLab's GraphQL answer to a search for
// catalog-info.yaml across a group is untrusted. Whatever it says, the
// repositories found are in the group asked for (or its subgroups), each
// with a project name that is one path segment, and a next-page cursor
// the driver gives is one it accepts back.
func FuzzFindFilesAnswer(f *testing.F) {
	f.Add(`{"data":{"namespace":{"projects":{"pageInfo":{"hasNextPage":true,"endCursor":"eyJpZCI6IjEifQ"},"nodes":[` +
		`{"fullPath":"acme/api","path":"api","webUrl":"https://gitlab.example.com/acme/api","visibility":"private","repository":{"rootRef":"main","blobs":{"nodes":[{"path":"catalog-info.yaml","oid":"abc"}]}}},` +
		`{"fullPath":"acme/platform/web","path":"web","repository":{"rootRef":"main","blobs":{"nodes":[]}}}]}}}}`)
	f.Add(`{"data":{"namespace":{"projects":{"pageInfo":{},"nodes":[{"fullPath":"other/api","path":"api","repository":{"rootRef":"main","blobs":{"nodes":[{"path":"catalog-info.yaml","oid":"x"}]}}}]}}}}`)
	f.Add(`{"data":{"namespace":{"projects":{"pageInfo":{},"nodes":[{"fullPath":"acmeX/api","path":"api"},{"fullPath":"api","path":"api"},{"fullPath":"acme/a/b","path":""}]}}}}`)
	f.Add(`{"data":{"namespace":null}}`)
	f.Add(`{"errors":[{"message":"Query has complexity of 300, which exceeds max complexity of 250"}]}`)
	in := &integrations.Integration{Kind: integrations.GitLab, Host: "gitlab.example.com",
		APIBaseURL: "https://gitlab.example.com/api/v4", BaseURL: "https://gitlab.example.com"}
	d, err := gitlabscm.New(in, nil)
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
			o := strings.ToLower(r.Repository.Owner)
			if o != "acme" && !strings.HasPrefix(o, "acme/") {
				t.Fatalf("found %s/%s, outside the group acme", r.Repository.Owner, r.Repository.Name)
			}
			if r.Repository.Name == "" || strings.Contains(r.Repository.Name, "/") {
				t.Fatalf("found a project named %q", r.Repository.Name)
			}
		}
		if page.Next == "" {
			return
		}
		n, after, ok := strings.Cut(page.Next, ":")
		if size, err := strconv.Atoi(n); !ok || err != nil || size <= 0 || size > 100 || after == "" {
			t.Fatalf("Next = %q is not a cursor the driver accepts", page.Next)
		}
	})
}
