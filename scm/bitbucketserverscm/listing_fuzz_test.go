package bitbucketserverscm_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

func fuzzDriver(tb testing.TB) *bitbucketserverscm.Driver {
	d, err := bitbucketserverscm.New(&integrations.Integration{Kind: integrations.BitbucketServer, Host: "bitbucket.example.com",
		APIBaseURL: "https://bitbucket.example.com/rest/api/1.0"}, &bitbucketserverscm.Options{MaxFilePages: 3})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// FuzzListRepositoriesAnswer: a page of GET projects/{key}/repos is
// untrusted. Whatever it says, every repository listed is the project's,
// with a slug that is one path segment; the next cursor is a start past
// this page's; a page that is not JSON is an error. The regression seeds
// are in testdata/fuzz.
func FuzzListRepositoriesAnswer(f *testing.F) {
	f.Add(`{"size":1,"limit":25,"isLastPage":false,"nextPageStart":25,"start":0,"values":[{"slug":"api","name":"API","project":{"key":"ACME"},`+
		`"public":false,"links":{"clone":[{"href":"https://u@bitbucket.example.com/scm/acme/api.git","name":"http"}],"self":[{"href":"https://bitbucket.example.com/projects/ACME/repos/api/browse"}]}}]}`, "")
	f.Add(`{"isLastPage":false,"nextPageStart":25,"values":[]}`, "25")
	f.Add(`{"isLastPage":true,"values":[{"slug":"api","project":{"key":"acme"}}]}`, "")
	f.Add(`<html>Log in</html>`, "")
	d := fuzzDriver(f)
	f.Fuzz(func(t *testing.T, body, cursor string) {
		tr := adaptertest.NewAnswer(body)
		hc := &http.Client{Transport: tr}
		page, err := d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "acme", Cursor: cursor})
		tr.Asked(t, "https://bitbucket.example.com/rest/api/1.0/projects/ACME/repos?")
		if err != nil {
			return
		}
		if !json.Valid([]byte(body)) {
			t.Fatalf("a page that is not JSON gave %d repositories and no error", len(page.Repositories))
		}
		for _, r := range page.Repositories {
			if !strings.EqualFold(r.Owner, "acme") {
				t.Fatalf("listed %s/%s, not a repository of the project ACME", r.Owner, r.Name)
			}
			if n := r.Name; n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") {
				t.Fatalf("listed a repository named %q", n)
			}
		}
		if page.Next != "" {
			start, _ := strconv.Atoi(cursor)
			if n, err := strconv.Atoi(page.Next); err != nil || n <= start {
				t.Fatalf("next cursor %q does not go past start %d", page.Next, start)
			}
		}
	})
}

// FuzzListFilesAnswer: the file list (GET files/{dir}) is untrusted.
// Whatever it says, every file listed is a valid path under the directory
// asked for, every page asked for is the repository's files on the API
// host, and a list that is not JSON is an error. The regression seeds are
// in testdata/fuzz.
func FuzzListFilesAnswer(f *testing.F) {
	f.Add("tpl", `{"size":2,"limit":500,"isLastPage":true,"start":0,"values":["a/b.txt","run.sh"]}`)
	f.Add("", `{"isLastPage":false,"nextPageStart":1,"values":["a"]}`)
	f.Add("tpl", `{"isLastPage":true,"values":["../x","/etc/passwd","a//b","./a"]}`)
	f.Add("tpl", `not json`)
	d := fuzzDriver(f)
	f.Fuzz(func(t *testing.T, dir, body string) {
		if dir != "" && (!fs.ValidPath(dir) || dir == "." || strings.Contains(dir, "\x00")) {
			return // the portable client passes valid directories only
		}
		tr := adaptertest.NewAnswer(body)
		hc := &http.Client{Transport: tr}
		l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "main", Dir: dir})
		tr.Asked(t, "https://bitbucket.example.com/rest/api/1.0/projects/ACME/repos/svc/files")
		if err != nil {
			return
		}
		if !json.Valid([]byte(body)) {
			t.Fatalf("a list that is not JSON gave %q and no error", l.Paths)
		}
		adaptertest.CheckListed(t, dir, l.Paths)
	})
}

// FuzzFindFilesAnswer: the code search answer is untrusted. Whatever it
// says, every repository found is the project's, with a slug that is one
// path segment, and the next cursor goes past the start. The regression
// seeds are in testdata/fuzz.
func FuzzFindFilesAnswer(f *testing.F) {
	f.Add(`{"scope":{"type":"PROJECT"},"code":{"category":"primary","isLastPage":false,"count":2,"start":0,"nextStart":100,"values":[` +
		`{"repository":{"slug":"api","name":"API","project":{"key":"ACME"}},"file":"catalog-info.yaml","hitContexts":[],"pathMatches":[],"hitCount":1},` +
		`{"repository":{"slug":"web","project":{"key":"OTHER"}},"file":"catalog-info.yaml"}]}}`)
	f.Add(`{"code":{"isLastPage":true,"values":[{"repository":{"slug":"api","project":{"key":"ACME"}},"file":"docs/catalog-info.yaml"}]}}`)
	f.Add(`{"errors":[{"message":"search is unavailable"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		d := fuzzDriver(t) // a fresh driver: it remembers a server without search
		hc := &http.Client{Transport: adaptertest.NewAnswer(body)}
		page, err := d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "acme", Path: "catalog-info.yaml"})
		if err != nil {
			return
		}
		for _, r := range page.Results {
			if !strings.EqualFold(r.Repository.Owner, "acme") {
				t.Fatalf("found %s/%s, not a repository of the project ACME", r.Repository.Owner, r.Repository.Name)
			}
			if n := r.Repository.Name; n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") {
				t.Fatalf("found a repository named %q", n)
			}
		}
		if page.Next != "" {
			if n, err := strconv.Atoi(page.Next); err != nil || n <= 0 {
				t.Fatalf("next cursor %q does not go past start 0", page.Next)
			}
		}
	})
}
