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
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path"
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
	// A conditional ReadTree of an unchanged directory: the one small
	// commit-listing request.
	budgetTreeUnchanged = 1
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
//   - ReadFile/Directory: a file URL naming a directory, and a tree URL
//     naming one, are InvalidArgument (a tree URL naming a file reads it:
//     ReadFile/Found).
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
//   - ReadTree/ETag: conditional tree reads (driver.TreeVersioner): a
//     tree read WithETag (in at most 3 requests) has an ETag; re-read with
//     it, the directory is NotModified in 1 request, also on a branch that
//     changed a file elsewhere; on a branch that changed a file under it,
//     the read is full, in at most 3 requests, with a new ETag.
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
//   - PullRequest/DefaultBranch: a spec whose Branch is the repository's
//     default branch is InvalidArgument and writes nothing: with an empty
//     Base (the driver learns the default branch: every change Upsert, or
//     one Create) and with Base set to it (refused with 0 requests), and
//     with Base set to another branch (made by a pull request of its own
//     first; every change Upsert, a Create, UpdateExisting; a missing
//     Base is an error). Neither branch holds the changes afterwards and,
//     for a harness implementing [BranchReader], neither head has moved.
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
//   - CreateRepository/Created: the repository is created with every file
//     in one commit, readable afterwards with ReadFile (exact bytes) and
//     ReadTree (fstest.TestFS, executable bits), its default branch as
//     asked.
//   - CreateRepository/Existing: creating the fixture repository
//     [BasicRepo] again is AlreadyExists and writes nothing.
//   - CreateRepository/BadName: names the provider would refuse are
//     InvalidArgument with 0 requests.
//   - CreateRepository/TreeOverLimits: a tree over the client's Limits
//     (MaxTreeFiles), a symlink, an empty tree and a tree holding a path
//     git refuses (".GIT/config", "git~1/config", a .gitmodules
//     directory) are InvalidArgument with 0 requests.
//   - CreateRepository/AccessInvalid: grants with an unknown permission,
//     neither or both of a team and a user, or a team granted twice are
//     InvalidArgument with 0 requests, nothing created.
//   - CreateRepository/Access: a repository created with a team granted
//     Write holds that grant (skipped for harnesses without
//     [AccessHarness]).
//   - CreateRepository/UserPolicy: a view with RequireUserForWrites and no
//     user credential fails and creates nothing (skipped for harnesses
//     without HTTP, whose client has no resolver).
//   - NoGoroutineLeft: after every harness is closed, the number of
//     goroutines is back to what it was before the suite.
//
// No secret of H.World().Secrets may appear in any error message.
func RunConformanceTests(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
	baseline := runtime.NumGoroutine()
	for _, tc := range subtests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t, newHarness)) })
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

