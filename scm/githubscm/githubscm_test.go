package githubscm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// env is a fake GitHub with a portable client (through a real
// credentials.Resolver) and the driver itself with a token-attaching
// http.Client, for tests that look below the portable client.
type env struct {
	s   *fakegithub.Server
	c   *scm.Client
	d   *githubscm.Driver
	hc  *http.Client
	ghe bool
}

// tokenTransport attaches the token to requests for host only.
type tokenTransport struct {
	host, token string
	base        http.RoundTripper
}

func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == t.host {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.base.RoundTrip(req)
}

func newEnv(t testing.TB, ghe bool, opts *githubscm.Options) *env {
	t.Helper()
	return newEnvWith(t, ghe, &fakegithub.Options{Tokens: []string{goodToken}}, opts)
}

// newEnvWith is newEnv with the fake's options.
func newEnvWith(t testing.TB, ghe bool, fake *fakegithub.Options, opts *githubscm.Options) *env {
	t.Helper()
	s := fakegithub.New(fake)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(func() {
		s.Close()
		tr.CloseIdleConnections()
	})
	c, err := newClient(s, ghe, goodToken, tr, opts)
	if err != nil {
		t.Fatal(err)
	}
	api := s.APIBaseURL()
	if ghe {
		api = s.GHEAPIBaseURL()
	}
	d, err := githubscm.New(&integrations.Integration{Kind: integrations.GitHub, Host: s.Host(), APIBaseURL: api}, opts)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: tokenTransport{host: s.Host(), token: goodToken, base: tr}}
	return &env{s: s, c: c, d: d, hc: hc, ghe: ghe}
}

func (e *env) web(p string) string { return "https://" + e.s.Host() + "/" + p }

// count returns the API requests fn made.
func (e *env) count(fn func()) int {
	before := e.s.Stats().API
	fn()
	return e.s.Stats().API - before
}

func (e *env) addRepo(t testing.TB, r fakegithub.Repo) string {
	t.Helper()
	id, err := e.s.AddRepo(r)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func textChanges(n int) []scm.Change {
	out := make([]scm.Change, n)
	for i := range out {
		out[i] = scm.Change{Path: fmt.Sprintf("gen/file%02d.txt", i), Content: []byte(fmt.Sprintf("line %d\n", i))}
	}
	return out
}

func both(t *testing.T, fn func(t *testing.T, ghe bool)) {
	for _, ghe := range []bool{false, true} {
		name := "github.com"
		if ghe {
			name = "GHE /api/v3"
		}
		t.Run(name, func(t *testing.T) { fn(t, ghe) })
	}
}

func TestRequestBudgets(t *testing.T) {
	both(t, func(t *testing.T, ghe bool) {
		e := newEnv(t, ghe, nil)
		e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{
			{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")},
			{Path: "templates/a/template.yaml", Content: []byte("kind: Template\n")},
			{Path: "templates/a/skeleton/README.md", Content: []byte("# ${{ values.name }}\n")},
		}})
		ctx := t.Context()
		var f *scm.File
		tests := []struct {
			name         string
			want         int
			wantDownload int
			run          func() error
		}{
			{"ReadFile", 1, 0, func() (err error) {
				f, err = e.c.ReadFile(ctx, e.web("acme/svc/blob/main/catalog-info.yaml"), nil)
				return err
			}},
			{"ReadFile not modified", 1, 0, func() error {
				_, err := e.c.ReadFile(ctx, e.web("acme/svc/blob/main/catalog-info.yaml"), &scm.ReadFileOptions{IfNoneMatch: f.ETag})
				if scm.Code(err) != scm.NotModified {
					return fmt.Errorf("got %v; want NotModified", err)
				}
				return nil
			}},
			{"ReadTree at a known ref", 1, 0, func() error { // one GraphQL query
				_, err := e.c.ReadTree(ctx, e.web("acme/svc/tree/main/templates/a"), nil)
				return err
			}},
			{"ReadTree of the repository's root", 1, 1, func() error { // the tarball
				_, err := e.c.ReadTree(ctx, e.web("acme/svc/tree/main"), nil)
				return err
			}},
			{"Search", 1, 0, func() error {
				res, err := e.c.Search(ctx, e.web("acme/svc/blob/main/templates/**/*.yaml"), nil)
				if err == nil && len(res) != 1 {
					return fmt.Errorf("got %d results; want 1", len(res))
				}
				return err
			}},
			{"ListRepositories page", 1, 0, func() error {
				for _, err := range e.c.ListRepositories(ctx, e.web("acme"), nil) {
					if err != nil {
						return err
					}
				}
				return nil
			}},
			{"OpenPullRequest 10 text files, base given", 2, 0, func() error {
				_, err := e.c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Base: "main", Branch: "b1", Title: "t", Changes: textChanges(10)})
				return err
			}},
			{"OpenPullRequest 10 text files, default base", 2, 0, func() error {
				_, err := e.c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Branch: "b2", Title: "t", Changes: textChanges(10)})
				return err
			}},
			{"OpenPullRequest again (duplicate)", 1, 0, func() error {
				pr, err := e.c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Branch: "b2", Title: "t", Changes: textChanges(10)})
				if err == nil && !pr.Existing {
					return errors.New("Existing is false")
				}
				return err
			}},
			{"OpenPullRequest with 2 binary files", 2, 0, func() error {
				_, err := e.c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Branch: "b3", Title: "t", Changes: []scm.Change{
					{Path: "a.bin", Content: []byte{0, 1, 2}}, {Path: "b.bin", Content: []byte{0xff, 0xfe}}, {Path: "c.txt", Content: []byte("c")}}})
				return err
			}},
			{"OpenPullRequest with 150 files", 3, 0, func() error {
				_, err := e.c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Branch: "b4", Title: "t", Changes: textChanges(150)})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.s.Stats()
				if err := tt.run(); err != nil {
					t.Fatal(err)
				}
				after := e.s.Stats()
				if n := after.API - before.API; n != tt.want {
					t.Errorf("API requests = %d; want %d (routes %v)", n, tt.want, diffRoutes(before.Routes, after.Routes))
				}
				if n := after.Download - before.Download; n != tt.wantDownload {
					t.Errorf("download requests = %d; want %d", n, tt.wantDownload)
				}
			})
		}
		if got := len(e.s.Pulls("acme", "svc")); got != 4 {
			t.Errorf("pull requests = %d; want 4 (no duplicate)", got)
		}
	})
}

