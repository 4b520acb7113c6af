package scm_test

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

var (
	soakDuration = flag.Duration("soak.duration", 2*time.Second,
		"how long TestSoak runs its operations on each fake (all four at once); e.g. -soak.duration=10m")
	soakWorkers = flag.Int("soak.workers", 3, "concurrent workers per fake in TestSoak")
	soakFaults  = flag.Float64("soak.faults", 0.10, "share of TestSoak's operations that arm an injected fault first")
)

// soakWorld is one provider's fake and a client for it, seen the same way
// for every provider.
type soakWorld struct {
	name    string
	c       *scm.Client
	secrets []string // every credential value the client sends
	logs    *testlog.Buffer
	fileURL func(p string) string // on the default branch of BasicRepo
	treeURL func(dir string) string
	repoURL string
	// fault arms one random fault for the next matching request.
	fault func(rng *rand.Rand) string
	clear func()
	// commitsAhead, openPRs and files read the fake's state.
	commitsAhead func(branch string) int
	openPRs      func(branch string) int
	files        func(branch string) (map[string]string, error)
	perFile      bool // one commit per file (Bitbucket Server)
	noDelete     bool
	close        func()
}

// soakClient builds the portable client of a world: a real resolver, a
// debug logger into logs, a short backoff.
func soakClient(t *testing.T, cfg integrations.Config, kind integrations.Kind, open driver.Opener, logs *testlog.Buffer) (*scm.Client, *http.Transport) {
	t.Helper()
	reg, err := integrations.NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{kind: open},
		Transport: tr,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 4 * time.Millisecond, MaxRateLimitWait: 200 * time.Millisecond},
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, tr
}

// pick returns one of the statuses a failing front end answers.
func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

const soakOwner = "acme"

func githubSoak(t *testing.T) *soakWorld {
	const tok = "ghp_soakToken000000000000000000000000000"
	// The fake counts GitHub's 5,000 requests an hour; a long soak makes
	// more. Its clock moves one second per reading, so that its hourly
	// window rolls over before the limit: the soak is about faults, not
	// about a limit the client is right to respect.
	start, ticks := time.Now(), atomic.Int64{}
	clock := func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * time.Second) }
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{tok}, Now: clock})
	for _, r := range scmtest.World() {
		if _, err := s.AddFS(fakegithub.Repo{Owner: soakOwner, Name: r.Name, DefaultBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
			t.Fatal(err)
		}
	}
	logs := &testlog.Buffer{}
	c, tr := soakClient(t, integrations.Config{GitHub: []integrations.GitHubConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
		Token: integrations.NewSecret(tok)}}}, integrations.GitHub, githubscm.Opener(nil), logs)
	repo := "https://" + s.Host() + "/" + soakOwner + "/" + scmtest.BasicRepo
	w := &soakWorld{name: "github", c: c, secrets: []string{tok}, logs: logs, repoURL: repo,
		fileURL: func(p string) string { return repo + "/blob/main/" + p },
		treeURL: func(d string) string { return strings.TrimSuffix(repo+"/tree/main/"+d, "/") },
		clear:   s.ClearFaults,
		close:   func() { s.Close(); tr.CloseIdleConnections() },
	}
	w.fault = func(rng *rand.Rand) string {
		f := fake.Fault{Times: 1}
		switch rng.IntN(6) {
		case 5:
			f.Kind, f.Method = fake.FaultLostAnswer, pick(rng, http.MethodPost, http.MethodPatch)
		case 0:
			f.Kind, f.Status = fake.FaultServerError, pick(rng, 500, 502, 503)
		case 1:
			f.Kind = fake.FaultTruncatedBody
			if rng.IntN(2) == 0 {
				f.Host = "download"
			}
		case 2:
			f.Kind = fake.FaultTooManyRequestsNoRetryAfter
		case 3:
			f.Kind, f.Status = fake.FaultEchoCredentials, pick(rng, 400, 401, 502)
		default:
			f.Kind, f.Status, f.Method, f.Path = fake.FaultServerError, 502, http.MethodPost, "/repos/"+soakOwner+"/"+scmtest.BasicRepo+"/pulls"
		}
		s.Inject(f)
		return fmt.Sprint(f.Kind)
	}
	w.commitsAhead = func(branch string) int {
		onBase := map[string]bool{}
		for sha := scmtest.DefaultBranch; ; {
			ci, ok := s.GetCommit(soakOwner, scmtest.BasicRepo, sha)
			if !ok {
				break
			}
			onBase[ci.SHA] = true
			if len(ci.Parents) == 0 {
				break
			}
			sha = ci.Parents[0]
		}
		n := 0
		for sha := branch; ; n++ {
			ci, ok := s.GetCommit(soakOwner, scmtest.BasicRepo, sha)
			if !ok || onBase[ci.SHA] {
				return n
			}
			if len(ci.Parents) == 0 {
				return n + 1
			}
			sha = ci.Parents[0]
		}
	}
	w.openPRs = func(branch string) int {
		n := 0
		for _, p := range s.Pulls(soakOwner, scmtest.BasicRepo) {
			if p.Head == branch && p.State == "open" {
				n++
			}
		}
		return n
	}
	w.files = func(branch string) (map[string]string, error) {
		fs, err := s.Files(soakOwner, scmtest.BasicRepo, branch)
		m := map[string]string{}
		for _, f := range fs {
			m[f.Path] = string(f.Content)
		}
		return m, err
	}
	return w
}

