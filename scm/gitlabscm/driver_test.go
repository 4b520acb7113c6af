package gitlabscm_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// seedGroup adds n projects spread over group and two levels of
// subgroups; every third one has a catalog-info.yaml. It returns how many
// have one.
func seedGroup(tb testing.TB, w *world, group string, n int) int {
	tb.Helper()
	found := 0
	for i := range n {
		ns := group
		switch i % 3 {
		case 1:
			ns = group + "/team-a"
		case 2:
			ns = group + "/team-a/backend"
		}
		files := map[string]string{"README.md": fmt.Sprintf("# p%d\n", i)}
		if i%3 == 0 {
			files["catalog-info.yaml"] = fmt.Sprintf("kind: Component\nmetadata:\n  name: p%d\n", i)
			found++
		}
		w.add(tb, ns, fmt.Sprintf("p%04d", i), files)
	}
	return found
}

func TestBudgets(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.add(t, "acme/platform", "svc", map[string]string{
		"catalog-info.yaml":             "kind: Component\n",
		"templates/service/a.yaml":      "a: 1\n",
		"templates/service/sub/b.yaml":  "b: 2\n",
		"templates/service/scripts.txt": "run\n",
	})
	wantFound := seedGroup(t, w, "big", 1000)
	ctx := t.Context()
	fileURL := w.fileURL(t, "acme/platform", "svc", "", "catalog-info.yaml")

	var etag string
	for _, tc := range []struct {
		name string
		want int
		do   func() error
	}{
		{"ReadFile", 1, func() error {
			f, err := w.c.ReadFile(ctx, fileURL, nil)
			if err == nil {
				etag = f.ETag
			}
			return err
		}},
		{"ReadFile unchanged (304)", 1, func() error {
			_, err := w.c.ReadFile(ctx, fileURL, &scm.ReadFileOptions{IfNoneMatch: etag})
			if scm.Code(err) != scm.NotModified {
				return fmt.Errorf("code %v (%v); want NotModified", scm.Code(err), err)
			}
			return nil
		}},
		{"ReadTree", 1, func() error {
			fsys, err := w.c.ReadTree(ctx, w.treeURL(t, "acme/platform", "svc", "", "templates/service"), nil)
			if err != nil {
				return err
			}
			return fstest.TestFS(fsys, "a.yaml", "sub/b.yaml", "scripts.txt")
		}},
		{"Search", 1, func() error {
			res, err := w.c.Search(ctx, w.fileURL(t, "acme/platform", "svc", "", "templates/**/*.yaml"), nil)
			if err == nil && len(res) != 2 {
				err = fmt.Errorf("%d results; want 2", len(res))
			}
			return err
		}},
		{"OpenPullRequest, 10 text files, new branch", 3, func() error {
			pr, err := w.c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: w.url(t, "acme/platform", "svc", "", "", false),
				Branch: "ten-files", Title: "Ten files", Changes: textChanges("gen", 10)})
			if err == nil && pr.Existing {
				err = fmt.Errorf("Existing = true; want a new merge request")
			}
			return err
		}},
		{"OpenPullRequest again", 1, func() error {
			pr, err := w.c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: w.url(t, "acme/platform", "svc", "", "", false),
				Branch: "ten-files", Title: "Ten files", Changes: textChanges("gen", 10)})
			if err == nil && !pr.Existing {
				err = fmt.Errorf("Existing = false; want the existing merge request")
			}
			return err
		}},
		{"FindFiles, 1,000 projects in nested groups", 10, func() error {
			n := 0
			for f, err := range w.c.FindFiles(ctx, w.ownerURL(t, "big"), "catalog-info.yaml") {
				if err != nil {
					return err
				}
				if f.Method != scm.FoundByFinder {
					return fmt.Errorf("Method = %v; want FoundByFinder", f.Method)
				}
				n++
			}
			if n != wantFound {
				return fmt.Errorf("found %d; want %d", n, wantFound)
			}
			return nil
		}},
		{"ListRepositories, 1,000 projects", 10, func() error {
			n := 0
			for _, err := range w.c.ListRepositories(ctx, w.ownerURL(t, "big"), nil) {
				if err != nil {
					return err
				}
				n++
			}
			if n != 1000 {
				return fmt.Errorf("listed %d; want 1000", n)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := w.requests()
			if err := tc.do(); err != nil {
				t.Fatal(err)
			}
			if got := w.requests() - before; got != tc.want {
				t.Errorf("%d requests; want %d", got, tc.want)
			}
		})
	}
	if st := w.s.Stats(); st.NotModified != 1 {
		t.Errorf("the fake answered %d requests 304; want 1 (the unchanged re-read)", st.NotModified)
	}
}

