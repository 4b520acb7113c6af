package bitbucketcloudscm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

const accessToken = "bbc-access-token-3c4d"

// env is a fake with the conformance world and a client for it.
type env struct {
	fake *fakebitbucketcloud.Server
	c    *scm.Client
}

func newEnv(t testing.TB, opts *fakebitbucketcloud.Options, cfg integrations.BitbucketCloudConfig) *env {
	t.Helper()
	fake := newWorld(t, opts)
	if cfg.Username == "" && cfg.Token.IsZero() && cfg.ClientID == "" {
		cfg = integrations.BitbucketCloudConfig{Username: user, Token: integrations.NewSecret(goodToken)}
	}
	c, tr := clientFor(t, fake, cfg)
	t.Cleanup(func() {
		fake.Close()
		tr.CloseIdleConnections()
	})
	return &env{fake: fake, c: c}
}

func (e *env) requests() int {
	st := e.fake.Stats()
	return st.API + st.Web
}

func (e *env) repoURL(repo string) string { return e.fake.URL() + "/" + workspace + "/" + repo }

// fileURL is the web URL of a file; a ref with "/" is named by the "at"
// query parameter too, as integrations.Registry.URL writes it.
func (e *env) fileURL(repo, ref, p string) string {
	u := e.repoURL(repo) + "/src/" + httpx.EscapePath(ref) + "/" + httpx.EscapePath(p)
	if strings.Contains(ref, "/") {
		u += "?at=" + url.QueryEscape(ref)
	}
	return u
}

// driverFor returns the driver and a *http.Client presenting the access
// token, for tests that call the driver directly.
func driverFor(t testing.TB, fake *fakebitbucketcloud.Server, opts *bitbucketcloudscm.Options) (*bitbucketcloudscm.Driver, *http.Client) {
	t.Helper()
	in := adaptertest.Integration(t, integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Token: integrations.NewSecret(accessToken)}}}, fake.Host())
	d, err := bitbucketcloudscm.New(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, adaptertest.BearerClient(t, accessToken)
}

var basicRepo = driver.Repo{Owner: workspace, Name: scmtest.BasicRepo}

// TestContextReachesGoBitbucket: go-bitbucket drops contexts, yet a call
// through it stops at the deadline and leaves no goroutine behind.
func TestContextReachesGoBitbucket(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	d, hc := driverFor(t, fake, nil)
	before := runtime.NumGoroutine()
	// The fake answers after 5 s: a call that returns well before that
	// (the threshold leaves room for a loaded machine) stopped at its
	// deadline, not at the answer.
	fake.Inject(fakekit.Fault{Kind: scmtest.FaultSlow, Delay: 5 * time.Second})
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Repository.Get (ReadTree without ref)", func(ctx context.Context) error {
			_, err := d.ReadTree(ctx, hc, &driver.TreeRequest{Repo: basicRepo})
			return err
		}},
		{"PullRequests.Create", func(ctx context.Context) error {
			// Base and changes chosen so that the first request is
			// go-bitbucket's: the main branch lookup of a Create check.
			_, err := d.OpenPullRequest(ctx, hc, &driver.PullRequestRequest{Repo: basicRepo, Branch: "slow", Title: "t",
				CommitMessage: "t", Changes: []driver.Change{{Path: "x.txt", Action: driver.Create, Content: []byte("x")}}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tc.call(ctx)
			took := time.Since(start)
			if got := d.ErrorInfo(err).Code; got != errcode.DeadlineExceeded {
				t.Errorf("code %v (%v); want DeadlineExceeded", got, err)
			}
			if took > 2*time.Second {
				t.Errorf("returned after %v; want at the 200ms deadline, long before the fake's 5s answer", took)
			}
		})
	}
	fake.ClearFaults()
	hc.CloseIdleConnections()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the calls; want at most %d", n, before)
	}
}