func diffRoutes(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func TestDiscover1000ReposBudget(t *testing.T) {
	e := newEnv(t, false, nil)
	for i := range 1000 {
		r := fakegithub.Repo{Owner: "big", Name: fmt.Sprintf("r%04d", i)}
		if i%10 == 0 {
			r.Files = []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}
		} else if i%10 == 1 {
			r.Files = []fakegithub.File{{Path: "README.md", Content: []byte("x")}}
		}
		e.addRepo(t, r)
	}
	found := 0
	n := e.count(func() {
		for f, err := range e.c.FindFiles(t.Context(), e.web("big"), "catalog-info.yaml") {
			if err != nil {
				t.Fatal(err)
			}
			if f.BlobID != fakegithub.BlobSHA([]byte("kind: Component\n")) || f.Method != scm.FoundByFinder {
				t.Errorf("found %+v; want the blob id by finder", f)
			}
			found++
		}
	})
	if found != 100 || n != 10 {
		t.Errorf("found %d in %d requests; want 100 in 10", found, n)
	}
	if st := e.s.Stats(); st.BlobTexts != 0 {
		t.Errorf("GraphQL blob texts fetched = %d; want 0", st.BlobTexts)
	}
}

func TestPathsAndBranches(t *testing.T) {
	both(t, func(t *testing.T, ghe bool) {
		// BlobETags: contents answers carry the blob id as ETag, as
		// GitHub's recorded one does; the driver passes it on as is.
		e := newEnvWith(t, ghe, &fakegithub.Options{Tokens: []string{goodToken}, BlobETags: true}, nil)
		e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{{Path: "README.md", Content: []byte("main")}}})
		if _, err := e.s.CreateBranch("acme", "svc", "release/1.0", "main"); err != nil {
			t.Fatal(err)
		}
		odd := "docs/a b/ünï cödé #1 100%.md"
		if _, err := e.s.Commit("acme", "svc", "feature/x", fakegithub.Commit{Files: []fakegithub.File{
			{Path: odd, Content: []byte("odd\n")}, {Path: "docs/q?.md", Content: []byte("q\n")}}}); err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		for _, p := range []string{odd, "docs/q?.md"} {
			d, err := e.d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "feature/x", Path: p, MaxBytes: 100})
			if err != nil {
				t.Fatalf("ReadFile(%q at feature/x): %v", p, err)
			}
			if want := fakegithub.BlobSHA(d.Content); d.BlobID != want || d.ETag != `"`+want+`"` {
				t.Errorf("ReadFile(%q): BlobID %s ETag %s; want %s", p, d.BlobID, d.ETag, want)
			}
		}
		// Through the portable client, with the web URL escaped and the
		// branch with "/" named by ?at= (as integrations.Parse wants).
		f, err := e.c.ReadFile(ctx, e.web("acme/svc/blob/feature/x/docs/a%20b/%C3%BCn%C3%AF%20c%C3%B6d%C3%A9%20%231%20100%25.md?at=feature%2Fx"), nil)
		if err != nil || string(f.Content) != "odd\n" {
			t.Errorf("ReadFile through the client: %q, %v; want %q", f, err, "odd\n")
		}
		list, err := e.d.ListFiles(ctx, e.hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "feature/x", Dir: "docs"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{odd, "docs/q?.md"}, list.Paths); diff != "" {
			t.Errorf("ListFiles(docs at feature/x) (-want +got):\n%s", diff)
		}
		tree, err := e.d.ReadTree(ctx, e.hc, &driver.TreeRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "feature/x", Dir: "docs"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range tree.Files {
			got = append(got, "docs/"+f.Path)
		}
		slices.Sort(got)
		if diff := cmp.Diff([]string{odd, "docs/q?.md"}, got); tree.Archive != nil || diff != "" {
			t.Errorf("ReadTree(docs at feature/x): Archive %v, files (-want +got):\n%s", tree.Archive, diff)
		}
		tree, err = e.d.ReadTree(ctx, e.hc, &driver.TreeRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "feature/x"})
		if err != nil {
			t.Fatal(err)
		}
		tree.Archive.Body.Close()
		if tree.Archive.StripComponents != 1 || tree.Archive.Dir != "" {
			t.Errorf("Archive = %+v; want StripComponents 1, Dir \"\"", tree.Archive)
		}
		// A pull request from a branch with "/" to a base with "/".
		pr, err := e.c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Base: "release/1.0", Branch: "feat/new-thing",
			Title: "t", Changes: []scm.Change{{Path: odd, Content: []byte("new\n")}}})
		if err != nil {
			t.Fatal(err)
		}
		if pr.Base != "release/1.0" || pr.Branch != "feat/new-thing" {
			t.Errorf("pull request %+v; want release/1.0 <- feat/new-thing", pr)
		}
		files, err := e.s.Files("acme", "svc", "feat/new-thing")
		if err != nil || len(files) != 2 || files[1].Path != odd || string(files[1].Content) != "new\n" {
			t.Errorf("files on the branch = %+v, %v", files, err)
		}
	})
}