func gitlabSoak(t *testing.T) *soakWorld {
	const tok = "glpat-soakToken00000000"
	s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{tok}})
	for _, r := range scmtest.World() {
		if _, _, err := s.AddFS(fakegitlab.Project{Namespace: soakOwner, Path: r.Name, DefaultBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
			t.Fatal(err)
		}
	}
	logs := &testlog.Buffer{}
	c, tr := soakClient(t, integrations.Config{GitLab: []integrations.GitLabConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
		BaseURL: s.URL(), Token: integrations.NewSecret(tok)}}}, integrations.GitLab, gitlabscm.Opener(nil), logs)
	full := soakOwner + "/" + scmtest.BasicRepo
	repo := s.URL() + "/" + full
	w := &soakWorld{name: "gitlab", c: c, secrets: []string{tok}, logs: logs, repoURL: repo,
		fileURL: func(p string) string { return repo + "/-/blob/main/" + p },
		treeURL: func(d string) string { return strings.TrimSuffix(repo+"/-/tree/main/"+d, "/") },
		clear:   s.ClearFaults,
		close:   func() { s.Close(); tr.CloseIdleConnections() },
	}
	w.fault = func(rng *rand.Rand) string {
		f := fake.Fault{Times: 1}
		switch rng.IntN(6) {
		case 5:
			f.Kind, f.Method = fake.FaultLostAnswer, http.MethodPost
		case 0:
			f.Kind, f.Status = fake.FaultServerError, pick(rng, 500, 502, 503)
		case 1:
			f.Kind = fake.FaultTruncatedBody
		case 2:
			f.Kind = fake.FaultTooManyRequestsNoRetryAfter
		case 3:
			f.Kind, f.Status = fake.FaultEchoCredentials, pick(rng, 400, 401, 502)
		default:
			f.Kind, f.Status, f.Method, f.Path = fake.FaultServerError, 502, http.MethodPost, "/api/v4/projects/"+url.PathEscape(full)+"/merge_requests"
		}
		s.Inject(f)
		return fmt.Sprint(f.Kind)
	}
	w.commitsAhead = func(branch string) int {
		base, _ := s.Commits(full, scmtest.DefaultBranch)
		head, _ := s.Commits(full, branch)
		return adaptertest.CommitsAhead(head, base)
	}
	w.openPRs = func(branch string) int {
		n := 0
		for _, m := range s.MergeRequests(full) {
			if m.SourceBranch == branch && m.State == "opened" {
				n++
			}
		}
		return n
	}
	w.files = func(branch string) (map[string]string, error) {
		return contents(s.Files(full, branch))
	}
	return w
}

