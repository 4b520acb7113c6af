package scm_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
	"github.com/scmkit/scmkit/scm/scmtest"
)

const ghBase = "https://github.com/acme/"

// newWorld returns a memscm world seeded with scmtest.World() under acme.
func newWorld(t testing.TB) *memscm.World {
	t.Helper()
	w := memscm.New()
	for _, r := range scmtest.World() {
		if err := w.AddRepo("acme", r.Name, scmtest.DefaultBranch, r.FS()); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// newClient returns a client whose github.com integration is served by d.
func newClient(t testing.TB, open driver.Opener, res scm.Resolver, opts *scm.Options) *scm.Client {
	t.Helper()
	var o scm.Options
	if opts != nil {
		o = *opts
	}
	if o.Drivers == nil {
		o.Drivers = map[integrations.Kind]driver.Opener{integrations.GitHub: open}
	}
	c, err := scm.NewClient(nil, res, &o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recordingResolver records every request and answers with cred or err.
type recordingResolver struct {
	mu   sync.Mutex
	reqs []credentials.Request
	cred *credentials.Credential
	err  error
}

func (r *recordingResolver) Resolve(_ context.Context, req credentials.Request) (*credentials.Credential, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	if r.err != nil {
		return nil, r.err
	}
	return r.cred, nil
}

func (r *recordingResolver) requests() []credentials.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// fakeDriver is a driver whose methods are functions; unset ones fail.
type fakeDriver struct {
	readFile  func(ctx context.Context, r *driver.ReadFileRequest) (*driver.File, error)
	readTree  func(ctx context.Context, r *driver.TreeRequest) (*driver.Tree, error)
	listFiles func(ctx context.Context, r *driver.ListFilesRequest) (*driver.FileList, error)
	listRepos func(ctx context.Context, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error)
	info      func(err error) driver.ErrorInfo
	calls     int
}

var errUnset = errors.New("fakeDriver: method not set")

func (d *fakeDriver) ReadFile(ctx context.Context, _ *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	d.calls++
	if d.readFile == nil {
		return nil, errUnset
	}
	return d.readFile(ctx, r)
}

func (d *fakeDriver) ReadTree(ctx context.Context, _ *http.Client, r *driver.TreeRequest) (*driver.Tree, error) {
	d.calls++
	if d.readTree == nil {
		return nil, errUnset
	}
	return d.readTree(ctx, r)
}

func (d *fakeDriver) ListFiles(ctx context.Context, _ *http.Client, r *driver.ListFilesRequest) (*driver.FileList, error) {
	d.calls++
	if d.listFiles == nil {
		return nil, errUnset
	}
	return d.listFiles(ctx, r)
}

func (d *fakeDriver) ListRepositories(ctx context.Context, _ *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	d.calls++
	if d.listRepos == nil {
		return nil, errUnset
	}
	return d.listRepos(ctx, r)
}

func (d *fakeDriver) OpenPullRequest(context.Context, *http.Client, *driver.PullRequestRequest) (*driver.PullRequest, error) {
	d.calls++
	return nil, errUnset
}

func (d *fakeDriver) ErrorInfo(err error) driver.ErrorInfo {
	if d.info != nil {
		return d.info(err)
	}
	return driver.ErrorInfo{Code: scm.Unknown}
}

func (d *fakeDriver) opener() driver.Opener {
	return func(*integrations.Integration) (driver.Driver, error) { return d, nil }
}

func TestRouting(t *testing.T) {
	gh, gl := memscm.New(), memscm.New()
	if err := gh.AddRepo("acme", "svc", "main", memscm.Files(map[string]string{"README.md": "github\n"})); err != nil {
		t.Fatal(err)
	}
	if err := gl.AddRepo("acme", "svc", "main", memscm.Files(map[string]string{"README.md": "gitlab\n"})); err != nil {
		t.Fatal(err)
	}
	c, err := scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{
		integrations.GitHub: gh.Opener(nil),
		integrations.GitLab: gl.Opener(nil),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url string
		want      string
		code      scm.ErrorCode
	}{
		{"github", "https://github.com/acme/svc/blob/main/README.md", "github\n", scm.OK},
		{"gitlab", "https://gitlab.com/acme/svc/-/blob/main/README.md", "gitlab\n", scm.OK},
		{"host case and default port", "https://GitHub.com:443/acme/svc/blob/main/README.md", "github\n", scm.OK},
		{"integration without driver", "https://bitbucket.org/acme/svc/src/main/README.md", "", scm.Unimplemented},
		{"host without integration", "https://example.com/acme/svc/README.md", "", scm.PermissionDenied},
		{"not a URL", "acme/svc/README.md", "", scm.InvalidArgument},
		{"repository root", "https://github.com/acme/svc", "", scm.InvalidArgument},
		{"owner only", "https://github.com/acme", "", scm.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := c.ReadFile(t.Context(), tc.url, nil)
			if got := scm.Code(err); got != tc.code {
				t.Fatalf("ReadFile(%s): code %v (%v); want %v", tc.url, got, err, tc.code)
			}
			if err == nil && string(f.Content) != tc.want {
				t.Errorf("ReadFile(%s) = %q; want %q", tc.url, f.Content, tc.want)
			}
		})
	}
	if n := gh.Requests() + gl.Requests(); n != 3 {
		t.Errorf("drivers served %d calls; want 3 (refused URLs cost nothing)", n)
	}
}

func TestNewClientOpenerFails(t *testing.T) {
	boom := errors.New("boom")
	_, err := scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{
		integrations.GitHub: func(*integrations.Integration) (driver.Driver, error) { return nil, boom },
	}})
	if !errors.Is(err, boom) {
		t.Errorf("NewClient with a failing Opener: %v; want it to wrap %v", err, boom)
	}
	_, err = scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{
		integrations.GitHub: func(*integrations.Integration) (driver.Driver, error) { return nil, nil },
	}})
	if scm.Code(err) != scm.InvalidArgument {
		t.Errorf("NewClient with an Opener returning nil: code %v; want InvalidArgument", scm.Code(err))
	}
}

