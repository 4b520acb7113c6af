package bitbucketserverscm_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// env is a fake with the conformance world plus a client for it.
type env struct {
	fake *fakebitbucketserver.Server
	c    *scm.Client
}

func newEnv(t testing.TB, contextPath string) *env {
	t.Helper()
	fake := newWorld(t, contextPath)
	c, tr := newClient(t, fake, goodToken)
	t.Cleanup(func() {
		fake.Close()
		tr.CloseIdleConnections()
	})
	return &env{fake: fake, c: c}
}

func (e *env) repoURL(repo string) string {
	return e.fake.URL() + "/projects/" + project + "/repos/" + repo
}

func (e *env) fileURL(repo, ref, p string) string {
	u := e.repoURL(repo) + "/browse/" + httpx.EscapePath(p)
	if ref != "" {
		u += "?at=" + url.QueryEscape(ref)
	}
	return u
}

func (e *env) requests() int { return e.fake.Stats().Total }

// driverFor returns the driver and an authenticated *http.Client for the
// fake, for tests that call the driver directly.
func driverFor(t testing.TB, fake *fakebitbucketserver.Server, opts *bitbucketserverscm.Options) (*bitbucketserverscm.Driver, *http.Client) {
	t.Helper()
	in := adaptertest.Integration(t, integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Token: integrations.NewSecret(goodToken)}}}, fake.Host())
	d, err := bitbucketserverscm.New(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, adaptertest.BearerClient(t, goodToken)
}

func TestProjectKey(t *testing.T) {
	for _, tc := range []struct{ owner, want string }{{"acme", "ACME"}, {"AcMe", "ACME"}, {"~jdoe", "~jdoe"}} {
		if got := bitbucketserverscm.ProjectKey(tc.owner); got != tc.want {
			t.Errorf("ProjectKey(%q) = %q; want %q", tc.owner, got, tc.want)
		}
	}
}

// TestNames reads and writes with a repository name instead of its slug,
// a project key in lower case, a branch with "/", and paths with spaces
// and non-ASCII characters.
func TestNames(t *testing.T) {
	e := newEnv(t, "/bitbucket")
	if _, err := e.fake.AddRepo(fakebitbucketserver.Repo{Project: project, Name: "My Service", Files: []fake.File{
		{Path: "docs/read me.md", Content: []byte("spaces\n")},
		{Path: "docs/ünïcødé ✓.txt", Content: []byte("unicode\n")},
	}}); err != nil {
		t.Fatal(err)
	}
	d, hc := driverFor(t, e.fake, nil)
	for _, tc := range []struct {
		name string
		repo driver.Repo
		path string
		want string
	}{
		{"name instead of slug", driver.Repo{Owner: project, Name: "My Service"}, "docs/read me.md", "spaces\n"},
		{"lower-case project key", driver.Repo{Owner: "acme", Name: "my-service"}, "docs/ünïcødé ✓.txt", "unicode\n"},
		{"mixed-case key and name", driver.Repo{Owner: "AcMe", Name: "MY SERVICE"}, "docs/read me.md", "spaces\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: tc.repo, Path: tc.path, MaxBytes: 1 << 20})
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if string(f.Content) != tc.want {
				t.Errorf("content %q; want %q", f.Content, tc.want)
			}
		})
	}

	// Through the portable client: a lower-case project key in the URL.
	u := e.fake.URL() + "/projects/acme/repos/my-service/browse/" + httpx.EscapePath("docs/ünïcødé ✓.txt")
	f, err := e.c.ReadFile(t.Context(), u, nil)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", u, err)
	}
	if string(f.Content) != "unicode\n" {
		t.Errorf("ReadFile(%s) = %q; want %q", u, f.Content, "unicode\n")
	}

	// A pull request on a branch with "/" writing such paths.
	spec := &scm.PullRequestSpec{RepoURL: e.repoURL("my-service"), Branch: "feature/ünï code-paths", Title: "Paths",
		Changes: []scm.Change{
			{Path: "docs/read me.md", Action: scm.Update, Content: []byte("updated spaces\n")},
			{Path: "new dir/ünï ✓.yaml", Action: scm.Create, Content: []byte("kind: x\n")},
		}}
	spec.Branch = "feature/unicode-paths"
	pr, err := e.c.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatalf("OpenPullRequest: %v", err)
	}
	if pr.Branch != spec.Branch || pr.Base != "main" || pr.Existing {
		t.Errorf("OpenPullRequest = %+v; want a new pull request from %s to main", pr, spec.Branch)
	}
	for _, ch := range spec.Changes {
		f, err := e.c.ReadFile(t.Context(), e.fileURL("my-service", spec.Branch, ch.Path), nil)
		if err != nil {
			t.Errorf("ReadFile(%s on %s): %v", ch.Path, spec.Branch, err)
			continue
		}
		if !bytes.Equal(f.Content, ch.Content) {
			t.Errorf("%s on %s = %q; want %q", ch.Path, spec.Branch, f.Content, ch.Content)
		}
	}
}