func TestErrorInfo(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	// BlobETags: the "not modified" case sends the blob id as ETag.
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, BlobETags: true}, &githubscm.Options{Now: func() time.Time { return now }})
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{{Path: "README.md", Content: []byte("x")}}})
	read := func(ctx context.Context) error {
		_, err := e.d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Path: "README.md", MaxBytes: 10})
		return err
	}
	tests := []struct {
		name       string
		fault      fake.Fault
		want       errcode.Code
		wantStatus int
		wantRetry  time.Duration // from the fake's clock (time.Now) for faults
	}{
		{"401", fake.Fault{Kind: fake.FaultUnauthorized}, errcode.Unauthorized, 401, 0},
		{"404", fake.Fault{Kind: fake.FaultNotFound}, errcode.NotFound, 404, 0},
		{"422", fake.Fault{Kind: fake.FaultUnprocessable}, errcode.InvalidArgument, 422, 0},
		{"primary 403", fake.Fault{Kind: fake.FaultRateLimit, RetryAfter: time.Hour}, errcode.RateLimited, 403, time.Hour},
		{"primary 429", fake.Fault{Kind: fake.FaultRateLimit, Status: 429, RetryAfter: time.Hour}, errcode.RateLimited, 429, time.Hour},
		{"secondary 403", fake.Fault{Kind: fake.FaultSecondaryRateLimit, RetryAfter: 90 * time.Second}, errcode.RateLimited, 403, 90 * time.Second},
		{"secondary 429", fake.Fault{Kind: fake.FaultSecondaryRateLimit, Status: 429, RetryAfter: 90 * time.Second}, errcode.RateLimited, 429, 90 * time.Second},
		{"429 with Retry-After", fake.Fault{Kind: fake.FaultTooManyRequests, RetryAfter: 30 * time.Second}, errcode.RateLimited, 429, 30 * time.Second},
		{"429 bare", fake.Fault{Kind: fake.FaultTooManyRequestsNoRetryAfter}, errcode.RateLimited, 429, 0},
		{"500", fake.Fault{Kind: fake.FaultServerError}, errcode.Unavailable, 500, 0},
		{"503 HTML", fake.Fault{Kind: fake.FaultServerError, Status: 503}, errcode.Unavailable, 503, 0},
		{"truncated", fake.Fault{Kind: fake.FaultTruncatedBody}, errcode.Unavailable, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.s.ClearFaults()
			e.s.Inject(tt.fault)
			start := time.Now()
			err := read(t.Context())
			info := e.d.ErrorInfo(err)
			if info.Code != tt.want || info.Status != tt.wantStatus {
				t.Errorf("ErrorInfo(%v) = %v %d; want %v %d", err, info.Code, info.Status, tt.want, tt.wantStatus)
			}
			if tt.wantRetry > 0 {
				// Retry-After is relative to the driver's clock; the
				// primary reset is absolute, from the fake's real clock.
				lo, hi := now.Add(tt.wantRetry-time.Second), now.Add(tt.wantRetry+time.Second)
				if tt.fault.Kind == fake.FaultRateLimit {
					lo, hi = start.Add(tt.wantRetry-2*time.Second), time.Now().Add(tt.wantRetry+time.Second)
				}
				if info.RetryAt.Before(lo) || info.RetryAt.After(hi) {
					t.Errorf("RetryAt = %v; want between %v and %v", info.RetryAt, lo, hi)
				}
			} else if tt.want == errcode.RateLimited && !info.RetryAt.IsZero() {
				t.Errorf("RetryAt = %v; want zero (no reset named)", info.RetryAt)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v; want prompt", d)
			}
		})
	}
	e.s.ClearFaults()
	t.Run("deadline during a slow answer", func(t *testing.T) {
		e.s.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: time.Minute})
		defer e.s.ClearFaults()
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := read(ctx)
		if got := e.d.ErrorInfo(err).Code; got != errcode.DeadlineExceeded {
			t.Errorf("code = %v (%v); want DeadlineExceeded", got, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v; want about 50ms", d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if got := e.d.ErrorInfo(read(ctx)).Code; got != errcode.Canceled {
			t.Errorf("code = %v; want Canceled", got)
		}
	})

	// Answers the fake gives only in context.
	ctx := t.Context()
	repo := driver.Repo{Owner: "acme", Name: "svc"}
	head, _ := e.s.Ref("acme", "svc", "main")
	codeOf := func(err error) errcode.Code { return e.d.ErrorInfo(err).Code }
	for _, tt := range []struct {
		name string
		err  func() error
		want errcode.Code
	}{
		{"missing file", func() error {
			_, err := e.d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: repo, Path: "nope", MaxBytes: 10})
			return err
		}, errcode.NotFound},
		{"not modified", func() error {
			_, err := e.d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: repo, Path: "README.md", MaxBytes: 10, IfNoneMatch: `"` + fakegithub.BlobSHA([]byte("x")) + `"`})
			return err
		}, errcode.NotModified},
		{"too large", func() error {
			e.s.Commit("acme", "svc", "main", fakegithub.Commit{Files: []fakegithub.File{{Path: "big", Content: []byte("0123456789")}}})
			_, err := e.d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: repo, Path: "big", MaxBytes: 4})
			return err
		}, errcode.InvalidArgument},
		{"directory", func() error {
			e.s.Commit("acme", "svc", "main", fakegithub.Commit{Files: []fakegithub.File{{Path: "dir/f", Content: []byte("f")}, {Path: "out", Content: []byte("../../etc"), Symlink: true}}})
			_, err := e.d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: repo, Path: "dir", MaxBytes: 10})
			return err
		}, errcode.InvalidArgument},
		{"directory, for discovery (DirAsMissing)", func() error {
			_, err := e.d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: repo, Path: "dir", MaxBytes: 10, DirAsMissing: true})
			return err
		}, errcode.NotFound},
		{"symlink out of the repository", func() error {
			_, err := e.d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: repo, Path: "out", MaxBytes: 10})
			return err
		}, errcode.InvalidArgument},
		{"ref exists (422 already exists)", func() error {
			e.s.CreateBranch("acme", "svc", "taken", "main")
			req, _ := http.NewRequestWithContext(ctx, "POST", e.s.APIBaseURL()+"/repos/acme/svc/git/refs", strings.NewReader(`{"ref":"refs/heads/taken","sha":"`+head+`"}`))
			return gitHubError(e.hc, req)
		}, errcode.AlreadyExists},
		{"not a fast forward (422)", func() error {
			e.s.Commit("acme", "svc", "ahead", fakegithub.Commit{Files: []fakegithub.File{{Path: "n", Content: []byte("n")}}})
			req, _ := http.NewRequestWithContext(ctx, "PATCH", e.s.APIBaseURL()+"/repos/acme/svc/git/refs/heads/ahead", strings.NewReader(`{"sha":"`+head+`"}`))
			return gitHubError(e.hc, req)
		}, errcode.Conflict},
		{"empty repository (409)", func() error {
			e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "empty"})
			_, err := e.d.ListFiles(ctx, e.hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: "acme", Name: "empty"}})
			return err
		}, errcode.Conflict},
		{"missing owner (FindFiles)", func() error {
			_, err := e.d.FindFiles(ctx, e.hc, &driver.FindFilesRequest{Owner: "nobody", Path: "x"})
			return err
		}, errcode.NotFound},
		{"missing repository (GraphQL NOT_FOUND)", func() error {
			_, err := e.d.OpenPullRequest(ctx, e.hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: "acme", Name: "nope"}, Branch: "b", Title: "t",
				Changes: []driver.Change{{Path: "a", Content: []byte("a")}}})
			return err
		}, errcode.NotFound},
		{"missing base branch", func() error {
			_, err := e.d.OpenPullRequest(ctx, e.hc, &driver.PullRequestRequest{Repo: repo, Base: "nope", Branch: "b", Title: "t",
				Changes: []driver.Change{{Path: "a", Content: []byte("a")}}})
			return err
		}, errcode.NotFound},
		{"create over an existing file", func() error {
			_, err := e.d.OpenPullRequest(ctx, e.hc, &driver.PullRequestRequest{Repo: repo, Branch: "b", Title: "t",
				Changes: []driver.Change{{Path: "README.md", Action: driver.Create, Content: []byte("a")}}})
			return err
		}, errcode.AlreadyExists},
		{"update a missing file", func() error {
			_, err := e.d.OpenPullRequest(ctx, e.hc, &driver.PullRequestRequest{Repo: repo, Branch: "b", Title: "t",
				Changes: []driver.Change{{Path: "nope", Action: driver.Update, Content: []byte("a")}}})
			return err
		}, errcode.NotFound},
		{"delete a directory", func() error {
			_, err := e.d.OpenPullRequest(ctx, e.hc, &driver.PullRequestRequest{Repo: repo, Branch: "b", Title: "t",
				Changes: []driver.Change{{Path: "dir", Action: driver.Delete}}})
			return err
		}, errcode.Conflict},
		{"write under a file", func() error {
			_, err := e.d.OpenPullRequest(ctx, e.hc, &driver.PullRequestRequest{Repo: repo, Branch: "b", Title: "t",
				Changes: []driver.Change{{Path: "README.md/x", Content: []byte("a")}}})
			return err
		}, errcode.Conflict},
		{"invalid owner name", func() error {
			_, err := e.d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: driver.Repo{Owner: "..", Name: "svc"}, Path: "a", MaxBytes: 1})
			return err
		}, errcode.InvalidArgument},
		{"bad repository cursor", func() error {
			_, err := e.d.ListRepositories(ctx, e.hc, &driver.ListRepositoriesRequest{Owner: "acme", Cursor: "x"})
			return err
		}, errcode.InvalidArgument},
		{"network failure", func() error {
			d, _ := githubscm.New(&integrations.Integration{Kind: integrations.GitHub, Host: "h", APIBaseURL: "http://127.0.0.1:1"}, nil)
			_, err := d.ReadFile(ctx, e.hc, &driver.ReadFileRequest{Repo: repo, Path: "a", MaxBytes: 1})
			return err
		}, errcode.Unavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if got := codeOf(err); got != tt.want {
				t.Errorf("code = %v (%v); want %v", got, err, tt.want)
			}
		})
	}
	t.Run("typed errors", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			err  error
			want errcode.Code
		}{
			{"nil", nil, errcode.OK},
			{"errcode kept", &errcode.Error{Code: errcode.RateLimited, Status: 429}, errcode.RateLimited},
			{"wrapped errcode kept", fmt.Errorf("x: %w", errcode.New(errcode.Conflict, "", "c")), errcode.Conflict},
			{"graphql rate limited", &githubscm.GraphQLError{Errors: []githubscm.GraphQLErrorItem{{Type: "RATE_LIMITED"}}}, errcode.RateLimited},
			{"graphql forbidden", &githubscm.GraphQLError{Errors: []githubscm.GraphQLErrorItem{{Type: "FORBIDDEN"}}}, errcode.PermissionDenied},
			{"graphql other", &githubscm.GraphQLError{Errors: []githubscm.GraphQLErrorItem{{Message: "?"}}}, errcode.Unknown},
			{"unexpected EOF", io.ErrUnexpectedEOF, errcode.Unavailable},
			{"other", errors.New("?"), errcode.Unknown},
		} {
			if got := e.d.ErrorInfo(tt.err).Code; got != tt.want {
				t.Errorf("%s: ErrorInfo(%v) = %v; want %v", tt.name, tt.err, got, tt.want)
			}
		}
	})
}

