package bitbucketcloudscm_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// fileReads counts the API requests that read one file (GET .../src/...
// without a query; listings carry max_depth and pagelen).
func fileReads(reqs []fakekit.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Host == "api" && r.Method == http.MethodGet && strings.Contains(r.Path, "/src/") && !strings.Contains(r.Path, "?") {
			out = append(out, r.Path)
		}
	}
	return out
}

// TestTreeFallbackLimits: when the archive download refuses the
// credential, ReadTree's file-by-file fallback applies the filter and the
// limits to the listing: an oversized tree fails after a bounded number of
// requests, and filtered files are never read.
func TestTreeFallbackLimits(t *testing.T) {
	e := newEnv(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}, ArchiveRefusesBearer: true},
		integrations.BitbucketCloudConfig{Token: integrations.NewSecret(accessToken)})
	files := []fakekit.File{
		{Path: "big.bin", Content: bytes.Repeat([]byte("b"), 1000)},
		{Path: "conf/a.yaml", Content: []byte("a: 1\n")},
		{Path: "conf/b.yaml", Content: []byte("b: 2\n")},
	}
	for i := range 300 {
		files = append(files, fakekit.File{Path: fmt.Sprintf("many/f%03d.txt", i), Content: []byte("0123456789")})
	}
	if _, err := e.fake.AddRepo(fakebitbucketcloud.Repo{Workspace: workspace, Slug: "big", Files: files}); err != nil {
		t.Fatal(err)
	}
	yaml := func(p string, _ int64) bool { return strings.HasSuffix(p, ".yaml") }
	for _, tc := range []struct {
		name    string
		dir     string
		opts    *scm.TreeOptions
		code    scm.ErrorCode
		want    []string // the tree's files, when code is OK
		reads   int      // file reads
		maxReqs int      // requests in all, when > 0
	}{
		// archive (403) + the first listing page, which already shows
		// more than 5 files
		{name: "300 files, MaxFiles 5", dir: "many", opts: &scm.TreeOptions{MaxFiles: 5}, code: scm.InvalidArgument, maxReqs: 3},
		// big.bin's listed size is over the limit: refused unread
		{name: "file over MaxBytes", opts: &scm.TreeOptions{MaxBytes: 500}, code: scm.InvalidArgument, maxReqs: 3},
		{name: "files over MaxBytes together", dir: "many", opts: &scm.TreeOptions{MaxBytes: 95}, code: scm.InvalidArgument, maxReqs: 3},
		{name: "filter reads only what it keeps", opts: &scm.TreeOptions{Filter: yaml, MaxFiles: 2},
			want: []string{"conf/a.yaml", "conf/b.yaml"}, reads: 2},
		{name: "filter on a listed size", dir: "conf", opts: &scm.TreeOptions{Filter: func(_ string, size int64) bool { return size < 100 }},
			want: []string{"a.yaml", "b.yaml"}, reads: 2},
		{name: "everything filtered out", dir: "many", opts: &scm.TreeOptions{Filter: yaml}, want: nil},
		{name: "missing directory with a filter", dir: "nope", opts: &scm.TreeOptions{Filter: yaml}, code: scm.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetStats()
			fsys, err := e.c.ReadTree(t.Context(), e.repoURL("big")+"/src/main/"+tc.dir, tc.opts)
			if got := scm.Code(err); got != tc.code {
				t.Fatalf("ReadTree: code %v (%v); want %v", got, err, tc.code)
			}
			reqs := e.fake.Requests()
			if tc.maxReqs > 0 && len(reqs) > tc.maxReqs {
				t.Errorf("ReadTree made %d requests; want at most %d", len(reqs), tc.maxReqs)
			}
			if got := fileReads(reqs); len(got) != tc.reads {
				t.Errorf("ReadTree read %d files (first: %v); want %d", len(got), got[:min(len(got), 3)], tc.reads)
			}
			if err != nil {
				return
			}
			got := adaptertest.FilePaths(t, fsys)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGoBitbucketRetryAt: a 429 with Retry-After on a call made through
// go-bitbucket (which drops the headers) keeps its RetryAt. The driver's
// *http.Client does not retry, as with retries off.
func TestGoBitbucketRetryAt(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	if _, err := fake.Commit(workspace, scmtest.BasicRepo, "topic", fakebitbucketcloud.Commit{Message: "topic",
		Files: []fakekit.File{{Path: "topic.txt", Content: []byte("t")}}}); err != nil {
		t.Fatal(err)
	}
	d, hc := driverFor(t, fake, nil)
	pulls := "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo + "/pullrequests"
	pr := func(branch string) func() error {
		return func() error {
			_, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: basicRepo, Base: "main", Branch: branch,
				Title: "t", CommitMessage: "t", Changes: []driver.Change{{Path: "x.txt", Content: []byte("x")}}})
			return err
		}
	}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		call   func() error
	}{
		{"Repository.Get (main branch)", http.MethodGet, "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo, func() error {
			_, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: basicRepo})
			return err
		}},
		{"PullRequests.List (find an open one)", http.MethodGet, pulls, pr("topic")},
		{"PullRequests.Create", http.MethodPost, pulls, pr("fresh")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.Inject(fakekit.Fault{Kind: scmtest.FaultTooManyRequests, RetryAfter: 30 * time.Second,
				Method: tc.method, Path: tc.path, Times: 1})
			defer fake.ClearFaults()
			start := time.Now()
			info := d.ErrorInfo(tc.call())
			if info.Code != errcode.RateLimited || info.Status != http.StatusTooManyRequests {
				t.Fatalf("ErrorInfo = %+v; want RateLimited, HTTP 429", info)
			}
			if lo, hi := start.Add(29*time.Second), time.Now().Add(31*time.Second); info.RetryAt.Before(lo) || info.RetryAt.After(hi) {
				t.Errorf("RetryAt %v; want 30s after the call (between %v and %v)", info.RetryAt, lo, hi)
			}
		})
	}
}