// TestExistingBranch opens a pull request from a branch that already
// exists with other commits: the changes go on top of them.
func TestExistingBranch(t *testing.T) {
	e := newEnv(t, "")
	other, err := e.fake.Commit(project, scmtest.BasicRepo, "topic", fakebitbucketserver.Commit{Message: "earlier work",
		Files: []fake.File{{Path: "earlier.txt", Content: []byte("earlier\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Branch: "topic",
		Title: "More work", Changes: []scm.Change{{Path: "later.txt", Content: []byte("later\n")}}})
	if err != nil {
		t.Fatalf("OpenPullRequest: %v", err)
	}
	if pr.Existing {
		t.Errorf("Existing = true; want a new pull request")
	}
	commits, err := e.fake.Commits(project, scmtest.BasicRepo, "topic")
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) < 3 || commits[1] != other || commits[0] != pr.CommitID {
		t.Errorf("commits on topic = %v; want the new commit %s on top of %s", commits, pr.CommitID, other)
	}
	for _, p := range []string{"earlier.txt", "later.txt"} {
		if _, err := e.c.ReadFile(t.Context(), e.fileURL(scmtest.BasicRepo, "topic", p), nil); err != nil {
			t.Errorf("ReadFile(%s on topic): %v", p, err)
		}
	}
}

// tenChanges writes ten text files under prefix.
func tenChanges(prefix string) []scm.Change { return adaptertest.TextChanges(prefix, 10) }

// TestPartialCommit fails the 6th of 10 commits: the error names the
// branch and the 5 files committed; a second run resumes without
// committing anything twice.
func TestPartialCommit(t *testing.T) {
	e := newEnv(t, "")
	spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Branch: "gen/partial", Title: "Generated",
		Changes: tenChanges("gen")}
	e.fake.Inject(fake.Fault{Kind: scmtest.FaultServerError, Method: http.MethodPut,
		Path: "/projects/ACME/repos/basic/browse/gen/f06.txt"})
	_, err := e.c.OpenPullRequest(t.Context(), spec)
	if got := scm.Code(err); got != scm.Unavailable {
		t.Fatalf("OpenPullRequest with file 6 failing: code %v (%v); want Unavailable", got, err)
	}
	var pe *bitbucketserverscm.PartialCommitError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *PartialCommitError", err)
	}
	if pe.Branch != spec.Branch || pe.Committed != 5 || pe.Total != 10 || pe.Failed != "gen/f06.txt" {
		t.Errorf("PartialCommitError = %+v; want branch %s, 5 of 10 committed, gen/f06.txt failed", pe, spec.Branch)
	}
	for _, want := range []string{`branch "gen/partial"`, "5 of 10 files committed", "gen/f06.txt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	base, _ := e.fake.Commits(project, scmtest.BasicRepo, "main")
	onBranch, _ := e.fake.Commits(project, scmtest.BasicRepo, spec.Branch)
	if n := len(onBranch) - len(base); n != 5 {
		t.Errorf("branch holds %d new commits; want 5", n)
	}
	if prs := e.fake.PullRequests(project, scmtest.BasicRepo); len(prs) != 0 {
		t.Errorf("pull requests after the failure: %+v; want none", prs)
	}

	e.fake.ClearFaults()
	before := e.requests()
	pr, err := e.c.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatalf("OpenPullRequest again: %v", err)
	}
	onBranch, _ = e.fake.Commits(project, scmtest.BasicRepo, spec.Branch)
	if n := len(onBranch) - len(base); n != 10 {
		t.Errorf("branch holds %d new commits after resuming; want 10 (one per file, none twice)", n)
	}
	files, _ := e.fake.Files(project, scmtest.BasicRepo, spec.Branch)
	got := 0
	for _, f := range files {
		if strings.HasPrefix(f.Path, "gen/") {
			got++
		}
	}
	if got != 10 || pr.Existing {
		t.Errorf("after resuming: %d generated files, pull request %+v; want 10 files and a new pull request", got, pr)
	}
	// default branch, find the branch, look for a pull request, 5 × (409 +
	// read back), 5 PUTs, open the pull request
	if n := e.requests() - before; n != 19 {
		t.Errorf("resuming made %d requests; want 19", n)
	}
}