// gitHubError sends req with go-github's error classification.
func gitHubError(hc *http.Client, req *http.Request) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return github.CheckResponse(resp)
}

func TestNoSecretInErrors(t *testing.T) {
	e := newEnv(t, false, nil)
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "private", Private: true, Files: []fakegithub.File{{Path: "a/b.txt", Content: []byte("b")}}})
	e.s.Inject(fake.Fault{Kind: fake.FaultServerError, Status: 500, Host: "download"})
	// The repository's root is read from the tarball (a folder below it
	// through GraphQL).
	_, err := e.c.ReadTree(t.Context(), e.web("acme/private/tree/main"), nil)
	if scm.Code(err) != scm.Unavailable {
		t.Fatalf("ReadTree with the download failing: %v; want Unavailable", err)
	}
	dl := e.s.RequestsTo("download")
	if len(dl) == 0 {
		t.Fatal("no download request")
	}
	for _, r := range dl {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the download host received Authorization %q; want none", r.Header.Get("Authorization"))
		}
		_, tok, _ := strings.Cut(r.Path, "token=")
		if tok == "" {
			t.Fatalf("download %s has no temporary token", r.Path)
		}
		for _, m := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(m, tok) || strings.Contains(m, goodToken) {
				t.Errorf("error shows a secret: %s", m)
			}
		}
	}
	e.s.ClearFaults()
	if fsys, err := e.c.ReadTree(t.Context(), e.web("acme/private/tree/main"), nil); err != nil {
		t.Errorf("ReadTree of the private repository: %v", err)
	} else if _, err := fsys.Open("a/b.txt"); err != nil {
		t.Errorf("Open(b.txt): %v", err)
	}
}