// TestClientGoMachineryOff checks that client-go adds nothing of its own:
// no PRIVATE-TOKEN header, no retries, no rate limiter.
func TestClientGoMachineryOff(t *testing.T) {
	t.Run("credential header", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
		if _, err := w.c.ReadFile(t.Context(), w.fileURL(t, "acme", "svc", "", "README.md"), nil); err != nil {
			t.Fatal(err)
		}
		for _, x := range w.c.ListRepositories(t.Context(), w.ownerURL(t, "acme"), nil) {
			_ = x
		}
		for _, r := range w.s.Requests() {
			if _, ok := r.Header["Private-Token"]; ok {
				t.Errorf("%s %s carries a PRIVATE-TOKEN header; want none (the transport sends Authorization)", r.Method, r.Path)
			}
			if got, want := r.Header.Get("Authorization"), "Bearer "+goodToken; got != want {
				t.Errorf("%s %s: Authorization %q; want %q", r.Method, r.Path, got, want)
			}
		}
	})
	t.Run("no client-go retries", func(t *testing.T) {
		for _, tc := range []struct {
			retries int
			want    int
		}{{-1, 1}, {2, 3}} {
			w := newWorld(t, worldOptions{retry: scm.RetryOptions{MaxRetries: tc.retries, MinWait: time.Millisecond,
				MaxWait: 2 * time.Millisecond}})
			w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
			w.s.Inject(fake.Fault{Kind: fake.FaultServerError, Status: http.StatusServiceUnavailable})
			before := w.requests()
			for _, err := range w.c.ListRepositories(t.Context(), w.ownerURL(t, "acme"), nil) {
				if scm.Code(err) != scm.Unavailable {
					t.Errorf("MaxRetries %d: code %v (%v); want Unavailable", tc.retries, scm.Code(err), err)
				}
			}
			if got := w.requests() - before; got != tc.want {
				t.Errorf("MaxRetries %d: %d requests; want %d (scmkit's retries only)", tc.retries, got, tc.want)
			}
		}
	})
	t.Run("no client-go rate limiter", func(t *testing.T) {
		// The fake advertises RateLimit-Limit: 60, from which client-go's
		// default limiter would allow one request every 1.5 s.
		w := newWorld(t, worldOptions{fake: fakegitlab.Options{RateLimit: 60}})
		w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
		start := time.Now()
		_, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false),
			Branch: "fast", Title: "Fast", Changes: textChanges("x", 2)})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("OpenPullRequest (3 requests) took %v; want well under a second (no client-side throttling)", d)
		}
	})
}

