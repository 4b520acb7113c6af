// Package scmtest is the conformance suite every scmkit driver runs, and the
// harness interface that connects it to a driver's fake world.
//
// An adapter's whole conformance test is a [Harness] of six methods over its
// httptest fake (or, for memscm, an in-memory world) seeded with [World],
// and a test function that calls [RunConformanceTests] with it; the package
// example is a complete one. The fakes' fault kinds and request records are
// those of package [github.com/scmkit/scmkit/scm/scmtest/fake].
//
// The subtests check error codes, never messages, so that every adapter
// classifies the same situation the same way. Each subtest's contract is
// documented at RunConformanceTests. Embedders who write their own driver
// run the same suite.
package scmtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm"
)

// Budgets the suite asserts, from DESIGN.md's request budgets. Tree reads
// may count the provider's redirect to its download host.
const (
	budgetReadFile = 1
	budgetReadTree = 2
	budgetListPage = 1
)

// prompt is how long an operation that must not sleep (a rate limit
// beyond the retry cap, a deadline) may take at most.
const prompt = 5 * time.Second

// RunConformanceTests runs the conformance suite: each subtest below gets
// a fresh harness from newHarness, closed when the subtest ends. Call it
// from a test that does not call t.Parallel, so that the final goroutine
// check sees only the suite's goroutines.
//
// The subtests and their contracts (H is the harness, c = H.Client(false)):
//
//   - ReadFile/Found: c.ReadFile of every fixture file returns its exact
//     bytes (binary included), the path, and after a warm-up read costs at
//     most 1 request.
//   - ReadFile/Missing: a missing file, a missing ref and a missing
//     repository are NotFound, and match fs.ErrNotExist.
//   - ReadFile/Directory: a file URL naming a directory, and a tree URL,
//     are InvalidArgument.
//   - ReadFile/NotModified: the ETag is not empty; a conditional re-read
//     with it is NotModified and costs at most 1 request; with another ETag
//     it returns the content.
//   - ReadFile/TooLarge: MaxBytes below the size is InvalidArgument.
//   - ReadTree/Dir and ReadTree/Root: the tree passes fstest.TestFS with
//     exactly the fixture's files under the directory, each with the
//     fixture's bytes and executable bit, at a cost of at most 2 requests.
//   - ReadTree/Filter: TreeOptions.Filter keeps only the matching files.
//   - ReadTree/Limits: MaxFiles or MaxBytes below the tree's size is
//     InvalidArgument.
//   - ReadTree/MissingDir and ReadTree/MissingRepo: NotFound.
//   - ReadTree/ETag: conditional tree reads (driver.TreeVersioner): see
//     conformance_tree_etag.go. Unchanged is NotModified in 1 request,
//     also after a change elsewhere; a change under the directory gives
//     the full tree and a new ETag in at most 3 requests.
//   - Search: "templates/**/*.yaml", "**/catalog-info.yaml" and "*.md"
//     give exactly the matching paths, with URLs that ReadFile reads; a
//     pattern under a missing directory gives no results.
//   - ListRepositories/All: every repository of [World], each with its
//     default branch and web URL.
//   - ListRepositories/Lazy: making the sequence costs no request;
//     iterating one repository with PageSize 1 costs at most 1; PageSize 1
//     still yields all repositories.
//   - FindFiles: exactly the repositories holding catalog-info.yaml, with
//     the content when Method is FoundByReadFile, and a URL (when set)
//     that ReadFile reads.
//   - BadCredential: with H.Client(true), ReadFile, ReadTree and
//     ListRepositories are Unauthorized.
//   - Faults/<kind>: with the fault injected, ReadFile fails with the code
//     the fault stands for (401 Unauthorized, 404 NotFound, 422
//     InvalidArgument, rate limits RateLimited with RetryAt about one hour
//     ahead when the fault names a reset, persistent 5xx Unavailable),
//     promptly: a reset beyond the retry cap is not slept.
//   - ServerErrorRetried: one 5xx, then success: ReadFile succeeds after
//     exactly 2 requests (skipped for harnesses without HTTP).
//   - TruncatedBody: a truncated body never yields wrong content: a
//     persistent fault fails ReadFile and ReadTree; a single one either
//     fails or, retried, returns the exact content.
//   - Canceled: with a cancelled context every operation is Canceled
//     without a request; cancelling during a slow answer is Canceled
//     promptly.
//   - DeadlineExceeded: a deadline during a slow answer is
//     DeadlineExceeded promptly.
//   - PullRequest/Open: a pull request with a created text file, an upserted
//     binary file, an executable script, an updated and a deleted file is
//     opened (Existing false); reading the branch shows every change
//     (content, executable bit, deleted file NotFound) and the base branch
//     is unchanged. With Capabilities.NoDelete (NoExecutable) set, a
//     Delete change (an executable file) must instead be refused with
//     Unimplemented, and the pull request is opened without it.
//   - PullRequest/Duplicate: opening the same branch again returns the
//     same pull request with Existing set; with UpdateExisting the new
//     change lands on the branch and still no second pull request opens.
//   - PullRequest/Invalid: invalid specs are InvalidArgument, with zero
//     requests.
//   - PullRequest/MissingRepo: NotFound.
//   - PullRequest/Rerun: when opening the pull request fails after the
//     commit (FaultOpenPullRequest), running OpenPullRequest again with the
//     same spec opens it without committing again: the branch holds one
//     commit (one per file with Capabilities.CommitPerFile), exactly the
//     changes, and one open pull request; a third run, and one with
//     UpdateExisting, return that pull request and commit nothing. Skipped
//     for harnesses that cannot inject the fault or do not implement
//     [StateReader].
//   - EchoedCredentials: when the server (or a proxy) echoes the request's
//     credentials in a 400 to 502 answer (FaultEchoCredentials), ReadFile,
//     ReadTree, ListRepositories and OpenPullRequest fail (Search may find
//     nothing) and no error shows a credential: neither a token, nor a
//     Basic header's encoded value, nor its decoded user:password.
//   - NoCredentialToForeignHost: when the fake redirects downloads to a
//     foreign host, the tree still reads, and the foreign host receives no
//     Authorization (or other credential) header and no secret.
//   - PathPrefix: the fake's base URL has a path prefix (so every subtest
//     above checked that it is kept); skipped when it has none.
//   - UnknownHost: a URL on a host without integration is PermissionDenied
//     without a request.
//   - NoGoroutineLeft: after every harness is closed, the number of
//     goroutines is back to what it was before the suite.
//
// No secret of H.World().Secrets may appear in any error message.
func RunConformanceTests(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
	baseline := runtime.NumGoroutine()
	for _, tc := range subtests {
		t.Run(tc.name, func(t *testing.T) {
			h := makeHarness(t, newHarness)
			tc.run(t, h)
		})
	}
	t.Run("NoGoroutineLeft", func(t *testing.T) {
		baseline := baseline + 1 // this subtest's own goroutine
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
			runtime.Gosched()
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > baseline {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines after the suite; want at most %d as before it. Stacks:\n%s", n, baseline, buf)
		}
	})
}