// TestListRepositories lists a user's repositories, with her own token
// (GET /user/repos: the private one too) and with another user's (GET
// /users/{u}/repos: the public ones only, as GitHub answers).
func TestListRepositories(t *testing.T) {
	all := []string{
		"octocat/r0 fork=false archived=false private=false /octocat/r0", "octocat/r1 fork=true archived=false private=false /octocat/r1",
		"octocat/r2 fork=false archived=true private=false /octocat/r2", "octocat/r3 fork=false archived=false private=true /octocat/r3",
		"octocat/r4 fork=false archived=false private=false /octocat/r4",
	}
	for _, tc := range []struct {
		name, viewer, kind string
		want               []string
		reqs               []int
	}{
		// The first page tries the organization endpoint, then asks whose
		// the token is, then lists.
		{"own token", "octocat", "self:", all, []int{3, 1, 1}},
		{"another user's token", "fake-user", "user:", slices.Delete(slices.Clone(all), 3, 4), []int{3, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, User: tc.viewer}, nil)
			e.s.AddOwner("octocat", fakegithub.User)
			for i := range 5 {
				e.addRepo(t, fakegithub.Repo{Owner: "octocat", Name: "r" + strconv.Itoa(i), Fork: i == 1, Archived: i == 2, Private: i == 3})
			}
			ctx := t.Context()
			var names []string
			cursor := ""
			var reqs []int
			for {
				var page *driver.RepositoryPage
				reqs = append(reqs, e.count(func() {
					var err error
					page, err = e.d.ListRepositories(ctx, e.hc, &driver.ListRepositoriesRequest{Owner: "octocat", Cursor: cursor, PageSize: 2})
					if err != nil {
						t.Fatal(err)
					}
				}))
				for _, r := range page.Repositories {
					names = append(names, fmt.Sprintf("%s/%s fork=%v archived=%v private=%v %s", r.Owner, r.Name, r.Fork, r.Archived, r.Private, strings.TrimPrefix(r.WebURL, "http://"+e.s.Host())))
				}
				if cursor = page.Next; cursor == "" {
					break
				}
				if !strings.HasPrefix(cursor, tc.kind) {
					t.Errorf("cursor %q; want a %s page", cursor, tc.kind)
				}
			}
			if diff := cmp.Diff(tc.want, names); diff != "" {
				t.Errorf("repositories (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.reqs, reqs); diff != "" {
				t.Errorf("requests per page (-want +got):\n%s", diff)
			}
			_, err := e.d.ListRepositories(ctx, e.hc, &driver.ListRepositoriesRequest{Owner: "nobody"})
			if got := e.d.ErrorInfo(err).Code; got != errcode.NotFound {
				t.Errorf("missing owner: %v; want NotFound", err)
			}
		})
	}
}

