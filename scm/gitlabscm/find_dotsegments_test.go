package gitlabscm_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// Regression (review of the fuzzing fixes): an answer naming "acme/../evil/api" (a
// project outside acme, under acme only lexically) or a project ".." is
// taken for one of acme's: the owner check is a string prefix, and the
// name check does not refuse "." and "..", unlike GitHub's and Bitbucket's.
func TestFindFilesDotSegments(t *testing.T) {
	in := &integrations.Integration{Kind: integrations.GitLab, Host: "gitlab.example.com",
		APIBaseURL: "https://gitlab.example.com/api/v4", BaseURL: "https://gitlab.example.com"}
	d, err := gitlabscm.New(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"data":{"namespace":{"projects":{"pageInfo":{},"nodes":[` +
		`{"fullPath":"acme/../evil/api","path":"api","repository":{"rootRef":"main","blobs":{"nodes":[{"path":"catalog-info.yaml","oid":"x"}]}}},` +
		`{"fullPath":"acme/..","path":"..","repository":{"rootRef":"main","blobs":{"nodes":[{"path":"catalog-info.yaml","oid":"y"}]}}}]}}}}`
	hc := &http.Client{Transport: adaptertest.NewAnswer(body)}
	page, err := d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "acme", Path: "catalog-info.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Results {
		segs := append(strings.Split(r.Repository.Owner, "/"), r.Repository.Name)
		for _, s := range segs {
			if s == "." || s == ".." || s == "" {
				t.Errorf("found %q / %q: a dot segment", r.Repository.Owner, r.Repository.Name)
				break
			}
		}
	}
}
