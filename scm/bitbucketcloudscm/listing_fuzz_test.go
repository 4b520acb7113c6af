package bitbucketcloudscm_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// isPage reports whether body is a JSON page: an object with a values
// array.
func isPage(body string) bool {
	var page struct {
		Values *[]json.RawMessage `json:"values"`
	}
	return json.Unmarshal([]byte(body), &page) == nil && page.Values != nil
}

func fuzzDriver(f *testing.F) *bitbucketcloudscm.Driver {
	d, err := bitbucketcloudscm.New(&integrations.Integration{Kind: integrations.BitbucketCloud, Host: "bitbucket.org",
		APIBaseURL: "https://api.bitbucket.org/2.0", BaseURL: "https://bitbucket.org"}, &bitbucketcloudscm.Options{MaxFilePages: 3})
	if err != nil {
		f.Fatal(err)
	}
	return d
}

// FuzzListRepositoriesAnswer: a page of GET /repositories/{ws} is
// untrusted. Whatever it says, every repository listed is the workspace's,
// named by one path segment; the next cursor stays on the workspace's
// listing on the API host; an answer that is not a page (not JSON, null,
// no values) is an error. The
// regression seeds are in testdata/fuzz.
func FuzzListRepositoriesAnswer(f *testing.F) {
	f.Add(`{"pagelen":2,"values":[{"slug":"api","full_name":"acme/api","is_private":true,"mainbranch":{"name":"main"},` +
		`"links":{"html":{"href":"https://bitbucket.org/acme/api"},"clone":[{"name":"https","href":"https://u@bitbucket.org/acme/api.git"}]}}],` +
		`"next":"https://api.bitbucket.org/2.0/repositories/acme?pagelen=2&page=2"}`)
	f.Add(`{"values":[{"full_name":"acme"}],"next":"https://evil.example/2.0/repositories/acme?page=2"}`)
	f.Add(`<html>Log in</html>`)
	d := fuzzDriver(f)
	f.Fuzz(func(t *testing.T, body string) {
		tr := adaptertest.NewAnswer(body)
		hc := &http.Client{Transport: tr}
		page, err := d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "acme"})
		tr.Asked(t, "https://api.bitbucket.org/2.0/repositories/acme?") // the first page
		if err != nil {
			return
		}
		if !isPage(body) {
			t.Fatalf("an answer that is not a page gave %d repositories and no error", len(page.Repositories))
		}
		for _, r := range page.Repositories {
			if !strings.EqualFold(r.Owner, "acme") {
				t.Fatalf("listed %s/%s, not a repository of the workspace acme", r.Owner, r.Name)
			}
			if n := r.Name; n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\") {
				t.Fatalf("listed a repository named %q", n)
			}
		}
		if page.Next != "" {
			u, err := url.Parse(page.Next)
			if err != nil || u.Scheme != "https" || u.Host != "api.bitbucket.org" || u.User != nil || !strings.EqualFold(u.EscapedPath(), "/2.0/repositories/acme") {
				t.Fatalf("next cursor %q is not the workspace's listing on the API host", page.Next)
			}
		}
	})
}

// FuzzListFilesAnswer: the recursive /src listing is untrusted. Whatever
// it says, every file listed is a valid path under the directory asked
// for, every page asked for is the repository's /src on the API host,
// and an answer that is not a listing (not JSON, null, no values) is an
// error. The regression seeds are in
// testdata/fuzz.
func FuzzListFilesAnswer(f *testing.F) {
	f.Add("tpl", `{"pagelen":100,"values":[{"type":"commit_directory","path":"tpl/a"},{"type":"commit_file","path":"tpl/a/b.txt","size":3,"attributes":[]},`+
		`{"type":"commit_file","path":"tpl/run.sh","attributes":["executable"]},{"type":"commit_file","path":"tpl/sub","attributes":["subrepository"]}],`+
		`"next":"https://api.bitbucket.org/2.0/repositories/acme/svc/src/0123456789abcdef0123456789abcdef01234567/tpl/?page=2"}`)
	f.Add("tpl", `{"values":[{"type":"commit_file","path":"tpl/../etc/passwd"},{"type":"commit_file","path":"/etc/passwd"},{"type":"commit_file","path":"other/x"}]}`)
	f.Add("", `{"values":[{"type":"commit_file","path":"a"}],"next":"https://api.bitbucket.org/2.0@evil.example/x"}`)
	f.Add("tpl", `not json`)
	d := fuzzDriver(f)
	f.Fuzz(func(t *testing.T, dir, body string) {
		if dir != "" && (!fs.ValidPath(dir) || dir == ".") {
			return // the portable client passes valid directories only
		}
		tr := adaptertest.NewAnswer(body)
		hc := &http.Client{Transport: tr}
		l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "main", Dir: dir})
		tr.Asked(t, "https://api.bitbucket.org/2.0/repositories/acme/svc/src/")
		if err != nil {
			return
		}
		if !isPage(body) {
			t.Fatalf("an answer that is not a listing gave %q and no error", l.Paths)
		}
		adaptertest.CheckListed(t, dir, l.Paths)
	})
}