func TestErrorsWrappedOnce(t *testing.T) {
	raw := errors.New("provider said 404")
	retryAt := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		err        error
		info       driver.ErrorInfo
		wantCode   scm.ErrorCode
		wantStatus int
		wantRetry  time.Time
	}{
		{"raw error classified by ErrorInfo", raw, driver.ErrorInfo{Code: scm.NotFound, Status: 404}, scm.NotFound, 404, time.Time{}},
		{"rate limit with RetryAt", raw, driver.ErrorInfo{Code: scm.RateLimited, Status: 429, RetryAt: retryAt}, scm.RateLimited, 429, retryAt},
		{"unclassified is Unknown", raw, driver.ErrorInfo{}, scm.Unknown, 0, time.Time{}},
		{"errcode error is not wrapped again", &scm.Error{Code: scm.RateLimited, Op: "httpx", Status: 403, RetryAt: retryAt, Err: raw},
			driver.ErrorInfo{Code: scm.Unknown}, scm.RateLimited, 403, retryAt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDriver{
				readFile: func(context.Context, *driver.ReadFileRequest) (*driver.File, error) { return nil, tc.err },
				info:     func(error) driver.ErrorInfo { return tc.info },
			}
			c := newClient(t, d.opener(), nil, nil)
			_, err := c.ReadFile(t.Context(), ghBase+"svc/blob/main/a.txt", nil)
			var e *scm.Error
			if !errors.As(err, &e) {
				t.Fatalf("ReadFile error %T %v; want *scm.Error", err, err)
			}
			got := struct {
				Code           scm.ErrorCode
				Op, Prov, Host string
				Status         int
				RetryAt        time.Time
			}{e.Code, e.Op, e.Provider, e.Host, e.Status, e.RetryAt}
			want := got
			want.Code, want.Op, want.Prov, want.Host, want.Status, want.RetryAt = tc.wantCode, "scm.ReadFile", "github", "github.com", tc.wantStatus, tc.wantRetry
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error fields differ (-want +got):\n%s", diff)
			}
			if !errors.Is(err, raw) {
				t.Errorf("errors.Is(err, raw) = false; want the provider error reachable")
			}
			var inner *scm.Error
			if errors.As(e.Err, &inner) {
				t.Errorf("error wraps a second *scm.Error: %v", err)
			}
			if at, ok := scm.RetryAt(err); ok != !tc.wantRetry.IsZero() || !at.Equal(tc.wantRetry) {
				t.Errorf("RetryAt = %v, %v; want %v", at, ok, tc.wantRetry)
			}
		})
	}
}

