package githubscm_test

import (
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

func fuzzDriver(f *testing.F) *githubscm.Driver {
	d, err := githubscm.New(&integrations.Integration{Kind: integrations.GitHub, Host: "github.com", APIBaseURL: "https://api.github.com"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	return d
}

// orgCursor is a cursor past the first page of the organization's listing.
var orgCursor = regexp.MustCompile(`^org:([2-9]|[1-9][0-9]+)$`)

// FuzzListRepositoriesAnswer: a page of GET /orgs/{org}/repos and its Link
// header are untrusted. Whatever they say, every repository listed is the
// organization's, with a valid name; the next cursor is a later page of
// the same listing (no URL is ever taken from Link); a page that is not
// JSON is an error. The regression seeds are in testdata/fuzz.
func FuzzListRepositoriesAnswer(f *testing.F) {
	f.Add(`[{"name":"api","owner":{"login":"acme"},"default_branch":"main","html_url":"https://github.com/acme/api","clone_url":"https://github.com/acme/api.git","private":true}]`,
		`<https://api.github.com/organizations/1/repos?page=2&per_page=100>; rel="next", <https://api.github.com/organizations/1/repos?page=5&per_page=100>; rel="last"`)
	f.Add(`[{"name":"api","owner":{"login":"ACME"}}]`, `<https://evil.example/repos?page=2>; rel="next"`)
	f.Add(`{"message":"Not Found"}`, ``)
	f.Add(`[]`, `<https://api.github.com/organizations/1/repos?page=-1>; rel="next"`)
	d := fuzzDriver(f)
	f.Fuzz(func(t *testing.T, body, link string) {
		tr := adaptertest.NewAnswer(body, "Content-Type", "application/json; charset=utf-8", "Link", link)
		hc := &http.Client{Transport: tr}
		page, err := d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "acme"})
		tr.Asked(t, "https://api.github.com/orgs/acme/repos?")
		if err != nil {
			return
		}
		if !adaptertest.LeadingJSON(body) {
			t.Fatalf("an answer that is not JSON (or null) gave %d repositories and no error", len(page.Repositories))
		}
		for _, r := range page.Repositories {
			if !strings.EqualFold(r.Owner, "acme") {
				t.Fatalf("listed %s/%s, not a repository of acme", r.Owner, r.Name)
			}
			if n := r.Name; n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") {
				t.Fatalf("listed a repository named %q", n)
			}
		}
		if page.Next != "" && !orgCursor.MatchString(page.Next) {
			t.Fatalf("next cursor %q is not a later page of the organization's listing", page.Next)
		}
	})
}

// FuzzListFilesAnswer: the recursive git tree (GET git/trees/{ref}?recursive=1)
// is untrusted. Whatever it says, every file listed is a valid path under
// the directory asked for, the one request stays on the API host, and an
// answer that is not JSON is an error. The regression seeds are in
// testdata/fuzz.
func FuzzListFilesAnswer(f *testing.F) {
	f.Add("tpl", `{"sha":"abc","tree":[{"path":"tpl","type":"tree"},{"path":"tpl/a.txt","type":"blob","mode":"100644"},{"path":"tpl/sub","type":"commit"},{"path":"other.txt","type":"blob"}],"truncated":false}`)
	f.Add("", `{"tree":[{"path":"a","type":"blob"}],"truncated":true}`)
	f.Add("tpl", `not json`)
	d := fuzzDriver(f)
	f.Fuzz(func(t *testing.T, dir, body string) {
		if dir != "" && (!fs.ValidPath(dir) || dir == ".") {
			return // the portable client passes valid directories only
		}
		tr := adaptertest.NewAnswer(body, "Content-Type", "application/json; charset=utf-8")
		hc := &http.Client{Transport: tr}
		l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "main", Dir: dir})
		tr.Asked(t, "https://api.github.com/repos/acme/svc/git/trees/")
		if err != nil {
			return
		}
		if !adaptertest.LeadingJSON(body) {
			t.Fatalf("an answer that is not JSON (or null) gave %q and no error", l.Paths)
		}
		adaptertest.CheckListed(t, dir, l.Paths)
	})
}

// graphQLOnly answers the GraphQL requests with body and anything else
// (the tarball, a blob) with 404, without a network.
type graphQLOnly struct{ body string }

func (a graphQLOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	status, body := http.StatusOK, a.body
	if req.Method != http.MethodPost || req.URL.Path != "/graphql" {
		status, body = http.StatusNotFound, `{"message":"Not Found"}`
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// FuzzReadTreeAnswer: the GraphQL answers ReadTree decodes (the directory
// and its entries, levels deep) are untrusted. Whatever they say, the
// files of the tree have valid paths relative to the directory (no "..",
// no leading "/", no backslash); when the answers cannot give the tree,
// the read goes to the tarball, whose reader checks its entries. A name
// given twice (seed 2) gives the file twice: the snapshot keeps the later
// one, as the archive reader does with tar entries.
func FuzzReadTreeAnswer(f *testing.F) {
	const commit = `"commit":{"__typename":"Commit","oid":"0123456789abcdef0123456789abcdef01234567"}`
	f.Add(`{"data":{"repository":{` + commit + `,"tree":{"__typename":"Tree","entries":[` +
		`{"name":"a.txt","type":"blob","mode":33188,"oid":"78981922613b2afb6025042ff6bd878ac1994e85","object":{"byteSize":2,"isBinary":false,"isTruncated":false,"text":"a\n"}},` +
		`{"name":"sub","type":"tree","mode":16384,"oid":"t1","object":{"entries":[{"name":"run.sh","type":"blob","mode":33261,"oid":"07e1a1524592051df399b678a4b13e2a33b9b9a3","object":{"byteSize":3,"isBinary":false,"isTruncated":false,"text":"x\n\n"}}]}}]}}}}`)
	f.Add(`{"data":{"repository":{` + commit + `,"tree":{"__typename":"Tree","entries":[{"name":"..","type":"tree","mode":16384,"oid":"t","object":{"entries":[]}},{"name":"a/b","type":"blob","mode":33188,"oid":"b","object":{"byteSize":1,"isBinary":false,"text":"x"}}]}}}}`)
	f.Add(`{"data":{"repository":{` + commit + `,"tree":{"__typename":"Tree","entries":[{"name":"a","type":"blob","mode":33188,"oid":"c1b0730e0133447badcfd47fd144e254807b06e1","object":{"byteSize":1,"isBinary":false,"text":"x"}},{"name":"a","type":"blob","mode":33188,"oid":"e25f1814e51579d5f55c0f1fe0135ddb28a47f4a","object":{"byteSize":1,"isBinary":false,"text":"y"}}]}}}}`)
	f.Add(`{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}`)
	d := fuzzDriver(f)
	f.Fuzz(func(t *testing.T, body string) {
		hc := &http.Client{Transport: graphQLOnly{body}}
		tree, err := d.ReadTree(t.Context(), hc, &driver.TreeRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "main", Dir: "tpl"})
		if err != nil || tree.Archive != nil {
			return
		}
		for _, f := range tree.Files {
			if !fs.ValidPath(f.Path) || f.Path == "." || strings.ContainsAny(f.Path, "\\\x00") {
				t.Fatalf("ReadTree gave a file %q", f.Path)
			}
		}
	})
}