func TestCredentialKinds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   *fakebitbucketcloud.Options
		cfg    integrations.BitbucketCloudConfig
		grants int
	}{
		{"API token (Basic)", nil, integrations.BitbucketCloudConfig{Username: user, Token: integrations.NewSecret(goodToken)}, 0},
		{"access token (Bearer)", &fakebitbucketcloud.Options{Tokens: []string{accessToken}},
			integrations.BitbucketCloudConfig{Token: integrations.NewSecret(accessToken)}, 0},
		{"OAuth consumer", &fakebitbucketcloud.Options{Consumers: map[string]string{"consumer-key": "consumer-secret"}},
			integrations.BitbucketCloudConfig{ClientID: "consumer-key", ClientSecret: integrations.NewSecret("consumer-secret")}, 1},
		{"app password (legacy)", &fakebitbucketcloud.Options{Users: map[string]string{"legacy-user": "app-pass"}},
			integrations.BitbucketCloudConfig{Username: "legacy-user", AppPassword: integrations.NewSecret("app-pass")}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts, tc.cfg)
			for range 3 {
				f, err := e.c.ReadFile(t.Context(), e.fileURL(scmtest.BasicRepo, "main", "README.md"), nil)
				if err != nil {
					t.Fatalf("ReadFile: %v", err)
				}
				if want := scmtest.Basic().File("README.md").Content; !bytes.Equal(f.Content, want) {
					t.Errorf("content %q; want %q", f.Content, want)
				}
			}
			if _, err := e.c.ReadTree(t.Context(), e.repoURL(scmtest.BasicRepo)+"/src/main/templates/", nil); err != nil {
				t.Errorf("ReadTree: %v", err)
			}
			if n := e.fake.Stats().TokenGrants; n != tc.grants {
				t.Errorf("%d OAuth token grants for 4 calls; want %d", n, tc.grants)
			}
		})
	}
}

// TestArchiveRefusesBearer: when the web host refuses an access token for
// the archive (BCLOUD-23783), ReadTree reads the tree through the API.
func TestArchiveRefusesBearer(t *testing.T) {
	e := newEnv(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}, ArchiveRefusesBearer: true},
		integrations.BitbucketCloudConfig{Token: integrations.NewSecret(accessToken)})
	before := e.requests()
	fsys, err := e.c.ReadTree(t.Context(), e.repoURL(scmtest.BasicRepo)+"/src/main/templates/service/", nil)
	if err != nil {
		t.Fatalf("ReadTree: %v", err)
	}
	want := scmtest.Basic().Under("templates/service")
	var got []string
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, p)
			info, _ := d.Info()
			if exec := info.Mode()&0o111 != 0; exec != strings.HasSuffix(p, ".sh") {
				t.Errorf("%s: executable = %v", p, exec)
			}
		}
		return err
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	// archive (403) + listing + one read per file
	if n, wantN := e.requests()-before, 2+len(want); n != wantN {
		t.Errorf("ReadTree made %d requests; want %d", n, wantN)
	}
}

// TestNames covers repository names versus slugs, a workspace in upper
// case, a branch with "/", and paths with spaces and non-ASCII characters.
func TestNames(t *testing.T) {
	e := newEnv(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}}, integrations.BitbucketCloudConfig{})
	if _, err := e.fake.AddRepo(fakebitbucketcloud.Repo{Workspace: workspace, Slug: "my-service", Name: "My Service",
		Files: []fakekit.File{{Path: "docs/read me.md", Content: []byte("spaces\n")}, {Path: "docs/ünï ✓.txt", Content: []byte("unicode\n")}}}); err != nil {
		t.Fatal(err)
	}
	d, hc := driverFor(t, e.fake, nil)
	for _, tc := range []struct {
		name string
		repo driver.Repo
		ref  string
		path string
		want string
	}{
		{"name instead of slug", driver.Repo{Owner: workspace, Name: "My Service"}, "main", "docs/read me.md", "spaces\n"},
		{"upper-case workspace", driver.Repo{Owner: "ACME", Name: "my-service"}, "main", "docs/ünï ✓.txt", "unicode\n"},
		{"no ref", driver.Repo{Owner: workspace, Name: "my-service"}, "", "docs/read me.md", "spaces\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: tc.repo, Ref: tc.ref, Path: tc.path, MaxBytes: 1 << 20})
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if string(f.Content) != tc.want {
				t.Errorf("content %q; want %q", f.Content, tc.want)
			}
		})
	}

	spec := &scm.PullRequestSpec{RepoURL: e.repoURL("my-service"), Branch: "feature/unicode paths", Title: "Paths",
		Changes: []scm.Change{
			{Path: "docs/read me.md", Action: scm.Update, Content: []byte("updated\n")},
			{Path: "new dir/ünï ✓.yaml", Action: scm.Create, Content: []byte("kind: x\n")},
			{Path: "docs/ünï ✓.txt", Action: scm.Delete},
		}}
	spec.Branch = "feature/unicode-paths"
	pr, err := e.c.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatalf("OpenPullRequest: %v", err)
	}
	if pr.Existing || pr.Branch != spec.Branch || pr.Base != "main" {
		t.Errorf("OpenPullRequest = %+v; want a new pull request from %s to main", pr, spec.Branch)
	}
	for _, ch := range spec.Changes {
		f, err := e.c.ReadFile(t.Context(), e.fileURL("my-service", spec.Branch, ch.Path), nil)
		if ch.Action == scm.Delete {
			if scm.Code(err) != scm.NotFound {
				t.Errorf("deleted %s: %v; want NotFound", ch.Path, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(f.Content, ch.Content) {
			t.Errorf("%s on %s: %v %q; want %q", ch.Path, spec.Branch, err, f, ch.Content)
		}
	}
	var escaped bool
	for _, r := range e.fake.Requests() {
		if strings.Contains(r.Path, "/src/feature%2Funicode-paths/") {
			escaped = true
		}
	}
	if !escaped {
		t.Error("no request named the branch with its slash escaped in /src/{ref}/")
	}
}

// tenChanges writes ten text files under prefix.
func tenChanges(prefix string) []scm.Change { return adaptertest.TextChanges(prefix, 10) }

// TestOneCommit: ten changes are one commit, made by one POST /src that
// also creates the branch.
func TestOneCommit(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	before := e.requests()
	pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "main",
		Branch: "gen/ten", Title: "Ten files", Changes: tenChanges("gen")})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.requests() - before; n != 3 {
		t.Errorf("OpenPullRequest made %d requests; want 3", n)
	}
	base, _ := e.fake.Commits(workspace, scmtest.BasicRepo, "main")
	got, _ := e.fake.Commits(workspace, scmtest.BasicRepo, "gen/ten")
	if len(got) != len(base)+1 || got[0] != pr.CommitID || got[1] != base[0] {
		t.Errorf("commits on gen/ten = %v (pull request commit %s); want one commit on top of %s", got, pr.CommitID, base[0])
	}
}