func TestOpenPullRequestIdempotent(t *testing.T) {
	e := newEnv(t, false, nil)
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{{Path: "README.md", Content: []byte("x")}}})
	spec := &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Branch: "race", Title: "t", Changes: textChanges(3)}
	const n = 8
	var wg sync.WaitGroup
	results := make([]*scm.PullRequest, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.c.OpenPullRequest(t.Context(), spec)
		}()
	}
	wg.Wait()
	opened := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("call %d: %v", i, errs[i])
			continue
		}
		if !results[i].Existing {
			opened++
		}
		if results[i].Number != 1 {
			t.Errorf("call %d: pull request #%d; want #1", i, results[i].Number)
		}
	}
	if pulls := e.s.Pulls("acme", "svc"); len(pulls) != 1 || opened != 1 {
		t.Errorf("%d pull requests, %d reported as opened; want exactly 1", len(pulls), opened)
	}
	// The branch holds one commit on top of main, whatever the race.
	info, _ := e.s.GetCommit("acme", "svc", "race")
	base, _ := e.s.Ref("acme", "svc", "main")
	if !slices.Equal(info.Parents, []string{base}) {
		t.Errorf("branch head parents = %v; want [%s] (one commit)", info.Parents, base)
	}

	// A retry after a partial failure (branch pushed, pull request not
	// opened) makes no second commit.
	e.s.FailPullRequestMutation(1, 0)
	spec2 := &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Branch: "retry", Title: "t", Changes: textChanges(2)}
	if _, err := e.c.OpenPullRequest(t.Context(), spec2); scm.Code(err) != scm.Unavailable {
		t.Fatalf("first attempt: %v; want Unavailable (a failed POST is not retried)", err)
	}
	first, _ := e.s.Ref("acme", "svc", "retry")
	pr, err := e.c.OpenPullRequest(t.Context(), spec2)
	if err != nil || pr.Existing || pr.CommitID != first {
		t.Fatalf("retry: %+v, %v; want a new pull request on commit %s", pr, err, first)
	}
	if after, _ := e.s.Ref("acme", "svc", "retry"); after != first {
		t.Errorf("branch moved from %s to %s on retry; want no new commit", first, after)
	}
}