// TestPullRequestFailsAfterCommits: when every file is committed but the
// pull request cannot be opened, the error keeps the failure's code and
// names the branch and its head commit; running OpenPullRequest again
// commits nothing and opens the pull request.
func TestPullRequestFailsAfterCommits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   fake.Fault
		want    scm.ErrorCode
		retryAt bool
	}{
		{name: "server error", fault: fake.Fault{Kind: scmtest.FaultServerError}, want: scm.Unavailable},
		// The rate limit outlasts the client's wait: the error comes from
		// the portable client's transport, not from an answer.
		{name: "rate limited", fault: fake.Fault{Kind: scmtest.FaultRateLimit, RetryAfter: time.Hour},
			want: scm.RateLimited, retryAt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			f := tc.fault
			f.Method, f.Path = http.MethodPost, "/projects/"+project+"/repos/"+scmtest.BasicRepo+"/pull-requests"
			e.fake.Inject(f)
			spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "main", Branch: "gen/no-pr",
				Title: "Generated", Changes: tenChanges("gen")}
			_, err := e.c.OpenPullRequest(t.Context(), spec)
			head, ok := e.fake.Branch(project, scmtest.BasicRepo, spec.Branch)
			if !ok {
				t.Fatalf("OpenPullRequest: %v; the branch was not created", err)
			}
			if got := scm.Code(err); got != tc.want {
				t.Errorf("code %v (%v); want %v", got, err, tc.want)
			}
			var pe *bitbucketserverscm.PartialCommitError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PartialCommitError", err)
			}
			if pe.Branch != spec.Branch || pe.Committed != 10 || pe.Total != 10 || pe.Failed != "" || pe.Head != head {
				t.Errorf("PartialCommitError = %+v; want branch %s, 10 of 10 committed, no failed file, head %s", pe, spec.Branch, head)
			}
			for _, want := range []string{`branch "gen/no-pr"`, "all 10 files committed but the pull request was not opened",
				"branch head " + head} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if at, ok := errcode.RetryAt(err); ok != tc.retryAt {
				t.Errorf("RetryAt %v, %v; want set: %v", at, ok, tc.retryAt)
			}
			if prs := e.fake.PullRequests(project, scmtest.BasicRepo); len(prs) != 0 {
				t.Errorf("pull requests after the failure: %+v; want none", prs)
			}

			e.fake.ClearFaults()
			pr, err := e.c.OpenPullRequest(t.Context(), spec)
			if err != nil {
				t.Fatalf("OpenPullRequest again: %v", err)
			}
			if now, _ := e.fake.Branch(project, scmtest.BasicRepo, spec.Branch); now != head {
				t.Errorf("branch head %s after running again; want %s (nothing committed twice)", now, head)
			}
			if prs := e.fake.PullRequests(project, scmtest.BasicRepo); len(prs) != 1 || pr.Existing {
				t.Errorf("after running again: %+v, pull requests %+v; want one new pull request", pr, prs)
			}
		})
	}
}