var subtests = []struct {
	name string
	run  func(t *testing.T, h *env)
}{
	{"ReadFile/Found", testReadFileFound},
	{"ReadFile/Missing", testReadFileMissing},
	{"ReadFile/Directory", func(t *testing.T, h *env) {
		_, err := h.good.ReadFile(ctx(t), h.FileURL(BasicRepo, "", "templates/service"), nil)
		wantCode(t, h, "ReadFile of a file URL naming a directory", err, scm.InvalidArgument)
		_, err = h.good.ReadFile(ctx(t), h.TreeURL(BasicRepo, "", "templates/service"), nil)
		wantCode(t, h, "ReadFile of a tree URL", err, scm.InvalidArgument)
	}},
	{"ReadFile/NotModified", testReadFileNotModified},
	{"ReadFile/TooLarge", func(t *testing.T, h *env) {
		_, err := h.good.ReadFile(ctx(t), h.FileURL(BasicRepo, "", "README.md"), &scm.ReadFileOptions{MaxBytes: 4})
		wantCode(t, h, "ReadFile with MaxBytes 4", err, scm.InvalidArgument)
	}},
	{"ReadTree/Dir", func(t *testing.T, h *env) { testReadTree(t, h, "templates/service") }},
	{"ReadTree/Root", func(t *testing.T, h *env) { testReadTree(t, h, "") }},
	{"ReadTree/Filter", testReadTreeFilter},
	{"ReadTree/Limits", func(t *testing.T, h *env) {
		u := h.TreeURL(BasicRepo, "", "templates/service")
		_, err := h.good.ReadTree(ctx(t), u, &scm.TreeOptions{MaxFiles: 2})
		wantCode(t, h, "ReadTree with MaxFiles 2", err, scm.InvalidArgument)
		_, err = h.good.ReadTree(ctx(t), u, &scm.TreeOptions{MaxBytes: 16})
		wantCode(t, h, "ReadTree with MaxBytes 16", err, scm.InvalidArgument)
	}},
	{"ReadTree/MissingDir", func(t *testing.T, h *env) {
		_, err := h.good.ReadTree(ctx(t), h.TreeURL(BasicRepo, "", "no/such/dir"), nil)
		wantCode(t, h, "ReadTree of a missing directory", err, scm.NotFound)
	}},
	{"ReadTree/MissingRepo", func(t *testing.T, h *env) {
		_, err := h.good.ReadTree(ctx(t), h.TreeURL(MissingRepo, "", ""), nil)
		wantCode(t, h, "ReadTree of a missing repository", err, scm.NotFound)
	}},
	{"ReadTree/ETag", testReadTreeETag},
	{"Search", testSearch},
	{"ListRepositories/All", func(t *testing.T, h *env) { checkList(t, h, 0) }},
	{"ListRepositories/Lazy", testListLazy},
	{"FindFiles", testFindFiles},
	{"BadCredential", func(t *testing.T, h *env) {
		for _, name := range []string{"ReadFile", "ReadTree", "ListRepositories"} {
			wantCode(t, h, name+" with a bad credential", h.do(ctx(t), h.bad, name), scm.Unauthorized)
		}
	}},
	{"Faults", testFaults},
	{"ServerErrorRetried", testServerErrorRetried},
	{"TruncatedBody", testTruncatedBody},
	{"Canceled", testCanceled},
	{"DeadlineExceeded", testDeadline},
	{"PullRequest/Open", testPullRequestOpen},
	{"PullRequest/Duplicate", testPullRequestDuplicate},
	{"PullRequest/Invalid", testPullRequestInvalid},
	{"PullRequest/MissingRepo", func(t *testing.T, h *env) {
		spec := validSpec(h, "scmtest-missing")
		spec.RepoURL = h.RepoURL(MissingRepo)
		_, err := h.good.OpenPullRequest(ctx(t), spec)
		wantCode(t, h, "OpenPullRequest on a missing repository", err, scm.NotFound)
	}},
	{"PullRequest/DefaultBranch", testPullRequestDefaultBranch},
	{"PullRequest/Rerun", testPullRequestRerun},
	{"EchoedCredentials", testEchoedCredentials},
	{"NoCredentialToForeignHost", testForeignHost},
	{"PathPrefix", func(t *testing.T, h *env) {
		if !h.Capabilities.PathPrefix {
			t.Skip("the harness's base URL has no path prefix")
		}
		mustRead(t, h.good, h.FileURL(BasicRepo, "", "README.md"))
	}},
	{"UnknownHost", func(t *testing.T, h *env) {
		wantCodeFree(t, h, "ReadFile on a host without integration", scm.PermissionDenied, func() error {
			_, err := h.good.ReadFile(ctx(t), "https://unknown-host.invalid/acme/basic/blob/main/README.md", nil)
			return err
		})
	}},
	{"CreateRepository", testCreateRepository},
}

func mustRead(t *testing.T, c *scm.Client, rawURL string) *scm.File {
	t.Helper()
	f, err := c.ReadFile(ctx(t), rawURL, nil)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", rawURL, err)
	}
	return f
}

// mustReadTree reads the tree at rawURL with opts, and stops t if that
// fails.
func mustReadTree(t *testing.T, c *scm.Client, rawURL string, opts *scm.TreeOptions) fs.FS {
	t.Helper()
	fsys, err := c.ReadTree(ctx(t), rawURL, opts)
	if err != nil {
		t.Fatalf("ReadTree(%s, %+v): %v", rawURL, opts, err)
	}
	return fsys
}

// mustOpen opens the pull request of spec, and stops t if that fails.
func mustOpen(t *testing.T, c *scm.Client, spec *scm.PullRequestSpec) *scm.PullRequest {
	t.Helper()
	pr, err := c.OpenPullRequest(ctx(t), spec)
	if err != nil {
		t.Fatalf("OpenPullRequest(branch %s, UpdateExisting %v): %v", spec.Branch, spec.UpdateExisting, err)
	}
	return pr
}

// wantBytes fails unless got is want; what names got.
func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s = %q; want %q", what, got, want)
	}
}

// inject arms f, and skips t when the harness cannot produce it.
func inject(t *testing.T, h *env, f Fault) {
	t.Helper()
	if !h.Inject(f) {
		t.Skipf("the harness cannot inject %v", f.Kind)
	}
}

