package fakegithub_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

const token = "ghp_goodtoken"

// newServer starts a fake with one organization "acme" holding "widgets"
// (public) and "secret" (private).
func newServer(t *testing.T, opts *fakegithub.Options) *fakegithub.Server {
	t.Helper()
	if opts == nil {
		opts = &fakegithub.Options{Tokens: []string{token}}
	}
	s := fakegithub.New(opts)
	t.Cleanup(s.Close)
	for _, r := range []fakegithub.Repo{
		{Owner: "acme", Name: "widgets", Files: []fakegithub.File{
			{Path: "README.md", Content: []byte("# hello-world")},
			{Path: "docs/a b/ünï.md", Content: []byte("unicode\n")},
			{Path: "bin/run.sh", Content: []byte("#!/bin/sh\necho hi\n"), Executable: true},
			{Path: "link", Content: []byte("README.md"), Symlink: true},
		}},
		{Owner: "acme", Name: "secret", Private: true, Files: []fakegithub.File{{Path: "x.txt", Content: []byte("x")}}},
	} {
		if _, err := s.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

type call struct {
	method, url, body string
	header            map[string]string
}

func do(t *testing.T, s *fakegithub.Server, c call) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), orGET(c.method), c.url, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.header["Authorization"]; !ok {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range c.header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	hc := s.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
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

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// recorded is one exchange of an octokit/fixtures raw-fixture.json.
type recorded struct {
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	Status     int             `json:"status"`
	Response   json.RawMessage `json:"response"`
	RawHeaders []string        `json:"rawHeaders"`
	ReqHeaders map[string]any  `json:"reqheaders"`
}

func (r recorded) header() http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(r.RawHeaders); i += 2 {
		h.Add(r.RawHeaders[i], r.RawHeaders[i+1])
	}
	return h
}

func loadRecorded(t *testing.T, name string) []recorded {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return decode[[]recorded](t, b)
}

func TestBlobSHAMatchesGitHub(t *testing.T) {
	// Blob ids recorded from api.github.com (get-content, get-archive,
	// create-file scenarios).
	tests := []struct{ name, content, want string }{
		{"get-content README.md", "# hello-world", "93a078d1c3f76aa1ca11def8f882a06df1d4a01b"},
		{"get-archive README.md", "# get-archive", "b745db1b974510af87868ca217b74bab2831810a"},
		{"create-file test.txt", "Test content", "3f3f005b29247e51a4f4d6b8ce07b67646cd6074"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fakegithub.BlobSHA([]byte(tt.content)); got != tt.want {
				t.Errorf("BlobSHA(%q) = %s; want %s", tt.content, got, tt.want)
			}
		})
	}
}

func TestRawContentMatchesRecording(t *testing.T) {
	s := newServer(t, &fakegithub.Options{Tokens: []string{token}, BlobETags: true})
	var rec recorded
	for _, r := range loadRecorded(t, "get-content.raw-fixture.json") {
		if strings.HasSuffix(r.Path, "/README.md") {
			rec = r
		}
	}
	want := rec.header()
	resp, body := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets/contents/README.md",
		header: map[string]string{"Accept": "application/vnd.github.v3.raw"}})
	if resp.StatusCode != 200 || string(body) != "# hello-world" {
		t.Fatalf("got %d %q; want 200 %q", resp.StatusCode, body, "# hello-world")
	}
	for _, h := range []string{"Content-Type", "X-GitHub-Media-Type", "ETag", "Cache-Control"} {
		if got, w := resp.Header.Get(h), want.Get(h); got != w {
			t.Errorf("header %s = %q; want %q (recorded)", h, got, w)
		}
	}
	// Every header the recording has (but hop and account ones) is sent.
	skip := map[string]bool{"Date": true, "Connection": true, "X-Oauth-Scopes": true, "X-Accepted-Oauth-Scopes": true}
	for h := range want {
		if !skip[h] && resp.Header.Get(h) == "" {
			t.Errorf("header %s missing; recorded %q", h, want.Get(h))
		}
	}
	if _, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err != nil {
		t.Errorf("X-RateLimit-Reset = %q; want epoch seconds", resp.Header.Get("X-RateLimit-Reset"))
	}
}

func TestContents(t *testing.T) {
	s := newServer(t, nil)
	raw := map[string]string{"Accept": "application/vnd.github.raw"}
	tests := []struct {
		name       string
		path       string
		header     map[string]string
		wantStatus int
		wantBody   string // exact, or "" to skip
		wantJSON   string // a prefix of the body when JSON
	}{
		{"raw file", "/repos/acme/widgets/contents/README.md", raw, 200, "# hello-world", ""},
		{"raw unicode path with space", "/repos/acme/widgets/contents/docs/a%20b/%C3%BCn%C3%AF.md", raw, 200, "unicode\n", ""},
		{"raw at ref", "/repos/acme/widgets/contents/README.md?ref=main", raw, 200, "# hello-world", ""},
		{"raw symlink to file answers the file", "/repos/acme/widgets/contents/link", raw, 200, "# hello-world", ""},
		{"directory answers JSON even with raw", "/repos/acme/widgets/contents/docs", raw, 200, "", `[{"`},
		{"root directory", "/repos/acme/widgets/contents/", nil, 200, "", `[{"`},
		{"file as JSON", "/repos/acme/widgets/contents/README.md", nil, 200, "", `{"`},
		{"missing file", "/repos/acme/widgets/contents/nope", raw, 404, "", `{"`},
		{"missing ref", "/repos/acme/widgets/contents/README.md?ref=nope", raw, 404, "", `{"`},
		{"missing repo", "/repos/acme/nope/contents/README.md", raw, 404, "", `{"`},
		{"private repo anonymously", "/repos/acme/secret/contents/x.txt", map[string]string{"Accept": "application/vnd.github.raw", "Authorization": ""}, 404, "", `{"`},
		{"private repo with token", "/repos/acme/secret/contents/x.txt", raw, 200, "x", ""},
		{"bad token", "/repos/acme/widgets/contents/README.md", map[string]string{"Authorization": "Bearer nope"}, 401, "", `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`},
		{"GHE prefix", "/api/v3/repos/acme/widgets/contents/README.md", raw, 200, "# hello-world", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, s, call{url: s.URL() + tt.path, header: tt.header})
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d; want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body = %q; want %q", body, tt.wantBody)
			}
			if tt.wantJSON != "" {
				if !strings.HasPrefix(string(body), tt.wantJSON) {
					t.Errorf("body = %.80s; want a prefix %s", body, tt.wantJSON)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Errorf("Content-Type = %q; want application/json; charset=utf-8", ct)
				}
			}
		})
	}
}