func TestMaxResponseBytes(t *testing.T) {
	e := newEnv(t, false, &githubscm.Options{MaxResponseBytes: 200})
	var files []fakegithub.File
	for i := range 20 {
		files = append(files, fakegithub.File{Path: fmt.Sprintf("f%02d", i), Content: []byte("x")})
	}
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: files})
	_, err := e.d.ListFiles(t.Context(), e.hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}})
	if got := e.d.ErrorInfo(err).Code; got != errcode.InvalidArgument {
		t.Errorf("ListFiles with a 200-byte cap: %v (%v); want InvalidArgument", got, err)
	}
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   *integrations.Integration
		ok   bool
	}{
		{"github.com", &integrations.Integration{Kind: integrations.GitHub, Host: "github.com", APIBaseURL: "https://api.github.com"}, true},
		{"GHE", &integrations.Integration{Kind: integrations.GitHub, Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3/"}, true},
		{"not GitHub", &integrations.Integration{Kind: integrations.GitLab, Host: "gitlab.com", APIBaseURL: "https://gitlab.com/api/v4"}, false},
		// Backstage allows a GitHub Enterprise entry with rawBaseUrl only
		// (issue 11): the driver reads files from the raw host and refuses
		// API calls, saying to set apiBaseUrl.
		{"no API URL (raw only)", &integrations.Integration{Kind: integrations.GitHub, Host: "ghe.example.com", RawBaseURL: "https://raw.ghe.example.com"}, true},
		{"neither API nor raw URL", &integrations.Integration{Kind: integrations.GitHub, Host: "ghe.example.com"}, false},
		{"not http", &integrations.Integration{Kind: integrations.GitHub, Host: "h", APIBaseURL: "ftp://h/api/v3"}, false},
		{"nil", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := githubscm.Opener(nil)(tt.in)
			if (err == nil) != tt.ok || (d == nil) == tt.ok {
				t.Errorf("Opener(%+v) = %v, %v; want ok %v", tt.in, d, err, tt.ok)
			}
			if err != nil && scm.Code(err) != scm.InvalidArgument {
				t.Errorf("code %v; want InvalidArgument", scm.Code(err))
			}
		})
	}
}

// TestReadFileTooLarge checks that GitHub's 403 too_large (a file over the
// contents API's 100 MB; here over the fake's ContentsLimit) is
// InvalidArgument with GitHub's message, not PermissionDenied: the
// credential is not at fault and no other one will read the file.
func TestReadFileTooLarge(t *testing.T) {
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, ContentsLimit: 1000}, nil)
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{
		{Path: "big.bin", Content: bytes.Repeat([]byte("x"), 1001)},
		{Path: "small.txt", Content: []byte("ok\n")},
	}})
	var err error
	if n := e.count(func() { _, err = e.c.ReadFile(t.Context(), e.web("acme/svc/blob/main/big.bin"), nil) }); n != 1 {
		t.Errorf("reading a too-large file made %d requests; want 1", n)
	}
	if scm.Code(err) != scm.InvalidArgument || !strings.Contains(err.Error(), "too large") {
		t.Errorf("reading a file over the contents API's limit: %v (code %v); want InvalidArgument with GitHub's message",
			err, scm.Code(err))
	}
	if f, err := e.c.ReadFile(t.Context(), e.web("acme/svc/blob/main/small.txt"), nil); err != nil || string(f.Content) != "ok\n" {
		t.Errorf("reading a small file: %v, %v", f, err)
	}
}