func TestNestedGroupsAndEncoding(t *testing.T) {
	w := newWorld(t, worldOptions{})
	const ns, name = "acme/platform/tools", "my.repo_x-1"
	w.add(t, ns, name, map[string]string{"README.md": "# nested\n", "docs/a b ü.md": "unicode\n"})
	ctx := t.Context()

	f, err := w.c.ReadFile(ctx, w.fileURL(t, ns, name, "", "docs/a b ü.md"), nil)
	if err != nil {
		t.Fatalf("ReadFile of a path with a space and unicode: %v", err)
	}
	if string(f.Content) != "unicode\n" || f.BlobID != fakegitlab.BlobID([]byte("unicode\n")) {
		t.Errorf("ReadFile = %q, blob %s; want %q, blob %s", f.Content, f.BlobID, "unicode\n", fakegitlab.BlobID([]byte("unicode\n")))
	}
	reqs := w.s.Requests()
	const wantPath = "/api/v4/projects/acme%2Fplatform%2Ftools%2Fmy%2Erepo_x-1/repository/files/docs%2Fa%20b%20%C3%BC%2Emd/raw?ref=main"
	if got := reqs[len(reqs)-1].Path; got != wantPath {
		t.Errorf("request path %s; want %s", got, wantPath)
	}

	// A branch with "/" and a file with spaces and unicode, through a pull
	// request, read back through URLs (Registry.URL writes ?at= for the
	// branch).
	const branch = "feature/x-y"
	pr, err := w.c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: w.url(t, ns, name, "", "", false), Branch: branch,
		Title: "Unicode", Changes: []scm.Change{
			{Path: "new dir/ünï cødé.txt", Content: []byte("ü\n")},
			{Path: "docs/a b ü.md", Action: scm.Update, Content: []byte("changed\n")},
		}})
	if err != nil {
		t.Fatalf("OpenPullRequest: %v", err)
	}
	if pr.Branch != branch || pr.Base != "main" || !strings.Contains(pr.URL, "/acme/platform/tools/my.repo_x-1/-/merge_requests/") {
		t.Errorf("OpenPullRequest = %+v; want branch %s into main with the project's merge request URL", pr, branch)
	}
	for p, want := range map[string]string{"new dir/ünï cødé.txt": "ü\n", "docs/a b ü.md": "changed\n"} {
		f, err := w.c.ReadFile(ctx, w.fileURL(t, ns, name, branch, p), nil)
		if err != nil {
			t.Errorf("ReadFile(%s on %s): %v", p, branch, err)
			continue
		}
		if string(f.Content) != want {
			t.Errorf("ReadFile(%s on %s) = %q; want %q", p, branch, f.Content, want)
		}
	}
	fsys, err := w.c.ReadTree(ctx, w.treeURL(t, ns, name, branch, ""), nil)
	if err != nil {
		t.Fatalf("ReadTree of %s: %v", branch, err)
	}
	if err := fstest.TestFS(fsys, "README.md", "docs/a b ü.md", "new dir/ünï cødé.txt"); err != nil {
		t.Errorf("ReadTree of %s: %v", branch, err)
	}
	var names []string
	for r, err := range w.c.ListRepositories(ctx, w.ownerURL(t, "acme"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, r.Owner+"/"+r.Name)
	}
	if diff := cmp.Diff([]string{ns + "/" + name}, names); diff != "" {
		t.Errorf("ListRepositories(acme) (-want +got):\n%s", diff)
	}
}

func TestSubPathRefusesURLWithoutIt(t *testing.T) {
	w := newWorld(t, worldOptions{fake: fakegitlab.Options{RelativePath: "/gitlab"}})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	ctx := t.Context()
	if _, err := w.c.ReadFile(ctx, "http://"+w.s.Host()+"/gitlab/acme/svc/-/blob/main/README.md", nil); err != nil {
		t.Fatalf("ReadFile under the sub-path: %v", err)
	}
	before := w.requests()
	for _, u := range []string{
		"http://" + w.s.Host() + "/acme/svc/-/blob/main/README.md",
		"http://" + w.s.Host() + "/gitlabx/acme/svc/-/blob/main/README.md",
	} {
		_, err := w.c.ReadFile(ctx, u, nil)
		if scm.Code(err) != scm.InvalidArgument || !strings.Contains(err.Error(), "/gitlab/") {
			t.Errorf("ReadFile(%s): %v (code %v); want InvalidArgument naming the /gitlab/ sub-path", u, err, scm.Code(err))
		}
	}
	if n := w.requests() - before; n != 0 {
		t.Errorf("refused URLs made %d requests; want 0", n)
	}
}