func TestConditionalRead(t *testing.T) {
	s := newServer(t, nil)
	u := s.APIBaseURL() + "/repos/acme/widgets/contents/README.md"
	hdr := map[string]string{"Accept": "application/vnd.github.raw"}
	resp, _ := do(t, s, call{url: u, header: hdr})
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	remaining := resp.Header.Get("X-RateLimit-Remaining")
	hdr["If-None-Match"] = etag
	resp, body := do(t, s, call{url: u, header: hdr})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Fatalf("conditional re-read: %d %q; want 304 with no body", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-RateLimit-Remaining"); got != remaining {
		t.Errorf("X-RateLimit-Remaining after a 304 = %s; want %s (304s are free)", got, remaining)
	}
	if st := s.Stats(); st.NotModified != 1 || st.API != 2 {
		t.Errorf("Stats = %+v; want API 2, NotModified 1", st)
	}
	// Once the file changes, the old ETag no longer matches.
	if _, err := s.Commit("acme", "widgets", "main", fakegithub.Commit{Files: []fakegithub.File{{Path: "README.md", Content: []byte("new")}}}); err != nil {
		t.Fatal(err)
	}
	if resp, body := do(t, s, call{url: u, header: hdr}); resp.StatusCode != 200 || string(body) != "new" {
		t.Errorf("after a change: %d %q; want 200 %q", resp.StatusCode, body, "new")
	}
}

// TestETagsPerToken: as GitHub's, the fake's ETags depend on the token
// (an If-None-Match carrying another token's ETag is answered 200,
// counted), while Last-Modified does not: If-Modified-Since is answered
// 304, free, whoever asks, and ignored when the request has
// If-None-Match (RFC 9110 §13.1.3). With BlobETags, contents answer the
// blob id, as recorded, whoever asks.
func TestETagsPerToken(t *testing.T) {
	const other = "ghp_othertoken"
	for _, blobETags := range []bool{false, true} {
		t.Run(fmt.Sprint("BlobETags=", blobETags), func(t *testing.T) {
			s := newServer(t, &fakegithub.Options{Tokens: []string{token, other}, BlobETags: blobETags})
			u := s.APIBaseURL() + "/repos/acme/widgets/contents/README.md"
			read := func(tok string, hdr ...string) (*http.Response, []byte) {
				h := map[string]string{"Accept": "application/vnd.github.raw", "Authorization": "Bearer " + tok}
				for i := 0; i+1 < len(hdr); i += 2 {
					h[hdr[i]] = hdr[i+1]
				}
				return do(t, s, call{url: u, header: h})
			}
			a, _ := read(token)
			b, _ := read(other)
			etagA, etagB, lm := a.Header.Get("ETag"), b.Header.Get("ETag"), a.Header.Get("Last-Modified")
			if etagA == "" || etagB == "" || lm == "" || b.Header.Get("Last-Modified") != lm {
				t.Fatalf("ETags %q, %q, Last-Modified %q, %q; want both, and one Last-Modified", etagA, etagB, lm, b.Header.Get("Last-Modified"))
			}
			if blob := `"` + fakegithub.BlobSHA([]byte("# hello-world")) + `"`; blobETags != (etagA == etagB) || blobETags != (etagA == blob) {
				t.Fatalf("ETags %s and %s (blob %s); want them equal to the blob id only with BlobETags", etagA, etagB, blob)
			}
			s.ResetStats()
			steps := []struct {
				name   string
				tok    string
				hdr    []string
				status int
			}{
				{"own ETag", other, []string{"If-None-Match", etagB}, http.StatusNotModified},
				{"other token's ETag", other, []string{"If-None-Match", etagA}, map[bool]int{false: 200, true: 304}[blobETags]},
				{"If-Modified-Since, first token", token, []string{"If-Modified-Since", lm}, http.StatusNotModified},
				{"If-Modified-Since, other token", other, []string{"If-Modified-Since", lm}, http.StatusNotModified},
				{"If-Modified-Since an hour earlier", other, []string{"If-Modified-Since", mustTime(t, lm).Add(-time.Hour).Format(http.TimeFormat)}, 200},
				{"If-Modified-Since with a failing If-None-Match", other, []string{"If-None-Match", `"nope"`, "If-Modified-Since", lm}, 200},
			}
			counted := 0
			for _, st := range steps {
				resp, _ := read(st.tok, st.hdr...)
				if resp.StatusCode != st.status {
					t.Errorf("%s: %d; want %d", st.name, resp.StatusCode, st.status)
				}
				if resp.StatusCode == http.StatusNotModified && resp.Header.Get("ETag") == "" {
					t.Errorf("%s: a 304 without the caller's ETag", st.name)
				}
				if st.status == 200 {
					counted++
				}
			}
			if st := s.Stats(); st.API-st.NotModified != counted {
				t.Errorf("Stats = %+v; want %d counted (304s are free)", st, counted)
			}
			// A change makes the old Last-Modified stale for everyone.
			time.Sleep(time.Until(mustTime(t, lm).Add(1100 * time.Millisecond)))
			if _, err := s.Commit("acme", "widgets", "main", fakegithub.Commit{Files: []fakegithub.File{{Path: "README.md", Content: []byte("new")}}}); err != nil {
				t.Fatal(err)
			}
			if resp, body := read(other, "If-Modified-Since", lm); resp.StatusCode != 200 || string(body) != "new" {
				t.Errorf("after a change: %d %q; want 200 %q", resp.StatusCode, body, "new")
			}
		})
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := http.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestTarballRedirectAndArchive(t *testing.T) {
	s := newServer(t, nil)
	head, _ := s.Ref("acme", "widgets", "main")
	for _, prefix := range []string{"", "/api/v3"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			resp, _ := do(t, s, call{url: s.URL() + prefix + "/repos/acme/widgets/tarball/main"})
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status = %d; want 302", resp.StatusCode)
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if want := "/acme/widgets/legacy.tar.gz/refs/heads/main"; loc.Path != want {
				t.Errorf("Location path = %s; want %s (as api.github.com answers)", loc.Path, want)
			}
			if loc.Host == strings.TrimPrefix(s.URL(), "http://") {
				t.Errorf("Location host %s is the API host; want another host", loc.Host)
			}
			// Follow with no Authorization, as a client must.
			dl, body := do(t, s, call{url: loc.String(), header: map[string]string{"Authorization": ""}})
			if dl.StatusCode != 200 || dl.Header.Get("Content-Type") != "application/x-gzip" {
				t.Fatalf("download: %d %s", dl.StatusCode, dl.Header.Get("Content-Type"))
			}
			got := tarShape(t, body)
			want := tarEntries{Comment: head, Entries: []string{
				"acme-widgets-" + head[:7] + "/ 0775 dir",
				"acme-widgets-" + head[:7] + "/README.md 0664 file",
				"acme-widgets-" + head[:7] + "/bin/ 0775 dir",
				"acme-widgets-" + head[:7] + "/bin/run.sh 0775 file",
				"acme-widgets-" + head[:7] + "/docs/ 0775 dir",
				"acme-widgets-" + head[:7] + "/docs/a b/ 0775 dir",
				"acme-widgets-" + head[:7] + "/docs/a b/ünï.md 0664 file",
				"acme-widgets-" + head[:7] + "/link 0777 symlink",
			}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("archive (-want +got):\n%s", diff)
			}
		})
	}
	if rs := s.RequestsTo("download"); len(rs) != 2 || rs[0].Header.Get("Authorization") != "" {
		t.Errorf("download requests = %+v; want 2 without Authorization", rs)
	}
}