// Test403RateLimit: a 403 that is a rate limit is RateLimited (with its
// RetryAt), for direct calls, calls through go-bitbucket and the archive
// download (which then does not fall back to the API); other 403s stay
// PermissionDenied.
func Test403RateLimit(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	const (
		limitedBody = `{"type":"error","error":{"message":"Rate limit for this resource has been exceeded"}}`
		deniedBody  = `{"type":"error","error":{"message":"Access denied. You must have write or admin access."}}`
	)
	retryAfter := http.Header{"Retry-After": {"30"}}
	repoPath := "/repositories/" + workspace + "/" + scmtest.BasicRepo
	readFile := func(d driver.Driver, hc *http.Client) error {
		_, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: basicRepo, Ref: "main", Path: "README.md", MaxBytes: 1 << 20})
		return err
	}
	mainBranch := func(d driver.Driver, hc *http.Client) error {
		_, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: basicRepo})
		return err
	}
	readTree := func(d driver.Driver, hc *http.Client) error {
		_, err := d.ReadTree(t.Context(), hc, &driver.TreeRequest{Repo: basicRepo, Ref: "main", MaxFiles: 100, MaxBytes: 1 << 20})
		return err
	}
	for _, tc := range []struct {
		name    string
		path    string
		header  http.Header
		body    string
		call    func(driver.Driver, *http.Client) error
		want    errcode.Code
		retryAt bool
	}{
		{"ReadFile, Retry-After", "/src/main/README.md", retryAfter, limitedBody, readFile, errcode.RateLimited, true},
		{"ReadFile, message only", "/src/main/README.md", nil, limitedBody, readFile, errcode.RateLimited, false},
		{"ReadFile, access denied", "/src/main/README.md", nil, deniedBody, readFile, errcode.PermissionDenied, false},
		{"go-bitbucket, Retry-After", repoPath, retryAfter, limitedBody, mainBranch, errcode.RateLimited, true},
		{"go-bitbucket, message only", repoPath, nil, limitedBody, mainBranch, errcode.RateLimited, false},
		{"go-bitbucket, access denied", repoPath, nil, deniedBody, mainBranch, errcode.PermissionDenied, false},
		{"archive, Retry-After", "/get/main.tar.gz", retryAfter, limitedBody, readTree, errcode.RateLimited, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, hc := driverFor(t, fake, nil)
			hc.Transport = adaptertest.Forbidden{Base: hc.Transport, Path: tc.path, Header: tc.header, ContentType: "application/json", Body: tc.body}
			fake.ResetStats()
			start := time.Now()
			info := d.ErrorInfo(tc.call(d, hc))
			if info.Code != tc.want || info.Status != http.StatusForbidden {
				t.Fatalf("ErrorInfo = %+v; want %v, HTTP 403", info, tc.want)
			}
			if tc.retryAt {
				if lo, hi := start.Add(29*time.Second), time.Now().Add(31*time.Second); info.RetryAt.Before(lo) || info.RetryAt.After(hi) {
					t.Errorf("RetryAt %v; want 30s after the call", info.RetryAt)
				}
			} else if !info.RetryAt.IsZero() {
				t.Errorf("RetryAt %v; want zero", info.RetryAt)
			}
			if n := fake.Stats().API; n != 0 {
				t.Errorf("%d API requests after the refusal; want none (no fallback, no retry)", n)
			}
		})
	}
}