func TestScopedCredentials(t *testing.T) {
	const (
		hostToken  = "glpat-host0000000000000000000"
		groupToken = "glpat-group000000000000000000"
		subToken   = "glpat-subgroup000000000000000"
	)
	w := newWorld(t, worldOptions{
		fake: fakegitlab.Options{Tokens: []string{hostToken, groupToken, subToken}},
		config: func(c *integrations.GitLabConfig) {
			c.Token = integrations.NewSecret(hostToken)
			c.Credentials = []integrations.ScopedCredential{
				{Owners: []string{"acme"}, Token: integrations.NewSecret(groupToken)},
				{Owners: []string{"acme/platform"}, Token: integrations.NewSecret(subToken)},
			}
		},
	})
	for _, ns := range []string{"acme/platform/tools", "acme/platform", "acme/other", "elsewhere"} {
		w.add(t, ns, "svc", map[string]string{"README.md": ns + "\n"})
	}
	for _, tc := range []struct {
		ns, want string
	}{
		{"acme/platform/tools", subToken}, // the most specific group wins
		{"acme/platform", subToken},
		{"acme/other", groupToken},
		{"elsewhere", hostToken},
	} {
		f, err := w.c.ReadFile(t.Context(), w.fileURL(t, tc.ns, "svc", "", "README.md"), nil)
		if err != nil {
			t.Errorf("ReadFile in %s: %v", tc.ns, err)
			continue
		}
		if string(f.Content) != tc.ns+"\n" {
			t.Errorf("ReadFile in %s = %q", tc.ns, f.Content)
		}
		reqs := w.s.Requests()
		if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != "Bearer "+tc.want {
			t.Errorf("ReadFile in %s sent the wrong credential (%d bytes); want the one scoped to it", tc.ns, len(got))
		}
	}

	// Concurrent calls share the driver's client-go client; each request
	// still carries its own call's credential.
	w.s.ResetStats()
	want := map[string]string{"acme%2Fplatform%2Ftools%2F": subToken, "acme%2Fother%2F": groupToken, "elsewhere%2F": hostToken}
	var wg sync.WaitGroup
	for i := range 30 {
		ns := []string{"acme/platform/tools", "acme/other", "elsewhere"}[i%3]
		u := w.fileURL(t, ns, "svc", "", "README.md")
		wg.Go(func() {
			if _, err := w.c.ReadFile(t.Context(), u, nil); err != nil {
				t.Errorf("ReadFile in %s: %v", ns, err)
			}
		})
	}
	wg.Wait()
	for _, r := range w.s.Requests() {
		for prefix, tok := range want {
			if strings.Contains(r.Path, "/projects/"+prefix) && r.Header.Get("Authorization") != "Bearer "+tok {
				t.Errorf("%s carried another call's credential", r.Path)
			}
		}
	}
}

func TestListRepositoriesPagination(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noKeyset bool
	}{{"keyset", false}, {"offset fallback", true}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{fake: fakegitlab.Options{NoKeyset: tc.noKeyset}})
			seedGroup(t, w, "big", 250)
			w.add(t, "other", "outside", map[string]string{"a": "b"})
			before := w.requests()
			var got []string
			for r, err := range w.c.ListRepositories(t.Context(), w.ownerURL(t, "big"), nil) {
				if err != nil {
					t.Fatal(err)
				}
				if r.DefaultBranch != "main" || !strings.HasSuffix(r.WebURL, "/"+r.Owner+"/"+r.Name) || !r.Private {
					t.Errorf("repository %+v: want default branch main, its web URL, private", r)
				}
				got = append(got, r.Owner+"/"+r.Name)
			}
			if len(got) != 250 || slices.Contains(got, "other/outside") {
				t.Errorf("listed %d projects; want the group's 250 (subgroups included, nothing else)", len(got))
			}
			slices.Sort(got)
			if len(slices.Compact(got)) != 250 {
				t.Errorf("listed duplicates")
			}
			if n := w.requests() - before; n != 3 {
				t.Errorf("%d requests; want 3 (pages of 100)", n)
			}
			for _, r := range w.s.Requests()[before:] {
				if !strings.Contains(r.Path, "include_subgroups=true") || !strings.Contains(r.Path, "pagination=keyset") ||
					!strings.Contains(r.Path, "order_by=id") || !strings.Contains(r.Path, "per_page=100") {
					t.Errorf("request %s lacks include_subgroups=true, pagination=keyset, order_by=id or per_page=100", r.Path)
				}
			}
		})
	}
	t.Run("user namespace", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		w.add(t, "fake-user", "dotfiles", map[string]string{"a": "b"})
		before := w.requests()
		var got []string
		for r, err := range w.c.ListRepositories(t.Context(), "http://"+w.s.Host()+"/fake-user", nil) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Owner+"/"+r.Name)
		}
		if diff := cmp.Diff([]string{"fake-user/dotfiles"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if n := w.requests() - before; n != 2 {
			t.Errorf("%d requests; want 2 (groups/ answers 404, then users/)", n)
		}
		// The client remembers that fake-user is a user: the next listing
		// asks users/ at once.
		before = w.requests()
		got = got[:0]
		for r, err := range w.c.ListRepositories(t.Context(), "http://"+w.s.Host()+"/fake-user", nil) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Owner+"/"+r.Name)
		}
		if n := w.requests() - before; n != 1 || len(got) != 1 {
			t.Errorf("again: %d requests, %v; want 1 (users/ only) and the same project", n, got)
		}
	})
	t.Run("stale user kind", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		seedGroup(t, w, "grp", 3)
		d, err := gitlabscm.New(&integrations.Integration{Kind: integrations.GitLab, Host: w.s.Host(),
			APIBaseURL: w.s.APIBaseURL(), BaseURL: w.s.URL()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: privateToken{goodToken}}
		before := w.requests()
		page, err := d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "grp", Kind: "user"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Repositories) != 3 || page.Kind != "" {
			t.Errorf("%d projects, kind %q; want the group's 3 and no kind", len(page.Repositories), page.Kind)
		}
		if n := w.requests() - before; n != 2 {
			t.Errorf("%d requests; want 2 (users/ answers 404, then groups/)", n)
		}
	})
	t.Run("missing owner", func(t *testing.T) {
		w := newWorld(t, worldOptions{})
		for _, err := range w.c.ListRepositories(t.Context(), w.ownerURL(t, "nobody/here"), nil) {
			if scm.Code(err) != scm.NotFound {
				t.Errorf("code %v (%v); want NotFound", scm.Code(err), err)
			}
		}
	})
}