type subtest struct {
	name string
	run  func(t *testing.T, h *env)
}

var subtests = []subtest{
	{"ReadFile/Found", testReadFileFound},
	{"ReadFile/Missing", testReadFileMissing},
	{"ReadFile/Directory", testReadFileDirectory},
	{"ReadFile/NotModified", testReadFileNotModified},
	{"ReadFile/TooLarge", testReadFileTooLarge},
	{"ReadTree/Dir", func(t *testing.T, h *env) { testReadTree(t, h, "templates/service") }},
	{"ReadTree/Root", func(t *testing.T, h *env) { testReadTree(t, h, "") }},
	{"ReadTree/Filter", testReadTreeFilter},
	{"ReadTree/Limits", testReadTreeLimits},
	{"ReadTree/MissingDir", testReadTreeMissingDir},
	{"ReadTree/MissingRepo", testReadTreeMissingRepo},
	{"ReadTree/ETag", testReadTreeETag},
	{"Search", testSearch},
	{"ListRepositories/All", testListAll},
	{"ListRepositories/Lazy", testListLazy},
	{"FindFiles", testFindFiles},
	{"BadCredential", testBadCredential},
	{"Faults", testFaults},
	{"ServerErrorRetried", testServerErrorRetried},
	{"TruncatedBody", testTruncatedBody},
	{"Canceled", testCanceled},
	{"DeadlineExceeded", testDeadline},
	{"PullRequest/Open", testPullRequestOpen},
	{"PullRequest/Duplicate", testPullRequestDuplicate},
	{"PullRequest/Invalid", testPullRequestInvalid},
	{"PullRequest/MissingRepo", testPullRequestMissingRepo},
	{"PullRequest/Rerun", testPullRequestRerun},
	{"EchoedCredentials", testEchoedCredentials},
	{"NoCredentialToForeignHost", testForeignHost},
	{"PathPrefix", testPathPrefix},
	{"UnknownHost", testUnknownHost},
	{"CreateRepository", testCreateRepository},
}

func makeHarness(t *testing.T, newHarness HarnessMaker) *env {
	t.Helper()
	h, err := newHarness(t.Context(), t)
	if err != nil {
		t.Fatalf("making the harness: %v", err)
	}
	t.Cleanup(h.Close)
	return newEnv(t, h)
}

// ctx returns a context for one subtest step, bounded so that a driver
// that sleeps through a rate limit fails instead of hanging the suite.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantCode fails unless err has code want, and checks that err shows no
// secret.
func wantCode(t *testing.T, h *env, what string, err error, want scm.ErrorCode) {
	t.Helper()
	if got := scm.Code(err); got != want {
		t.Errorf("%s: code %v (error %v); want %v", what, got, err, want)
	}
	noSecret(t, h, what, err)
}

// noSecret fails if err's message shows one of the harness's secrets, as
// it is or base64-encoded (a Basic header's user:secret).
func noSecret(t *testing.T, h *env, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msgs := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%s", err), fmt.Sprintf("%q", err)}
	for _, m := range msgs {
		if s, ok := ShowsSecret(m, h.Secrets()); ok {
			t.Errorf("%s: error message shows the secret %.4s…: %s", what, s, m)
			return
		}
	}
}

