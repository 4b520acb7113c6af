package fakebitbucketcloud_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

const token = "fake-access-token"

func newFake(t *testing.T, opts *fakebitbucketcloud.Options) *fakebitbucketcloud.Server {
	t.Helper()
	if opts == nil {
		opts = &fakebitbucketcloud.Options{}
	}
	opts.Tokens = append(opts.Tokens, token)
	if opts.Users == nil {
		opts.Users = map[string]string{"bot@example.com": "api-token"}
	}
	s := fakebitbucketcloud.New(opts)
	t.Cleanup(s.Close)
	if _, err := s.AddRepo(fakebitbucketcloud.Repo{Workspace: "amuniz", Slug: "test-repos", MainBranch: "master", Files: []fake.File{
		{Path: "folder/file.properties", Content: []byte("a=b\n")},
		{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")},
		{Path: "run.sh", Content: []byte("#!/bin/sh\n"), Executable: true},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit("amuniz", "test-repos", "feature/BB-2", fakebitbucketcloud.Commit{Message: "more",
		Files: []fake.File{{Path: "more.txt", Content: []byte("more\n")}}}); err != nil {
		t.Fatal(err)
	}
	return s
}

type reqOpts struct {
	method, body, ctype, auth string
	header                    http.Header
}

func do(t *testing.T, s *fakebitbucketcloud.Server, rawURL string, o reqOpts) (*http.Response, []byte) {
	t.Helper()
	method := o.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, strings.NewReader(o.body))
	if err != nil {
		t.Fatal(err)
	}
	switch o.auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+token)
	case "none":
	default:
		req.Header.Set("Authorization", o.auth)
	}
	if o.ctype != "" {
		req.Header.Set("Content-Type", o.ctype)
	}
	for k, v := range o.header {
		req.Header[k] = v
	}
	client := &http.Client{Transport: s.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func missingKeys(want, got any, at string) []string {
	var out []string
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{at + " (not an object)"}
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, at+"."+k)
				continue
			}
			out = append(out, missingKeys(v, gv, at+"."+k)...)
		}
	case []any:
		g, ok := got.([]any)
		if ok && len(w) > 0 && len(g) > 0 {
			out = append(out, missingKeys(w[0], g[0], at+"[0]")...)
		}
	}
	sort.Strings(out)
	return out
}