func TestFindFilesComplexityFallback(t *testing.T) {
	// A page of 100 projects exceeds the fake's complexity limit (43 >
	// 40); 50 fit (33).
	w := newWorld(t, worldOptions{fake: fakegitlab.Options{MaxComplexity: 40}})
	want := seedGroup(t, w, "big", 120)
	before := w.requests()
	n := 0
	for f, err := range w.c.FindFiles(t.Context(), w.ownerURL(t, "big"), "catalog-info.yaml") {
		if err != nil {
			t.Fatal(err)
		}
		if f.BlobID == "" || f.Repository.DefaultBranch != "main" {
			t.Errorf("found %+v; want a blob id and the default branch", f)
		}
		n++
	}
	if n != want {
		t.Errorf("found %d; want %d", n, want)
	}
	// One query refused at 100, then three pages of 50: the halved page
	// size holds for the next pages.
	if got := w.requests() - before; got != 4 {
		t.Errorf("%d requests; want 4", got)
	}
}

func TestPullRequestNothingHalfWritten(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n", "exists.txt": "x\n"})
	repoURL := w.url(t, "acme", "svc", "", "", false)
	for _, tc := range []struct {
		name   string
		change scm.Change
		want   scm.ErrorCode
	}{
		{"create of an existing file", scm.Change{Path: "exists.txt", Action: scm.Create, Content: []byte("y")}, scm.AlreadyExists},
		{"update of a missing file", scm.Change{Path: "missing.txt", Action: scm.Update, Content: []byte("y")}, scm.NotFound},
		{"delete of a missing file", scm.Change{Path: "missing.txt", Action: scm.Delete}, scm.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := w.requests()
			_, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: repoURL, Branch: "half", Title: "Half",
				Changes: []scm.Change{{Path: "ok.txt", Content: []byte("ok")}, tc.change}})
			if scm.Code(err) != tc.want || !strings.Contains(err.Error(), tc.change.Path) {
				t.Errorf("OpenPullRequest: %v (code %v); want %v naming %s", err, scm.Code(err), tc.want, tc.change.Path)
			}
			if n := w.requests() - before; n != 1 {
				t.Errorf("%d requests; want 1 (the preflight query only)", n)
			}
			if _, ok := w.s.Branch("acme/svc", "half"); ok {
				t.Error("the branch was created; want nothing written")
			}
		})
	}
	if mrs := w.s.MergeRequests("acme/svc"); len(mrs) != 0 {
		t.Errorf("%d merge requests; want none", len(mrs))
	}
}