func TestCanceledDuringDriverCall(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	d := &fakeDriver{readFile: func(context.Context, *driver.ReadFileRequest) (*driver.File, error) {
		cancel()
		return nil, errors.New("connection reset") // a driver that lost the context error
	}}
	c := newClient(t, d.opener(), nil, nil)
	_, err := c.ReadFile(ctx, ghBase+"svc/blob/main/a.txt", nil)
	if got := scm.Code(err); got != scm.Canceled {
		t.Errorf("code %v (%v); want Canceled", got, err)
	}
	if _, err := c.ReadFile(ctx, ghBase+"svc/blob/main/a.txt", nil); scm.Code(err) != scm.Canceled {
		t.Errorf("ReadFile with a cancelled context: %v; want Canceled", err)
	}
	if d.calls != 1 {
		t.Errorf("driver calls = %d; want 1 (none after cancellation)", d.calls)
	}
}

func TestResolverErrorFailsFast(t *testing.T) {
	res := &recordingResolver{err: &scm.Error{Code: scm.Unauthorized, Op: "credentials.Resolve", Msg: "no token configured for github.com"}}
	w := newWorld(t)
	c := newClient(t, w.Opener(nil), res, nil)
	_, err := c.ReadFile(t.Context(), ghBase+"basic/blob/main/README.md", nil)
	var e *scm.Error
	if !errors.As(err, &e) || e.Code != scm.Unauthorized || e.Op != "scm.ReadFile" || e.Host != "github.com" {
		t.Fatalf("ReadFile with a failing resolver: %#v; want Unauthorized, Op scm.ReadFile, Host github.com", err)
	}
	if w.Requests() != 0 {
		t.Errorf("driver calls = %d; want 0", w.Requests())
	}
}