// TestExistingBranch: the changes go on top of a branch that already has
// other commits.
func TestExistingBranch(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	other, err := e.fake.Commit(workspace, scmtest.BasicRepo, "topic", fakebitbucketcloud.Commit{Message: "earlier",
		Files: []fakekit.File{{Path: "earlier.txt", Content: []byte("earlier\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Branch: "topic",
		Title: "More", Changes: []scm.Change{{Path: "later.txt", Content: []byte("later\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.fake.Commits(workspace, scmtest.BasicRepo, "topic")
	if pr.Existing || got[0] != pr.CommitID || got[1] != other {
		t.Errorf("pull request %+v, commits %v; want a new pull request whose commit follows %s", pr, got, other)
	}
}

// movingBranch commits to the branch right after the driver's branch
// lookup, as a concurrent writer would.
type movingBranch struct {
	base http.RoundTripper
	fake *fakebitbucketcloud.Server
}

func (m movingBranch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := m.base.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, "/refs/branches") {
		m.fake.Commit(workspace, scmtest.BasicRepo, "race", fakebitbucketcloud.Commit{Message: "concurrent",
			Files: []fakekit.File{{Path: "other.txt", Content: []byte("x")}}})
	}
	return resp, err
}

func TestBranchMoved(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	if _, err := fake.Commit(workspace, scmtest.BasicRepo, "race", fakebitbucketcloud.Commit{Message: "start"}); err != nil {
		t.Fatal(err)
	}
	d, hc := driverFor(t, fake, nil)
	hc.Transport = movingBranch{base: hc.Transport, fake: fake}
	_, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: basicRepo, Base: "main", Branch: "race",
		Title: "t", CommitMessage: "t", Changes: []driver.Change{{Path: "mine.txt", Content: []byte("mine")}}})
	if got := d.ErrorInfo(err).Code; got != errcode.Conflict {
		t.Errorf("code %v (%v); want Conflict", got, err)
	}
}

// TestPullRequestFailureNamesBranch: when the pull request cannot be
// opened after the commit, the error keeps the failure's code and names
// the branch that holds the commit and its id; running OpenPullRequest
// again opens it.
func TestPullRequestFailureNamesBranch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		base    string
		fault   fakekit.Fault
		want    scm.ErrorCode
		into    string
		retryAt bool
	}{
		{name: "server error", base: "main", fault: fakekit.Fault{Kind: scmtest.FaultServerError},
			want: scm.Unavailable, into: `into "main"`},
		{name: "bad gateway, default base", fault: fakekit.Fault{Kind: scmtest.FaultServerError, Status: http.StatusBadGateway},
			want: scm.Unavailable, into: "into the main branch"},
		// The rate limit outlasts the client's wait: the error comes from
		// the portable client's transport, not from an answer.
		{name: "rate limited", base: "main", fault: fakekit.Fault{Kind: scmtest.FaultRateLimit, RetryAfter: time.Hour},
			want: scm.RateLimited, into: `into "main"`, retryAt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
			f := tc.fault
			f.Method, f.Path = http.MethodPost, "/2.0/repositories/"+workspace+"/"+scmtest.BasicRepo+"/pullrequests"
			e.fake.Inject(f)
			spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: tc.base, Branch: "gen/no-pr",
				Title: "Generated", Changes: tenChanges("gen")}
			_, err := e.c.OpenPullRequest(t.Context(), spec)
			commit, ok := e.fake.Branch(workspace, scmtest.BasicRepo, spec.Branch)
			if !ok {
				t.Fatalf("OpenPullRequest: %v; the branch was not created", err)
			}
			if got := scm.Code(err); got != tc.want {
				t.Errorf("code %v (%v); want %v", got, err, tc.want)
			}
			for _, want := range []string{`branch "gen/no-pr"`, "commit " + commit, tc.into, "could not be opened"} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v does not say %q", err, want)
				}
			}
			if at, ok := errcode.RetryAt(err); ok != tc.retryAt {
				t.Errorf("RetryAt %v, %v; want set: %v", at, ok, tc.retryAt)
			}
			if strings.Contains(err.Error(), goodToken) {
				t.Errorf("error %v holds the token", err)
			}
			if prs := e.fake.PullRequests(workspace, scmtest.BasicRepo); len(prs) != 0 {
				t.Errorf("pull requests after the failure: %+v; want none", prs)
			}

			e.fake.ClearFaults()
			pr, err := e.c.OpenPullRequest(t.Context(), spec)
			if err != nil {
				t.Fatalf("OpenPullRequest again: %v", err)
			}
			if prs := e.fake.PullRequests(workspace, scmtest.BasicRepo); len(prs) != 1 || pr.Existing || prs[0].Source != spec.Branch {
				t.Errorf("after running again: %+v, pull requests %+v; want one new pull request from %s", pr, prs, spec.Branch)
			}
		})
	}
}