func TestPullRequestFailureNamesBranch(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	w.s.Inject(fake.Fault{Kind: fake.FaultServerError, Method: http.MethodPost, Path: "/api/v4/projects/acme%2Fsvc/merge_requests"})
	_, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false),
		Branch: "topic/one", Title: "One", Changes: textChanges("x", 1)})
	commit, ok := w.s.Branch("acme/svc", "topic/one")
	if !ok {
		t.Fatal("the branch was not created")
	}
	if scm.Code(err) != scm.Unavailable || !strings.Contains(err.Error(), `"topic/one"`) || !strings.Contains(err.Error(), commit) {
		t.Errorf("OpenPullRequest: %v (code %v); want Unavailable naming branch topic/one and commit %s", err, scm.Code(err), commit)
	}
}

// raceTransport opens the merge request itself right after the driver's
// commit, as a concurrent caller would.
type raceTransport struct {
	base http.RoundTripper
	s    *fakegitlab.Server
}

func (rt *raceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	if err == nil && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/repository/commits") {
		body := `{"source_branch":"race","target_branch":"main","title":"Other"}`
		r, _ := http.NewRequest(http.MethodPost, rt.s.APIBaseURL()+"/projects/acme%2Fsvc/merge_requests", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+goodToken)
		if other, err := rt.base.RoundTrip(r); err == nil {
			other.Body.Close()
		}
	}
	return resp, err
}

func TestPullRequestRaceReturnsExisting(t *testing.T) {
	rt := &raceTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	w := newWorld(t, worldOptions{transport: rt})
	rt.s = w.s
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	pr, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false),
		Branch: "race", Title: "Mine", Changes: textChanges("x", 1)})
	if err != nil {
		t.Fatalf("OpenPullRequest: %v", err)
	}
	mrs := w.s.MergeRequests("acme/svc")
	if len(mrs) != 1 || !pr.Existing || pr.Number != mrs[0].IID {
		t.Errorf("OpenPullRequest = %+v, merge requests %+v; want the one opened meanwhile, Existing set", pr, mrs)
	}
}

func TestPullRequestDraftAndBinary(t *testing.T) {
	w := newWorld(t, worldOptions{driver: nil})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	bin := []byte{0, 1, 2, 0xff, 0xfe, '\n'}
	pr, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false),
		Branch: "draft", Title: "Work", Draft: true, Body: "body", Changes: []scm.Change{
			{Path: "bin/tool", Content: bin, Executable: true},
			{Path: "README.md", Content: []byte("new\n")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	mrs := w.s.MergeRequests("acme/svc")
	if len(mrs) != 1 || mrs[0].Title != "Draft: Work" || !mrs[0].Draft || mrs[0].Description != "body" || mrs[0].SHA != pr.CommitID {
		t.Errorf("merge requests %+v; want one draft titled %q on commit %s", mrs, "Draft: Work", pr.CommitID)
	}
	files, err := w.s.Files("acme/svc", "draft")
	if err != nil {
		t.Fatal(err)
	}
	want := []fakegitlab.File{{Path: "README.md", Content: []byte("new\n")}, {Path: "bin/tool", Content: bin, Executable: true}}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("files on the branch (-want +got):\n%s", diff)
	}
}