func TestForUser(t *testing.T) {
	res := &recordingResolver{cred: &credentials.Credential{Kind: credentials.KindToken, Token: "t"}}
	w := newWorld(t)
	c := newClient(t, w.Opener(nil), res, nil)
	user := credentials.Static(credentials.Credential{Kind: credentials.KindUser, Token: "user-token"})
	uc := c.ForUser(scm.UserCredentials{"GitHub.com": user}, &scm.UserOptions{RequireUserForWrites: true})

	ctx := t.Context()
	if _, err := c.ReadFile(ctx, ghBase+"basic/blob/main/README.md", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := uc.ReadFile(ctx, ghBase+"basic/blob/main/README.md", nil); err != nil {
		t.Fatal(err)
	}
	spec := &scm.PullRequestSpec{RepoURL: ghBase + "basic", Branch: "b", Title: "t",
		Changes: []scm.Change{{Path: "x.txt", Content: []byte("x")}}}
	if _, err := uc.OpenPullRequest(ctx, spec); err != nil {
		t.Fatal(err)
	}
	reqs := res.requests()
	if len(reqs) != 3 {
		t.Fatalf("resolver saw %d requests; want 3", len(reqs))
	}
	type view struct {
		Host, Owner, Repo string
		Write, HasUser    bool
		Policy            credentials.Policy
	}
	var got []view
	for _, r := range reqs {
		got = append(got, view{r.Host, r.Owner, r.Repo, r.Write, r.User != nil, r.Policy})
	}
	want := []view{
		{"github.com", "acme", "basic", false, false, 0},
		{"github.com", "acme", "basic", false, true, 0},
		{"github.com", "acme", "basic", true, true, credentials.RequireUser},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("credential requests differ (-want +got):\n%s", diff)
	}
}

// TestForUserKeepsTokensToTheirHost checks that a user's credential for one
// host is never offered for a call to another host.
func TestForUserKeepsTokensToTheirHost(t *testing.T) {
	res := &recordingResolver{cred: &credentials.Credential{Kind: credentials.KindToken, Token: "t"}}
	gh, gl := memscm.New(), memscm.New()
	for _, w := range []*memscm.World{gh, gl} {
		if err := w.AddRepo("acme", "svc", "main", memscm.Files(map[string]string{"README.md": "x\n"})); err != nil {
			t.Fatal(err)
		}
	}
	c, err := scm.NewClient(nil, res, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{
		integrations.GitHub: gh.Opener(nil),
		integrations.GitLab: gl.Opener(nil),
	}})
	if err != nil {
		t.Fatal(err)
	}
	githubUser := credentials.Static(credentials.Credential{Kind: credentials.KindUser, Token: "github-user-token"})
	uc := c.ForUser(scm.UserCredentials{"github.com": githubUser}, nil)
	for _, u := range []string{
		"https://github.com/acme/svc/blob/main/README.md",
		"https://gitlab.com/acme/svc/-/blob/main/README.md",
	} {
		if _, err := uc.ReadFile(t.Context(), u, nil); err != nil {
			t.Fatal(err)
		}
	}
	reqs := res.requests()
	if len(reqs) != 2 {
		t.Fatalf("resolver saw %d requests; want 2", len(reqs))
	}
	if reqs[0].Host != "github.com" || reqs[0].User == nil {
		t.Errorf("GitHub call: host %q, user set %v; want github.com with the user's credential", reqs[0].Host, reqs[0].User != nil)
	}
	if reqs[1].Host != "gitlab.com" || reqs[1].User != nil {
		t.Errorf("GitLab call: host %q, user set %v; want gitlab.com without the GitHub user's credential", reqs[1].Host, reqs[1].User != nil)
	}
}

func TestLimits(t *testing.T) {
	w := newWorld(t)
	c := newClient(t, w.Opener(nil), nil, &scm.Options{Limits: scm.Limits{MaxFileBytes: 5, MaxTreeFiles: 2}})
	ctx := t.Context()
	readme := ghBase + "basic/blob/main/README.md"
	if _, err := c.ReadFile(ctx, readme, nil); scm.Code(err) != scm.InvalidArgument {
		t.Errorf("ReadFile over Limits.MaxFileBytes: %v; want InvalidArgument", err)
	}
	if _, err := c.ReadFile(ctx, readme, &scm.ReadFileOptions{MaxBytes: 1 << 10}); err != nil {
		t.Errorf("ReadFile with a larger MaxBytes: %v", err)
	}
	tree := ghBase + "basic/tree/main/templates/service"
	if _, err := c.ReadTree(ctx, tree, nil); scm.Code(err) != scm.InvalidArgument {
		t.Errorf("ReadTree over Limits.MaxTreeFiles: %v; want InvalidArgument", err)
	}
	if _, err := c.ReadTree(ctx, tree, &scm.TreeOptions{MaxFiles: 100}); err != nil {
		t.Errorf("ReadTree with a larger MaxFiles: %v", err)
	}
	// A driver that ignores MaxBytes is caught by the client.
	d := &fakeDriver{readFile: func(context.Context, *driver.ReadFileRequest) (*driver.File, error) {
		return &driver.File{Content: bytes.Repeat([]byte("x"), 100)}, nil
	}}
	c = newClient(t, d.opener(), nil, nil)
	if _, err := c.ReadFile(ctx, ghBase+"svc/blob/main/a", &scm.ReadFileOptions{MaxBytes: 10}); scm.Code(err) != scm.InvalidArgument {
		t.Errorf("ReadFile of an oversized answer: %v; want InvalidArgument", err)
	}
}