// TestDraft: the Draft flag reaches Bitbucket, and only when set.
func TestDraft(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	for _, draft := range []bool{true, false} {
		t.Run(fmt.Sprintf("draft=%v", draft), func(t *testing.T) {
			pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo),
				Branch: fmt.Sprintf("draft/%v", draft), Title: "Work in progress", Draft: draft,
				Changes: []scm.Change{{Path: "wip.txt", Content: []byte("wip\n")}}})
			if err != nil {
				t.Fatal(err)
			}
			var got *fakebitbucketcloud.PullRequest
			for _, p := range e.fake.PullRequests(workspace, scmtest.BasicRepo) {
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

func TestChangeChecks(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	for _, tc := range []struct {
		name    string
		changes []scm.Change
		want    scm.ErrorCode
	}{
		{"create of an existing file", []scm.Change{{Path: "README.md", Action: scm.Create, Content: []byte("x")}}, scm.AlreadyExists},
		{"update of a missing file", []scm.Change{{Path: "nope.txt", Action: scm.Update, Content: []byte("x")}}, scm.NotFound},
		{"delete of a missing file", []scm.Change{{Path: "nope.txt", Action: scm.Delete}}, scm.NotFound},
		{"update of a directory", []scm.Change{{Path: "docs", Action: scm.Update, Content: []byte("x")}}, scm.InvalidArgument},
		{"missing base", nil, scm.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Branch: "checks/x", Title: "t", Changes: tc.changes}
			if tc.changes == nil {
				spec.Base, spec.Changes = "no-such-base", []scm.Change{{Path: "a.txt", Content: []byte("a")}}
			}
			_, err := e.c.OpenPullRequest(t.Context(), spec)
			if got := scm.Code(err); got != tc.want {
				t.Errorf("code %v (%v); want %v", got, err, tc.want)
			}
			if _, ok := e.fake.Branch(workspace, scmtest.BasicRepo, "checks/x"); ok {
				t.Error("a refused change created the branch")
			}
		})
	}
}