func TestReadErrors(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n", "dir/a.txt": "a\n"})
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		url  string
		want scm.ErrorCode
	}{
		{"missing file", w.fileURL(t, "acme", "svc", "", "nope.txt"), scm.NotFound},
		{"directory", w.fileURL(t, "acme", "svc", "", "dir"), scm.InvalidArgument},
		{"missing ref", w.fileURL(t, "acme", "svc", "no-such", "README.md"), scm.NotFound},
		{"missing project", w.fileURL(t, "acme", "nope", "", "README.md"), scm.NotFound},
		{"missing group", w.fileURL(t, "nope/deeper", "svc", "", "README.md"), scm.NotFound},
	} {
		_, err := w.c.ReadFile(ctx, tc.url, nil)
		if scm.Code(err) != tc.want {
			t.Errorf("%s: code %v (%v); want %v", tc.name, scm.Code(err), err, tc.want)
		}
	}
	// A file read with a stale ETag returns it; the fake's ETag is the
	// quoted blob id.
	f, err := w.c.ReadFile(ctx, w.fileURL(t, "acme", "svc", "", "README.md"), &scm.ReadFileOptions{IfNoneMatch: `"stale"`})
	if err != nil || !bytes.Equal(f.Content, []byte("hi\n")) || f.ETag != `"`+f.BlobID+`"` {
		t.Errorf("ReadFile with a stale ETag = %+v, %v; want the content and ETag %q", f, err, `"`+fakegitlab.BlobID([]byte("hi\n"))+`"`)
	}
	_, err = w.c.ReadTree(ctx, w.treeURL(t, "acme", "svc", "no-such", ""), nil)
	if scm.Code(err) != scm.NotFound {
		t.Errorf("ReadTree at a missing ref: code %v (%v); want NotFound", scm.Code(err), err)
	}
}

func TestRetriesOfWrites(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	repoURL := w.url(t, "acme", "svc", "", "", false)
	commits := "/api/v4/projects/acme%2Fsvc/repository/commits"

	// A 429 on the commit: GitLab did not process it, so it is sent again
	// (its JSON body replayed) and the pull request opens.
	w.s.Inject(fake.Fault{Kind: fake.FaultTooManyRequestsNoRetryAfter, Times: 1, Method: http.MethodPost, Path: commits})
	before := w.requests()
	pr, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: repoURL, Branch: "after-429", Title: "T",
		Changes: textChanges("x", 3)})
	if err != nil {
		t.Fatalf("OpenPullRequest after a 429: %v", err)
	}
	if n := w.requests() - before; n != 4 {
		t.Errorf("%d requests; want 4 (the 429 and its retry)", n)
	}
	if files, _ := w.s.Files("acme/svc", "after-429"); len(files) != 4 || pr.CommitID == "" {
		t.Errorf("branch holds %d files, commit %q; want README.md and the 3 new files", len(files), pr.CommitID)
	}

	// A 502 on the commit: it may have been processed, so it is not
	// retried.
	w.s.Inject(fake.Fault{Kind: fake.FaultServerError, Status: http.StatusBadGateway, Times: 1, Method: http.MethodPost, Path: commits})
	before = w.requests()
	_, err = w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: repoURL, Branch: "after-502", Title: "T",
		Changes: textChanges("x", 1)})
	if scm.Code(err) != scm.Unavailable {
		t.Errorf("OpenPullRequest with a 502 on the commit: code %v (%v); want Unavailable", scm.Code(err), err)
	}
	if n := w.requests() - before; n != 2 {
		t.Errorf("%d requests; want 2 (the query and the one commit attempt)", n)
	}
}

func TestTruncatedJSON(t *testing.T) {
	w := newWorld(t, worldOptions{retry: scm.RetryOptions{MaxRetries: -1}})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	w.s.Inject(fake.Fault{Kind: fake.FaultTruncatedBody})
	for _, err := range w.c.ListRepositories(t.Context(), w.ownerURL(t, "acme"), nil) {
		if scm.Code(err) != scm.Unavailable {
			t.Errorf("ListRepositories with a truncated answer: code %v (%v); want Unavailable", scm.Code(err), err)
		}
	}
	for _, err := range w.c.FindFiles(t.Context(), w.ownerURL(t, "acme"), "README.md") {
		if scm.Code(err) != scm.Unavailable {
			t.Errorf("FindFiles with a truncated answer: code %v (%v); want Unavailable", scm.Code(err), err)
		}
	}
}