// base64Run matches what may be a base64-encoded value in a text.
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{8,}={0,2}`)

// ShowsSecret reports whether text shows one of secrets (empty ones are
// ignored): as it is, or inside a base64-encoded run of text (standard or
// URL alphabet, padded or not), as the value of a Basic Authorization
// header holds "user:secret". It returns the secret found.
func ShowsSecret(text string, secrets []string) (string, bool) {
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			return s, true
		}
	}
	for _, run := range base64Run.FindAllString(text, -1) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			dec, err := enc.DecodeString(run)
			if err != nil {
				continue
			}
			for _, s := range secrets {
				if s != "" && bytes.Contains(dec, []byte(s)) {
					return s, true
				}
			}
		}
	}
	return "", false
}

func mustRead(t *testing.T, h *env, c *scm.Client, rawURL string) *scm.File {
	t.Helper()
	f, err := c.ReadFile(ctx(t), rawURL, nil)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", rawURL, err)
	}
	return f
}

// warmUp makes one read so that later request counts exclude one-time
// costs (an OAuth token fetch, say).
func warmUp(t *testing.T, h *env) {
	t.Helper()
	mustRead(t, h, h.Client(), h.FileURL(BasicRepo, "", "README.md"))
}

func testReadFileFound(t *testing.T, h *env) {
	fx := Basic()
	c := h.Client()
	warmUp(t, h)
	for _, f := range fx.Files {
		before := h.Requests()
		u := h.FileURL(BasicRepo, "", f.Path)
		got := mustRead(t, h, c, u)
		if !bytes.Equal(got.Content, f.Content) {
			t.Errorf("ReadFile(%s) content = %q; want %q", u, got.Content, f.Content)
		}
		if got.Path != f.Path {
			t.Errorf("ReadFile(%s).Path = %q; want %q", u, got.Path, f.Path)
		}
		if n := h.Requests() - before; n > budgetReadFile {
			t.Errorf("ReadFile(%s) made %d requests; want at most %d", u, n, budgetReadFile)
		}
	}
	// An explicit ref reads the same content.
	got := mustRead(t, h, c, h.FileURL(BasicRepo, DefaultBranch, "catalog-info.yaml"))
	if want := fx.File("catalog-info.yaml").Content; !bytes.Equal(got.Content, want) {
		t.Errorf("ReadFile at ref %s: content = %q; want %q", DefaultBranch, got.Content, want)
	}
}

func testReadFileMissing(t *testing.T, h *env) {
	c := h.Client()
	for _, tc := range []struct{ name, url string }{
		{"missing file", h.FileURL(BasicRepo, "", "no/such/file.txt")},
		{"missing ref", h.FileURL(BasicRepo, "no-such-branch", "README.md")},
		{"missing repository", h.FileURL(MissingRepo, "", "README.md")},
	} {
		_, err := c.ReadFile(ctx(t), tc.url, nil)
		wantCode(t, h, tc.name, err, scm.NotFound)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: errors.Is(err, fs.ErrNotExist) = false; want true", tc.name)
		}
	}
}

func testReadFileDirectory(t *testing.T, h *env) {
	c := h.Client()
	_, err := c.ReadFile(ctx(t), h.FileURL(BasicRepo, "", "templates/service"), nil)
	wantCode(t, h, "ReadFile of a file URL naming a directory", err, scm.InvalidArgument)
	_, err = c.ReadFile(ctx(t), h.TreeURL(BasicRepo, "", "templates/service"), nil)
	wantCode(t, h, "ReadFile of a tree URL", err, scm.InvalidArgument)
}

func testReadFileNotModified(t *testing.T, h *env) {
	c := h.Client()
	u := h.FileURL(BasicRepo, "", "catalog-info.yaml")
	f := mustRead(t, h, c, u)
	if f.ETag == "" {
		t.Fatalf("ReadFile(%s).ETag is empty; want a validator for conditional re-reads", u)
	}
	before := h.Requests()
	_, err := c.ReadFile(ctx(t), u, &scm.ReadFileOptions{IfNoneMatch: f.ETag})
	wantCode(t, h, "conditional re-read of an unchanged file", err, scm.NotModified)
	if n := h.Requests() - before; n > budgetReadFile {
		t.Errorf("conditional re-read made %d requests; want at most %d", n, budgetReadFile)
	}
	g, err := c.ReadFile(ctx(t), u, &scm.ReadFileOptions{IfNoneMatch: `"0000000000000000000000000000000000000000"`})
	if err != nil {
		t.Fatalf("ReadFile with a stale ETag: %v; want the content", err)
	}
	if !bytes.Equal(g.Content, f.Content) {
		t.Errorf("ReadFile with a stale ETag: content = %q; want %q", g.Content, f.Content)
	}
}

func testReadFileTooLarge(t *testing.T, h *env) {
	_, err := h.Client().ReadFile(ctx(t), h.FileURL(BasicRepo, "", "README.md"), &scm.ReadFileOptions{MaxBytes: 4})
	wantCode(t, h, "ReadFile with MaxBytes 4", err, scm.InvalidArgument)
}

// checkTree checks fsys against the fixture files under dir, filtered by
// keep (nil keeps all): fstest.TestFS, contents and executable bits.
func checkTree(t *testing.T, fsys fs.FS, dir string, keep func(string) bool) {
	t.Helper()
	fx := Basic()
	var want []string
	for _, p := range fx.Under(dir) {
		if keep == nil || keep(p) {
			want = append(want, p)
		}
	}
	if err := fstest.TestFS(fsys, want...); err != nil {
		t.Errorf("fstest.TestFS(tree of %q): %v", dir, err)
	}
	var got []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		got = append(got, p)
		full := p
		if dir != "" {
			full = dir + "/" + p
		}
		ff := fx.File(full)
		if ff == nil {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, ff.Content) {
			t.Errorf("tree file %s = %q; want %q", p, b, ff.Content)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if exec := info.Mode()&0o111 != 0; exec != ff.Executable {
			t.Errorf("tree file %s: executable = %v (mode %v); want %v", p, exec, info.Mode(), ff.Executable)
		}
		return nil
	})
	if err != nil {
		t.Errorf("walking the tree of %q: %v", dir, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree of %q: files differ (-want +got):\n%s", dir, diff)
	}
}

func testReadTree(t *testing.T, h *env, dir string) {
	c := h.Client()
	warmUp(t, h)
	before := h.Requests()
	fsys, err := c.ReadTree(ctx(t), h.TreeURL(BasicRepo, "", dir), nil)
	if err != nil {
		t.Fatalf("ReadTree(%q): %v", dir, err)
	}
	if n := h.Requests() - before; n > budgetReadTree {
		t.Errorf("ReadTree(%q) made %d requests; want at most %d", dir, n, budgetReadTree)
	}
	checkTree(t, fsys, dir, nil)
}

func testReadTreeFilter(t *testing.T, h *env) {
	keep := func(p string) bool { return strings.HasSuffix(p, ".yaml") }
	fsys, err := h.Client().ReadTree(ctx(t), h.TreeURL(BasicRepo, "", "templates"), &scm.TreeOptions{
		Filter: func(p string, _ int64) bool { return keep(p) },
	})
	if err != nil {
		t.Fatalf("ReadTree with a filter: %v", err)
	}
	checkTree(t, fsys, "templates", keep)
}

func testReadTreeLimits(t *testing.T, h *env) {
	c := h.Client()
	u := h.TreeURL(BasicRepo, "", "templates/service")
	_, err := c.ReadTree(ctx(t), u, &scm.TreeOptions{MaxFiles: 2})
	wantCode(t, h, "ReadTree with MaxFiles 2", err, scm.InvalidArgument)
	_, err = c.ReadTree(ctx(t), u, &scm.TreeOptions{MaxBytes: 16})
	wantCode(t, h, "ReadTree with MaxBytes 16", err, scm.InvalidArgument)
}

func testReadTreeMissingDir(t *testing.T, h *env) {
	_, err := h.Client().ReadTree(ctx(t), h.TreeURL(BasicRepo, "", "no/such/dir"), nil)
	wantCode(t, h, "ReadTree of a missing directory", err, scm.NotFound)
}

func testReadTreeMissingRepo(t *testing.T, h *env) {
	_, err := h.Client().ReadTree(ctx(t), h.TreeURL(MissingRepo, "", ""), nil)
	wantCode(t, h, "ReadTree of a missing repository", err, scm.NotFound)
}

func testSearch(t *testing.T, h *env) {
	c := h.Client()
	fx := Basic()
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{"templates/**/*.yaml", []string{"templates/service/skeleton/catalog-info.yaml", "templates/service/template.yaml"}},
		{"**/catalog-info.yaml", []string{"catalog-info.yaml", "templates/service/skeleton/catalog-info.yaml"}},
		{"*.md", []string{"README.md"}},
		{"templates/service/scripts/*", []string{"templates/service/scripts/bootstrap.sh"}},
		{"no/such/dir/*.yaml", nil},
	} {
		res, err := c.Search(ctx(t), h.FileURL(BasicRepo, "", tc.pattern), nil)
		if err != nil {
			t.Errorf("Search(%q): %v", tc.pattern, err)
			continue
		}
		var got []string
		for _, r := range res {
			got = append(got, r.Path)
		}
		slices.Sort(got)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Search(%q) paths differ (-want +got):\n%s", tc.pattern, diff)
		}
		for _, r := range res {
			f, err := c.ReadFile(ctx(t), r.URL, nil)
			if err != nil {
				t.Errorf("Search(%q): ReadFile of result URL %s: %v", tc.pattern, r.URL, err)
				continue
			}
			if want := fx.File(r.Path); want != nil && !bytes.Equal(f.Content, want.Content) {
				t.Errorf("Search(%q): result %s content = %q; want %q", tc.pattern, r.URL, f.Content, want.Content)
			}
		}
	}
}

func repoNames() []string {
	var names []string
	for _, r := range World() {
		names = append(names, r.Name)
	}
	return names
}

func listNames(t *testing.T, h *env, pageSize int) []string {
	t.Helper()
	var got []string
	for r, err := range h.Client().ListRepositories(ctx(t), h.OwnerURL(), &scm.ListRepositoriesOptions{PageSize: pageSize}) {
		if err != nil {
			t.Fatalf("ListRepositories(PageSize %d): %v", pageSize, err)
		}
		got = append(got, r.Name)
		if r.DefaultBranch != DefaultBranch {
			t.Errorf("repository %s: DefaultBranch = %q; want %q", r.Name, r.DefaultBranch, DefaultBranch)
		}
		if r.WebURL == "" {
			t.Errorf("repository %s: WebURL is empty", r.Name)
		}
	}
	slices.Sort(got)
	return got
}

func testListAll(t *testing.T, h *env) {
	if diff := cmp.Diff(repoNames(), listNames(t, h, 0)); diff != "" {
		t.Errorf("ListRepositories: names differ (-want +got):\n%s", diff)
	}
}

func testListLazy(t *testing.T, h *env) {
	warmUp(t, h)
	before := h.Requests()
	seq := h.Client().ListRepositories(ctx(t), h.OwnerURL(), &scm.ListRepositoriesOptions{PageSize: 1})
	if n := h.Requests() - before; n != 0 {
		t.Errorf("making the sequence made %d requests; want 0", n)
	}
	for r, err := range seq {
		if err != nil {
			t.Fatalf("ListRepositories: %v", err)
		}
		if r == nil {
			t.Fatal("ListRepositories yielded a nil repository")
		}
		break
	}
	if n := h.Requests() - before; n > budgetListPage {
		t.Errorf("iterating one repository with PageSize 1 made %d requests; want at most %d", n, budgetListPage)
	}
	if diff := cmp.Diff(repoNames(), listNames(t, h, 1)); diff != "" {
		t.Errorf("ListRepositories(PageSize 1): names differ (-want +got):\n%s", diff)
	}
}

func testFindFiles(t *testing.T, h *env) {
	const p = "catalog-info.yaml"
	var got []string
	for f, err := range h.Client().FindFiles(ctx(t), h.OwnerURL(), p) {
		if err != nil {
			t.Fatalf("FindFiles: %v", err)
		}
		got = append(got, f.Repository.Name)
		if f.URL != "" {
			if _, err := h.Client().ReadFile(ctx(t), f.URL, nil); err != nil {
				t.Errorf("FindFiles: %s: ReadFile of its URL %s: %v", f.Repository.Name, f.URL, err)
			}
		}
		switch f.Method {
		case scm.FoundByFinder:
		case scm.FoundByReadFile:
			var want []byte
			for _, r := range World() {
				if r.Name == f.Repository.Name {
					want = r.File(p).Content
				}
			}
			if f.File == nil || !bytes.Equal(f.File.Content, want) {
				t.Errorf("FindFiles: %s: File = %+v; want content %q", f.Repository.Name, f.File, want)
			}
		default:
			t.Errorf("FindFiles: %s: Method = %v; want FoundByFinder or FoundByReadFile", f.Repository.Name, f.Method)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{BasicRepo, SecondRepo}, got); diff != "" {
		t.Errorf("FindFiles(%q): repositories differ (-want +got):\n%s", p, diff)
	}
}

func testBadCredential(t *testing.T, h *env) {
	c := h.BadClient()
	_, err := c.ReadFile(ctx(t), h.FileURL(BasicRepo, "", "README.md"), nil)
	wantCode(t, h, "ReadFile with a bad credential", err, scm.Unauthorized)
	_, err = c.ReadTree(ctx(t), h.TreeURL(BasicRepo, "", "templates"), nil)
	wantCode(t, h, "ReadTree with a bad credential", err, scm.Unauthorized)
	for _, err := range c.ListRepositories(ctx(t), h.OwnerURL(), nil) {
		wantCode(t, h, "ListRepositories with a bad credential", err, scm.Unauthorized)
		break
	}
}

func testFaults(t *testing.T, h *env) {
	const hour = time.Hour
	for _, tc := range []struct {
		fault     Fault
		want      scm.ErrorCode
		wantRetry bool // RetryAt about an hour ahead
	}{
		{Fault{Kind: FaultUnauthorized}, scm.Unauthorized, false},
		{Fault{Kind: FaultNotFound}, scm.NotFound, false},
		{Fault{Kind: FaultUnprocessable}, scm.InvalidArgument, false},
		{Fault{Kind: FaultRateLimit, RetryAfter: hour}, scm.RateLimited, true},
		{Fault{Kind: FaultSecondaryRateLimit, RetryAfter: hour}, scm.RateLimited, true},
		{Fault{Kind: FaultTooManyRequests, RetryAfter: hour}, scm.RateLimited, true},
		{Fault{Kind: FaultTooManyRequestsNoRetryAfter}, scm.RateLimited, false},
		{Fault{Kind: FaultServerError, Status: http.StatusBadGateway}, scm.Unavailable, false},
	} {
		t.Run(tc.fault.Kind.String(), func(t *testing.T) {
			h.ClearFaults()
			t.Cleanup(h.ClearFaults)
			warmUp(t, h)
			if !h.Inject(tc.fault) {
				t.Skipf("the harness cannot inject %v", tc.fault.Kind)
			}
			start := time.Now()
			_, err := h.Client().ReadFile(ctx(t), h.FileURL(BasicRepo, "", "README.md"), nil)
			if d := time.Since(start); d > prompt {
				t.Errorf("ReadFile took %v under %v; want at most %v (a reset beyond the retry cap must not be slept)", d, tc.fault.Kind, prompt)
			}
			wantCode(t, h, "ReadFile under "+tc.fault.Kind.String(), err, tc.want)
			if tc.wantRetry {
				at, ok := scm.RetryAt(err)
				lo, hi := start.Add(hour-5*time.Minute), time.Now().Add(hour+5*time.Minute)
				if !ok || at.Before(lo) || at.After(hi) {
					t.Errorf("RetryAt(err) = %v, %v; want about an hour from now (%v)", at, ok, start.Add(hour).Format(time.RFC3339))
				}
			}
		})
	}
}

func testServerErrorRetried(t *testing.T, h *env) {
	if r := h.Capabilities().NoHTTP; r != "" {
		t.Skipf("no HTTP: %s", r)
	}
	warmUp(t, h)
	if !h.Inject(Fault{Kind: FaultServerError, Times: 1, Status: http.StatusServiceUnavailable}) {
		t.Skipf("the harness cannot inject %v", FaultServerError)
	}
	before := h.Requests()
	u := h.FileURL(BasicRepo, "", "README.md")
	f, err := h.Client().ReadFile(ctx(t), u, nil)
	if err != nil {
		t.Fatalf("ReadFile after one 503: %v; want it retried", err)
	}
	if want := Basic().File("README.md").Content; !bytes.Equal(f.Content, want) {
		t.Errorf("ReadFile after one 503: content = %q; want %q", f.Content, want)
	}
	if n := h.Requests() - before; n != 2 {
		t.Errorf("ReadFile after one 503 made %d requests; want 2 (the 503 and the retry)", n)
	}
}

func testTruncatedBody(t *testing.T, h *env) {
	warmUp(t, h)
	c := h.Client()
	u := h.FileURL(BasicRepo, "", "catalog-info.yaml")
	want := Basic().File("catalog-info.yaml").Content
	if !h.Inject(Fault{Kind: FaultTruncatedBody}) {
		t.Skipf("the harness cannot inject %v", FaultTruncatedBody)
	}
	f, err := c.ReadFile(ctx(t), u, nil)
	if err == nil {
		t.Errorf("ReadFile with every body truncated returned %q; want an error", f.Content)
	}
	noSecret(t, h, "ReadFile with truncated bodies", err)
	if _, err := c.ReadTree(ctx(t), h.TreeURL(BasicRepo, "", "templates"), nil); err == nil {
		t.Error("ReadTree with every body truncated succeeded; want an error")
	}
	h.ClearFaults()
	h.Inject(Fault{Kind: FaultTruncatedBody, Times: 1})
	f, err = c.ReadFile(ctx(t), u, nil)
	if err == nil && !bytes.Equal(f.Content, want) {
		t.Errorf("ReadFile after one truncated body returned %q; want %q or an error", f.Content, want)
	}
}

func testCanceled(t *testing.T, h *env) {
	c := h.Client()
	cctx, cancel := context.WithCancel(t.Context())
	cancel()
	before := h.Requests()
	_, err := c.ReadFile(cctx, h.FileURL(BasicRepo, "", "README.md"), nil)
	wantCode(t, h, "ReadFile with a cancelled context", err, scm.Canceled)
	_, err = c.ReadTree(cctx, h.TreeURL(BasicRepo, "", ""), nil)
	wantCode(t, h, "ReadTree with a cancelled context", err, scm.Canceled)
	_, err = c.Search(cctx, h.FileURL(BasicRepo, "", "**/*.md"), nil)
	wantCode(t, h, "Search with a cancelled context", err, scm.Canceled)
	_, err = c.OpenPullRequest(cctx, validSpec(h, "scmtest-canceled"))
	wantCode(t, h, "OpenPullRequest with a cancelled context", err, scm.Canceled)
	n := 0
	for _, err := range c.ListRepositories(cctx, h.OwnerURL(), nil) {
		n++
		wantCode(t, h, "ListRepositories with a cancelled context", err, scm.Canceled)
	}
	if n != 1 {
		t.Errorf("ListRepositories with a cancelled context yielded %d pairs; want 1 (the error)", n)
	}
	for _, err := range c.FindFiles(cctx, h.OwnerURL(), "catalog-info.yaml") {
		wantCode(t, h, "FindFiles with a cancelled context", err, scm.Canceled)
	}
	if n := h.Requests() - before; n != 0 {
		t.Errorf("operations with a cancelled context made %d requests; want 0", n)
	}

	// Cancelled while the server is slow.
	warmUp(t, h)
	if !h.Inject(Fault{Kind: FaultSlow, Delay: time.Minute}) {
		t.Skipf("the harness cannot inject %v", FaultSlow)
	}
	sctx, scancel := context.WithCancel(t.Context())
	defer scancel()
	timer := time.AfterFunc(50*time.Millisecond, scancel)
	defer timer.Stop()
	start := time.Now()
	_, err = c.ReadFile(sctx, h.FileURL(BasicRepo, "", "README.md"), nil)
	wantCode(t, h, "ReadFile cancelled during a slow answer", err, scm.Canceled)
	if d := time.Since(start); d > prompt {
		t.Errorf("ReadFile cancelled after 50ms returned after %v; want at most %v", d, prompt)
	}
}

func testDeadline(t *testing.T, h *env) {
	warmUp(t, h)
	if !h.Inject(Fault{Kind: FaultSlow, Delay: time.Minute}) {
		t.Skipf("the harness cannot inject %v", FaultSlow)
	}
	c := h.Client()
	for _, tc := range []struct {
		name string
		do   func(context.Context) error
	}{
		{"ReadFile", func(ctx context.Context) error {
			_, err := c.ReadFile(ctx, h.FileURL(BasicRepo, "", "README.md"), nil)
			return err
		}},
		{"ReadTree", func(ctx context.Context) error {
			_, err := c.ReadTree(ctx, h.TreeURL(BasicRepo, "", "templates"), nil)
			return err
		}},
		{"OpenPullRequest", func(ctx context.Context) error {
			_, err := c.OpenPullRequest(ctx, validSpec(h, "scmtest-deadline"))
			return err
		}},
	} {
		dctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		start := time.Now()
		err := tc.do(dctx)
		cancel()
		wantCode(t, h, tc.name+" past its deadline", err, scm.DeadlineExceeded)
		if d := time.Since(start); d > prompt {
			t.Errorf("%s with a 100ms deadline returned after %v; want at most %v", tc.name, d, prompt)
		}
	}
}

// binaryContent is a file that is not valid UTF-8 and holds NUL bytes.
var binaryContent = []byte{0x00, 0xff, 0xfe, 0x01, 0x80, '\n', 0xc3, 0x28, 0x00, '-', '-', ' ', 0x7f}

func validSpec(h *env, branch string) *scm.PullRequestSpec {
	return &scm.PullRequestSpec{
		RepoURL: h.RepoURL(BasicRepo),
		Branch:  branch,
		Title:   "scmtest: " + branch,
		Body:    "Opened by the scmkit conformance suite.",
		Changes: []scm.Change{{Path: "scmtest/" + branch + ".txt", Action: scm.Upsert, Content: []byte(branch + "\n")}},
	}
}

func testPullRequestOpen(t *testing.T, h *env) {
	c := h.Client()
	const branch = "scmtest-open"
	fx := Basic()
	caps := h.Capabilities()
	spec := &scm.PullRequestSpec{
		RepoURL:       h.RepoURL(BasicRepo),
		Base:          DefaultBranch,
		Branch:        branch,
		Title:         "Add generated files",
		Body:          "Opened by the scmkit conformance suite.",
		CommitMessage: "Add generated files",
		Changes: []scm.Change{
			{Path: "generated/new.txt", Action: scm.Create, Content: []byte("a new file\n")},
			{Path: "generated/blob.bin", Action: scm.Upsert, Content: binaryContent},
			{Path: "generated/run.sh", Action: scm.Create, Content: []byte("#!/bin/sh\necho run\n"), Executable: true},
			{Path: "README.md", Action: scm.Update, Content: []byte("# basic\n\nUpdated.\n")},
			{Path: "docs/index.md", Action: scm.Delete},
		},
	}
	if caps.NoDelete != "" {
		t.Logf("no Delete change: %s", caps.NoDelete)
		refused := validSpec(h, "scmtest-no-delete")
		refused.Changes = []scm.Change{{Path: "docs/index.md", Action: scm.Delete}}
		_, err := c.OpenPullRequest(ctx(t), refused)
		wantCode(t, h, "OpenPullRequest with a Delete change (NoDelete)", err, scm.Unimplemented)
		spec.Changes = slices.DeleteFunc(spec.Changes, func(ch scm.Change) bool { return ch.Action == scm.Delete })
	}
	wantExec := true
	if caps.NoExecutable != "" {
		t.Logf("no executable bit: %s", caps.NoExecutable)
		refused := validSpec(h, "scmtest-no-exec")
		refused.Changes[0].Executable = true
		_, err := c.OpenPullRequest(ctx(t), refused)
		wantCode(t, h, "OpenPullRequest with an executable file (NoExecutable)", err, scm.Unimplemented)
		spec.Changes[2].Executable, wantExec = false, false
	}
	pr, err := c.OpenPullRequest(ctx(t), spec)
	if err != nil {
		t.Fatalf("OpenPullRequest: %v", err)
	}
	if pr.Existing || pr.Number <= 0 || pr.URL == "" || pr.Branch != branch || pr.Base != DefaultBranch {
		t.Errorf("OpenPullRequest = %+v; want a new pull request (Existing false, Number > 0, URL set) from %s to %s", pr, branch, DefaultBranch)
	}
	for _, ch := range spec.Changes {
		u := h.FileURL(BasicRepo, branch, ch.Path)
		f, err := c.ReadFile(ctx(t), u, nil)
		if ch.Action == scm.Delete {
			wantCode(t, h, "ReadFile of a deleted file", err, scm.NotFound)
			continue
		}
		if err != nil {
			t.Errorf("ReadFile(%s) after the pull request: %v", u, err)
			continue
		}
		if !bytes.Equal(f.Content, ch.Content) {
			t.Errorf("ReadFile(%s) after the pull request = %q; want %q", u, f.Content, ch.Content)
		}
	}
	fsys, err := c.ReadTree(ctx(t), h.TreeURL(BasicRepo, branch, "generated"), nil)
	if err != nil {
		t.Fatalf("ReadTree of the branch: %v", err)
	}
	if err := fstest.TestFS(fsys, "blob.bin", "new.txt", "run.sh"); err != nil {
		t.Errorf("fstest.TestFS(generated/ on the branch): %v", err)
	}
	for name, wantExec := range map[string]bool{"run.sh": wantExec, "new.txt": false, "blob.bin": false} {
		info, err := fs.Stat(fsys, name)
		if err != nil {
			t.Errorf("Stat(%s): %v", name, err)
			continue
		}
		if exec := info.Mode()&0o111 != 0; exec != wantExec {
			t.Errorf("generated/%s: executable = %v (mode %v); want %v", name, exec, info.Mode(), wantExec)
		}
	}
	// The base branch is unchanged.
	f := mustRead(t, h, c, h.FileURL(BasicRepo, DefaultBranch, "README.md"))
	if want := fx.File("README.md").Content; !bytes.Equal(f.Content, want) {
		t.Errorf("README.md on %s after the pull request = %q; want %q (unchanged)", DefaultBranch, f.Content, want)
	}
	mustRead(t, h, c, h.FileURL(BasicRepo, DefaultBranch, "docs/index.md"))
}

func testPullRequestDuplicate(t *testing.T, h *env) {
	c := h.Client()
	spec := validSpec(h, "scmtest-duplicate")
	first, err := c.OpenPullRequest(ctx(t), spec)
	if err != nil {
		t.Fatalf("OpenPullRequest: %v", err)
	}
	again := *spec
	again.Title = "another title"
	again.Changes = []scm.Change{{Path: "scmtest/second.txt", Content: []byte("second\n")}}
	second, err := c.OpenPullRequest(ctx(t), &again)
	if err != nil {
		t.Fatalf("OpenPullRequest again: %v; want the existing pull request", err)
	}
	if !second.Existing || second.Number != first.Number || second.URL != first.URL {
		t.Errorf("OpenPullRequest again = %+v; want the existing pull request %+v with Existing set", second, first)
	}
	_, err = c.ReadFile(ctx(t), h.FileURL(BasicRepo, spec.Branch, "scmtest/second.txt"), nil)
	wantCode(t, h, "a change of a duplicate pull request without UpdateExisting", err, scm.NotFound)

	again.UpdateExisting = true
	third, err := c.OpenPullRequest(ctx(t), &again)
	if err != nil {
		t.Fatalf("OpenPullRequest with UpdateExisting: %v", err)
	}
	if !third.Existing || third.Number != first.Number {
		t.Errorf("OpenPullRequest with UpdateExisting = %+v; want the existing pull request %d with Existing set", third, first.Number)
	}
	f := mustRead(t, h, c, h.FileURL(BasicRepo, spec.Branch, "scmtest/second.txt"))
	if want := "second\n"; string(f.Content) != want {
		t.Errorf("file committed with UpdateExisting = %q; want %q", f.Content, want)
	}
}

func testPullRequestInvalid(t *testing.T, h *env) {
	c := h.Client()
	mod := func(f func(s *scm.PullRequestSpec)) *scm.PullRequestSpec {
		s := validSpec(h, "scmtest-invalid")
		f(s)
		return s
	}
	change := func(p string) []scm.Change { return []scm.Change{{Path: p, Content: []byte("x")}} }
	for _, tc := range []struct {
		name string
		spec *scm.PullRequestSpec
	}{
		{"nil spec", nil},
		{"empty title", mod(func(s *scm.PullRequestSpec) { s.Title = " " })},
		{"no changes", mod(func(s *scm.PullRequestSpec) { s.Changes = nil })},
		{"dot-dot path", mod(func(s *scm.PullRequestSpec) { s.Changes = change("../escape.txt") })},
		{"inner dot-dot path", mod(func(s *scm.PullRequestSpec) { s.Changes = change("a/../../b.txt") })},
		{"absolute path", mod(func(s *scm.PullRequestSpec) { s.Changes = change("/etc/passwd") })},
		{"empty path", mod(func(s *scm.PullRequestSpec) { s.Changes = change("") })},
		{"duplicate path", mod(func(s *scm.PullRequestSpec) {
			s.Changes = append(change("a.txt"), scm.Change{Path: "a.txt", Action: scm.Delete})
		})},
		{"empty branch", mod(func(s *scm.PullRequestSpec) { s.Branch = "" })},
		{"branch with dot-dot", mod(func(s *scm.PullRequestSpec) { s.Branch = "a..b" })},
		{"branch with space", mod(func(s *scm.PullRequestSpec) { s.Branch = "a b" })},
		{"branch ending in .lock", mod(func(s *scm.PullRequestSpec) { s.Branch = "topic.lock" })},
		{"branch starting with dash", mod(func(s *scm.PullRequestSpec) { s.Branch = "-topic" })},
		{"missing repository URL", mod(func(s *scm.PullRequestSpec) { s.RepoURL = "" })},
	} {
		before := h.Requests()
		_, err := c.OpenPullRequest(ctx(t), tc.spec)
		wantCode(t, h, "OpenPullRequest with "+tc.name, err, scm.InvalidArgument)
		if n := h.Requests() - before; n != 0 {
			t.Errorf("OpenPullRequest with %s made %d requests; want 0", tc.name, n)
		}
	}
}

func testPullRequestMissingRepo(t *testing.T, h *env) {
	spec := validSpec(h, "scmtest-missing")
	spec.RepoURL = h.RepoURL(MissingRepo)
	_, err := h.Client().OpenPullRequest(ctx(t), spec)
	wantCode(t, h, "OpenPullRequest on a missing repository", err, scm.NotFound)
}

func testForeignHost(t *testing.T, h *env) {
	if r := h.Capabilities().NoHTTP; r != "" {
		t.Skipf("no HTTP: %s", r)
	}
	if !h.RedirectToForeign() {
		t.Skip("the harness's downloads are not redirected to another host")
	}
	fsys, err := h.Client().ReadTree(ctx(t), h.TreeURL(BasicRepo, "", "templates/service"), nil)
	if err != nil {
		t.Fatalf("ReadTree through the foreign redirect: %v", err)
	}
	checkTree(t, fsys, "templates/service", nil)
	reqs := h.ForeignRequests()
	if len(reqs) == 0 {
		t.Fatal("the foreign host received no request; want the redirected download")
	}
	for i, hdr := range reqs {
		for _, name := range []string{"Authorization", "Private-Token", "Job-Token", "Cookie", "Proxy-Authorization"} {
			if v := hdr.Get(name); v != "" {
				t.Errorf("foreign request %d carries %s; want none", i, name)
			}
		}
		for name, vals := range hdr {
			for _, v := range vals {
				for _, s := range h.Secrets() {
					if s != "" && strings.Contains(v, s) {
						t.Errorf("foreign request %d: header %s shows a secret", i, name)
					}
				}
			}
		}
	}
}

func testPathPrefix(t *testing.T, h *env) {
	if !h.Capabilities().PathPrefix {
		t.Skip("the harness's base URL has no path prefix")
	}
	mustRead(t, h, h.Client(), h.FileURL(BasicRepo, "", "README.md"))
}

func testUnknownHost(t *testing.T, h *env) {
	before := h.Requests()
	_, err := h.Client().ReadFile(ctx(t), "https://unknown-host.invalid/acme/basic/blob/main/README.md", nil)
	wantCode(t, h, "ReadFile on a host without integration", err, scm.PermissionDenied)
	if n := h.Requests() - before; n != 0 {
		t.Errorf("ReadFile on a host without integration made %d requests; want 0", n)
	}
}

// rerunSpec is the spec of PullRequest/Rerun: a created, an upserted
// binary, an updated and (where the provider can) a deleted file.
func rerunSpec(h *env, branch string) *scm.PullRequestSpec {
	spec := &scm.PullRequestSpec{
		RepoURL:       h.RepoURL(BasicRepo),
		Base:          DefaultBranch,
		Branch:        branch,
		Title:         "scmtest: rerun",
		Body:          "Opened by the scmkit conformance suite after a failure.",
		CommitMessage: "scmtest: rerun",
		Changes: []scm.Change{
			{Path: "rerun/new.txt", Action: scm.Create, Content: []byte("created once\n")},
			{Path: "rerun/blob.bin", Action: scm.Upsert, Content: binaryContent},
			{Path: "README.md", Action: scm.Update, Content: []byte("# basic\n\nUpdated by a rerun.\n")},
		},
	}
	if h.Capabilities().NoDelete == "" {
		spec.Changes = append(spec.Changes, scm.Change{Path: "docs/index.md", Action: scm.Delete})
	}
	return spec
}

func testPullRequestRerun(t *testing.T, h *env) {
	sr, ok := h.h.(StateReader)
	if !ok {
		t.Skip("the harness does not implement scmtest.StateReader")
	}
	c := h.Client()
	const branch = "scmtest-rerun"
	spec := rerunSpec(h, branch)
	if !h.Inject(Fault{Kind: FaultOpenPullRequest, Times: 1}) {
		t.Skipf("the harness cannot inject %v", FaultOpenPullRequest)
	}
	_, err := c.OpenPullRequest(ctx(t), spec)
	if err == nil {
		t.Fatal("OpenPullRequest with the pull request's creation failing succeeded; want an error")
	}
	noSecret(t, h, "OpenPullRequest failing after the commit", err)
	h.ClearFaults()
	want := 1
	if h.Capabilities().CommitPerFile != "" {
		want = len(spec.Changes)
	}
	if n := sr.CommitsAhead(BasicRepo, branch); n != want {
		t.Fatalf("after the failed run the branch holds %d commits; want %d (the fault must come after the commit)", n, want)
	}

	check := func(step string, wantExisting bool, number int) *scm.PullRequest {
		t.Helper()
		pr, err := c.OpenPullRequest(ctx(t), spec)
		if err != nil {
			t.Fatalf("%s: OpenPullRequest: %v", step, err)
		}
		if pr.Existing != wantExisting || (number != 0 && pr.Number != number) {
			t.Errorf("%s: OpenPullRequest = %+v; want Existing %v (number %d)", step, pr, wantExisting, number)
		}
		if n := sr.CommitsAhead(BasicRepo, branch); n != want {
			t.Errorf("%s: the branch holds %d commits; want %d: the same changes were committed again", step, n, want)
		}
		if n := sr.OpenPullRequests(BasicRepo, branch); n != 1 {
			t.Errorf("%s: %d open pull requests from %s; want 1", step, n, branch)
		}
		return pr
	}
	first := check("rerun after the failure", false, 0)
	check("third run", true, first.Number)
	spec.UpdateExisting = true
	check("run with UpdateExisting", true, first.Number)

	for _, ch := range spec.Changes {
		f, err := c.ReadFile(ctx(t), h.FileURL(BasicRepo, branch, ch.Path), nil)
		if ch.Action == scm.Delete {
			wantCode(t, h, "ReadFile of a deleted file after the rerun", err, scm.NotFound)
			continue
		}
		if err != nil {
			t.Errorf("ReadFile(%s) after the rerun: %v", ch.Path, err)
			continue
		}
		if !bytes.Equal(f.Content, ch.Content) {
			t.Errorf("ReadFile(%s) after the rerun = %q; want %q", ch.Path, f.Content, ch.Content)
		}
	}
}

func testEchoedCredentials(t *testing.T, h *env) {
	if r := h.Capabilities().NoHTTP; r != "" {
		t.Skipf("no HTTP: %s", r)
	}
	warmUp(t, h)
	c := h.Client()
	for _, st := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusUnprocessableEntity, http.StatusInternalServerError, http.StatusBadGateway} {
		h.ClearFaults()
		if !h.Inject(Fault{Kind: FaultEchoCredentials, Status: st}) {
			t.Skipf("the harness cannot inject %v", FaultEchoCredentials)
		}
		for _, op := range []struct {
			name    string
			mayPass bool // a provider may read an error answer as "no such directory"
			do      func() error
		}{
			{"ReadFile", false, func() error {
				_, err := c.ReadFile(ctx(t), h.FileURL(BasicRepo, "", "README.md"), nil)
				return err
			}},
			{"ReadTree", false, func() error {
				_, err := c.ReadTree(ctx(t), h.TreeURL(BasicRepo, "", "templates"), nil)
				return err
			}},
			{"Search", true, func() error {
				_, err := c.Search(ctx(t), h.FileURL(BasicRepo, "", "**/*.yaml"), nil)
				return err
			}},
			{"ListRepositories", false, func() error {
				for _, err := range c.ListRepositories(ctx(t), h.OwnerURL(), nil) {
					return err
				}
				return nil
			}},
			{"OpenPullRequest", false, func() error {
				_, err := c.OpenPullRequest(ctx(t), validSpec(h, "scmtest-echo"))
				return err
			}},
		} {
			err := op.do()
			what := fmt.Sprintf("%s with credentials echoed in an HTTP %d answer", op.name, st)
			if err == nil {
				if !op.mayPass {
					t.Errorf("%s succeeded; want an error", what)
				}
				continue
			}
			noSecret(t, h, what, err)
		}
	}
	h.ClearFaults()
}