// TestFindFilesSearchDisabled: in a workspace without code search the
// driver's FindFiles fails with Unimplemented, and the portable client,
// with the default Options (not NoCodeSearch), falls back to reading the
// file in each repository.
func TestFindFilesSearchDisabled(t *testing.T) {
	e := newEnv(t, &fakebitbucketcloud.Options{SearchDisabled: true, Tokens: []string{accessToken}}, integrations.BitbucketCloudConfig{})
	d, hc := driverFor(t, e.fake, nil)
	_, err := d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: workspace, Path: "catalog-info.yaml"})
	if got := d.ErrorInfo(err).Code; got != errcode.Unimplemented {
		t.Errorf("FindFiles without code search: code %v (%v); want Unimplemented", got, err)
	}
	_, err = d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "no-such-workspace", Path: "catalog-info.yaml"})
	if got := d.ErrorInfo(err).Code; got != errcode.NotFound {
		t.Errorf("FindFiles in a missing workspace: code %v (%v); want NotFound", got, err)
	}

	before := e.fake.Stats().API
	var found []string
	for f, err := range e.c.FindFiles(t.Context(), e.fake.URL()+"/"+workspace, "catalog-info.yaml") {
		if err != nil {
			t.Fatalf("FindFiles: %v; want the per-repository fallback", err)
		}
		if f.Method != scm.FoundByReadFile || f.File == nil || len(f.File.Content) == 0 {
			t.Errorf("%s: Method %v, File %v; want FoundByReadFile with the content", f.Repository.Name, f.Method, f.File)
		}
		found = append(found, f.Repository.Name)
	}
	if diff := cmp.Diff([]string{scmtest.BasicRepo, scmtest.SecondRepo}, found); diff != "" {
		t.Errorf("FindFiles (-want +got):\n%s", diff)
	}
	// the refused search, one listing page, one read per repository
	if n, want := e.fake.Stats().API-before, 2+len(scmtest.World()); n != want {
		t.Errorf("FindFiles made %d API requests; want %d", n, want)
	}
	var searched bool
	for _, r := range e.fake.Requests() {
		searched = searched || strings.Contains(r.Path, "/search/code")
	}
	if !searched {
		t.Error("the portable client did not try code search first")
	}
}

// TestFindFilesPerRepository: with NoCodeSearch, discovery lists the
// repositories and reads the file in each, and the result says so.
func TestFindFilesPerRepository(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{SearchDisabled: true})
	defer fake.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	cfg := integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Username: user, Token: integrations.NewSecret(goodToken)}}}
	c := adaptertest.NewClient(t, cfg, &scm.Options{Transport: tr, Drivers: map[integrations.Kind]driver.Opener{
		integrations.BitbucketCloud: bitbucketcloudscm.Opener(&bitbucketcloudscm.Options{NoCodeSearch: true})}})
	var found []string
	for f, err := range c.FindFiles(t.Context(), fake.URL()+"/"+workspace, "catalog-info.yaml") {
		if err != nil {
			t.Fatal(err)
		}
		if f.Method != scm.FoundByReadFile || f.File == nil || len(f.File.Content) == 0 {
			t.Errorf("%s: Method %v, File %v; want FoundByReadFile with the content", f.Repository.Name, f.Method, f.File)
		}
		found = append(found, f.Repository.Name)
	}
	if diff := cmp.Diff([]string{scmtest.BasicRepo, scmtest.SecondRepo}, found); diff != "" {
		t.Errorf("FindFiles (-want +got):\n%s", diff)
	}
	// one listing page, one read per repository
	if st := fake.Stats(); st.API != 4 {
		t.Errorf("FindFiles made %d API requests; want 4", st.API)
	}
}

func TestListFiles(t *testing.T) {
	e := newEnv(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}}, integrations.BitbucketCloudConfig{})
	for _, tc := range []struct {
		name      string
		opts      *bitbucketcloudscm.Options
		repo      string
		dir       string
		want      []string
		truncated bool
		code      errcode.Code
	}{
		{name: "dir", repo: scmtest.BasicRepo, dir: "templates/service/skeleton",
			want: []string{"templates/service/skeleton/README.md", "templates/service/skeleton/catalog-info.yaml", "templates/service/skeleton/src/main.go"}},
		{name: "missing dir", repo: scmtest.BasicRepo, dir: "no/such/dir", want: []string{}},
		{name: "truncated", opts: &bitbucketcloudscm.Options{MaxFilePages: 2, PageLen: 2}, repo: scmtest.BasicRepo, truncated: true},
		{name: "missing repository", repo: scmtest.MissingRepo, dir: "docs", code: errcode.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, hc := driverFor(t, e.fake, tc.opts)
			l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: workspace, Name: tc.repo}, Ref: "main", Dir: tc.dir})
			if tc.code != errcode.OK {
				if got := d.ErrorInfo(err).Code; got != tc.code {
					t.Errorf("code %v (%v); want %v", got, err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.truncated {
				if !l.Truncated || len(l.Paths) > 4 {
					t.Errorf("ListFiles with 2 pages of 2 = %v, truncated %v; want at most 4 paths, truncated", l.Paths, l.Truncated)
				}
				return
			}
			if diff := cmp.Diff(tc.want, l.Paths); diff != "" || l.Truncated {
				t.Errorf("ListFiles (-want +got):\n%s truncated %v", diff, l.Truncated)
			}
		})
	}
}