func TestReadTreeFilesSnapshot(t *testing.T) {
	w := newWorld(t)
	c := newClient(t, w.Opener(nil), nil, nil)
	fsys, err := c.ReadTree(t.Context(), ghBase+"basic/tree/main/templates/service", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := scmtest.Basic().Under("templates/service")
	if err := fstest.TestFS(fsys, want...); err != nil {
		t.Error(err)
	}
	info, err := fs.Stat(fsys, "scripts/bootstrap.sh")
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("Stat(scripts/bootstrap.sh) = %v, %v; want mode 0755", info, err)
	}
	if _, err := c.ReadTree(t.Context(), ghBase+"basic/tree/main/nope", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadTree of a missing directory: %v; want fs.ErrNotExist", err)
	}
}

func TestPullRequestValidation(t *testing.T) {
	w := newWorld(t)
	c := newClient(t, w.Opener(nil), &recordingResolver{}, nil)
	ok := func() *scm.PullRequestSpec {
		return &scm.PullRequestSpec{RepoURL: ghBase + "basic", Branch: "topic", Title: "t",
			Changes: []scm.Change{{Path: "a.txt", Content: []byte("a")}}}
	}
	for _, tc := range []struct {
		name string
		mod  func(*scm.PullRequestSpec)
	}{
		{"title", func(s *scm.PullRequestSpec) { s.Title = "" }},
		{"branch", func(s *scm.PullRequestSpec) { s.Branch = "a..b" }},
		{"base", func(s *scm.PullRequestSpec) { s.Base = "bad base" }},
		{"branch equals base", func(s *scm.PullRequestSpec) { s.Base = "topic" }},
		{"no changes", func(s *scm.PullRequestSpec) { s.Changes = []scm.Change{} }},
		{"dot path", func(s *scm.PullRequestSpec) { s.Changes[0].Path = "." }},
		{"trailing slash", func(s *scm.PullRequestSpec) { s.Changes[0].Path = "a/" }},
		{"unknown action", func(s *scm.PullRequestSpec) { s.Changes[0].Action = scm.ChangeAction(9) }},
		{"file and directory", func(s *scm.PullRequestSpec) {
			s.Changes = append(s.Changes, scm.Change{Path: "a.txt/b", Content: []byte("b")})
		}},
		{"repository URL without repository", func(s *scm.PullRequestSpec) { s.RepoURL = "https://github.com/acme" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.mod(s)
			if _, err := c.OpenPullRequest(t.Context(), s); scm.Code(err) != scm.InvalidArgument {
				t.Errorf("OpenPullRequest: %v; want InvalidArgument", err)
			}
		})
	}
	if w.Requests() != 0 {
		t.Errorf("driver calls = %d; want 0", w.Requests())
	}
	if _, err := c.OpenPullRequest(t.Context(), ok()); err != nil {
		t.Errorf("OpenPullRequest of a valid spec: %v", err)
	}
}

// hideFinder hides a driver's FileFinder capability.
type hideFinder struct{ driver.Driver }

// unsupportedFinder has a FileFinder that answers Unimplemented, as
// Bitbucket Cloud does for a workspace without code search.
type unsupportedFinder struct {
	driver.Driver
	calls *int
}

func (f unsupportedFinder) FindFiles(context.Context, *http.Client, *driver.FindFilesRequest) (*driver.FoundPage, error) {
	*f.calls++
	return nil, &errcode.Error{Code: errcode.Unimplemented, Msg: "search is not enabled"}
}