// TestPullRequestBudget: 10 files on a new branch cost 13 requests with an
// explicit base, 14 from the default branch (the documented budget).
func TestPullRequestBudget(t *testing.T) {
	e := newEnv(t, "/bitbucket")
	for _, tc := range []struct {
		name string
		base string
		want int
	}{
		{"explicit base", "main", 13},
		{"default base", "", 14},
	} {
		t.Run(tc.name, func(t *testing.T) {
			branch := "budget/" + strings.ReplaceAll(tc.name, " ", "-")
			before := e.requests()
			pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: tc.base,
				Branch: branch, Title: "Generated", Changes: tenChanges(branch)})
			if err != nil {
				t.Fatal(err)
			}
			if n := e.requests() - before; n != tc.want {
				t.Errorf("OpenPullRequest with 10 files on a new branch made %d requests; want %d", n, tc.want)
			}
			if pr.Existing || pr.Base != "main" {
				t.Errorf("OpenPullRequest = %+v; want a new pull request into main", pr)
			}
		})
	}
}

// TestDraft: the Draft flag reaches Bitbucket, and only when set.
func TestDraft(t *testing.T) {
	e := newEnv(t, "")
	for _, draft := range []bool{true, false} {
		t.Run(fmt.Sprintf("draft=%v", draft), func(t *testing.T) {
			pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo),
				Branch: fmt.Sprintf("draft/%v", draft), Title: "Work in progress", Draft: draft,
				Changes: []scm.Change{{Path: "wip.txt", Content: []byte("wip\n")}}})
			if err != nil {
				t.Fatal(err)
			}
			var got *fakebitbucketserver.PullRequest
			for _, p := range e.fake.PullRequests(project, scmtest.BasicRepo) {
				if p.ID == pr.Number {
					got = &p
				}
			}
			if got == nil || got.Draft != draft {
				t.Errorf("pull request %d in the fake: %+v; want Draft %v", pr.Number, got, draft)
			}
		})
	}
}

// racyPulls hides open pull requests from the driver's lookup, as if one
// had been opened between the lookup and the creation.
type racyPulls struct{ base http.RoundTripper }

func (r racyPulls) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/pull-requests") {
		body := `{"size":0,"limit":100,"isLastPage":true,"values":[],"start":0}`
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: req, ContentLength: int64(len(body))}, nil
	}
	return r.base.RoundTrip(req)
}