func readFixture(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestShapes checks the fake's bodies against recorded Bitbucket Cloud
// bodies: every key of the recording must be in the fake's answer, except
// those listed (with the reason).
func TestShapes(t *testing.T) {
	s := newFake(t, nil)
	api := s.APIBaseURL() + "/repositories/amuniz/test-repos"
	body := `{"title":"t","source":{"branch":{"name":"feature/BB-2"}},"destination":{"branch":{"name":"master"}}}`
	if resp, b := do(t, s, api+"/pullrequests", reqOpts{method: http.MethodPost, body: body, ctype: "application/json"}); resp.StatusCode != 201 {
		t.Fatalf("creating a pull request: %d %s", resp.StatusCode, b)
	}
	for _, tc := range []struct {
		name, fixture, url string
		ignore             []string
	}{
		// parent: the recorded repository is a fork.
		{"repository", "repository.json", api, []string{".parent"}},
		{"repositories page", "repositories-page.json", s.APIBaseURL() + "/repositories/amuniz", nil},
		// target.parents[0].links.html and a few target keys vary with the recording's age.
		{"branch", "branch.json", api + "/refs/branches/feature/BB-2", nil},
		{"src meta", "src-meta.json", api + "/src/master/folder/file.properties?format=meta", nil},
		// author.user: the recording's author is a linked Atlassian account.
		{"pull request", "pullrequest.json", api + "/pullrequests/1", []string{".author.user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, s, tc.url, reqOpts{})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			var got any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			var missing []string
			for _, k := range missingKeys(readFixture(t, tc.fixture), got, "") {
				if !slices.ContainsFunc(tc.ignore, func(p string) bool { return strings.HasPrefix(k, p) }) {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				t.Errorf("the fake's answer lacks keys of the recording: %v\nbody: %s", missing, b)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	s := newFake(t, &fakebitbucketcloud.Options{Consumers: map[string]string{"key": "secret"}})
	u := s.APIBaseURL() + "/repositories/amuniz/test-repos"
	resp, b := do(t, s, s.TokenURL(), reqOpts{method: http.MethodPost, auth: "Basic a2V5OnNlY3JldA==", // key:secret
		body: "grant_type=client_credentials", ctype: "application/x-www-form-urlencoded"})
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" || tok.ExpiresIn != 7200 {
		t.Fatalf("token grant: %d %s", resp.StatusCode, b)
	}
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"access token", "", 200},
		{"api token", "Basic Ym90QGV4YW1wbGUuY29tOmFwaS10b2tlbg==", 200}, // bot@example.com:api-token
		{"minted oauth token", "Bearer " + tok.AccessToken, 200},
		{"bad bearer", "Bearer nope", 401},
		{"bad basic", "Basic Ym90QGV4YW1wbGUuY29tOm5vcGU=", 401},
		{"anonymous", "none", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp, b := do(t, s, u, reqOpts{auth: tc.auth}); resp.StatusCode != tc.want {
				t.Errorf("status %d (%s); want %d", resp.StatusCode, b, tc.want)
			}
		})
	}
	resp, _ = do(t, s, s.TokenURL(), reqOpts{method: http.MethodPost, auth: "Basic a2V5Om5vcGU=",
		body: "grant_type=client_credentials", ctype: "application/x-www-form-urlencoded"})
	if resp.StatusCode != 400 {
		t.Errorf("token grant with a bad secret: status %d; want 400", resp.StatusCode)
	}
	if n := s.Stats().TokenGrants; n != 1 {
		t.Errorf("TokenGrants = %d; want 1", n)
	}
}

func TestCommitForm(t *testing.T) {
	s := newFake(t, nil)
	api := s.APIBaseURL() + "/repositories/amuniz/test-repos"
	tip, _ := s.Branch("amuniz", "test-repos", "master")
	var buf bytes.Buffer
	const b = "BOUNDARY"
	part := func(cd, content string) {
		fmt.Fprintf(&buf, "--%s\r\nContent-Disposition: %s\r\n\r\n%s\r\n", b, cd, content)
	}
	part(`form-data; name="message"`, "Generated")
	part(`form-data; name="branch"`, "topic/x")
	part(`form-data; name="parents"`, tip)
	part(`form-data; name="files"`, "catalog-info.yaml")
	part(`form-data; name="docs/read me.md"; filename="read me.md"`, "spaces")
	part(`form-data; name="bin/a.sh"; filename="a.sh"; x-attributes="executable"`, "#!/bin/sh")
	part(`attachment; filename="b.sh"; x-attributes:"executable"; name="bin/b.sh"`, "#!/bin/sh")
	fmt.Fprintf(&buf, "--%s--\r\n", b)
	resp, body := do(t, s, api+"/src", reqOpts{method: http.MethodPost, body: buf.String(), ctype: "multipart/form-data; boundary=" + b})
	if resp.StatusCode != 201 || !strings.Contains(resp.Header.Get("Location"), "/commit/") {
		t.Fatalf("POST src: %d %s (Location %q)", resp.StatusCode, body, resp.Header.Get("Location"))
	}
	files, err := s.Files("amuniz", "test-repos", "topic/x")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range files {
		got[f.Path] = f.Executable
	}
	want := map[string]bool{"folder/file.properties": false, "run.sh": true, "docs/read me.md": false, "bin/a.sh": true, "bin/b.sh": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files on topic/x (-want +got):\n%s", diff)
	}
	// The tip moved: the same parents are now stale.
	resp, _ = do(t, s, api+"/src", reqOpts{method: http.MethodPost, body: url.Values{"branch": {"topic/x"}, "parents": {tip}, "/x.txt": {"x"}}.Encode(),
		ctype: "application/x-www-form-urlencoded"})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("POST src with a stale parent: status %d; want 409", resp.StatusCode)
	}
	commits, _ := s.Commits("amuniz", "test-repos", "topic/x")
	if len(commits) != 2 {
		t.Errorf("topic/x has %d commits; want 2 (one per POST)", len(commits))
	}
}

func TestSrc(t *testing.T) {
	s := newFake(t, nil)
	api := s.APIBaseURL() + "/repositories/amuniz/test-repos/src/"
	// Bitbucket documents "Content-Disposition: attachment" on a file's
	// raw content, and the adapter tells a file from a listing by it.
	for _, tc := range []struct {
		name, path string
		want       int
		ctype      string
		attachment bool
	}{
		{"file", "master/folder/file.properties", 200, "text/plain", true},
		{"yaml file", "master/catalog-info.yaml", 200, "", true},
		{"escaped slash branch", "feature%2FBB-2/more.txt", 200, "text/plain", true},
		{"raw slash branch", "feature/BB-2/more.txt", 200, "text/plain", true},
		{"directory", "master/folder", 200, "application/json", false},
		{"missing file", "master/nope", 404, "", false},
		{"missing ref", "nope/README.md", 404, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, s, api+tc.path, reqOpts{})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s); want %d", resp.StatusCode, b, tc.want)
			}
			if tc.ctype != "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
				t.Errorf("Content-Type %q; want %s", resp.Header.Get("Content-Type"), tc.ctype)
			}
			if cd := resp.Header.Get("Content-Disposition"); strings.HasPrefix(cd, "attachment") != tc.attachment {
				t.Errorf("Content-Disposition %q; want attachment: %v", cd, tc.attachment)
			}
		})
	}
	resp, _ := do(t, s, api+"master/run.sh", reqOpts{})
	etag := resp.Header.Get("ETag")
	resp, _ = do(t, s, api+"feature/BB-2/run.sh", reqOpts{header: http.Header{"If-None-Match": {etag}}})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("same content on another ref with If-None-Match: status %d; want 304 (the ETag depends on content and attributes only)", resp.StatusCode)
	}
}