func TestFindFiles(t *testing.T) {
	w := newWorld(t)
	finderCalls := 0
	for _, tc := range []struct {
		name   string
		open   driver.Opener
		method scm.FindMethod
	}{
		{"finder", w.Opener(nil), scm.FoundByFinder},
		{"fallback", func(in *integrations.Integration) (driver.Driver, error) {
			d, err := w.Opener(nil)(in)
			return hideFinder{d}, err
		}, scm.FoundByReadFile},
		{"finder unimplemented", func(in *integrations.Integration) (driver.Driver, error) {
			d, err := w.Opener(nil)(in)
			return unsupportedFinder{d, &finderCalls}, err
		}, scm.FoundByReadFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.open, nil, nil)
			var got []string
			for f, err := range c.FindFiles(t.Context(), "https://github.com/acme", "catalog-info.yaml") {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, f.Repository.Name)
				if want := "https://github.com/acme/" + f.Repository.Name + "/blob/main/catalog-info.yaml"; f.URL != want {
					t.Errorf("%s: URL = %q; want %q", f.Repository.Name, f.URL, want)
				}
				if f.Method != tc.method {
					t.Errorf("%s: Method = %v; want %v", f.Repository.Name, f.Method, tc.method)
				}
				if (f.File != nil) != (tc.method == scm.FoundByReadFile) {
					t.Errorf("%s: File = %v; want content only for FoundByReadFile", f.Repository.Name, f.File)
				}
			}
			if diff := cmp.Diff([]string{"basic", "second"}, got); diff != "" {
				t.Errorf("FindFiles (-want +got):\n%s", diff)
			}
		})
	}
	if finderCalls != 1 {
		t.Errorf("the Unimplemented finder was called %d times; want 1 (then the per-repository fallback)", finderCalls)
	}
	c := newClient(t, w.Opener(nil), nil, nil)
	for _, err := range c.FindFiles(t.Context(), "https://github.com/acme", "../x") {
		if scm.Code(err) != scm.InvalidArgument {
			t.Errorf("FindFiles with an invalid path: %v; want InvalidArgument", err)
		}
	}
}