// warmUp makes one read so that later request counts exclude one-time
// costs (an OAuth token fetch, say).
func warmUp(t *testing.T, h *env) {
	t.Helper()
	mustRead(t, h.good, h.FileURL(BasicRepo, "", "README.md"))
}

func testReadFileFound(t *testing.T, h *env) {
	fx := Basic()
	warmUp(t, h)
	for _, f := range fx.Files {
		before := h.Requests()
		u := h.FileURL(BasicRepo, "", f.Path)
		got := mustRead(t, h.good, u)
		wantBytes(t, "ReadFile("+u+") content", got.Content, f.Content)
		if got.Path != f.Path {
			t.Errorf("ReadFile(%s).Path = %q; want %q", u, got.Path, f.Path)
		}
		h.spent(t, before, budgetReadFile, "ReadFile("+u+")")
	}
	// An explicit ref reads the same content.
	got := mustRead(t, h.good, h.FileURL(BasicRepo, DefaultBranch, "catalog-info.yaml"))
	wantBytes(t, "ReadFile at ref "+DefaultBranch+": content", got.Content, fx.File("catalog-info.yaml").Content)
	// A tree URL naming a file reads it (GitHub redirects one to the
	// file's blob URL; ResolveURL makes them of relative references).
	u := h.TreeURL(BasicRepo, DefaultBranch, "catalog-info.yaml")
	got = mustRead(t, h.good, u)
	wantBytes(t, "ReadFile("+u+") content", got.Content, fx.File("catalog-info.yaml").Content)
	// HEAD is the default branch (Registry.FileURL of a repository URL).
	u = h.FileURL(BasicRepo, "HEAD", "catalog-info.yaml")
	got = mustRead(t, h.good, u)
	wantBytes(t, "ReadFile("+u+") content", got.Content, fx.File("catalog-info.yaml").Content)
}

func testReadFileMissing(t *testing.T, h *env) {
	for _, tc := range []struct{ name, url string }{
		{"missing file", h.FileURL(BasicRepo, "", "no/such/file.txt")},
		{"missing ref", h.FileURL(BasicRepo, "no-such-branch", "README.md")},
		{"missing repository", h.FileURL(MissingRepo, "", "README.md")},
	} {
		_, err := h.good.ReadFile(ctx(t), tc.url, nil)
		wantCode(t, h, tc.name, err, scm.NotFound)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: errors.Is(err, fs.ErrNotExist) = false; want true", tc.name)
		}
	}
}

func testReadFileNotModified(t *testing.T, h *env) {
	c := h.good
	u := h.FileURL(BasicRepo, "", "catalog-info.yaml")
	f := mustRead(t, c, u)
	if f.ETag == "" {
		t.Fatalf("ReadFile(%s).ETag is empty; want a validator for conditional re-reads", u)
	}
	before := h.Requests()
	_, err := c.ReadFile(ctx(t), u, &scm.ReadFileOptions{IfNoneMatch: f.ETag})
	wantCode(t, h, "conditional re-read of an unchanged file", err, scm.NotModified)
	h.spent(t, before, budgetReadFile, "conditional re-read")
	g, err := c.ReadFile(ctx(t), u, &scm.ReadFileOptions{IfNoneMatch: `"0000000000000000000000000000000000000000"`})
	if err != nil {
		t.Fatalf("ReadFile with a stale ETag: %v; want the content", err)
	}
	wantBytes(t, "ReadFile with a stale ETag: content", g.Content, f.Content)
}

// basicTree returns the files of [Basic] under dir ("" for all), relative
// to dir, as checkTree wants them.
func basicTree(dir string) fstest.MapFS {
	fx, tree := Basic(), fstest.MapFS{}
	for _, p := range fx.Under(dir) {
		f := fx.File(path.Join(dir, p))
		tree[p] = &fstest.MapFile{Data: f.Content, Mode: fileMode(f.Executable)}
	}
	return tree
}

// checkTree fails unless fsys passes fstest.TestFS and holds exactly the
// files of want, each with its bytes and executable bit; what names fsys.
func checkTree(t *testing.T, what string, fsys fs.FS, want fstest.MapFS) {
	t.Helper()
	paths := slices.Sorted(maps.Keys(want))
	if err := fstest.TestFS(fsys, paths...); err != nil {
		t.Errorf("fstest.TestFS(%s): %v", what, err)
	}
	var got []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, p)
		}
		return err
	})
	if err != nil {
		t.Errorf("walking %s: %v", what, err)
	}
	slices.Sort(got)
	if diff := cmp.Diff(paths, got); diff != "" {
		t.Errorf("%s: files differ (-want +got):\n%s", what, diff)
	}
	for _, p := range paths {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		wantBytes(t, what+": file "+p, b, want[p].Data)
		if info, err := fs.Stat(fsys, p); err != nil || info.Mode()&0o111 != want[p].Mode&0o111 {
			t.Errorf("%s: file %s: Stat = %v, %v; want executable %v", what, p, info, err, want[p].Mode&0o111 != 0)
		}
	}
}