type tarEntries struct {
	Comment string
	Entries []string
}

func tarShape(t *testing.T, body []byte) tarEntries {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out tarEntries
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			out.Comment = h.PAXRecords["comment"]
			continue
		}
		kind := map[byte]string{tar.TypeDir: "dir", tar.TypeReg: "file", tar.TypeSymlink: "symlink"}[h.Typeflag]
		out.Entries = append(out.Entries, h.Name+" 0"+strconv.FormatInt(h.Mode, 8)+" "+kind)
	}
	return out
}

// TestRecordedTarballShape checks that the real codeload tarball has the
// shape the fake reproduces (a pax comment with the commit id, one
// owner-repo-sha7/ directory, modes 0775/0664).
func TestRecordedTarballShape(t *testing.T) {
	var rec recorded
	for _, r := range loadRecorded(t, "get-archive.raw-fixture.json") {
		if strings.Contains(r.Path, "legacy.tar.gz") {
			rec = r
		}
	}
	var hexBody string
	if err := json.Unmarshal(rec.Response, &hexBody); err != nil {
		t.Fatal(err)
	}
	body, err := hex.DecodeString(hexBody)
	if err != nil {
		t.Fatal(err)
	}
	got := tarShape(t, body)
	dir := "octokit-fixture-org-tmp-scenario-get-archive-20240124204918461-o3t43-900f3f8/"
	want := tarEntries{Comment: "900f3f818d8c2ac46196b3cdaee655d1ee986381", Entries: []string{dir + " 0775 dir", dir + "README.md 0664 file"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded archive (-want +got):\n%s", diff)
	}
	if !regexp.MustCompile(`^https://codeload\.github\.com/[^/]+/[^/]+/legacy\.tar\.gz/refs/heads/main$`).MatchString(recordedLocation(t)) {
		t.Errorf("recorded Location = %s; want codeload legacy.tar.gz/refs/heads/main", recordedLocation(t))
	}
}

func recordedLocation(t *testing.T) string {
	for _, r := range loadRecorded(t, "get-archive.raw-fixture.json") {
		if r.Status == 302 {
			return r.header().Get("Location")
		}
	}
	return ""
}

func TestPrivateTarballNeedsTemporaryToken(t *testing.T) {
	s := newServer(t, nil)
	resp, _ := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/secret/tarball"})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("token") == "" {
		t.Fatalf("Location %s has no temporary token", loc)
	}
	if dl, _ := do(t, s, call{url: loc.String(), header: map[string]string{"Authorization": ""}}); dl.StatusCode != 200 {
		t.Errorf("download with token: %d; want 200", dl.StatusCode)
	}
	loc.RawQuery = ""
	if dl, _ := do(t, s, call{url: loc.String(), header: map[string]string{"Authorization": ""}}); dl.StatusCode != 404 {
		t.Errorf("download without token: %d; want 404", dl.StatusCode)
	}
}

func TestPaginationLinkMatchesRecording(t *testing.T) {
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{token}})
	t.Cleanup(s.Close)
	for i := range 13 {
		if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "r" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	rels := func(link string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`rel="(\w+)"`).FindAllStringSubmatch(link, -1) {
			out = append(out, m[1])
		}
		return out
	}
	rec := loadRecorded(t, "paginate-issues.raw-fixture.json")
	var recorded [][]string
	for _, r := range rec {
		if strings.Contains(r.Path, "per_page=3") {
			recorded = append(recorded, rels(r.header().Get("Link")))
		}
	}
	var got [][]string
	var names []string
	next := s.APIBaseURL() + "/orgs/acme/repos?per_page=3"
	for next != "" {
		resp, body := do(t, s, call{url: next})
		for _, r := range decode[[]map[string]any](t, body) {
			names = append(names, r["name"].(string))
		}
		got = append(got, rels(resp.Header.Get("Link")))
		next = ""
		if m := regexp.MustCompile(`<([^>]+)>; rel="next"`).FindStringSubmatch(resp.Header.Get("Link")); m != nil {
			next = m[1]
		}
	}
	if diff := cmp.Diff(recorded, got); diff != "" {
		t.Errorf("Link rels per page (-recorded +fake):\n%s", diff)
	}
	if len(names) != 13 {
		t.Errorf("paged through %d repositories; want 13", len(names))
	}
	// /orgs/{user} is 404; /users/{org} lists an organization's repos.
	s.AddOwner("octocat", fakegithub.User)
	if resp, _ := do(t, s, call{url: s.APIBaseURL() + "/orgs/octocat/repos"}); resp.StatusCode != 404 {
		t.Errorf("/orgs/{user}/repos: %d; want 404", resp.StatusCode)
	}
}

