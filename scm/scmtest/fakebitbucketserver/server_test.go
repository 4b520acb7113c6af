package fakebitbucketserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

const token = "fake-token"

func newFake(t *testing.T, contextPath string) *fakebitbucketserver.Server {
	t.Helper()
	s := fakebitbucketserver.New(&fakebitbucketserver.Options{ContextPath: contextPath, Tokens: []string{token},
		Users: map[string]string{"alice": "s3cret"}})
	t.Cleanup(s.Close)
	if _, err := s.AddRepo(fakebitbucketserver.Repo{Project: "amuniz", Name: "Test Repos", Files: []fake.File{
		{Path: "README.md", Content: []byte("# hello\n")},
		{Path: "src/run.sh", Content: []byte("#!/bin/sh\n"), Executable: true},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit("AMUNIZ", "test-repos", "release/release-1", fakebitbucketserver.Commit{Message: "release",
		Files: []fake.File{{Path: "VERSION", Content: []byte("1\n")}}}); err != nil {
		t.Fatal(err)
	}
	return s
}

type reqOpts struct {
	method, body, ctype string
	header              http.Header
	noAuth              bool
}

func do(t *testing.T, s *fakebitbucketserver.Server, path string, o reqOpts) (*http.Response, []byte) {
	t.Helper()
	method := o.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+path, strings.NewReader(o.body))
	if err != nil {
		t.Fatal(err)
	}
	if !o.noAuth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if o.ctype != "" {
		req.Header.Set("Content-Type", o.ctype)
	}
	for k, v := range o.header {
		req.Header[k] = v
	}
	resp, err := s.Client().Do(req)
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

// missingKeys lists the keys of want (a recorded body) that got lacks,
// recursively; arrays are compared by their first elements.
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

// TestShapes checks the fake's bodies against recorded Bitbucket Server
// bodies: every key of the recording must be in the fake's answer.
func TestShapes(t *testing.T) {
	s := newFake(t, "")
	mp := multipartBody(t, map[string]string{"branch": "main", "message": "m", "sourceCommitId": mustBranch(t, s, "main")}, "content", "new\n")
	for _, tc := range []struct {
		name, fixture, path string
		o                   reqOpts
		status              int
		ignore              []string // keys the fake leaves out, with the reason in the comment
	}{
		{name: "repos page", fixture: "repos-page.json", path: "/rest/api/1.0/projects/AMUNIZ/repos?start=0&limit=200", status: 200},
		{name: "branches page", fixture: "branches-page.json", path: "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/branches?filterText=release%2Frelease-1&start=0&limit=200", status: 200},
		{name: "repository not found", fixture: "repository-not-exist.json", path: "/rest/api/1.0/projects/AMUNIZ/repos/nope/raw/README.md", status: 404},
		{name: "edit commit", fixture: "commit.json", path: "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/browse/README.md",
			o: reqOpts{method: http.MethodPut, body: mp.body, ctype: mp.ctype, header: http.Header{"X-Atlassian-Token": {"no-check"}}}, status: 200,
			// displayName: the fake's users have none; properties: plugin data (Jira keys).
			ignore: []string{".author.displayName", ".committer.displayName", ".properties"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, s, tc.path, tc.o)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s); want %d", resp.StatusCode, body, tc.status)
			}
			var got any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			var missing []string
			for _, k := range missingKeys(readFixture(t, tc.fixture), got, "") {
				if !slices.Contains(tc.ignore, k) {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				t.Errorf("the fake's answer lacks keys of the recording: %v\nbody: %s", missing, body)
			}
		})
	}
	t.Run("pull requests page", func(t *testing.T) {
		body := `{"title":"t","description":"d","fromRef":{"id":"refs/heads/release/release-1"},"toRef":{"id":"refs/heads/main"}}`
		resp, b := do(t, s, "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/pull-requests", reqOpts{method: http.MethodPost, body: body, ctype: "application/json"})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("creating a pull request: %d %s", resp.StatusCode, b)
		}
		resp, b = do(t, s, "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/pull-requests?start=0&limit=200", reqOpts{})
		var got any
		if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("listing: %d %s", resp.StatusCode, b)
		}
		// The recording's pull request comes from a fork (fromRef.repository.origin).
		var missing []string
		for _, k := range missingKeys(readFixture(t, "pull-requests-page.json"), got, "") {
			if !strings.Contains(k, ".origin") && !strings.HasSuffix(k, ".properties") {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			t.Errorf("the fake's answer lacks keys of the recording: %v\nbody: %s", missing, b)
		}
	})
}