// contents maps the files a fake lists to their contents, passing err on.
func contents(files []fake.File, err error) (map[string]string, error) {
	m := map[string]string{}
	for _, f := range files {
		m[f.Path] = string(f.Content)
	}
	return m, err
}

// bitbucketFault arms a random fault of the scmtest kinds both Bitbucket
// fakes take, described by kind, status, method and path.
func bitbucketFault(rng *rand.Rand, prPath string) (kind scmtest.FaultKind, status int, method, path string) {
	switch rng.IntN(6) {
	case 0:
		return scmtest.FaultServerError, pick(rng, 500, 502, 503), "", ""
	case 1:
		return scmtest.FaultTruncatedBody, 0, "", ""
	case 2:
		return scmtest.FaultTooManyRequestsNoRetryAfter, 0, "", ""
	case 3:
		return scmtest.FaultEchoCredentials, pick(rng, 400, 401, 502), "", ""
	case 4:
		return scmtest.FaultLostAnswer, 0, pick(rng, http.MethodPost, http.MethodPut), ""
	}
	return scmtest.FaultServerError, 502, http.MethodPost, prPath
}

func bitbucketCloudSoak(t *testing.T) *soakWorld {
	const user, tok = "soak@example.com", "bbc-soak-api-token-5e1f"
	s := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Users: map[string]string{user: tok}})
	for _, r := range scmtest.World() {
		if _, err := s.AddFS(fakebitbucketcloud.Repo{Workspace: soakOwner, Slug: r.Name, MainBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
			t.Fatal(err)
		}
	}
	logs := &testlog.Buffer{}
	c, tr := soakClient(t, integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{Host: s.Host(),
		APIBaseURL: s.APIBaseURL(), Username: user, Token: integrations.NewSecret(tok)}}}, integrations.BitbucketCloud, bitbucketcloudscm.Opener(nil), logs)
	repo := s.URL() + "/" + soakOwner + "/" + scmtest.BasicRepo
	w := &soakWorld{name: "bitbucketCloud", c: c, secrets: []string{tok}, logs: logs, repoURL: repo,
		fileURL: func(p string) string { return repo + "/src/main/" + p },
		treeURL: func(d string) string {
			if d == "" {
				return repo + "/src/main/"
			}
			return repo + "/src/main/" + d + "/"
		},
		clear: s.ClearFaults,
		close: func() { s.Close(); tr.CloseIdleConnections() },
	}
	w.fault = func(rng *rand.Rand) string {
		kind, st, method, path := bitbucketFault(rng, "/2.0/repositories/"+soakOwner+"/"+scmtest.BasicRepo+"/pullrequests")
		s.Inject(fake.Fault{Kind: kind, Times: 1, Status: st, Method: method, Path: path})
		return kind.String()
	}
	w.commitsAhead = func(branch string) int {
		base, _ := s.Commits(soakOwner, scmtest.BasicRepo, scmtest.DefaultBranch)
		head, _ := s.Commits(soakOwner, scmtest.BasicRepo, branch)
		return adaptertest.CommitsAhead(head, base)
	}
	w.openPRs = func(branch string) int {
		n := 0
		for _, p := range s.PullRequests(soakOwner, scmtest.BasicRepo) {
			if p.Source == branch && p.State == "OPEN" {
				n++
			}
		}
		return n
	}
	w.files = func(branch string) (map[string]string, error) {
		return contents(s.Files(soakOwner, scmtest.BasicRepo, branch))
	}
	return w
}