// TestFindFilesOwnedOnly checks that discovery under a user finds the
// files of her own repositories only: GitHub's RepositoryOwner.repositories
// also gives, by default (ownerAffiliations [OWNER, COLLABORATOR]), the
// repositories of other owners she collaborates on.
func TestFindFilesOwnedOnly(t *testing.T) {
	e := newEnv(t, false, nil)
	e.s.AddOwner("octocat", fakegithub.User)
	if err := e.s.AddOrgMember("acme", fakegithub.OrgMember{Login: "octocat"}); err != nil {
		t.Fatal(err)
	}
	catalog := []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}
	e.addRepo(t, fakegithub.Repo{Owner: "octocat", Name: "own", Files: catalog})
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "shared", Private: true, Files: catalog})
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", e.s.APIBaseURL()+"/repos/acme/shared/collaborators/octocat",
		strings.NewReader(`{"permission":"push"}`))
	if err := gitHubError(e.hc, req); err != nil {
		t.Fatalf("making octocat a collaborator of acme/shared: %v", err)
	}
	var got []string
	for f, err := range e.c.FindFiles(t.Context(), e.web("octocat"), "catalog-info.yaml") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Repository.Owner+"/"+f.Repository.Name)
	}
	if diff := cmp.Diff([]string{"octocat/own"}, got); diff != "" {
		t.Errorf("FindFiles under octocat (-want +got):\n%s", diff)
	}
}

// TestListRepositoriesKind hands the driver the kind of listing that an
// earlier first page reported: a user's first page then costs one request,
// not three, and a stale "self" (the token's user is not the owner) is
// found out again instead of listing another owner's repositories.
func TestListRepositoriesKind(t *testing.T) {
	for _, tc := range []struct {
		name, viewer, hint, wantKind string
		wantRepos, wantReqs          int
	}{
		{"no kind, own token", "octocat", "", "self", 3, 3},
		{"self", "octocat", "self", "self", 3, 1},
		{"user", "octocat", "user", "user", 2, 1},
		{"stale self", "fake-user", "self", "user", 2, 4},
		{"no kind, organization", "octocat", "", "", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, User: tc.viewer}, nil)
			e.s.AddOwner("octocat", fakegithub.User)
			e.addRepo(t, fakegithub.Repo{Owner: "octocat", Name: "pub0"})
			e.addRepo(t, fakegithub.Repo{Owner: "octocat", Name: "pub1"})
			e.addRepo(t, fakegithub.Repo{Owner: "octocat", Name: "priv", Private: true})
			e.addRepo(t, fakegithub.Repo{Owner: "fake-user", Name: "mine"})
			e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc"})
			owner := "octocat"
			if tc.name == "no kind, organization" {
				owner = "acme"
			}
			var page *driver.RepositoryPage
			n := e.count(func() {
				var err error
				page, err = e.d.ListRepositories(t.Context(), e.hc, &driver.ListRepositoriesRequest{Owner: owner, Kind: tc.hint})
				if err != nil {
					t.Fatal(err)
				}
			})
			if n != tc.wantReqs || page.Kind != tc.wantKind || len(page.Repositories) != tc.wantRepos {
				t.Errorf("%d requests, kind %q, %d repositories; want %d, %q, %d", n, page.Kind, len(page.Repositories), tc.wantReqs, tc.wantKind, tc.wantRepos)
			}
			for _, r := range page.Repositories {
				if r.Owner != owner {
					t.Errorf("listed %s/%s; want only %s's", r.Owner, r.Name, owner)
				}
			}
		})
	}
}

// TestClientRemembersListingKind lists a user twice through the portable
// client: the second listing skips the requests that found out she is a
// user and that the token is hers.
func TestClientRemembersListingKind(t *testing.T) {
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, User: "octocat"}, nil)
	e.s.AddOwner("octocat", fakegithub.User)
	e.addRepo(t, fakegithub.Repo{Owner: "octocat", Name: "pub"})
	e.addRepo(t, fakegithub.Repo{Owner: "octocat", Name: "priv", Private: true})
	list := func() (names []string) {
		for r, err := range e.c.ListRepositories(t.Context(), e.web("Octocat"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, r.Name)
		}
		return names
	}
	var first, second []string
	n1 := e.count(func() { first = list() })
	n2 := e.count(func() { second = list() })
	if n1 != 3 || n2 != 1 {
		t.Errorf("requests: first listing %d, second %d; want 3 and 1", n1, n2)
	}
	if diff := cmp.Diff(first, second); diff != "" || len(first) != 2 {
		t.Errorf("listings differ or miss the private repository (-first +second):\n%s\nfirst: %v", diff, first)
	}
}