// TestDuplicateConflict: when the pull request appears between the
// lookup and the creation, Bitbucket's 409 DuplicatePullRequestException
// carries the existing pull request, which is returned.
func TestDuplicateConflict(t *testing.T) {
	e := newEnv(t, "")
	first, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Branch: "dup",
		Title: "First", Changes: []scm.Change{{Path: "a.txt", Content: []byte("a\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	d, hc := driverFor(t, e.fake, nil)
	hc.Transport = racyPulls{hc.Transport}
	pr, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
		Base: "main", Branch: "dup", Title: "Second", CommitMessage: "Second",
		Changes: []driver.Change{{Path: "b.txt", Content: []byte("b\n")}}})
	if err != nil {
		t.Fatalf("OpenPullRequest: %v", err)
	}
	if !pr.Existing || pr.Number != first.Number || pr.URL != first.URL {
		t.Errorf("OpenPullRequest = %+v; want the existing pull request %d (%s) with Existing set", pr, first.Number, first.URL)
	}
	if n := len(e.fake.PullRequests(project, scmtest.BasicRepo)); n != 1 {
		t.Errorf("%d pull requests; want 1", n)
	}
}

func TestChangeChecks(t *testing.T) {
	e := newEnv(t, "")
	for _, tc := range []struct {
		name    string
		changes []scm.Change
		want    scm.ErrorCode
		noReqs  bool
	}{
		{"delete", []scm.Change{{Path: "README.md", Action: scm.Delete}}, scm.Unimplemented, true},
		{"executable", []scm.Change{{Path: "run.sh", Content: []byte("#!/bin/sh\n"), Executable: true}}, scm.Unimplemented, true},
		{"update of a missing file", []scm.Change{{Path: "nope.txt", Action: scm.Update, Content: []byte("x")}}, scm.NotFound, false},
		{"update of a directory", []scm.Change{{Path: "docs", Action: scm.Update, Content: []byte("x")}}, scm.InvalidArgument, false},
		{"create of an existing file", []scm.Change{{Path: "README.md", Action: scm.Create, Content: []byte("other\n")}}, scm.AlreadyExists, false},
		{"nothing changes", []scm.Change{{Path: "README.md", Content: scmtest.Basic().File("README.md").Content}}, scm.Conflict, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.requests()
			_, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo),
				Branch: "checks/" + strings.ReplaceAll(tc.name, " ", "-"), Title: tc.name, Changes: tc.changes})
			if got := scm.Code(err); got != tc.want {
				t.Errorf("code %v (%v); want %v", got, err, tc.want)
			}
			if n := e.requests() - before; tc.noReqs && n != 0 {
				t.Errorf("%d requests; want 0", n)
			}
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	e := newEnv(t, "")
	for _, tc := range []struct {
		name string
		url  string
		want scm.ErrorCode
		reqs int
	}{
		{"missing repository", e.fileURL(scmtest.MissingRepo, "", "README.md"), scm.NotFound, 1},
		{"missing ref", e.fileURL(scmtest.BasicRepo, "nope", "README.md"), scm.NotFound, 1},
		{"missing file", e.fileURL(scmtest.BasicRepo, "", "nope.md"), scm.NotFound, 2},
		{"directory", e.fileURL(scmtest.BasicRepo, "", "docs"), scm.InvalidArgument, 2},
		{"missing project", e.fake.URL() + "/projects/NOPE/repos/basic/browse/README.md", scm.NotFound, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.requests()
			_, err := e.c.ReadFile(t.Context(), tc.url, nil)
			if got := scm.Code(err); got != tc.want {
				t.Errorf("code %v (%v); want %v", got, err, tc.want)
			}
			if n := e.requests() - before; n != tc.reqs {
				t.Errorf("%d requests; want %d", n, tc.reqs)
			}
		})
	}
}

func TestListFilesTruncated(t *testing.T) {
	e := newEnv(t, "")
	repo := driver.Repo{Owner: project, Name: scmtest.BasicRepo}
	for _, tc := range []struct {
		name      string
		opts      *bitbucketserverscm.Options
		dir       string
		want      int
		truncated bool
	}{
		{"one page", nil, "", len(scmtest.Basic().Files), false},
		{"several pages", &bitbucketserverscm.Options{FilesPageSize: 2}, "templates", len(scmtest.Basic().Under("templates")), false},
		{"too many pages", &bitbucketserverscm.Options{FilesPageSize: 2, MaxFilePages: 2}, "", 4, true},
		{"missing directory", nil, "no/such/dir", 0, false},
		{"a file", nil, "README.md", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, hc := driverFor(t, e.fake, tc.opts)
			l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: repo, Dir: tc.dir})
			if err != nil {
				t.Fatalf("ListFiles: %v", err)
			}
			if len(l.Paths) != tc.want || l.Truncated != tc.truncated {
				t.Errorf("ListFiles = %d paths (%v), truncated %v; want %d, truncated %v", len(l.Paths), l.Paths, l.Truncated, tc.want, tc.truncated)
			}
			for _, p := range l.Paths {
				if tc.dir != "" && !strings.HasPrefix(p, tc.dir+"/") {
					t.Errorf("path %q is not repository-relative under %q", p, tc.dir)
				}
			}
		})
	}
	d, hc := driverFor(t, e.fake, nil)
	_, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: project, Name: scmtest.MissingRepo}})
	if got := d.ErrorInfo(err).Code; got != errcode.NotFound {
		t.Errorf("ListFiles of a missing repository: code %v (%v); want NotFound", got, err)
	}
}