func TestEmptyProjectAndUserDiscovery(t *testing.T) {
	w := newWorld(t, worldOptions{})
	if _, _, err := w.s.AddProject(fakegitlab.Project{Namespace: "acme", Path: "empty"}); err != nil {
		t.Fatal(err)
	}
	w.add(t, "fake-user", "mine", map[string]string{"catalog-info.yaml": "kind: Component\n"})
	_, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "empty", "", "", false),
		Branch: "first", Title: "First", Changes: textChanges("x", 1)})
	if scm.Code(err) != scm.InvalidArgument || !strings.Contains(err.Error(), "base branch") {
		t.Errorf("OpenPullRequest on an empty project without a base: %v; want InvalidArgument asking for a base branch", err)
	}
	var got []string
	for f, err := range w.c.FindFiles(t.Context(), "http://"+w.s.Host()+"/fake-user", "catalog-info.yaml") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Repository.Owner+"/"+f.Repository.Name)
	}
	if diff := cmp.Diff([]string{"fake-user/mine"}, got); diff != "" {
		t.Errorf("FindFiles in a user namespace (-want +got):\n%s", diff)
	}
	for _, err := range w.c.FindFiles(t.Context(), w.ownerURL(t, "nobody/here"), "catalog-info.yaml") {
		if scm.Code(err) != scm.NotFound {
			t.Errorf("FindFiles in a missing group: code %v (%v); want NotFound", scm.Code(err), err)
		}
	}
}

func TestPullRequestMissingBase(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	before := w.requests()
	_, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false),
		Base: "release/9", Branch: "topic", Title: "T", Changes: textChanges("x", 1)})
	if scm.Code(err) != scm.NotFound || !strings.Contains(err.Error(), `"release/9"`) {
		t.Errorf("OpenPullRequest into a missing base: %v; want NotFound naming it", err)
	}
	if n := w.requests() - before; n != 1 {
		t.Errorf("%d requests; want 1 (nothing written)", n)
	}
}

// noConditional drops If-None-Match, as an instance that ignores it would.
type noConditional struct{ base http.RoundTripper }

func (n noConditional) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Del("If-None-Match")
	return n.base.RoundTrip(r)
}

func TestNotModifiedWithoutServerSupport(t *testing.T) {
	w := newWorld(t, worldOptions{transport: noConditional{base: http.DefaultTransport.(*http.Transport).Clone()}})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	u := w.fileURL(t, "acme", "svc", "", "README.md")
	f, err := w.c.ReadFile(t.Context(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := w.requests()
	_, err = w.c.ReadFile(t.Context(), u, &scm.ReadFileOptions{IfNoneMatch: f.ETag})
	if scm.Code(err) != scm.NotModified {
		t.Errorf("conditional read answered 200: code %v (%v); want NotModified from the blob id", scm.Code(err), err)
	}
	if n, st := w.requests()-before, w.s.Stats(); n != 1 || st.NotModified != 0 {
		t.Errorf("%d requests, %d answered 304; want 1 request answered 200", n, st.NotModified)
	}
	if _, err := w.s.Commit("acme/svc", "main", fakegitlab.Commit{Files: []fakegitlab.File{{Path: "README.md", Content: []byte("new\n")}}}); err != nil {
		t.Fatal(err)
	}
	g, err := w.c.ReadFile(t.Context(), u, &scm.ReadFileOptions{IfNoneMatch: f.ETag})
	if err != nil || string(g.Content) != "new\n" {
		t.Errorf("conditional read of a changed file = %v, %v; want the new content", g, err)
	}
}

// privateToken sends a GitLab token as PRIVATE-TOKEN.
type privateToken struct{ token string }

func (p privateToken) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("PRIVATE-TOKEN", p.token)
	return http.DefaultTransport.RoundTrip(req)
}

// TestPullRequestFileUnderFileWritesNothing: a change that needs a
// directory where a file is (exists.txt/inner.txt) is refused by GitLab
// with the whole commit, so no branch, commit or merge request appears.
// (The driver does not ask the preflight about parent directories: GitLab's
// blobs(paths:) is not documented for a path that names a directory.)
func TestPullRequestFileUnderFileWritesNothing(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n", "exists.txt": "x\n"})
	_, err := w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "svc", "", "", false),
		Branch: "under", Title: "Under", Changes: []scm.Change{{Path: "exists.txt/inner.txt", Content: []byte("y")}}})
	if err == nil {
		t.Fatal("OpenPullRequest put a file under a file; want GitLab's refusal")
	}
	if _, ok := w.s.Branch("acme/svc", "under"); ok {
		t.Error("the branch was created; want nothing written")
	}
	if mrs := w.s.MergeRequests("acme/svc"); len(mrs) != 0 {
		t.Errorf("%d merge requests; want none", len(mrs))
	}
}