func bitbucketServerSoak(t *testing.T) *soakWorld {
	const project, user, pw = "ACME", "svc-soak", "bbs-soak-password-90ab"
	s := fakebitbucketserver.New(&fakebitbucketserver.Options{Users: map[string]string{user: pw}})
	for _, r := range scmtest.World() {
		if _, err := s.AddFS(fakebitbucketserver.Repo{Project: project, Name: r.Name, DefaultBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
			t.Fatal(err)
		}
	}
	logs := &testlog.Buffer{}
	c, tr := soakClient(t, integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: s.Host(),
		APIBaseURL: s.APIBaseURL(), Username: user, Password: integrations.NewSecret(pw)}}}, integrations.BitbucketServer, bitbucketserverscm.Opener(nil), logs)
	repo := s.URL() + "/projects/" + project + "/repos/" + scmtest.BasicRepo
	w := &soakWorld{name: "bitbucketServer", c: c, secrets: []string{pw}, logs: logs, repoURL: repo,
		fileURL: func(p string) string { return repo + "/browse/" + p + "?at=main" },
		treeURL: func(d string) string {
			if d == "" {
				return repo + "/browse?at=main"
			}
			return repo + "/browse/" + d + "/?at=main"
		},
		perFile: true, noDelete: true,
		clear: s.ClearFaults,
		close: func() { s.Close(); tr.CloseIdleConnections() },
	}
	w.fault = func(rng *rand.Rand) string {
		kind, st, method, path := bitbucketFault(rng, "/projects/"+project+"/repos/"+scmtest.BasicRepo+"/pull-requests")
		s.Inject(fake.Fault{Kind: kind, Times: 1, Status: st, Method: method, Path: path})
		return kind.String()
	}
	w.commitsAhead = func(branch string) int {
		base, _ := s.Commits(project, scmtest.BasicRepo, scmtest.DefaultBranch)
		head, _ := s.Commits(project, scmtest.BasicRepo, branch)
		return adaptertest.CommitsAhead(head, base)
	}
	w.openPRs = func(branch string) int {
		n := 0
		for _, p := range s.PullRequests(project, scmtest.BasicRepo) {
			if p.FromBranch == branch && p.State == "OPEN" {
				n++
			}
		}
		return n
	}
	w.files = func(branch string) (map[string]string, error) {
		return contents(s.Files(project, scmtest.BasicRepo, branch))
	}
	return w
}

// soakStats counts what a world's run did and found.
type soakStats struct {
	ops, faults, errs, reruns, prs atomic.Int64
	wrong, dupCommits, dupPRs      atomic.Int64
	leakedSecrets                  atomic.Int64
}

// soakSearches are the Search patterns and their exact answers.
var soakSearches = []struct {
	pattern string
	want    []string
}{
	{"templates/**/*.yaml", []string{"templates/service/skeleton/catalog-info.yaml", "templates/service/template.yaml"}},
	{"**/catalog-info.yaml", []string{"catalog-info.yaml", "templates/service/skeleton/catalog-info.yaml"}},
	{"*.md", []string{"README.md"}},
}