type mpBody struct{ body, ctype string }

func multipartBody(t *testing.T, fields map[string]string, fileField, content string) mpBody {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, err := w.CreateFormFile(fileField, "file")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(content))
	w.Close()
	return mpBody{body: buf.String(), ctype: w.FormDataContentType()}
}

func mustBranch(t *testing.T, s *fakebitbucketserver.Server, b string) string {
	t.Helper()
	id, ok := s.Branch("AMUNIZ", "test-repos", b)
	if !ok {
		t.Fatalf("no branch %s", b)
	}
	return id
}

func TestAuth(t *testing.T) {
	s := newFake(t, "/bitbucket")
	const path = "/bitbucket/rest/api/1.0/projects/AMUNIZ/repos/test-repos/raw/README.md"
	for _, tc := range []struct {
		name   string
		header string
		want   int
	}{
		{"bearer token", "Bearer " + token, 200},
		{"basic password", "Basic YWxpY2U6czNjcmV0", 200}, // alice:s3cret
		{"basic with a token as password", "Basic YWxpY2U6ZmFrZS10b2tlbg==", 200},
		{"bad bearer", "Bearer nope", 401},
		{"bad password", "Basic YWxpY2U6bm9wZQ==", 401},
		{"anonymous", "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, strings.TrimSuffix(s.URL(), "/bitbucket")+path, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d; want %d", resp.StatusCode, tc.want)
			}
			// Bitbucket names the authenticated user, and sends no
			// X-AUSERNAME header at all when it authenticated no one.
			if _, sent := resp.Header["X-Ausername"]; sent != (tc.want == 200) {
				t.Errorf("X-AUSERNAME sent = %v (%q); want %v", sent, resp.Header.Values("X-AUSERNAME"), tc.want == 200)
			}
		})
	}
}

func TestEditFile(t *testing.T) {
	s := newFake(t, "")
	head := mustBranch(t, s, "main")
	const path = "/rest/api/1.0/projects/amuniz/repos/test-repos/browse/docs/new%20file.md"
	xsrf := http.Header{"X-Atlassian-Token": {"no-check"}}
	for _, tc := range []struct {
		name   string
		fields map[string]string
		header http.Header
		want   int
		exc    string
	}{
		{"no XSRF header", map[string]string{"branch": "main"}, nil, 403, "XsrfCheckFailedException"},
		{"no branch", map[string]string{}, xsrf, 400, "ArgumentValidationException"},
		{"missing branch without sourceBranch", map[string]string{"branch": "topic"}, xsrf, 404, "NoSuchBranchException"},
		{"create on a new branch", map[string]string{"branch": "topic/a", "sourceBranch": "main"}, xsrf, 200, ""},
		{"create again without sourceCommitId", map[string]string{"branch": "topic/a"}, xsrf, 409, "FileAlreadyExistsException"},
		{"same content", map[string]string{"branch": "topic/a", "sourceCommitId": head}, xsrf, 409, "EditNoChangeException"},
		{"stale sourceCommitId for a changed file", map[string]string{"branch": "topic/a", "sourceCommitId": head}, xsrf, 409, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := "hello\n"
			if tc.name == "stale sourceCommitId for a changed file" {
				content = "other\n"
			}
			if tc.name == "same content" {
				tc.fields["sourceCommitId"] = mustBranch(t, s, "topic/a")
			}
			mp := multipartBody(t, tc.fields, "content", content)
			resp, b := do(t, s, path, reqOpts{method: http.MethodPut, body: mp.body, ctype: mp.ctype, header: tc.header})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s); want %d", resp.StatusCode, b, tc.want)
			}
			if tc.exc != "" && !strings.Contains(string(b), tc.exc) {
				t.Errorf("body %s; want exception %s", b, tc.exc)
			}
		})
	}
	files, err := s.Files("AMUNIZ", "test-repos", "topic/a")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	if diff := cmp.Diff([]string{"README.md", "docs/new file.md", "src/run.sh"}, paths); diff != "" {
		t.Errorf("files on topic/a (-want +got):\n%s", diff)
	}
}