// TestShapesMatchOpenAPIExamples checks that every key the fake sends is
// one GitHub's own examples have, so the fake invents no fields.
func TestShapesMatchOpenAPIExamples(t *testing.T) {
	s := newServer(t, nil)
	b, err := os.ReadFile("testdata/github-examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex map[string]struct {
		Responses map[string]struct {
			Content map[string]map[string]any `json:"content"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	example := func(op, status, name string) any {
		return ex[op].Responses[status].Content["application/json"][name]
	}
	head, _ := s.Ref("acme", "widgets", "main")
	info, _ := s.GetCommit("acme", "widgets", "main")
	api := s.APIBaseURL() + "/repos/acme/widgets"
	_, branch := do(t, s, call{method: "POST", url: api + "/git/refs", body: `{"ref":"refs/heads/feature","sha":"` + head + `"}`})
	_, blob := do(t, s, call{method: "POST", url: api + "/git/blobs", body: `{"content":"aGk=","encoding":"base64"}`})
	_, tree := do(t, s, call{method: "POST", url: api + "/git/trees", body: `{"base_tree":"` + info.Tree + `","tree":[{"path":"new.txt","mode":"100644","type":"blob","content":"new"}]}`})
	treeSHA := decode[map[string]any](t, tree)["sha"].(string)
	_, commit := do(t, s, call{method: "POST", url: api + "/git/commits", body: `{"message":"m","tree":"` + treeSHA + `","parents":["` + head + `"]}`})
	commitSHA := decode[map[string]any](t, commit)["sha"].(string)
	_, updated := do(t, s, call{method: "PATCH", url: api + "/git/refs/heads/feature", body: `{"sha":"` + commitSHA + `"}`})
	_, pull := do(t, s, call{method: "POST", url: api + "/pulls", body: `{"title":"t","head":"feature","base":"main"}`})
	get := func(u string, h map[string]string) []byte { _, b := do(t, s, call{url: u, header: h}); return b }
	tests := []struct {
		name    string
		got     []byte
		example any
		must    []string
	}{
		{"repos/get", get(api, nil), example("repos/get", "200", "default-response"), []string{"default_branch", "archived", "fork", "private", "html_url", "clone_url"}},
		{"repos/list-for-org", get(s.APIBaseURL()+"/orgs/acme/repos", nil), example("repos/list-for-org", "200", "default"), []string{"name"}},
		{"repos/get-content file", get(api+"/contents/README.md", nil), example("repos/get-content", "200", "response-if-content-is-a-file"), []string{"content", "encoding", "sha"}},
		{"repos/get-content dir", get(api+"/contents/docs", nil), example("repos/get-content", "200", "response-if-content-is-a-directory"), []string{"type", "path", "sha"}},
		{"repos/get-branch", get(api+"/branches/main", nil), example("repos/get-branch", "200", "default"), []string{"commit", "name"}},
		{"git/get-ref", get(api+"/git/ref/heads/main", nil), example("git/get-ref", "200", "default"), []string{"ref", "object"}},
		{"git/create-ref", branch, example("git/create-ref", "201", "default"), []string{"ref", "object"}},
		{"git/update-ref", updated, example("git/update-ref", "200", "default"), []string{"ref", "object"}},
		{"git/get-tree", get(api+"/git/trees/main?recursive=1", nil), example("git/get-tree", "200", "response-recursively-retrieving-a-tree"), []string{"tree", "truncated", "sha"}},
		{"git/create-tree", tree, example("git/create-tree", "201", "default"), []string{"sha", "tree"}},
		{"git/create-blob", blob, example("git/create-blob", "201", "default"), []string{"sha"}},
		{"git/get-blob", get(api+"/git/blobs/"+fakegithub.BlobSHA([]byte("# hello-world")), nil), example("git/get-blob", "200", "default"), []string{"content", "encoding"}},
		{"git/create-commit", commit, example("git/create-commit", "201", "default"), []string{"sha", "tree", "parents"}},
		{"git/get-commit", get(api+"/git/commits/"+head, nil), example("git/get-commit", "200", "default"), []string{"sha", "tree", "parents"}},
		{"pulls/create", pull, example("pulls/create", "201", "default"), []string{"number", "html_url", "head", "base", "draft"}},
		{"pulls/list", get(api+"/pulls", nil), example("pulls/list", "200", "default"), []string{"number"}},
		{"pulls/get", get(api+"/pulls/1", nil), example("pulls/get", "200", "default"), []string{"number", "state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.example == nil {
				t.Fatal("no example")
			}
			got := decode[any](t, tt.got)
			if extra := extraKeys("", got, tt.example); len(extra) > 0 {
				t.Errorf("keys GitHub's example does not have: %v", extra)
			}
			first := got
			if l, ok := got.([]any); ok && len(l) > 0 {
				first = l[0]
			}
			m, _ := first.(map[string]any)
			for _, k := range tt.must {
				if _, ok := m[k]; !ok {
					t.Errorf("missing key %q in %.200s", k, tt.got)
				}
			}
		})
	}
}

// extraKeys lists the keys of got (recursively) that ex lacks.
func extraKeys(prefix string, got, ex any) []string {
	var out []string
	switch g := got.(type) {
	case map[string]any:
		e, ok := ex.(map[string]any)
		if !ok {
			return nil
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			ev, ok := e[k]
			if !ok {
				out = append(out, prefix+k)
				continue
			}
			out = append(out, extraKeys(prefix+k+".", g[k], ev)...)
		}
	case []any:
		e, ok := ex.([]any)
		if !ok || len(e) == 0 {
			return nil
		}
		for _, x := range g {
			out = append(out, extraKeys(prefix+"[].", x, e[0])...)
		}
	}
	return slices.Compact(out)
}

func TestGitWriteFlow(t *testing.T) {
	s := newServer(t, nil)
	api := s.GHEAPIBaseURL() + "/repos/acme/widgets"
	head, _ := s.Ref("acme", "widgets", "main")
	info, _ := s.GetCommit("acme", "widgets", "main")
	post := func(path, body string) (int, map[string]any) {
		resp, b := do(t, s, call{method: "POST", url: api + path, body: body})
		return resp.StatusCode, decode[map[string]any](t, b)
	}
	st, tree := post("/git/trees", `{"base_tree":"`+info.Tree+`","tree":[
		{"path":"new/dir/a.txt","mode":"100644","type":"blob","content":"a"},
		{"path":"bin/run.sh","mode":"100755","type":"blob","sha":null},
		{"path":"README.md","mode":"100644","type":"blob","content":"changed"}]}`)
	if st != 201 {
		t.Fatalf("create tree: %d %v", st, tree)
	}
	st, commit := post("/git/commits", `{"message":"change","tree":"`+tree["sha"].(string)+`","parents":["`+head+`"]}`)
	if st != 201 {
		t.Fatalf("create commit: %d %v", st, commit)
	}
	sha := commit["sha"].(string)
	if st, ref := post("/git/refs", `{"ref":"refs/heads/feature/x","sha":"`+sha+`"}`); st != 201 {
		t.Fatalf("create ref: %d %v", st, ref)
	}
	files, err := s.Files("acme", "widgets", "feature/x")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path+"="+string(f.Content))
	}
	want := []string{"README.md=changed", "docs/a b/ünï.md=unicode\n", "link=README.md", "new/dir/a.txt=a"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files on feature/x (-want +got):\n%s", diff)
	}

	errTests := []struct {
		name, path, body string
		want             int
		wantMsg          string
	}{
		{"ref exists", "/git/refs", `{"ref":"refs/heads/feature/x","sha":"` + sha + `"}`, 422, "Reference already exists"},
		{"ref bad sha", "/git/refs", `{"ref":"refs/heads/y","sha":"` + strings.Repeat("0", 40) + `"}`, 422, "Object does not exist"},
		{"delete missing file", "/git/trees", `{"base_tree":"` + info.Tree + `","tree":[{"path":"nope","mode":"100644","type":"blob","sha":null}]}`, 422, ""},
		{"sha and content", "/git/trees", `{"tree":[{"path":"a","mode":"100644","type":"blob","sha":"` + head + `","content":"x"}]}`, 422, ""},
		{"bad path", "/git/trees", `{"tree":[{"path":"../a","mode":"100644","type":"blob","content":"x"}]}`, 422, ""},
		{"commit bad tree", "/git/commits", `{"message":"m","tree":"` + head + `"}`, 422, "Tree SHA does not exist"},
		{"pull no commits", "/pulls", `{"title":"t","head":"main","base":"main"}`, 422, "Validation Failed"},
		{"pull missing head", "/pulls", `{"title":"t","head":"nope","base":"main"}`, 422, "Validation Failed"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := post(tt.path, tt.body)
			if st != tt.want {
				t.Errorf("status = %d; want %d (%v)", st, tt.want, body)
			}
			if tt.wantMsg != "" && body["message"] != tt.wantMsg {
				t.Errorf("message = %v; want %q", body["message"], tt.wantMsg)
			}
		})
	}

	// Pull requests: create, duplicate 422, list filters.
	if st, pr := post("/pulls", `{"title":"t","head":"acme:feature/x","base":"main","draft":true}`); st != 201 || pr["number"] != 1.0 || pr["draft"] != true {
		t.Fatalf("create pull: %d %v", st, pr)
	}
	st, dup := post("/pulls", `{"title":"t","head":"feature/x","base":"main"}`)
	errs, _ := dup["errors"].([]any)
	if st != 422 || len(errs) != 1 || !strings.HasPrefix(errs[0].(map[string]any)["message"].(string), "A pull request already exists for acme:feature/x") {
		t.Errorf("duplicate pull: %d %v; want 422 A pull request already exists", st, dup)
	}
	for _, tt := range []struct {
		query string
		want  int
	}{{"head=acme:feature/x&state=open", 1}, {"head=acme:other", 0}, {"base=dev", 0}, {"state=closed", 0}, {"state=all&base=main", 1}} {
		_, b := do(t, s, call{url: api + "/pulls?" + tt.query})
		if n := len(decode[[]any](t, b)); n != tt.want {
			t.Errorf("GET pulls?%s: %d; want %d", tt.query, n, tt.want)
		}
	}

	// A non-fast-forward update is refused unless forced.
	resp, b := do(t, s, call{method: "PATCH", url: api + "/git/refs/heads/feature/x", body: `{"sha":"` + head + `"}`})
	if resp.StatusCode != 200 { // head is an ancestor: moving back is not a fast forward
		if msg := decode[map[string]any](t, b)["message"]; resp.StatusCode != 422 || msg != "Update is not a fast forward" {
			t.Errorf("non-fast-forward PATCH: %d %v; want 422 Update is not a fast forward", resp.StatusCode, msg)
		}
	} else {
		t.Errorf("non-fast-forward PATCH succeeded; want 422")
	}
	if resp, _ := do(t, s, call{method: "PATCH", url: api + "/git/refs/heads/feature/x", body: `{"sha":"` + head + `","force":true}`}); resp.StatusCode != 200 {
		t.Errorf("forced PATCH: %d; want 200", resp.StatusCode)
	}
}

func TestRecordedValidationErrorShape(t *testing.T) {
	var rec recorded
	for _, r := range loadRecorded(t, "errors.raw-fixture.json") {
		if r.Status == 422 {
			rec = r
		}
	}
	s := newServer(t, nil)
	s.Inject(fake.Fault{Kind: fake.FaultUnprocessable, Times: 1})
	resp, body := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets"})
	want := decode[map[string]any](t, rec.Response)
	got := decode[map[string]any](t, body)
	delete(got, "status") // newer GitHub answers also carry "status"
	if resp.StatusCode != 422 {
		t.Errorf("status = %d; want 422", resp.StatusCode)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("422 body (-recorded +fake):\n%s", diff)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		fault      fake.Fault
		wantStatus int
		wantHeader map[string]string
		wantInBody string
	}{
		{"unauthorized", fake.Fault{Kind: fake.FaultUnauthorized}, 401, nil, "Bad credentials"},
		{"not found", fake.Fault{Kind: fake.FaultNotFound}, 404, nil, "Not Found"},
		{"unprocessable", fake.Fault{Kind: fake.FaultUnprocessable}, 422, nil, "Validation Failed"},
		{"primary 403", fake.Fault{Kind: fake.FaultRateLimit}, 403, map[string]string{"X-RateLimit-Remaining": "0"}, "API rate limit exceeded"},
		{"primary 429", fake.Fault{Kind: fake.FaultRateLimit, Status: 429}, 429, map[string]string{"X-RateLimit-Remaining": "0"}, "API rate limit exceeded"},
		{"secondary", fake.Fault{Kind: fake.FaultSecondaryRateLimit, RetryAfter: 30 * time.Second}, 403, map[string]string{"Retry-After": "30"}, "secondary rate limit"},
		{"429 retry-after", fake.Fault{Kind: fake.FaultTooManyRequests, RetryAfter: 2 * time.Second}, 429, map[string]string{"Retry-After": "2"}, ""},
		{"429 bare", fake.Fault{Kind: fake.FaultTooManyRequestsNoRetryAfter}, 429, map[string]string{"Retry-After": ""}, ""},
		{"secondary without Retry-After", fake.Fault{Kind: fake.FaultSecondaryRateLimitNoRetryAfter}, 403,
			map[string]string{"Retry-After": "", "X-RateLimit-Remaining": "4999"}, `secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID`},
		{"secondary without Retry-After: doc URL", fake.Fault{Kind: fake.FaultSecondaryRateLimitNoRetryAfter}, 403, nil, "rate-limits-for-the-rest-api#about-secondary-rate-limits"},
		{"reset only is a bare 429", fake.Fault{Kind: fake.FaultRateLimitResetOnly, RetryAfter: time.Minute}, 429,
			map[string]string{"Retry-After": "", "X-RateLimit-Remaining": "4999"}, "Too Many Requests"},
		{"500", fake.Fault{Kind: fake.FaultServerError}, 500, nil, "Server Error"},
		{"502", fake.Fault{Kind: fake.FaultServerError, Status: 502}, 502, nil, "502 Bad Gateway"},
		{"path filter misses", fake.Fault{Kind: fake.FaultNotFound, Path: "/repos/acme/other"}, 200, nil, ""},
		{"method filter misses", fake.Fault{Kind: fake.FaultNotFound, Method: "POST"}, 200, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, nil)
			f := tt.fault
			f.Times = 1
			s.Inject(f)
			resp, body := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets"})
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d; want %d", resp.StatusCode, tt.wantStatus)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q; want %q", k, got, v)
				}
			}
			if !strings.Contains(string(body), tt.wantInBody) {
				t.Errorf("body %.200s does not contain %q", body, tt.wantInBody)
			}
			// Times: 1 means the next request is served normally.
			if resp, _ := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets"}); resp.StatusCode != 200 {
				t.Errorf("second request: %d; want 200", resp.StatusCode)
			}
		})
	}
	t.Run("primary reset is RetryAfter from now", func(t *testing.T) {
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		s := newServer(t, &fakegithub.Options{Tokens: []string{token}, Now: func() time.Time { return now }})
		s.Inject(fake.Fault{Kind: fake.FaultRateLimit, RetryAfter: 90 * time.Second})
		resp, _ := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets"})
		if got, want := resp.Header.Get("X-RateLimit-Reset"), strconv.FormatInt(now.Add(90*time.Second).Unix(), 10); got != want {
			t.Errorf("X-RateLimit-Reset = %s; want %s", got, want)
		}
	})
	t.Run("slow honours the request context", func(t *testing.T) {
		s := newServer(t, nil)
		s.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: time.Minute})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", s.APIBaseURL()+"/repos/acme/widgets", nil)
		start := time.Now()
		_, err := s.Client().Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v; want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v; want about 50ms", d)
		}
	})
	t.Run("slow then answers", func(t *testing.T) {
		s := newServer(t, nil)
		s.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: 20 * time.Millisecond, Times: 1})
		if resp, _ := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets"}); resp.StatusCode != 200 {
			t.Errorf("status = %d; want 200", resp.StatusCode)
		}
	})
	t.Run("truncated body", func(t *testing.T) {
		s := newServer(t, nil)
		s.Inject(fake.Fault{Kind: fake.FaultTruncatedBody, Times: 1})
		req, _ := http.NewRequestWithContext(t.Context(), "GET", s.APIBaseURL()+"/repos/acme/widgets", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reading body: %v; want unexpected EOF", err)
		}
	})
	t.Run("download host fault", func(t *testing.T) {
		s := newServer(t, nil)
		s.Inject(fake.Fault{Kind: fake.FaultServerError, Host: "download", Status: 503})
		resp, _ := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets/tarball/main"})
		dl, _ := do(t, s, call{url: resp.Header.Get("Location"), header: map[string]string{"Authorization": ""}})
		if dl.StatusCode != 503 {
			t.Errorf("download: %d; want 503", dl.StatusCode)
		}
	})
}

func TestRequestLog(t *testing.T) {
	s := newServer(t, nil)
	do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets/contents/README.md"})
	do(t, s, call{url: s.GHEAPIBaseURL() + "/repos/acme/widgets/git/trees/main?recursive=1"})
	do(t, s, call{url: s.APIBaseURL() + "/no/such/route"})
	st := s.Stats()
	want := map[string]int{"GET /repos/{owner}/{repo}/contents/{path...}": 1, "GET /repos/{owner}/{repo}/git/trees/{sha...}": 1}
	if diff := cmp.Diff(want, st.Routes); diff != "" || st.API != 3 || st.Unrouted != 1 {
		t.Errorf("Stats = %+v; routes (-want +got):\n%s", st, diff)
	}
	rs := s.Requests()
	if len(rs) != 3 || rs[1].Path != "/api/v3/repos/acme/widgets/git/trees/main?recursive=1" || rs[0].Header.Get("Authorization") != "Bearer "+token {
		t.Errorf("Requests = %+v", rs)
	}
	s.ResetStats()
	if st := s.Stats(); st.API != 0 || len(s.Requests()) != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}

func TestTreeTruncation(t *testing.T) {
	s := newServer(t, &fakegithub.Options{Tokens: []string{token}, TreeLimit: 2})
	_, b := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets/git/trees/main?recursive=1"})
	got := decode[struct {
		Tree      []any `json:"tree"`
		Truncated bool  `json:"truncated"`
	}](t, b)
	if !got.Truncated || len(got.Tree) != 2 {
		t.Errorf("truncated = %v with %d entries; want true with 2", got.Truncated, len(got.Tree))
	}
}

func graphql(t *testing.T, s *fakegithub.Server, base, query string, vars map[string]any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, body := do(t, s, call{method: "POST", url: base, body: string(b)})
	if resp.StatusCode != 200 {
		t.Fatalf("graphql: %d %s", resp.StatusCode, body)
	}
	return decode[map[string]any](t, body)
}

func TestGraphQL(t *testing.T) {
	s := newServer(t, nil)
	for i := range 3 {
		if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "extra" + strconv.Itoa(i), Archived: i == 1,
			Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
			t.Fatal(err)
		}
	}
	const q = `query($owner: String!, $cursor: String, $expr: String!) {
  repositoryOwner(login: $owner) {
    repositories(first: 2, after: $cursor) {
      nodes { name isArchived defaultBranchRef { name }
        object(expression: $expr) { __typename ... on Blob { oid } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`
	var names []string
	found := map[string]string{}
	var cursor any
	pages := 0
	for {
		resp := graphql(t, s, s.URL()+"/api/graphql", q, map[string]any{"owner": "acme", "cursor": cursor, "expr": "HEAD:catalog-info.yaml"})
		if resp["errors"] != nil {
			t.Fatalf("errors: %v", resp["errors"])
		}
		pages++
		conn := resp["data"].(map[string]any)["repositoryOwner"].(map[string]any)["repositories"].(map[string]any)
		for _, n := range conn["nodes"].([]any) {
			m := n.(map[string]any)
			names = append(names, m["name"].(string))
			if o, ok := m["object"].(map[string]any); ok {
				found[m["name"].(string)] = o["oid"].(string)
			}
		}
		pi := conn["pageInfo"].(map[string]any)
		if pi["hasNextPage"] != true {
			break
		}
		cursor = pi["endCursor"]
	}
	if want := []string{"widgets", "secret", "extra0", "extra1", "extra2"}; !slices.Equal(names, want) || pages != 3 {
		t.Errorf("repositories = %v in %d pages; want %v in 3", names, pages, want)
	}
	blob := fakegithub.BlobSHA([]byte("kind: Component\n"))
	if want := map[string]string{"extra0": blob, "extra1": blob, "extra2": blob}; !maps.Equal(found, want) {
		t.Errorf("found = %v; want %v", found, want)
	}
	if st := s.Stats(); st.BlobTexts != 0 {
		t.Errorf("BlobTexts = %d; want 0 (only oids were asked)", st.BlobTexts)
	}

	t.Run("invalid query is refused as GitHub does", func(t *testing.T) {
		resp := graphql(t, s, s.URL()+"/graphql", `{ repositoryOwner(login: "acme") { nope } }`, nil)
		errs, _ := resp["errors"].([]any)
		if resp["data"] != nil || len(errs) != 1 || !strings.Contains(errs[0].(map[string]any)["message"].(string), "Field 'nope' doesn't exist on type 'RepositoryOwner'") {
			t.Errorf("response = %v; want one undefined-field error and no data", resp)
		}
	})
	t.Run("first over 100", func(t *testing.T) {
		resp := graphql(t, s, s.URL()+"/graphql", `{ repositoryOwner(login: "acme") { repositories(first: 101) { nodes { name } } } }`, nil)
		errs, _ := resp["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["type"] != "EXCESSIVE_PAGINATION" {
			t.Errorf("response = %v; want EXCESSIVE_PAGINATION", resp)
		}
	})
	t.Run("missing repository", func(t *testing.T) {
		resp := graphql(t, s, s.URL()+"/graphql", `{ repository(owner: "acme", name: "nope") { name } }`, nil)
		errs, _ := resp["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["type"] != "NOT_FOUND" {
			t.Errorf("response = %v; want NOT_FOUND", resp)
		}
	})
	t.Run("refs, files and pull requests", func(t *testing.T) {
		if _, err := s.CreateBranch("acme", "widgets", "feat/x", "main"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit("acme", "widgets", "feat/x", fakegithub.Commit{Files: []fakegithub.File{{Path: "n.txt", Content: []byte("n")}}}); err != nil {
			t.Fatal(err)
		}
		do(t, s, call{method: "POST", url: s.APIBaseURL() + "/repos/acme/widgets/pulls", body: `{"title":"t","head":"feat/x","base":"main"}`})
		resp := graphql(t, s, s.URL()+"/graphql", `query($o: String!, $n: String!, $head: String!) {
  repository(owner: $o, name: $n) {
    base: defaultBranchRef { name target { oid ... on Commit { tree { oid } f0: file(path: "README.md") { type } f1: file(path: "docs") { type } f2: file(path: "nope") { type } } } }
    head: ref(qualifiedName: $head) { target { oid } associatedPullRequests(states: [OPEN], first: 5) { nodes { number url baseRefName state } } }
  }
}`, map[string]any{"o": "acme", "n": "widgets", "head": "refs/heads/feat/x"})
		if resp["errors"] != nil {
			t.Fatalf("errors: %v", resp["errors"])
		}
		repo := resp["data"].(map[string]any)["repository"].(map[string]any)
		target := repo["base"].(map[string]any)["target"].(map[string]any)
		info, _ := s.GetCommit("acme", "widgets", "main")
		if target["oid"] != info.SHA || target["tree"].(map[string]any)["oid"] != info.Tree {
			t.Errorf("base target = %v; want %s tree %s", target, info.SHA, info.Tree)
		}
		gotTypes := []any{target["f0"].(map[string]any)["type"], target["f1"].(map[string]any)["type"], target["f2"]}
		if diff := cmp.Diff([]any{"blob", "tree", nil}, gotTypes); diff != "" {
			t.Errorf("file types (-want +got):\n%s", diff)
		}
		prs := repo["head"].(map[string]any)["associatedPullRequests"].(map[string]any)["nodes"].([]any)
		if len(prs) != 1 || prs[0].(map[string]any)["state"] != "OPEN" || prs[0].(map[string]any)["number"] != 1.0 {
			t.Errorf("associated pull requests = %v; want #1 OPEN", prs)
		}
	})
	t.Run("anonymous is refused", func(t *testing.T) {
		resp, _ := do(t, s, call{method: "POST", url: s.URL() + "/graphql", body: `{"query":"{ rateLimit { remaining } }"}`, header: map[string]string{"Authorization": ""}})
		if resp.StatusCode != 401 {
			t.Errorf("status = %d; want 401", resp.StatusCode)
		}
	})
}

func TestParseGraphQLErrors(t *testing.T) {
	for _, q := range []string{``, `{`, `{ a(b: ) }`, `query Q($x) { a }`, `{ a "x }`, `fragment F on { a }`} {
		if err := fakegithub.ValidateQuery(q); err == nil {
			t.Errorf("ValidateQuery(%q) = nil error; want a syntax error", q)
		}
	}
}

func orGET(m string) string {
	if m == "" {
		return http.MethodGet
	}
	return m
}

// TestCreateRefMatchesRecording compares the fake's answer to POST
// git/refs with the recorded one: status, Location and body shape.
func TestCreateRefMatchesRecording(t *testing.T) {
	var rec recorded
	for _, r := range loadRecorded(t, "git-refs.raw-fixture.json") {
		if r.Method == "post" && strings.HasSuffix(r.Path, "/git/refs") {
			rec = r
		}
	}
	s := newServer(t, nil)
	head, _ := s.Ref("acme", "widgets", "main")
	resp, body := do(t, s, call{method: "POST", url: s.APIBaseURL() + "/repos/acme/widgets/git/refs", body: `{"ref":"refs/heads/test","sha":"` + head + `"}`})
	if resp.StatusCode != rec.Status {
		t.Errorf("status = %d; want %d (recorded)", resp.StatusCode, rec.Status)
	}
	recLoc := rec.header().Get("Location")
	if got := resp.Header.Get("Location"); !strings.HasSuffix(got, "/repos/acme/widgets/git/refs/heads/test") || !strings.HasSuffix(recLoc, "/git/refs/heads/test") {
		t.Errorf("Location = %s; want the shape of the recorded %s", got, recLoc)
	}
	keys := func(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
	want := decode[map[string]any](t, rec.Response)
	got := decode[map[string]any](t, body)
	if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
		t.Errorf("body keys (-recorded +fake):\n%s", diff)
	}
	if diff := cmp.Diff(keys(want["object"].(map[string]any)), keys(got["object"].(map[string]any))); diff != "" {
		t.Errorf("object keys (-recorded +fake):\n%s", diff)
	}
}

// TestCreateRefNamesAreNotPaths: a branch may be named what git refuses as a
// path element (git~1, .GIT.), as on GitHub; an empty or ".." element is
// refused.
func TestCreateRefNamesAreNotPaths(t *testing.T) {
	s := newServer(t, nil)
	head, _ := s.Ref("acme", "widgets", "main")
	for _, tc := range []struct {
		ref  string
		want int
	}{
		{"refs/heads/git~1", http.StatusCreated},
		{"refs/heads/x/.GIT.", http.StatusCreated},
		{"refs/heads/a/../b", http.StatusUnprocessableEntity},
		{"refs/heads//b", http.StatusUnprocessableEntity},
	} {
		resp, body := do(t, s, call{method: "POST", url: s.APIBaseURL() + "/repos/acme/widgets/git/refs", body: `{"ref":"` + tc.ref + `","sha":"` + head + `"}`})
		if resp.StatusCode != tc.want {
			t.Errorf("POST git/refs %s = %d %s; want %d", tc.ref, resp.StatusCode, body, tc.want)
		}
	}
}

// TestTreeSHAMatchesGit checks tree hashing (entry order included: "a-b"
// sorts before the directory "a", which git compares as "a/") against the
// id git write-tree gives for the same files.
func TestTreeSHAMatchesGit(t *testing.T) {
	s := fakegithub.New(nil)
	t.Cleanup(s.Close)
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "o", Name: "r", Files: []fakegithub.File{
		{Path: "README.md", Content: []byte("# hello-world")},
		{Path: "bin/run.sh", Content: []byte("#!/bin/sh\necho hi\n"), Executable: true},
		{Path: "docs/a b/ünï.md", Content: []byte("unicode\n")},
		{Path: "link", Content: []byte("README.md"), Symlink: true},
		{Path: "a-b", Content: []byte("x")},
		{Path: "a/c", Content: []byte("y")},
	}}); err != nil {
		t.Fatal(err)
	}
	info, _ := s.GetCommit("o", "r", "main")
	if want := "d2f0071577a79707f66a1f3bad15d6da2354097f"; info.Tree != want {
		t.Errorf("tree = %s; want %s (git write-tree)", info.Tree, want)
	}
}

// TestContentsTooLarge checks GitHub's size limits on GET contents: a file
// over 1 MB (here ContentsLimit/100) in the JSON media type, or over
// 100 MB (ContentsLimit) in the raw one, gets 403 with the error code
// too_large; in the object media type, a file over 1 MB comes without
// its content (encoding "none").
func TestContentsTooLarge(t *testing.T) {
	s := newServer(t, &fakegithub.Options{Tokens: []string{token}, ContentsLimit: 1000})
	for _, tc := range []struct {
		name, path, accept string
		want               int
	}{
		{"json over 1 MB", "README.md", "application/vnd.github+json", http.StatusForbidden},
		{"json under 1 MB", "docs/a%20b/%C3%BCn%C3%AF.md", "application/vnd.github+json", http.StatusOK},
		{"raw under 100 MB", "README.md", "application/vnd.github.raw", http.StatusOK},
		{"object over 1 MB", "README.md", "application/vnd.github.object", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets/contents/" + tc.path,
				header: map[string]string{"Accept": tc.accept}})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d; want %d (%s)", resp.StatusCode, tc.want, b)
			}
			if tc.want == http.StatusForbidden && !strings.Contains(string(b), `"code":"too_large"`) {
				t.Errorf("403 body %s; want the error code too_large", b)
			}
			if strings.HasSuffix(tc.accept, "object") && !strings.Contains(string(b), `"encoding":"none"`) {
				t.Errorf("object body %s; want no content, encoding none", b)
			}
		})
	}
}

// TestUserRepositoryListings checks GitHub's two listings of a user's
// repositories: GET /users/{u}/repos gives her public ones to anyone, her
// own token included; GET /user/repos gives the caller's own, private ones
// too, and needs a user (401 anonymous). Listings follow sort and
// direction, with GitHub's defaults (by name for users, newest first for
// organizations).
func TestUserRepositoryListings(t *testing.T) {
	s := newServer(t, &fakegithub.Options{Tokens: []string{token}, User: "octocat"})
	s.AddOwner("octocat", fakegithub.User)
	for _, r := range []fakegithub.Repo{{Owner: "octocat", Name: "pub"}, {Owner: "octocat", Name: "priv", Private: true}} {
		if _, err := s.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, path, auth string
		status           int
		want             []string
	}{
		{"users endpoint, own token", "/users/octocat/repos", "Bearer " + token, 200, []string{"pub"}},
		{"users endpoint, anonymous", "/users/octocat/repos", "", 200, []string{"pub"}},
		{"user endpoint", "/user/repos?affiliation=owner", "Bearer " + token, 200, []string{"priv", "pub"}}, // by name
		{"user endpoint, oldest first", "/user/repos?sort=created&direction=asc", "Bearer " + token, 200, []string{"pub", "priv"}},
		{"organization endpoint, newest first", "/orgs/acme/repos", "Bearer " + token, 200, []string{"secret", "widgets"}},
		{"user endpoint, anonymous", "/user/repos", "", 401, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, s, call{url: s.APIBaseURL() + tc.path, header: map[string]string{"Authorization": tc.auth}})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d; want %d (%s)", resp.StatusCode, tc.status, b)
			}
			if tc.status != 200 {
				return
			}
			var names []string
			for _, r := range decode[[]struct {
				Name string `json:"name"`
			}](t, b) {
				names = append(names, r.Name)
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("repositories %v; want %v", names, tc.want)
			}
		})
	}
}
