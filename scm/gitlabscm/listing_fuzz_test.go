package gitlabscm_test

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
)

// pageAnswer answers every request with body as JSON, link as its Link
// header and nextPage as its X-Next-Page, without a network, and records
// the URLs asked for.
type pageAnswer struct {
	body, link, nextPage string
	mu                   sync.Mutex
	urls                 []string
}

func (a *pageAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	a.mu.Lock()
	a.urls = append(a.urls, req.URL.String())
	a.mu.Unlock()
	h := http.Header{"Content-Type": {"application/json"}}
	if a.link != "" {
		h.Set("Link", a.link)
	}
	if a.nextPage != "" {
		h.Set("X-Next-Page", a.nextPage)
	}
	return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(strings.NewReader(a.body)), Request: req}, nil
}

// asked fails t when a request went anywhere but under prefix.
func (a *pageAnswer) asked(t *testing.T, prefix string) {
	t.Helper()
	for _, u := range a.urls {
		if !strings.HasPrefix(u, prefix) {
			t.Fatalf("asked %s, outside %s", u, prefix)
		}
	}
}

func fuzzDriver(f *testing.F) *gitlabscm.Driver {
	d, err := gitlabscm.New(&integrations.Integration{Kind: integrations.GitLab, Host: "gitlab.example.com",
		APIBaseURL: "https://gitlab.example.com/api/v4", BaseURL: "https://gitlab.example.com"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	return d
}

// leadingJSON reports whether body starts with a JSON value other than
// null (client-go decodes that value and ignores what follows it).
func leadingJSON(body string) bool {
	var v json.RawMessage
	return json.NewDecoder(strings.NewReader(body)).Decode(&v) == nil && string(v) != "null"
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
		tr := &pageAnswer{body: body, link: link, nextPage: nextPage}
		hc := &http.Client{Transport: tr}
		page, err := d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "acme"})
		tr.asked(t, listing)
		if err != nil {
			return
		}
		if !leadingJSON(body) {
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
		tr.urls = nil
		d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "acme", Cursor: page.Next}) //nolint:errcheck // only where it asks matters
		tr.asked(t, listing)
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
		tr := &pageAnswer{body: body}
		hc := &http.Client{Transport: tr}
		l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "main", Dir: dir})
		tr.asked(t, "https://gitlab.example.com/api/v4/projects/acme%2Fsvc/repository/tree?")
		if err != nil {
			return
		}
		if !leadingJSON(body) {
			t.Fatalf("an answer that is not JSON (or null) gave %q and no error", l.Paths)
		}
		for _, p := range l.Paths {
			if !fs.ValidPath(p) || p == "." || strings.Contains(p, "\x00") || (dir != "" && !strings.HasPrefix(p, dir+"/")) {
				t.Fatalf("ListFiles(%q) listed %q", dir, p)
			}
		}
	})
}