func TestListRepositoriesPages(t *testing.T) {
	e := newEnv(t, "")
	for i := range 7 {
		if _, err := e.fake.AddRepo(fakebitbucketserver.Repo{Project: project, Name: fmt.Sprintf("extra %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	before := e.requests()
	var names []string
	for r, err := range e.c.ListRepositories(t.Context(), e.fake.URL()+"/projects/"+project, &scm.ListRepositoriesOptions{PageSize: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, r.Name)
		if !strings.HasPrefix(r.WebURL, e.fake.URL()+"/projects/ACME/repos/") || !r.Private {
			t.Errorf("repository %+v: want a private repository with a web URL under the project", r)
		}
		// Bitbucket names the caller in the HTTP clone link; the
		// repository, shared with every user of the catalog, must not.
		if !strings.HasPrefix(r.CloneURL, e.fake.URL()+"/scm/") {
			t.Errorf("repository %s: clone URL %q; want %s/scm/... without the caller's name", r.Name, r.CloneURL, e.fake.URL())
		}
	}
	if len(names) != 10 {
		t.Errorf("ListRepositories = %v; want 10 repositories", names)
	}
	if n := e.requests() - before; n != 4 {
		t.Errorf("listing 10 repositories 3 per page made %d requests; want 4", n)
	}
}

func TestErrorInfo(t *testing.T) {
	d, err := bitbucketserverscm.New(&integrations.Integration{Kind: integrations.BitbucketServer, Host: "bb.example.com",
		APIBaseURL: "https://bb.example.com/bitbucket/rest/api/1.0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	apiErr := func(status int, exc string) error {
		return &bitbucketserverscm.APIError{Method: "GET", Path: "/x", Status: status, User: "alice",
			Errors: []bitbucketserverscm.ErrorMessage{{Message: "m", ExceptionName: exc}}}
	}
	anonymous := &bitbucketserverscm.APIError{Method: "GET", Path: "/x", Status: 401,
		Errors: []bitbucketserverscm.ErrorMessage{{Message: "m", ExceptionName: "com.atlassian.bitbucket.AuthorisationException"}}}
	for _, tc := range []struct {
		name string
		err  error
		want errcode.Code
	}{
		{"304", apiErr(304, ""), errcode.NotModified},
		{"400", apiErr(400, "com.atlassian.bitbucket.validation.ArgumentValidationException"), errcode.InvalidArgument},
		{"401", apiErr(401, "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"), errcode.Unauthorized},
		{"403", apiErr(403, "com.atlassian.bitbucket.AuthorisationException"), errcode.PermissionDenied},
		{"401 not permitted", apiErr(401, "com.atlassian.bitbucket.AuthorisationException"), errcode.PermissionDenied},
		{"401 anonymous", anonymous, errcode.Unauthorized},
		{"404", apiErr(404, "com.atlassian.bitbucket.repository.NoSuchRepositoryException"), errcode.NotFound},
		{"409 duplicate pull request", apiErr(409, "com.atlassian.bitbucket.pull.DuplicatePullRequestException"), errcode.AlreadyExists},
		{"409 duplicate ref", apiErr(409, "com.atlassian.bitbucket.repository.DuplicateRefException"), errcode.AlreadyExists},
		{"409 other", apiErr(409, "com.atlassian.bitbucket.content.FileContentModifiedException"), errcode.Conflict},
		{"429", apiErr(429, ""), errcode.RateLimited},
		{"500", apiErr(500, ""), errcode.Unavailable},
		{"418", apiErr(418, ""), errcode.InvalidArgument},
		{"partial commit", &bitbucketserverscm.PartialCommitError{Branch: "b", Committed: 1, Total: 2, Failed: "x", Err: apiErr(409, "")}, errcode.Conflict},
		{"transport error", &errcode.Error{Code: errcode.Unavailable}, errcode.Unavailable},
		{"other", errors.New("boom"), errcode.Unknown},
		{"nil", nil, errcode.OK},
	} {
		if got := d.ErrorInfo(tc.err).Code; got != tc.want {
			t.Errorf("%s: ErrorInfo(%v).Code = %v; want %v", tc.name, tc.err, got, tc.want)
		}
	}
	msg := apiErr(409, "com.atlassian.bitbucket.pull.EmptyPullRequestException").Error()
	if want := "GET /x: HTTP 409: m"; msg != want {
		t.Errorf("APIError.Error() = %q; want %q", msg, want)
	}
}

func TestNewRejects(t *testing.T) {
	for _, in := range []*integrations.Integration{
		nil,
		{Kind: integrations.GitHub, Host: "github.com"},
		{Kind: integrations.BitbucketServer, Host: "bb", APIBaseURL: "ftp://bb/rest/api/1.0"},
	} {
		if _, err := bitbucketserverscm.New(in, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("New(%+v): %v; want InvalidArgument", in, err)
		}
	}
}

func TestReadTreeContextPath(t *testing.T) {
	e := newEnv(t, "/bitbucket")
	before := e.requests()
	fsys, err := e.c.ReadTree(t.Context(), e.repoURL(scmtest.BasicRepo)+"/browse/templates/service/?at=main", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.requests() - before; n != 1 {
		t.Errorf("ReadTree made %d requests; want 1", n)
	}
	got := adaptertest.FilePaths(t, fsys)
	if diff := cmp.Diff(scmtest.Basic().Under("templates/service"), got); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	reqs := e.fake.Requests()
	last := reqs[len(reqs)-1].Path
	if !strings.HasPrefix(last, "/bitbucket/rest/api/1.0/projects/ACME/repos/basic/archive?") || !strings.Contains(last, "path=templates%2Fservice") {
		t.Errorf("archive request %s; want the server-side subdirectory under the context path", last)
	}
}

// TestListFilesNoWayForward checks that a files page that is not the last
// but names no later nextPageStart (a proxy that drops "start", a server
// bug) gives a Truncated list, so that the portable client reads the tree,
// rather than a cut list that passes for complete; such a page of
// repositories is an error, not the end of the listing.
func TestListFilesNoWayForward(t *testing.T) {
	for _, tc := range []struct {
		name, next string
	}{
		{"same start", `"nextPageStart": 0,`},
		{"no nextPageStart", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				pages++
				w.Header().Set("Content-Type", "application/json;charset=UTF-8")
				values := `["a.txt"]`
				if strings.HasSuffix(r.URL.Path, "/repos") {
					values = `[{"slug": "r", "project": {"key": "ACME"}}]`
				}
				fmt.Fprintf(w, `{"size": 1, "limit": 1, "isLastPage": false, %s "start": 0, "values": %s}`, tc.next, values)
			}))
			t.Cleanup(srv.Close)
			u, _ := url.Parse(srv.URL)
			in := adaptertest.Integration(t, integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
				Host: u.Host, APIBaseURL: srv.URL + "/rest/api/1.0", Token: integrations.NewSecret(goodToken)}}}, u.Host)
			d, err := bitbucketserverscm.New(in, nil)
			if err != nil {
				t.Fatal(err)
			}
			l, err := d.ListFiles(t.Context(), srv.Client(), &driver.ListFilesRequest{Repo: driver.Repo{Owner: project, Name: "r"}})
			if err != nil || !l.Truncated || len(l.Paths) != 1 || pages != 1 {
				t.Errorf("ListFiles = %+v, %v after %d pages; want [a.txt], Truncated, after 1 page", l, err, pages)
			}
			page, err := d.ListRepositories(t.Context(), srv.Client(), &driver.ListRepositoriesRequest{Owner: project})
			if err == nil || d.ErrorInfo(err).Code != errcode.Unknown {
				t.Errorf("ListRepositories = %+v, %v; want an error classified Unknown (a listing cut short)", page, err)
			}
		})
	}
}