func TestSearch(t *testing.T) {
	q := url.Values{"search_query": {`"catalog-info.yaml" path:catalog-info.yaml`}, "fields": {"+values.file.commit.repository.mainbranch.name"}}
	s := newFake(t, nil)
	resp, b := do(t, s, s.APIBaseURL()+"/workspaces/amuniz/search/code?"+q.Encode(), reqOpts{})
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"mainbranch":{"name":"master"`) || !strings.Contains(string(b), `"size":1`) {
		t.Errorf("search: %d %s", resp.StatusCode, b)
	}
	off := newFake(t, &fakebitbucketcloud.Options{SearchDisabled: true})
	if resp, b := do(t, off, off.APIBaseURL()+"/workspaces/amuniz/search/code?"+q.Encode(), reqOpts{}); resp.StatusCode != 404 ||
		!strings.Contains(string(b), "Search is not enabled") {
		t.Errorf("search when disabled: %d %s; want 404 Search is not enabled", resp.StatusCode, b)
	}
}

func TestArchive(t *testing.T) {
	s := newFake(t, &fakebitbucketcloud.Options{ArchiveRefusesBearer: true})
	u := s.URL() + "/amuniz/test-repos/get/master.tar.gz"
	if resp, _ := do(t, s, u, reqOpts{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("archive with an access token: status %d; want 403", resp.StatusCode)
	}
	basic := "Basic Ym90QGV4YW1wbGUuY29tOmFwaS10b2tlbg=="
	resp, b := do(t, s, u, reqOpts{auth: basic})
	if resp.StatusCode != 200 || len(b) == 0 {
		t.Fatalf("archive: %d", resp.StatusCode)
	}
	s.RedirectDownloads(true)
	resp, _ = do(t, s, u, reqOpts{auth: basic})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, s.DownloadURL()) {
		t.Fatalf("archive with redirects: %d to %q; want 302 to the download host", resp.StatusCode, loc)
	}
	if resp, b2 := do(t, s, loc, reqOpts{auth: "none"}); resp.StatusCode != 200 || len(b2) == 0 {
		t.Errorf("download: %d", resp.StatusCode)
	}
	if n := len(s.RequestsTo("download")); n != 1 {
		t.Errorf("download host got %d requests; want 1", n)
	}
}

func TestFaults(t *testing.T) {
	s := newFake(t, nil)
	u := s.APIBaseURL() + "/repositories/amuniz/test-repos"
	for _, tc := range []struct {
		fault      fake.Fault
		want       int
		retryAfter string
	}{
		{fake.Fault{Kind: fake.FaultUnauthorized}, 401, ""},
		{fake.Fault{Kind: fake.FaultNotFound}, 404, ""},
		{fake.Fault{Kind: fake.FaultUnprocessable}, 400, ""},
		{fake.Fault{Kind: fake.FaultRateLimit, RetryAfter: 3600e9}, 429, "3600"},
		{fake.Fault{Kind: fake.FaultSecondaryRateLimitNoRetryAfter}, 429, ""},
		{fake.Fault{Kind: fake.FaultRateLimitResetOnly, RetryAfter: 3600e9}, 429, ""},
		{fake.Fault{Kind: fake.FaultTooManyRequestsNoRetryAfter}, 429, ""},
		{fake.Fault{Kind: fake.FaultServerError, Status: 502}, 502, ""},
	} {
		t.Run(tc.fault.Kind.String(), func(t *testing.T) {
			s.ClearFaults()
			s.Inject(tc.fault)
			resp, _ := do(t, s, u, reqOpts{})
			if resp.StatusCode != tc.want || resp.Header.Get("Retry-After") != tc.retryAfter {
				t.Errorf("status %d, Retry-After %q; want %d, %q", resp.StatusCode, resp.Header.Get("Retry-After"), tc.want, tc.retryAfter)
			}
		})
	}
}

// TestFaultHosts: a fault applies to the host it names; "" is the main
// server (the API and the web host's paths), never the download host.
func TestFaultHosts(t *testing.T) {
	s := newFake(t, nil)
	api := s.APIBaseURL() + "/repositories/amuniz/test-repos"
	web := s.URL() + "/amuniz/test-repos/get/master.tar.gz"
	for _, tc := range []struct {
		host             string
		apiWant, webWant int
	}{
		{"", 404, 404},
		{"api", 404, 200},
		{"web", 200, 404},
		{"download", 200, 200},
	} {
		t.Run("host="+tc.host, func(t *testing.T) {
			s.ClearFaults()
			s.Inject(fake.Fault{Kind: fake.FaultNotFound, Host: tc.host})
			for u, want := range map[string]int{api: tc.apiWant, web: tc.webWant} {
				if resp, _ := do(t, s, u, reqOpts{}); resp.StatusCode != want {
					t.Errorf("GET %s: status %d; want %d", u, resp.StatusCode, want)
				}
			}
		})
	}
}

// TestSrcQuery: a directory listing's q keeps the entries whose path (or
// type) it names, on every level max_depth lists, before paging; a query
// the fake does not understand is a 400, as an invalid one is on Bitbucket.
func TestSrcQuery(t *testing.T) {
	s := newFake(t, nil)
	api := s.APIBaseURL() + "/repositories/amuniz/test-repos/src/master/"
	for _, tc := range []struct {
		name, query string
		status      int
		want        []string
	}{
		{"OR of paths", `?q=` + url.QueryEscape(`path = "run.sh" OR path="nope.txt" OR path = "folder"`), 200, []string{"folder", "run.sh"}},
		{"deeper levels with max_depth", `?max_depth=2&q=` + url.QueryEscape(`path = "folder/file.properties"`), 200, []string{"folder/file.properties"}},
		{"not below max_depth", `?q=` + url.QueryEscape(`path = "folder/file.properties"`), 200, nil},
		{"type", `?q=` + url.QueryEscape(`type = "commit_directory"`), 200, []string{"folder"}},
		{"paged after filtering", `?pagelen=1&q=` + url.QueryEscape(`path = "run.sh" OR path = "catalog-info.yaml"`), 200, []string{"catalog-info.yaml"}},
		{"invalid field", `?q=` + url.QueryEscape(`name = "x"`), 400, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, s, api+tc.query, reqOpts{})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s); want %d", resp.StatusCode, b, tc.status)
			}
			if tc.status != 200 {
				return
			}
			var page struct {
				Values []struct {
					Path string `json:"path"`
				} `json:"values"`
			}
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range page.Values {
				got = append(got, v.Path)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("listed (-want +got):\n%s", diff)
			}
		})
	}
}