func testReadTree(t *testing.T, h *env, dir string) {
	warmUp(t, h)
	before := h.Requests()
	fsys := mustReadTree(t, h.good, h.TreeURL(BasicRepo, "", dir), nil)
	h.spent(t, before, budgetReadTree, fmt.Sprintf("ReadTree(%q)", dir))
	checkTree(t, fmt.Sprintf("tree of %q", dir), fsys, basicTree(dir))
}

func testReadTreeFilter(t *testing.T, h *env) {
	keep := func(p string) bool { return strings.HasSuffix(p, ".yaml") }
	fsys := mustReadTree(t, h.good, h.TreeURL(BasicRepo, "", "templates"), &scm.TreeOptions{
		Filter: func(p string, _ int64) bool { return keep(p) },
	})
	want := basicTree("templates")
	maps.DeleteFunc(want, func(p string, _ *fstest.MapFile) bool { return !keep(p) })
	checkTree(t, "filtered tree of templates", fsys, want)
}

func testReadTreeETag(t *testing.T, h *env) {
	const dir, elsewhere, inside = "templates/service", "scmtest-etag-elsewhere", "scmtest-etag-inside"
	c := h.good
	for branch, p := range map[string]string{elsewhere: "docs/etag.md", inside: dir + "/etag.txt"} {
		spec := validSpec(h, branch)
		spec.Changes[0].Path = p
		mustOpen(t, c, spec)
	}
	warmUp(t, h)
	before := h.Requests()
	fsys := mustReadTree(t, c, h.TreeURL(BasicRepo, "", dir), &scm.TreeOptions{WithETag: true})
	h.spent(t, before, budgetReadTree+1, fmt.Sprintf("ReadTree(%q, WithETag)", dir))
	checkTree(t, "tree of "+dir, fsys, basicTree(dir))
	etag := scm.TreeETag(fsys)
	if etag == "" {
		t.Fatalf("TreeETag of a tree read WithETag is empty; the driver must implement driver.TreeVersioner")
	}
	// Unchanged, also after a change elsewhere in the repository.
	for _, branch := range []string{DefaultBranch, elsewhere} {
		what := "ReadTree on " + branch + " with the tree's ETag"
		before = h.Requests()
		_, err := c.ReadTree(ctx(t), h.TreeURL(BasicRepo, branch, dir), &scm.TreeOptions{IfNoneMatch: etag})
		wantCode(t, h, what, err, scm.NotModified)
		h.spent(t, before, budgetTreeUnchanged, what)
	}
	// A change under the directory gives a full read and a new ETag.
	before = h.Requests()
	fsys = mustReadTree(t, c, h.TreeURL(BasicRepo, inside, dir), &scm.TreeOptions{IfNoneMatch: etag})
	h.spent(t, before, budgetReadTree+1, "changed ReadTree")
	if got, err := fs.ReadFile(fsys, "etag.txt"); err != nil || string(got) != inside+"\n" {
		t.Errorf("changed tree: etag.txt = %q, %v; want %q", got, err, inside+"\n")
	}
	if e2 := scm.TreeETag(fsys); e2 == "" || e2 == etag {
		t.Errorf("changed tree's ETag = %q; want a new one (old %q)", e2, etag)
	}
}

func testSearch(t *testing.T, h *env) {
	c := h.good
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
			f, err := c.ReadFile(ctx(t), r.URL, nil)
			if err != nil {
				t.Errorf("Search(%q): ReadFile of result URL %s: %v", tc.pattern, r.URL, err)
				continue
			}
			if want := fx.File(r.Path); want != nil {
				wantBytes(t, fmt.Sprintf("Search(%q): result %s content", tc.pattern, r.URL), f.Content, want.Content)
			}
		}
		slices.Sort(got)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Search(%q) paths differ (-want +got):\n%s", tc.pattern, diff)
		}
	}
}

// checkList fails unless ListRepositories with pageSize yields every
// repository of [World], each with its default branch and a web URL.
func checkList(t *testing.T, h *env, pageSize int) {
	t.Helper()
	var want, got []string
	for _, r := range World() {
		want = append(want, r.Name)
	}
	for r, err := range h.good.ListRepositories(ctx(t), h.OwnerURL(), &scm.ListRepositoriesOptions{PageSize: pageSize}) {
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
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListRepositories(PageSize %d): names differ (-want +got):\n%s", pageSize, diff)
	}
}