func TestSearchFallsBackWhenTruncated(t *testing.T) {
	w := newWorld(t)
	const u = ghBase + "basic/blob/main/**/*.yaml"
	full := newClient(t, w.Opener(nil), nil, nil)
	want, err := full.Search(t.Context(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 {
		t.Fatalf("Search(%s) found %d files; want 3", u, len(want))
	}
	truncated := newClient(t, w.Opener(&memscm.Options{ListFilesLimit: 1}), nil, nil)
	got, err := truncated.Search(t.Context(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Search after a truncated listing differs (-want +got):\n%s", diff)
	}
	got, err = full.Search(t.Context(), u, &scm.SearchOptions{MaxResults: 1})
	if err != nil || len(got) != 1 {
		t.Errorf("Search with MaxResults 1 = %v, %v; want 1 result", got, err)
	}
	if _, err := full.Search(t.Context(), ghBase+"basic/blob/main/a/[", nil); scm.Code(err) != scm.InvalidArgument {
		t.Errorf("Search with a bad pattern: %v; want InvalidArgument", err)
	}
}

func TestListRepositories(t *testing.T) {
	w := newWorld(t)
	c := newClient(t, w.Opener(nil), nil, nil)
	seq := c.ListRepositories(t.Context(), "https://github.com/acme", &scm.ListRepositoriesOptions{PageSize: 1})
	if w.Requests() != 0 {
		t.Fatalf("making the sequence made %d calls; want 0", w.Requests())
	}
	for range 2 { // a sequence can be iterated again
		before := w.Requests()
		var names []string
		for r, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, r.Name)
		}
		if diff := cmp.Diff([]string{"basic", "second", "third"}, names); diff != "" {
			t.Errorf("names (-want +got):\n%s", diff)
		}
		if n := w.Requests() - before; n != 3 {
			t.Errorf("listing 3 repositories by 1 made %d calls; want 3", n)
		}
	}
	before := w.Requests()
	for range seq {
		break
	}
	if n := w.Requests() - before; n != 1 {
		t.Errorf("breaking after one repository made %d calls; want 1", n)
	}
	for _, err := range c.ListRepositories(t.Context(), "https://github.com/nobody", nil) {
		if scm.Code(err) != scm.NotFound {
			t.Errorf("ListRepositories of a missing owner: %v; want NotFound", err)
		}
	}
}

func TestAs(t *testing.T) {
	w := newWorld(t)
	c := newClient(t, w.Opener(nil), nil, nil)
	var d driver.Driver
	if !c.As("github.com", &d) || d == nil {
		t.Error("As(github.com, *driver.Driver) = false; want the driver")
	}
	var ff driver.FileFinder
	if !c.As("github.com", &ff) {
		t.Error("As(github.com, *driver.FileFinder) = false; want memscm's FileFinder")
	}
	if c.As("gitlab.com", &d) {
		t.Error("As(gitlab.com) = true; want false (no driver)")
	}
	var s string
	if c.As("github.com", &s) || c.As("github.com", nil) {
		t.Error("As with a wrong target = true; want false")
	}
}

func BenchmarkMemReadFile(b *testing.B) {
	w := newWorld(b)
	c := newClient(b, w.Opener(nil), nil, nil)
	ctx := b.Context()
	for b.Loop() {
		if _, err := c.ReadFile(ctx, ghBase+"basic/blob/main/catalog-info.yaml", nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWrappedErrcodeInChain(t *testing.T) {
	inner := &scm.Error{Code: scm.RateLimited, Op: "", Host: "api.github.com", Status: 403, Msg: "rate limited"}
	d := &fakeDriver{readFile: func(context.Context, *driver.ReadFileRequest) (*driver.File, error) {
		return nil, &url.Error{Op: "Get", URL: "https://api.github.com/x?token=nope", Err: inner}
	}}
	c := newClient(t, d.opener(), nil, nil)
	_, err := c.ReadFile(t.Context(), ghBase+"svc/blob/main/a", nil)
	var e *scm.Error
	if !errors.As(err, &e) || e.Code != scm.RateLimited || e.Op != "scm.ReadFile" || e.Host != "github.com" || e.Status != 403 {
		t.Fatalf("error = %#v; want the inner RateLimited error with the call's Op and Host", err)
	}
	var again *scm.Error
	if errors.As(e.Err, &again) {
		t.Errorf("error wraps a second *scm.Error: %v", err)
	}
	if strings.Contains(err.Error(), "token=nope") {
		t.Errorf("error shows the URL's query: %v", err)
	}
}

// TestSearchFallbackFiltersTheTree checks that when the listing is
// truncated, the tree read in its place keeps only the matching files, so
// drivers that read file by file read no others.
func TestSearchFallbackFiltersTheTree(t *testing.T) {
	var got *driver.TreeRequest
	d := &fakeDriver{
		listFiles: func(context.Context, *driver.ListFilesRequest) (*driver.FileList, error) {
			return &driver.FileList{Truncated: true}, nil
		},
		readTree: func(_ context.Context, r *driver.TreeRequest) (*driver.Tree, error) {
			got = r
			var files []driver.TreeFile
			for _, p := range []string{"a.yaml", "sub/b.yaml", "c.txt"} {
				if r.Filter == nil || r.Filter(p, 1) {
					files = append(files, driver.TreeFile{Path: p, Content: []byte("x")})
				}
			}
			return &driver.Tree{Files: files}, nil
		},
	}
	c := newClient(t, d.opener(), nil, nil)
	res, err := c.Search(t.Context(), ghBase+"basic/blob/main/templates/**/*.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Dir != "templates" || got.Filter == nil {
		t.Fatalf("tree request = %+v; want Dir templates with a filter", got)
	}
	if got.Filter("c.txt", 1) || !got.Filter("sub/b.yaml", 1) {
		t.Errorf("filter keeps c.txt or drops sub/b.yaml; want only *.yaml under templates")
	}
	var paths []string
	for _, r := range res {
		paths = append(paths, r.Path)
	}
	if diff := cmp.Diff([]string{"templates/a.yaml", "templates/sub/b.yaml"}, paths); diff != "" {
		t.Errorf("Search (-want +got):\n%s", diff)
	}
}

// finderDriver is a fakeDriver with a FileFinder.
type finderDriver struct {
	fakeDriver
	find func(r *driver.FindFilesRequest) (*driver.FoundPage, error)
}

func (d *finderDriver) FindFiles(_ context.Context, _ *http.Client, r *driver.FindFilesRequest) (*driver.FoundPage, error) {
	d.calls++
	return d.find(r)
}

// TestPagingStopsOnCircles checks that a provider whose pages go round in
// a circle (A, B, A, ...), or that answers empty pages without end, costs
// a bounded number of requests and ends in an error, rather than spending
// the whole rate limit (a cursor repeated immediately was the only case
// caught before).
func TestPagingStopsOnCircles(t *testing.T) {
	repo := []driver.Repository{{Owner: "acme", Name: "svc", DefaultBranch: "main"}}
	for _, tc := range []struct {
		name      string
		page      func(cursor string) *driver.RepositoryPage
		wantRepos int
		maxCalls  int
	}{
		{"circle of two", func(cursor string) *driver.RepositoryPage {
			return &driver.RepositoryPage{Repositories: repo, Next: map[string]string{"": "a", "a": "b", "b": "a"}[cursor]}
		}, 3, 3},
		{"back to the first page", func(cursor string) *driver.RepositoryPage {
			// Bitbucket Server answering nextPageStart 0 again.
			return &driver.RepositoryPage{Repositories: repo, Next: map[string]string{"": "25", "25": "0", "0": "25"}[cursor]}
		}, 3, 3},
		{"empty pages without end", func(cursor string) *driver.RepositoryPage {
			n, _ := strconv.Atoi(cursor)
			return &driver.RepositoryPage{Next: strconv.Itoa(n + 1)}
		}, 0, 10},
		{"empty pages then repositories", func(cursor string) *driver.RepositoryPage {
			n, _ := strconv.Atoi(cursor)
			if n < 5 {
				return &driver.RepositoryPage{Next: strconv.Itoa(n + 1)}
			}
			return &driver.RepositoryPage{Repositories: repo}
		}, 1, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDriver{}
			d.listRepos = func(_ context.Context, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
				if d.calls > 100 {
					return nil, errors.New("still paging after 100 pages")
				}
				return tc.page(r.Cursor), nil
			}
			c := newClient(t, d.opener(), nil, nil)
			repos, code := 0, scm.OK
			for r, err := range c.ListRepositories(t.Context(), "https://github.com/acme", nil) {
				if err != nil {
					code = scm.Code(err)
					continue
				}
				repos++
				if r.Name != "svc" {
					t.Errorf("repository %q; want svc", r.Name)
				}
			}
			wantCode := scm.Unknown
			if tc.wantRepos == 1 {
				wantCode = scm.OK
			}
			if repos != tc.wantRepos || code != wantCode || d.calls != tc.maxCalls {
				t.Errorf("listing: %d repositories, code %v, %d pages; want %d, %v, %d",
					repos, code, d.calls, tc.wantRepos, wantCode, tc.maxCalls)
			}
		})
	}
	t.Run("FindFiles circle", func(t *testing.T) {
		d := &finderDriver{}
		d.find = func(r *driver.FindFilesRequest) (*driver.FoundPage, error) {
			if d.calls > 100 {
				return nil, errors.New("still paging after 100 pages")
			}
			return &driver.FoundPage{Next: map[string]string{"": "a", "a": "b", "b": "a"}[r.Cursor]}, nil
		}
		c := newClient(t, func(*integrations.Integration) (driver.Driver, error) { return d, nil }, nil, nil)
		var code scm.ErrorCode
		for _, err := range c.FindFiles(t.Context(), "https://github.com/acme", "catalog-info.yaml") {
			code = scm.Code(err)
		}
		if code != scm.Unknown || d.calls != 3 {
			t.Errorf("FindFiles going round: code %v after %d pages; want Unknown after 3", code, d.calls)
		}
	})
}