// TestSoak runs mixed operations (ReadFile, ReadTree, Search and
// OpenPullRequest, rerun after each failure as its error advises) on all
// four fakes at once, arming an injected fault before about 10% of them,
// and checks: no wrong result (a read that succeeds returns exactly the
// fixture), no duplicate commit or pull request after reruns, no secret
// in any error or in the clients' debug logs, and no goroutine left once
// everything is closed. It runs -soak.duration (2s) per fake; longer runs
// take the flag, e.g. go test ./scm -run TestSoak -soak.duration=10m.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	baseline := runtime.NumGoroutine()
	makers := []func(*testing.T) *soakWorld{githubSoak, gitlabSoak, bitbucketCloudSoak, bitbucketServerSoak}
	worlds := make([]*soakWorld, len(makers))
	for i, mk := range makers {
		worlds[i] = mk(t)
	}
	stats := make([]*soakStats, len(worlds))
	var wg sync.WaitGroup
	for i, w := range worlds {
		stats[i] = &soakStats{}
		for k := range max(1, *soakWorkers) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				soakWorker(t, w, stats[i], uint64(i*100+k))
			}()
		}
	}
	wg.Wait()

	for i, w := range worlds {
		st := stats[i]
		t.Logf("%s: %d operations, %d with a fault armed, %d errors, %d pull requests (%d reruns); wrong results %d, duplicate commits %d, duplicate pull requests %d, secrets shown %d",
			w.name, st.ops.Load(), st.faults.Load(), st.errs.Load(), st.prs.Load(), st.reruns.Load(),
			st.wrong.Load(), st.dupCommits.Load(), st.dupPRs.Load(), st.leakedSecrets.Load())
		if st.ops.Load() == 0 || st.prs.Load() == 0 {
			t.Errorf("%s: no operation or no pull request ran", w.name)
		}
		if st.wrong.Load()+st.dupCommits.Load()+st.dupPRs.Load()+st.leakedSecrets.Load() != 0 {
			t.Errorf("%s: wrong results, duplicates or secrets shown (see above)", w.name)
		}
		logs := w.logs.String()
		if logs == "" {
			t.Errorf("%s: the debug log is empty; want the clients' records", w.name)
		}
		if s, ok := scmtest.ShowsSecret(logs, w.secrets); ok {
			t.Errorf("%s: the debug log shows the secret %.4s…", w.name, s)
		}
		w.close()
	}

	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines after the soak; want at most %d as before it. Stacks:\n%s", n, baseline, buf)
	}
}

// soakWorker runs random operations on w until the soak's time is up.
func soakWorker(t *testing.T, w *soakWorld, st *soakStats, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	fx := scmtest.Basic()
	end := time.Now().Add(*soakDuration)
	check := func(what string, err error) {
		if err == nil {
			return
		}
		st.errs.Add(1)
		for _, m := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if s, ok := scmtest.ShowsSecret(m, w.secrets); ok {
				st.leakedSecrets.Add(1)
				t.Errorf("%s: %s: error shows the secret %.4s…", w.name, what, s)
				return
			}
		}
	}
	wrong := func(format string, args ...any) {
		st.wrong.Add(1)
		t.Errorf(w.name+": wrong result: "+format, args...)
	}
	// At least a few operations, a pull request first, however loaded the
	// machine (the race detector on two cores makes an operation slow).
	const minOps = 4
	for n := 0; n < minOps || time.Now().Before(end); n++ {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		st.ops.Add(1)
		if rng.Float64() < *soakFaults {
			st.faults.Add(1)
			w.fault(rng)
		}
		op := rng.IntN(20)
		if n == 0 {
			op = 19 // a pull request
		}
		switch {
		case op < 7:
			f := fx.Files[rng.IntN(len(fx.Files))]
			got, err := w.c.ReadFile(ctx, w.fileURL(f.Path), nil)
			check("ReadFile", err)
			if err == nil && !bytes.Equal(got.Content, f.Content) {
				wrong("ReadFile(%s) = %q; want %q", f.Path, got.Content, f.Content)
			}
		case op < 11:
			dir := pick(rng, "", "templates", "templates/service")
			fsys, err := w.c.ReadTree(ctx, w.treeURL(dir), nil)
			check("ReadTree", err)
			if err == nil {
				soakCheckTree(fsys, fx, dir, wrong)
			}
		case op < 15:
			q := soakSearches[rng.IntN(len(soakSearches))]
			res, err := w.c.Search(ctx, w.fileURL(q.pattern), nil)
			check("Search", err)
			if err == nil {
				var got []string
				for _, r := range res {
					got = append(got, r.Path)
				}
				slices.Sort(got)
				if !slices.Equal(got, q.want) {
					wrong("Search(%q) = %q; want %q", q.pattern, got, q.want)
				}
			}
		default:
			soakPullRequest(ctx, t, w, st, rng, fmt.Sprintf("soak-%d-%d", seed, n), check, wrong)
		}
		cancel()
	}
}

