package gitlabscm_test

import (
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

func fuzzDriver(f *testing.F) *gitlabscm.Driver {
	d, err := gitlabscm.New(&integrations.Integration{Kind: integrations.GitLab, Host: "gitlab.example.com",
		APIBaseURL: "https://gitlab.example.com/api/v4", BaseURL: "https://gitlab.example.com"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	return d
}

// FuzzListRepositoriesAnswer: a page of GET groups/:id/projects, its Link
// and its X-Next-Page are untrusted. Whatever they say, every project
// listed is in the group or its subgroups, with a path that is one
// segment; the next cursor, handed back, asks the same listing on the API
// host; a page that is not JSON is an error. The regression seeds are in
// testdata/fuzz.
func FuzzListRepositoriesAnswer(f *testing.F) {
	f.Add(`[{"id":1,"path":"api","path_with_namespace":"acme/api","namespace":{"full_path":"acme"},"default_branch":"main","visibility":"private",`+
		`"web_url":"https://gitlab.example.com/acme/api","http_url_to_repo":"https://gitlab.example.com/acme/api.git"},`+
		`{"id":2,"path":"web","path_with_namespace":"acme/platform/web","namespace":{"full_path":"acme/platform"}}]`,
		`<https://gitlab.example.com/api/v4/groups/acme/projects?id_after=2&include_subgroups=true&order_by=id&pagination=keyset&per_page=100&sort=asc&with_shared=false>; rel="next"`, "")
	f.Add(`[{"id":3,"path":"api","path_with_namespace":"acmeX/api","namespace":{"full_path":"acmeX"}}]`,
		`<https://evil.example/steal?id_after=3>; rel="next"`, "")
	f.Add(`[]`, ``, "2")
	f.Add(`{"message":"404 Group Not Found"}`, ``, "")
	d := fuzzDriver(f)
	const listing = "https://gitlab.example.com/api/v4/groups/acme/projects?"
	f.Fuzz(func(t *testing.T, body, link, nextPage string) {
		tr := adaptertest.NewAnswer(body, "Link", link, "X-Next-Page", nextPage)
		hc := &http.Client{Transport: tr}
		page, err := d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "acme"})
		tr.Asked(t, listing)
		if err != nil {
			return
		}
		if !adaptertest.LeadingJSON(body) {
			t.Fatalf("an answer that is not JSON (or null) gave %d repositories and no error", len(page.Repositories))
		}
		for _, r := range page.Repositories {
			if o := strings.ToLower(r.Owner); o != "acme" && !strings.HasPrefix(o, "acme/") {
				t.Fatalf("listed %s/%s, outside the group acme", r.Owner, r.Name)
			}
			if n := r.Name; n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") {
				t.Fatalf("listed a project named %q", n)
			}
		}
		if page.Next == "" {
			return
		}
		d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "acme", Cursor: page.Next}) //nolint:errcheck // only where it asks matters
		tr.Asked(t, listing)
	})
}

// FuzzListFilesAnswer: the recursive tree (GET repository/tree) is
// untrusted. Whatever it says, every file listed is a valid path under
// the directory asked for, the one request stays on the API host, and an
// answer that is not JSON is an error. The regression seeds are in
// testdata/fuzz.
func FuzzListFilesAnswer(f *testing.F) {
	f.Add("tpl", `[{"id":"a","name":"a","type":"tree","path":"tpl/a"},{"id":"b","name":"b.txt","type":"blob","path":"tpl/a/b.txt","mode":"100644"},{"id":"c","name":"x","type":"blob","path":"other/x"}]`)
	f.Add("", `[{"type":"blob","path":"a"}]`)
	f.Add("tpl", `{"message":"404 Tree Not Found"}`)
	d := fuzzDriver(f)
	f.Fuzz(func(t *testing.T, dir, body string) {
		if dir != "" && (!fs.ValidPath(dir) || dir == ".") {
			return // the portable client passes valid directories only
		}
		tr := adaptertest.NewAnswer(body)
		hc := &http.Client{Transport: tr}
		l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "main", Dir: dir})
		tr.Asked(t, "https://gitlab.example.com/api/v4/projects/acme%2Fsvc/repository/tree?")
		if err != nil {
			return
		}
		if !adaptertest.LeadingJSON(body) {
			t.Fatalf("an answer that is not JSON (or null) gave %q and no error", l.Paths)
		}
		adaptertest.CheckListed(t, dir, l.Paths)
	})
}