func TestListRepositoriesPages(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	for i := range 247 {
		if _, err := e.fake.AddRepo(fakebitbucketcloud.Repo{Workspace: workspace, Slug: fmt.Sprintf("repo-%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	before := e.requests()
	n := 0
	for r, err := range e.c.ListRepositories(t.Context(), e.fake.URL()+"/"+workspace, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if r.CloneURL == "" || strings.Contains(r.CloneURL, "@") || r.WebURL == "" {
			t.Errorf("repository %+v: want a clone URL without user and a web URL", r)
		}
	}
	if n != 250 {
		t.Errorf("listed %d repositories; want 250", n)
	}
	if got := e.requests() - before; got != 3 {
		t.Errorf("listing 250 repositories made %d requests; want 3 (pagelen=100, next links)", got)
	}
	reqs := e.fake.Requests()
	if first := reqs[len(reqs)-3].Path; !strings.Contains(first, "pagelen=100") {
		t.Errorf("first page request %s; want pagelen=100", first)
	}
}

func TestErrorInfo(t *testing.T) {
	d, err := bitbucketcloudscm.New(&integrations.Integration{Kind: integrations.BitbucketCloud, Host: "bitbucket.org",
		APIBaseURL: "https://api.bitbucket.org/2.0", BaseURL: "https://bitbucket.org"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	api := func(status int, msg string) error {
		return &bitbucketcloudscm.APIError{Method: "GET", Path: "/x", Status: status, Message: msg}
	}
	for _, tc := range []struct {
		err  error
		want errcode.Code
	}{
		{api(304, ""), errcode.NotModified},
		{api(400, "Bad request"), errcode.InvalidArgument},
		{api(400, "There is already an open pull request from a to b."), errcode.AlreadyExists},
		{api(400, "There are no changes to be pulled"), errcode.Conflict},
		{api(401, "Token is invalid, expired, or not supported for this endpoint."), errcode.Unauthorized},
		{api(403, ""), errcode.PermissionDenied},
		{api(404, "Repository not found"), errcode.NotFound},
		{api(409, ""), errcode.Conflict},
		{api(429, "Rate limit for this resource has been exceeded"), errcode.RateLimited},
		{api(555, ""), errcode.Unavailable},
		{&errcode.Error{Code: errcode.RateLimited}, errcode.RateLimited},
		{context.DeadlineExceeded, errcode.DeadlineExceeded},
		{errors.New("boom"), errcode.Unknown},
		{nil, errcode.OK},
	} {
		if got := d.ErrorInfo(tc.err).Code; got != tc.want {
			t.Errorf("ErrorInfo(%v).Code = %v; want %v", tc.err, got, tc.want)
		}
	}
}

// TestForeignCursor: a page cursor that is not on the API base URL is
// refused before any request, so that it cannot send the credential to
// another host.
func TestForeignCursor(t *testing.T) {
	e := newEnv(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}}, integrations.BitbucketCloudConfig{})
	d, hc := driverFor(t, e.fake, nil)
	var foreign atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { foreign.Add(1) }))
	defer evil.Close()
	cursor := evil.URL + "/2.0/repositories/" + workspace + "?page=2"
	before := e.requests()
	_, err := d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: workspace, Cursor: cursor})
	if got := d.ErrorInfo(err).Code; got != errcode.InvalidArgument {
		t.Errorf("ListRepositories with a foreign cursor: %v (%v); want InvalidArgument", got, err)
	}
	_, err = d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: workspace, Path: "catalog-info.yaml", Cursor: cursor})
	if got := d.ErrorInfo(err).Code; got != errcode.InvalidArgument {
		t.Errorf("FindFiles with a foreign cursor: %v (%v); want InvalidArgument", got, err)
	}
	if n, m := foreign.Load(), e.requests()-before; n != 0 || m != 0 {
		t.Errorf("%d requests to the foreign host and %d to the fake; want none", n, m)
	}
}