func soakCheckTree(fsys fs.FS, fx *scmtest.Fixture, dir string, wrong func(string, ...any)) {
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
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if ff := fx.File(full); ff == nil || !bytes.Equal(b, ff.Content) {
			wrong("ReadTree(%q): %s = %q; want the fixture's", dir, p, b)
		}
		return nil
	})
	if err != nil {
		wrong("ReadTree(%q): walking the tree: %v", dir, err)
	}
	if want := fx.Under(dir); !slices.Equal(got, want) {
		wrong("ReadTree(%q) files %q; want %q", dir, got, want)
	}
}

// soakPullRequest opens a pull request on a new branch, running
// OpenPullRequest again after every failure (at most 12 times), then once
// more, and checks that the branch holds the changes in one commit (one
// per file on Bitbucket Server) and one open pull request.
func soakPullRequest(ctx context.Context, t *testing.T, w *soakWorld, st *soakStats, rng *rand.Rand, branch string,
	check func(string, error), wrong func(string, ...any)) {
	spec := &scm.PullRequestSpec{
		RepoURL: w.repoURL, Base: scmtest.DefaultBranch, Branch: branch, Title: "soak " + branch,
		Body: "Opened by TestSoak.", CommitMessage: "soak " + branch,
		Changes: []scm.Change{
			{Path: "soak/" + branch + ".txt", Action: scm.Create, Content: []byte(branch + "\n")},
			{Path: "soak/shared.txt", Action: scm.Upsert, Content: []byte(fmt.Sprintf("upserted by %s %d\n", branch, rng.Int()))},
			{Path: "README.md", Action: scm.Update, Content: []byte("# basic\n\nupdated by " + branch + "\n")},
		},
	}
	if !w.noDelete {
		spec.Changes = append(spec.Changes, scm.Change{Path: "docs/index.md", Action: scm.Delete})
	}
	st.prs.Add(1)
	var pr *scm.PullRequest
	var err error
	for attempt := range 12 {
		if attempt > 0 {
			st.reruns.Add(1)
		}
		pr, err = w.c.OpenPullRequest(ctx, spec)
		check("OpenPullRequest", err)
		if err == nil {
			break
		}
	}
	if err != nil {
		// Faults are armed for one request each; twelve runs that all
		// fail mean the reruns do not converge.
		wrong("OpenPullRequest on %s failed 12 times: %v", branch, err)
		return
	}
	// The run after success: the same pull request, nothing committed.
	again, err := w.c.OpenPullRequest(ctx, spec)
	check("OpenPullRequest again", err)
	if err == nil && (!again.Existing || again.Number != pr.Number) {
		wrong("OpenPullRequest again on %s = %+v; want the existing pull request %d", branch, again, pr.Number)
	}
	want := 1
	if w.perFile {
		want = len(spec.Changes)
	}
	if n := w.commitsAhead(branch); n != want {
		st.dupCommits.Add(1)
		t.Errorf("%s: branch %s holds %d commits; want %d", w.name, branch, n, want)
	}
	if n := w.openPRs(branch); n != 1 {
		st.dupPRs.Add(1)
		t.Errorf("%s: %d open pull requests from %s; want 1", w.name, n, branch)
	}
	files, err := w.files(branch)
	if err != nil {
		wrong("reading branch %s from the fake: %v", branch, err)
		return
	}
	for _, ch := range spec.Changes {
		got, ok := files[ch.Path]
		switch {
		case ch.Action == scm.Delete && ok:
			wrong("%s still holds %s, deleted", branch, ch.Path)
		case ch.Action != scm.Delete && got != string(ch.Content):
			wrong("%s: %s = %q; want %q", branch, ch.Path, got, cmp.Or(string(ch.Content), "(empty)"))
		}
	}
}