func testListLazy(t *testing.T, h *env) {
	warmUp(t, h)
	before := h.Requests()
	seq := h.good.ListRepositories(ctx(t), h.OwnerURL(), &scm.ListRepositoriesOptions{PageSize: 1})
	h.spent(t, before, 0, "making the sequence")
	for r, err := range seq {
		if err != nil {
			t.Fatalf("ListRepositories: %v", err)
		}
		if r == nil {
			t.Fatal("ListRepositories yielded a nil repository")
		}
		break
	}
	h.spent(t, before, budgetListPage, "iterating one repository with PageSize 1")
	checkList(t, h, 1)
}

func testFindFiles(t *testing.T, h *env) {
	const p = "catalog-info.yaml"
	var got []string
	for f, err := range h.good.FindFiles(ctx(t), h.OwnerURL(), p) {
		if err != nil {
			t.Fatalf("FindFiles: %v", err)
		}
		got = append(got, f.Repository.Name)
		if f.URL != "" {
			if _, err := h.good.ReadFile(ctx(t), f.URL, nil); err != nil {
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
			inject(t, h, tc.fault)
			start := time.Now()
			_, err := h.good.ReadFile(ctx(t), h.FileURL(BasicRepo, "", "README.md"), nil)
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
	if r := h.Capabilities.NoHTTP; r != "" {
		t.Skipf("no HTTP: %s", r)
	}
	warmUp(t, h)
	inject(t, h, Fault{Kind: FaultServerError, Times: 1, Status: http.StatusServiceUnavailable})
	before := h.Requests()
	f, err := h.good.ReadFile(ctx(t), h.FileURL(BasicRepo, "", "README.md"), nil)
	if err != nil {
		t.Fatalf("ReadFile after one 503: %v; want it retried", err)
	}
	wantBytes(t, "ReadFile after one 503: content", f.Content, Basic().File("README.md").Content)
	if n := h.Requests() - before; n != 2 {
		t.Errorf("ReadFile after one 503 made %d requests; want 2 (the 503 and the retry)", n)
	}
}

func testTruncatedBody(t *testing.T, h *env) {
	warmUp(t, h)
	c := h.good
	u := h.FileURL(BasicRepo, "", "catalog-info.yaml")
	want := Basic().File("catalog-info.yaml").Content
	inject(t, h, Fault{Kind: FaultTruncatedBody})
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
	c := h.good
	cctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, name := range []string{"ReadFile", "ReadTree", "Search", "OpenPullRequest"} {
		wantCodeFree(t, h, name+" with a cancelled context", scm.Canceled, func() error { return h.do(cctx, c, name) })
	}
	before := h.Requests()
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
	h.spent(t, before, 0, "ListRepositories and FindFiles with a cancelled context")

	// Cancelled while the server is slow.
	warmUp(t, h)
	inject(t, h, Fault{Kind: FaultSlow, Delay: time.Minute})
	sctx, scancel := context.WithCancel(t.Context())
	defer scancel()
	timer := time.AfterFunc(50*time.Millisecond, scancel)
	defer timer.Stop()
	start := time.Now()
	_, err := c.ReadFile(sctx, h.FileURL(BasicRepo, "", "README.md"), nil)
	wantCode(t, h, "ReadFile cancelled during a slow answer", err, scm.Canceled)
	if d := time.Since(start); d > prompt {
		t.Errorf("ReadFile cancelled after 50ms returned after %v; want at most %v", d, prompt)
	}
}

func testDeadline(t *testing.T, h *env) {
	warmUp(t, h)
	inject(t, h, Fault{Kind: FaultSlow, Delay: time.Minute})
	for _, name := range []string{"ReadFile", "ReadTree", "OpenPullRequest"} {
		dctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		start := time.Now()
		err := h.do(dctx, h.good, name)
		cancel()
		wantCode(t, h, name+" past its deadline", err, scm.DeadlineExceeded)
		if d := time.Since(start); d > prompt {
			t.Errorf("%s with a 100ms deadline returned after %v; want at most %v", name, d, prompt)
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

// changesSpec is the spec of PullRequest/Open and PullRequest/Rerun: a
// created text file, an upserted binary file, an executable script, an
// updated and a deleted file, less the delete (the executable bit) when
// the harness has Capabilities.NoDelete (NoExecutable).
func changesSpec(h *env, branch string) *scm.PullRequestSpec {
	spec := validSpec(h, branch)
	spec.Base, spec.CommitMessage = DefaultBranch, "Add generated files"
	spec.Changes = []scm.Change{
		{Path: "generated/new.txt", Action: scm.Create, Content: []byte("a new file\n")},
		{Path: "generated/blob.bin", Action: scm.Upsert, Content: binaryContent},
		{Path: "generated/run.sh", Action: scm.Create, Content: []byte("#!/bin/sh\necho run\n"),
			Executable: h.Capabilities.NoExecutable == ""},
		{Path: "README.md", Action: scm.Update, Content: []byte("# basic\n\nUpdated.\n")},
		{Path: "docs/index.md", Action: scm.Delete},
	}
	if h.Capabilities.NoDelete != "" {
		spec.Changes = slices.DeleteFunc(spec.Changes, func(ch scm.Change) bool { return ch.Action == scm.Delete })
	}
	return spec
}

// checkChanges fails unless the branch of spec shows every change: the
// content of each written file, NotFound for each deleted one.
func checkChanges(t *testing.T, h *env, spec *scm.PullRequestSpec) {
	t.Helper()
	for _, ch := range spec.Changes {
		u := h.FileURL(BasicRepo, spec.Branch, ch.Path)
		f, err := h.good.ReadFile(ctx(t), u, nil)
		switch {
		case ch.Action == scm.Delete:
			wantCode(t, h, "ReadFile of the deleted "+u, err, scm.NotFound)
		case err != nil:
			t.Errorf("ReadFile(%s) of a changed file: %v", u, err)
		default:
			wantBytes(t, "ReadFile("+u+") of a changed file", f.Content, ch.Content)
		}
	}
}

func testPullRequestOpen(t *testing.T, h *env) {
	c := h.good
	refuse := func(why, branch string, ch scm.Change) {
		if why != "" {
			spec := validSpec(h, branch)
			spec.Changes = []scm.Change{ch}
			_, err := c.OpenPullRequest(ctx(t), spec)
			wantCode(t, h, "OpenPullRequest refused ("+why+")", err, scm.Unimplemented)
		}
	}
	refuse(h.Capabilities.NoDelete, "scmtest-no-delete", scm.Change{Path: "docs/index.md", Action: scm.Delete})
	refuse(h.Capabilities.NoExecutable, "scmtest-no-exec", scm.Change{Path: "scmtest/scmtest-no-exec.txt",
		Action: scm.Upsert, Content: []byte("scmtest-no-exec\n"), Executable: true})

	spec := changesSpec(h, "scmtest-open")
	pr := mustOpen(t, c, spec)
	if pr.Existing || pr.Number <= 0 || pr.URL == "" || pr.Branch != spec.Branch || pr.Base != DefaultBranch {
		t.Errorf("OpenPullRequest = %+v; want a new pull request (Existing false, Number > 0, URL set) from %s to %s", pr, spec.Branch, DefaultBranch)
	}
	checkChanges(t, h, spec)
	fsys := mustReadTree(t, c, h.TreeURL(BasicRepo, spec.Branch, "generated"), nil)
	want := fstest.MapFS{}
	for _, ch := range spec.Changes {
		if p, ok := strings.CutPrefix(ch.Path, "generated/"); ok {
			want[p] = &fstest.MapFile{Data: ch.Content, Mode: fileMode(ch.Executable)}
		}
	}
	checkTree(t, "generated/ on the branch", fsys, want)
	// The base branch is unchanged.
	f := mustRead(t, c, h.FileURL(BasicRepo, DefaultBranch, "README.md"))
	wantBytes(t, "README.md on "+DefaultBranch+" after the pull request", f.Content, Basic().File("README.md").Content)
	mustRead(t, c, h.FileURL(BasicRepo, DefaultBranch, "docs/index.md"))
}

func testPullRequestDuplicate(t *testing.T, h *env) {
	c := h.good
	spec := validSpec(h, "scmtest-duplicate")
	first := mustOpen(t, c, spec)
	again := *spec
	again.Title = "another title"
	again.Changes = []scm.Change{{Path: "scmtest/second.txt", Content: []byte("second\n")}}
	second := mustOpen(t, c, &again)
	if !second.Existing || second.Number != first.Number || second.URL != first.URL {
		t.Errorf("OpenPullRequest again = %+v; want the existing pull request %+v with Existing set", second, first)
	}
	_, err := c.ReadFile(ctx(t), h.FileURL(BasicRepo, spec.Branch, "scmtest/second.txt"), nil)
	wantCode(t, h, "a change of a duplicate pull request without UpdateExisting", err, scm.NotFound)

	again.UpdateExisting = true
	third := mustOpen(t, c, &again)
	if !third.Existing || third.Number != first.Number {
		t.Errorf("OpenPullRequest with UpdateExisting = %+v; want the existing pull request %d with Existing set", third, first.Number)
	}
	checkChanges(t, h, &again)
}

func testPullRequestInvalid(t *testing.T, h *env) {
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
		{"branch HEAD", mod(func(s *scm.PullRequestSpec) { s.Branch = "HEAD" })},
		{"branch refs/heads/main", mod(func(s *scm.PullRequestSpec) { s.Branch = "refs/heads/" + DefaultBranch })},
		{"missing repository URL", mod(func(s *scm.PullRequestSpec) { s.RepoURL = "" })},
	} {
		wantCodeFree(t, h, "OpenPullRequest with "+tc.name, scm.InvalidArgument, func() error {
			_, err := h.good.OpenPullRequest(ctx(t), tc.spec)
			return err
		})
	}
}

func testPullRequestDefaultBranch(t *testing.T, h *env) {
	br, heads := h.Harness.(BranchReader)
	before := ""
	if heads {
		if before = br.BranchHead(BasicRepo, DefaultBranch); before == "" {
			t.Fatalf("BranchHead(%s, %s) is empty; want the default branch's head", BasicRepo, DefaultBranch)
		}
	}
	upsert := validSpec(h, DefaultBranch)
	upsert.Changes = []scm.Change{{Path: "scmtest/default-branch.txt", Action: scm.Upsert, Content: []byte("upsert\n")}}
	create := validSpec(h, DefaultBranch)
	create.Changes = []scm.Change{{Path: "scmtest/default-branch-create.txt", Action: scm.Create, Content: []byte("create\n")},
		{Path: "scmtest/default-branch.txt", Action: scm.Upsert, Content: []byte("upsert\n")}}
	for _, tc := range []struct {
		name string
		spec *scm.PullRequestSpec
	}{{"every change Upsert", upsert}, {"a Create change", create}} {
		_, err := h.good.OpenPullRequest(ctx(t), tc.spec)
		wantCode(t, h, "OpenPullRequest with the default branch as Branch and no Base ("+tc.name+")", err, scm.InvalidArgument)
	}
	explicit := validSpec(h, DefaultBranch)
	explicit.Base = DefaultBranch
	wantCodeFree(t, h, "OpenPullRequest with Branch = Base", scm.InvalidArgument, func() error {
		_, err := h.good.OpenPullRequest(ctx(t), explicit)
		return err
	})
	// Base set to another branch: the commit would still go on the
	// default branch (and a pull request from it may well open). The
	// other branch is made by a pull request of its own, into the default
	// branch, which leaves the default branch as it was.
	if _, err := h.good.OpenPullRequest(ctx(t), validSpec(h, otherBase)); err != nil {
		t.Fatalf("OpenPullRequest of %s (to make the other base branch): %v", otherBase, err)
	}
	otherBefore := ""
	if heads {
		otherBefore = br.BranchHead(BasicRepo, otherBase)
	}
	other := func(s *scm.PullRequestSpec, base string) *scm.PullRequestSpec {
		c := *s
		c.Base = base
		return &c
	}
	updating := other(upsert, otherBase)
	updating.UpdateExisting = true
	for _, tc := range []struct {
		name string
		spec *scm.PullRequestSpec
	}{{"every change Upsert", other(upsert, otherBase)}, {"a Create change", other(create, otherBase)}, {"UpdateExisting", updating}} {
		_, err := h.good.OpenPullRequest(ctx(t), tc.spec)
		wantCode(t, h, "OpenPullRequest with the default branch as Branch and Base "+otherBase+" ("+tc.name+")", err, scm.InvalidArgument)
	}
	// A missing base is refused too, as NotFound or InvalidArgument.
	if _, err := h.good.OpenPullRequest(ctx(t), other(create, "scmtest-no-such-base")); err == nil {
		t.Errorf("OpenPullRequest with the default branch as Branch and a missing Base succeeded; want an error")
	} else {
		noSecret(t, h, "OpenPullRequest with a missing Base", err)
	}
	for _, ch := range create.Changes {
		_, err := h.good.ReadFile(ctx(t), h.FileURL(BasicRepo, DefaultBranch, ch.Path), nil)
		wantCode(t, h, "ReadFile of "+ch.Path+" on the default branch after the refused pull requests", err, scm.NotFound)
		_, err = h.good.ReadFile(ctx(t), h.FileURL(BasicRepo, otherBase, ch.Path), nil)
		wantCode(t, h, "ReadFile of "+ch.Path+" on "+otherBase+" after the refused pull requests", err, scm.NotFound)
	}
	if heads {
		if after := br.BranchHead(BasicRepo, DefaultBranch); after != before {
			t.Errorf("the default branch moved from %s to %s: a refused pull request committed on it", before, after)
		}
		if after := br.BranchHead(BasicRepo, otherBase); after != otherBefore {
			t.Errorf("the base branch %s moved from %s to %s: a refused pull request committed on it", otherBase, otherBefore, after)
		}
	}
}

// otherBase is the branch PullRequest/DefaultBranch makes to be the base
// of a pull request from the default branch.
const otherBase = "scmtest-develop"

func testForeignHost(t *testing.T, h *env) {
	if r := h.Capabilities.NoHTTP; r != "" {
		t.Skipf("no HTTP: %s", r)
	}
	fr, ok := h.Harness.(ForeignRedirector)
	if !ok {
		t.Skip("the harness's downloads are not redirected to another host")
	}
	foreignRequests := fr.RedirectToForeign()
	// The whole repository: what every adapter reads from the archive.
	fsys := mustReadTree(t, h.good, h.TreeURL(BasicRepo, "", ""), nil)
	checkTree(t, "tree of the repository through the foreign redirect", fsys, basicTree(""))
	reqs := foreignRequests()
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
			if _, ok := ShowsSecret(strings.Join(vals, "\n"), h.Secrets); ok {
				t.Errorf("foreign request %d: header %s shows a secret", i, name)
			}
		}
	}
}

func testPullRequestRerun(t *testing.T, h *env) {
	sr, ok := h.Harness.(StateReader)
	if !ok {
		t.Skip("the harness does not implement scmtest.StateReader")
	}
	c := h.good
	// The changes of PullRequest/Open without an executable file, which
	// GitHub cannot commit in the one mutation that the fault breaks.
	spec := changesSpec(h, "scmtest-rerun")
	spec.Changes = slices.DeleteFunc(spec.Changes, func(ch scm.Change) bool { return ch.Executable })
	inject(t, h, Fault{Kind: FaultOpenPullRequest, Times: 1})
	_, err := c.OpenPullRequest(ctx(t), spec)
	if err == nil {
		t.Fatal("OpenPullRequest with the pull request's creation failing succeeded; want an error")
	}
	noSecret(t, h, "OpenPullRequest failing after the commit", err)
	h.ClearFaults()
	want := 1
	if h.Capabilities.CommitPerFile != "" {
		want = len(spec.Changes)
	}
	if n := sr.CommitsAhead(BasicRepo, spec.Branch); n != want {
		t.Fatalf("after the failed run the branch holds %d commits; want %d (the fault must come after the commit)", n, want)
	}

	check := func(step string, wantExisting bool, number int) *scm.PullRequest {
		t.Helper()
		pr := mustOpen(t, c, spec)
		if pr.Existing != wantExisting || (number != 0 && pr.Number != number) {
			t.Errorf("%s: OpenPullRequest = %+v; want Existing %v (number %d)", step, pr, wantExisting, number)
		}
		if n := sr.CommitsAhead(BasicRepo, spec.Branch); n != want {
			t.Errorf("%s: the branch holds %d commits; want %d: the same changes were committed again", step, n, want)
		}
		if n := sr.OpenPullRequests(BasicRepo, spec.Branch); n != 1 {
			t.Errorf("%s: %d open pull requests from %s; want 1", step, n, spec.Branch)
		}
		return pr
	}
	first := check("rerun after the failure", false, 0)
	check("third run", true, first.Number)
	spec.UpdateExisting = true
	check("run with UpdateExisting", true, first.Number)
	checkChanges(t, h, spec)
}

func testEchoedCredentials(t *testing.T, h *env) {
	if r := h.Capabilities.NoHTTP; r != "" {
		t.Skipf("no HTTP: %s", r)
	}
	warmUp(t, h)
	for _, st := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusUnprocessableEntity, http.StatusInternalServerError, http.StatusBadGateway} {
		h.ClearFaults()
		inject(t, h, Fault{Kind: FaultEchoCredentials, Status: st})
		for _, name := range []string{"ReadFile", "ReadTree", "Search", "ListRepositories", "OpenPullRequest"} {
			err := h.do(ctx(t), h.good, name)
			what := fmt.Sprintf("%s with credentials echoed in an HTTP %d answer", name, st)
			// Search may pass: a provider may read an error answer as
			// "no such directory".
			if err == nil && name != "Search" {
				t.Errorf("%s succeeded; want an error", what)
			}
			noSecret(t, h, what, err)
		}
	}
	h.ClearFaults()
}