func TestFaults(t *testing.T) {
	s := newFake(t, "")
	const path = "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/raw/README.md"
	for _, tc := range []struct {
		fault      fake.Fault
		want       int
		retryAfter string
	}{
		{fake.Fault{Kind: fake.FaultUnauthorized}, 401, ""},
		{fake.Fault{Kind: fake.FaultNotFound}, 404, ""},
		{fake.Fault{Kind: fake.FaultUnprocessable}, 400, ""},
		{fake.Fault{Kind: fake.FaultRateLimit, RetryAfter: 3600e9}, 429, "3600"},
		{fake.Fault{Kind: fake.FaultTooManyRequests, RetryAfter: 30e9}, 429, "30"},
		{fake.Fault{Kind: fake.FaultSecondaryRateLimitNoRetryAfter}, 429, ""},
		{fake.Fault{Kind: fake.FaultRateLimitResetOnly, RetryAfter: 3600e9}, 429, ""},
		{fake.Fault{Kind: fake.FaultTooManyRequestsNoRetryAfter}, 429, ""},
		{fake.Fault{Kind: fake.FaultServerError, Status: 503}, 503, ""},
	} {
		t.Run(tc.fault.Kind.String(), func(t *testing.T) {
			s.ClearFaults()
			s.Inject(tc.fault)
			resp, _ := do(t, s, path, reqOpts{})
			if resp.StatusCode != tc.want {
				t.Errorf("status %d; want %d", resp.StatusCode, tc.want)
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q; want %q", got, tc.retryAfter)
			}
		})
	}
	s.ClearFaults()
	s.Inject(fake.Fault{Kind: fake.FaultNotFound, Times: 1, Method: http.MethodPut})
	if resp, _ := do(t, s, path, reqOpts{}); resp.StatusCode != 200 {
		t.Errorf("a PUT-only fault hit a GET: status %d", resp.StatusCode)
	}
}

func TestArchive(t *testing.T) {
	s := newFake(t, "")
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"format=tgz&path=src", 200},
		{"format=zip", 200},
		{"format=tar&at=release%2Frelease-1", 200},
		{"format=rar", 400},
		{"format=tgz&path=nope", 404},
		{"format=tgz&at=nope", 404},
	} {
		resp, b := do(t, s, "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/archive?"+tc.query, reqOpts{})
		if resp.StatusCode != tc.want {
			t.Errorf("archive?%s: status %d (%.100s); want %d", tc.query, resp.StatusCode, b, tc.want)
		}
	}
}

// TestCloseTwice: Close may be called again (a deferred Close and a
// t.Cleanup), and ends the requests FaultSlow holds.
func TestCloseTwice(t *testing.T) {
	s := newFake(t, "")
	s.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: time.Hour})
	done := make(chan error, 1)
	go func() {
		resp, err := s.Client().Get(s.APIBaseURL() + "/projects/AMUNIZ/repos")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for len(s.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	if err := <-done; err == nil {
		t.Error("the slow request was answered; want it aborted by Close")
	}
	s.Close()
}
