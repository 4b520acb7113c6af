package bitbucketcloudscm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// srcRequests returns the GET .../src/ requests among reqs, listings and
// ?format=meta checks alike.
func srcRequests(reqs []fakekit.Request) (listings, metas []string) {
	for _, r := range reqs {
		if r.Host != "api" || r.Method != http.MethodGet || !strings.Contains(r.Path, "/src/") {
			continue
		}
		switch {
		case strings.Contains(r.Path, "format=meta"):
			metas = append(metas, r.Path)
		case strings.Contains(r.Path, "q="):
			listings = append(listings, r.Path)
		}
	}
	return listings, metas
}

// TestCheckedChanges: a pull request's Create, Update and Delete changes
// are checked with one listing per directory (q=path="a" OR ...), not one
// request per change, and the checks still refuse what they refused.
func TestCheckedChanges(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	addCheckedRepo(t, e.fake)
	for i, tc := range []struct {
		name     string
		changes  []scm.Change
		code     scm.ErrorCode
		listings int // GET .../src/{ref}/{dir}/?q=...
		metas    int // GET ...?format=meta
		requests int // in all, when > 0
	}{
		// refs/branches, one listing, POST /src, POST /pullrequests
		{name: "ten changes in one directory", changes: checkedChanges("a"), listings: 1, requests: 4},
		{name: "Create of a file that exists", code: scm.AlreadyExists, listings: 1,
			changes: []scm.Change{{Path: "conf/f00.yaml", Action: scm.Create, Content: []byte("x")}}},
		{name: "Update of a missing file", code: scm.NotFound, listings: 1,
			changes: []scm.Change{{Path: "conf/nope.yaml", Action: scm.Update, Content: []byte("x")}}},
		{name: "Delete in a missing directory", code: scm.NotFound, listings: 1,
			changes: []scm.Change{{Path: "nowhere/x.yaml", Action: scm.Delete}}},
		{name: "Update of a directory", code: scm.InvalidArgument, listings: 1,
			changes: []scm.Change{{Path: "conf", Action: scm.Update, Content: []byte("x")}}},
		{name: "one listing per directory", listings: 3, changes: []scm.Change{
			{Path: "conf/f01.yaml", Action: scm.Update, Content: []byte("x")},
			{Path: "top.txt", Action: scm.Create, Content: []byte("x")},
			{Path: "conf/f02.yaml", Action: scm.Delete},
			{Path: "new/dir/x.txt", Action: scm.Create, Content: []byte("x")},
			{Path: "conf/upserted.yaml", Content: []byte("x")}, // Upsert: not checked
		}},
		{name: "a name that a query must quote", listings: 1, changes: []scm.Change{
			{Path: oddName, Action: scm.Update, Content: []byte("x")},
			{Path: `conf/"quoted" OR path = "f01.yaml`, Action: scm.Create, Content: []byte("x")},
		}},
		{name: "Create of a name that a query must quote", code: scm.AlreadyExists, listings: 1,
			changes: []scm.Change{{Path: oddName, Action: scm.Create, Content: []byte("x")}}},
		// Bitbucket answers the "listing" of a file with its content:
		// each path under it is checked on its own.
		{name: "a directory that is a file", code: scm.NotFound, listings: 1, metas: 1,
			changes: []scm.Change{{Path: "conf/f03.yaml/x", Action: scm.Update, Content: []byte("x")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetStats()
			_, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(checkedRepo), Base: "main",
				Branch: fmt.Sprintf("checked/%d", i), Title: "t", Changes: tc.changes})
			if got := scm.Code(err); got != tc.code {
				t.Fatalf("OpenPullRequest: code %v (%v); want %v", got, err, tc.code)
			}
			reqs := e.fake.Requests()
			listings, metas := srcRequests(reqs)
			if len(listings) != tc.listings || len(metas) != tc.metas {
				t.Errorf("%d listings %q and %d meta requests %q; want %d and %d", len(listings), listings, len(metas), metas, tc.listings, tc.metas)
			}
			if tc.requests > 0 && len(reqs) != tc.requests {
				t.Errorf("OpenPullRequest made %d requests; want %d", len(reqs), tc.requests)
			}
		})
	}
}

// TestCheckedChangesLongQuery: a directory with many changes, or changes
// with long names, is listed with several queries, each short enough,
// which together name every path; the checks are right across them.
func TestCheckedChangesLongQuery(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	long := strings.Repeat("n", 400)
	var files []fakekit.File
	for i := range 120 {
		files = append(files, fakekit.File{Path: fmt.Sprintf("many/f%03d.txt", i), Content: []byte("x")})
	}
	for i := range 12 {
		files = append(files, fakekit.File{Path: fmt.Sprintf("long/%s%02d.txt", long, i), Content: []byte("x")})
	}
	if _, err := e.fake.AddRepo(fakebitbucketcloud.Repo{Workspace: workspace, Slug: "wide", Files: files}); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name     string
		changes  []scm.Change
		code     scm.ErrorCode
		listings int
	}{
		{"120 Deletes in one directory", deletes("many/f%03d.txt", 0, 120), scm.OK, 3},
		{"12 Deletes of long names", deletes("long/"+long+"%02d.txt", 0, 12), scm.OK, 3},
		// the missing one is named by the last query
		{"the last query finds the missing file", deletes("many/f%03d.txt", 1, 121), scm.NotFound, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetStats()
			_, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL("wide"), Base: "main",
				Branch: fmt.Sprintf("wide/%d", i), Title: "t", Changes: tc.changes})
			if got := scm.Code(err); got != tc.code {
				t.Fatalf("OpenPullRequest: code %v (%v); want %v", got, err, tc.code)
			}
			listings, metas := srcRequests(e.fake.Requests())
			if len(listings) != tc.listings || len(metas) != 0 {
				t.Fatalf("%d listings, %d meta requests; want %d listings", len(listings), len(metas), tc.listings)
			}
			named := map[string]bool{}
			for _, l := range listings {
				_, rawQuery, _ := strings.Cut(l, "?")
				v, err := url.ParseQuery(rawQuery)
				if err != nil {
					t.Fatal(err)
				}
				if q := v.Get("q"); len(url.QueryEscape(q)) > 2000 {
					t.Errorf("query of %d characters escaped; want at most 2000", len(url.QueryEscape(q)))
				}
				for _, term := range strings.Split(v.Get("q"), " OR ") {
					named[term] = true
				}
			}
			for _, ch := range tc.changes {
				if !named[`path = "`+ch.Path+`"`] {
					t.Errorf("no query names %s", ch.Path)
				}
			}
		})
	}
}

func deletes(format string, from, to int) []scm.Change {
	var ch []scm.Change
	for i := from; i < to; i++ {
		ch = append(ch, scm.Change{Path: fmt.Sprintf(format, i), Action: scm.Delete})
	}
	return ch
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// repoGets counts the GET /repositories/{ws}/{repo} requests (the main
// branch lookups).
func repoGets(reqs []fakekit.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Method == http.MethodGet && r.Route == "GET /2.0/repositories/{ws}/{slug}" {
			n++
		}
	}
	return n
}

// TestMainBranchRemembered: reads that name no ref look the main branch up
// once per MainBranchTTL, not once per call; a listing's mainbranch
// serves too.
func TestMainBranchRemembered(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d, hc := driverFor(t, fake, &bitbucketcloudscm.Options{Now: clk.Now})
	read := func() {
		t.Helper()
		f, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: basicRepo, Path: "catalog-info.yaml"})
		if err != nil || len(f.Content) == 0 {
			t.Fatalf("ReadFile: %v", err)
		}
	}
	steps := []struct {
		name    string
		do      func()
		lookups int
	}{
		{"first read", read, 1},
		{"second read", read, 0},
		{"a tree", func() {
			if _, err := d.ReadTree(t.Context(), hc, &driver.TreeRequest{Repo: basicRepo, Dir: "templates/service"}); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"a listing", func() {
			if _, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: basicRepo, Dir: "templates"}); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"after the TTL", func() { clk.advance(bitbucketcloudscm.DefaultMainBranchTTL); read() }, 1},
		{"the main branch from a repository listing", func() {
			clk.advance(bitbucketcloudscm.DefaultMainBranchTTL)
			if _, err := d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: workspace}); err != nil {
				t.Fatal(err)
			}
			read()
		}, 0},
	}
	for _, st := range steps {
		fake.ResetStats()
		st.do()
		if got := repoGets(fake.Requests()); got != st.lookups {
			t.Errorf("%s: %d main branch lookups; want %d", st.name, got, st.lookups)
		}
	}

	// Off: every call looks it up.
	off, hc := driverFor(t, fake, &bitbucketcloudscm.Options{MainBranchTTL: -1})
	fake.ResetStats()
	for range 2 {
		if _, err := off.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: basicRepo, Path: "catalog-info.yaml"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := repoGets(fake.Requests()); got != 2 {
		t.Errorf("MainBranchTTL -1: %d lookups for 2 reads; want 2", got)
	}
}

// TestMainBranchMemoryLeaksNothing: a main branch remembered from one
// caller's read lets another caller, who may not read the repository,
// learn nothing: she gets the refusal of her own lookup, and no error of
// hers names the branch. A renamed main branch is followed as soon as a
// read at the old one fails.
func TestMainBranchMemoryLeaksNothing(t *testing.T) {
	const other = "other-users-token"
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken, other}})
	defer fake.Close()
	if _, err := fake.AddRepo(fakebitbucketcloud.Repo{Workspace: workspace, Slug: "secret", MainBranch: "hidden-release-42",
		Files: []fakekit.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
		t.Fatal(err)
	}
	d, hc := driverFor(t, fake, nil)
	secret := driver.Repo{Owner: workspace, Name: "secret"}
	if _, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: secret, Path: "catalog-info.yaml"}); err != nil {
		t.Fatal(err)
	}
	// The other caller's credential may not read the repository: every
	// request of hers about it is refused, as Bitbucket refuses them.
	outsider := &http.Client{Transport: adaptertest.Forbidden{Base: adaptertest.BearerClient(t, other).Transport,
		Path: "/repositories/" + workspace + "/secret"}}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"ReadFile", func() error {
			_, err := d.ReadFile(t.Context(), outsider, &driver.ReadFileRequest{Repo: secret, Path: "catalog-info.yaml"})
			return err
		}},
		{"ReadFile of a missing file", func() error {
			_, err := d.ReadFile(t.Context(), outsider, &driver.ReadFileRequest{Repo: secret, Path: "nope.yaml"})
			return err
		}},
		{"ListFiles", func() error {
			_, err := d.ListFiles(t.Context(), outsider, &driver.ListFilesRequest{Repo: secret})
			return err
		}},
		{"TreeVersion", func() error {
			_, err := d.TreeVersion(t.Context(), outsider, &driver.TreeVersionRequest{Repo: secret, Dir: "x"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if code := d.ErrorInfo(err).Code; code != errcode.PermissionDenied {
				t.Errorf("code %v (%v); want PermissionDenied", code, err)
			}
			if err != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), "hidden-release") {
				t.Errorf("the error names the main branch: %v", err)
			}
		})
	}

	// The main branch is renamed: the first read at the remembered one
	// fails, the lookup finds the new one, and the read is made again.
	if _, err := fake.Commit(workspace, "secret", "trunk", fakebitbucketcloud.Commit{Message: "trunk",
		Files: []fakekit.File{{Path: "trunk.txt", Content: []byte("t")}}}); err != nil {
		t.Fatal(err)
	}
	if err := fake.SetMainBranch(workspace, "secret", "trunk"); err != nil {
		t.Fatal(err)
	}
	f, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: secret, Path: "trunk.txt"})
	if err != nil || string(f.Content) != "t" {
		t.Errorf("ReadFile after the rename: %v; want the file of the new main branch", err)
	}
}

// TestArchiveRefusalRemembered: once the archive download refused a
// credential and the API read the tree, later trees read with that
// credential go straight to the API, for ArchiveRefusalTTL; another
// credential still gets the archive.
func TestArchiveRefusalRemembered(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}, ArchiveRefusesBearer: true})
	defer fake.Close()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d, hc := driverFor(t, fake, &bitbucketcloudscm.Options{Now: clk.Now})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	basic := &http.Client{Transport: basicAuth{base: tr}}
	archives := func() int {
		n := 0
		for _, r := range fake.Requests() {
			if r.Host == "web" && strings.Contains(r.Path, "/get/") {
				n++
			}
		}
		return n
	}
	tree := func(hc *http.Client, key string) {
		t.Helper()
		tr, err := d.ReadTree(t.Context(), hc, &driver.TreeRequest{Repo: basicRepo, Ref: "main", Dir: "templates/service",
			MaxFiles: 100, MaxBytes: 1 << 20, CredentialKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Archive != nil {
			tr.Archive.Body.Close()
		}
	}
	for _, st := range []struct {
		name     string
		do       func()
		archives int
	}{
		{"first tree", func() { tree(hc, "token") }, 1},
		{"second tree", func() { tree(hc, "token") }, 0},
		{"another credential", func() { tree(basic, "basic") }, 1},
		{"no key: nothing remembered", func() { tree(hc, "") }, 1},
		{"after the TTL", func() { clk.advance(bitbucketcloudscm.DefaultArchiveRefusalTTL); tree(hc, "token") }, 1},
	} {
		fake.ResetStats()
		st.do()
		if got := archives(); got != st.archives {
			t.Errorf("%s: %d archive requests; want %d", st.name, got, st.archives)
		}
	}
}

// basicAuth presents the conformance world's API token with Basic auth.
type basicAuth struct{ base http.RoundTripper }

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(user, goodToken)
	return b.base.RoundTrip(r)
}

// TestArchiveRefusalNotForTheRepository: a refusal that the API confirms
// (the credential may not read the repository at all) is not remembered
// as the archive refusing the credential.
func TestArchiveRefusalNotForTheRepository(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	d, hc := driverFor(t, fake, nil)
	denied := &http.Client{Transport: adaptertest.Forbidden{Base: hc.Transport, Path: "/" + scmtest.BasicRepo + "/"}}
	req := &driver.TreeRequest{Repo: basicRepo, Ref: "main", MaxFiles: 100, MaxBytes: 1 << 20, CredentialKey: "k"}
	if _, err := d.ReadTree(t.Context(), denied, req); d.ErrorInfo(err).Code != errcode.PermissionDenied {
		t.Fatalf("ReadTree: %v; want PermissionDenied", err)
	}
	fake.ResetStats()
	tr, err := d.ReadTree(t.Context(), hc, req)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Archive == nil {
		t.Errorf("the tree was read through the API; want the archive (no refusal of the credential was learnt)")
	} else {
		tr.Archive.Body.Close()
	}
}

// TestArchiveRefusalThroughClient: the portable client names the call's
// credential (driver.TreeRequest.CredentialKey), so that a second tree
// read with an access token the archive refuses makes no archive request.
func TestArchiveRefusalThroughClient(t *testing.T) {
	e := newEnv(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}, ArchiveRefusesBearer: true},
		integrations.BitbucketCloudConfig{Token: integrations.NewSecret(accessToken)})
	u := e.repoURL(scmtest.BasicRepo) + "/src/main/templates/service/"
	for i, want := range []int{1, 0} {
		e.fake.ResetStats()
		if _, err := e.c.ReadTree(t.Context(), u, nil); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range e.fake.Requests() {
			if r.Host == "web" && strings.Contains(r.Path, "/get/") {
				n++
			}
		}
		if n != want {
			t.Errorf("tree %d: %d archive requests; want %d", i+1, n, want)
		}
	}
}

// TestRerunComparesWithListings: running OpenPullRequest again after the
// pull request could not be opened compares the branch with the changes
// using one listing per directory (types, sizes, executable bits) and
// reads only the files whose size matches, not one ?format=meta per
// change: 15 requests for 10 files (the main branch's look-up, which an
// existing branch costs since it must not be the main branch whatever
// the base, included), where it took 24.
func TestRerunComparesWithListings(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	e.fake.Inject(fakekit.Fault{Kind: scmtest.FaultServerError, Method: http.MethodPost,
		Path: "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo + "/pullrequests"})
	spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "main", Branch: "gen/rerun",
		Title: "Generated", Changes: tenChanges("gen")}
	if _, err := e.c.OpenPullRequest(t.Context(), spec); scm.Code(err) != scm.Unavailable {
		t.Fatalf("OpenPullRequest: %v; want Unavailable", err)
	}
	e.fake.ClearFaults()
	head, _ := e.fake.Branch(workspace, scmtest.BasicRepo, spec.Branch)
	e.fake.ResetStats()
	pr, err := e.c.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if pr.CommitID == "" || !strings.HasPrefix(head, pr.CommitID) { // pull requests give 12 hex digits
		t.Errorf("pull request at %s; want the commit already made, %s (no second commit)", pr.CommitID, head)
	}
	reqs := e.fake.Requests()
	listings, metas := srcRequests(reqs)
	// refs/branches, the main branch (the existing branch must not be
	// it), the open pull request lookup, one listing, 10 content reads,
	// POST /pullrequests
	if len(listings) != 1 || len(metas) != 0 || len(reqs) != 15 {
		t.Errorf("%d requests (%d listings, %d meta requests); want 15 (1 listing, no meta request)", len(reqs), len(listings), len(metas))
	}

	// A branch that differs (another executable bit) is committed again.
	spec.Branch, spec.Changes[3].Executable = "gen/rerun-2", false
	e.fake.Inject(fakekit.Fault{Kind: scmtest.FaultServerError, Method: http.MethodPost, Times: 1,
		Path: "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo + "/pullrequests"})
	if _, err := e.c.OpenPullRequest(t.Context(), spec); scm.Code(err) != scm.Unavailable {
		t.Fatalf("OpenPullRequest: %v; want Unavailable", err)
	}
	first, _ := e.fake.Branch(workspace, scmtest.BasicRepo, spec.Branch)
	spec.Changes[3].Executable = true
	pr, err = e.c.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if pr.CommitID == "" || strings.HasPrefix(first, pr.CommitID) {
		t.Errorf("pull request at %s; want a new commit on top of %s", pr.CommitID, first)
	}
}

// TestMainBranchRelookedUpOnlyForAccess: a read with a remembered main
// branch that is refused or finds nothing looks the main branch up again
// (with the caller's credential); one that meets a rate limit, an outage
// or the context's end returns that failure without a second call.
func TestMainBranchRelookedUpOnlyForAccess(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   *fakekit.Fault
		cancel  bool
		code    errcode.Code
		lookups int
	}{
		{"not found", &fakekit.Fault{Kind: scmtest.FaultNotFound}, false, errcode.NotFound, 1},
		{"unauthorized", &fakekit.Fault{Kind: scmtest.FaultUnauthorized}, false, errcode.Unauthorized, 1},
		{"rate limited", &fakekit.Fault{Kind: scmtest.FaultRateLimit, RetryAfter: time.Hour}, false, errcode.RateLimited, 0},
		{"unavailable", &fakekit.Fault{Kind: scmtest.FaultServerError, Status: http.StatusServiceUnavailable}, false, errcode.Unavailable, 0},
		{"canceled", nil, true, errcode.Canceled, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
			defer fake.Close()
			d, hc := driverFor(t, fake, nil)
			if _, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: basicRepo, Path: "catalog-info.yaml"}); err != nil {
				t.Fatal(err)
			}
			if tc.fault != nil {
				f := *tc.fault
				f.Method, f.Path = http.MethodGet, "/2.0/repositories/"+workspace+"/"+scmtest.BasicRepo+"/src/"
				fake.Inject(f)
			}
			ctx := t.Context()
			if tc.cancel {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			fake.ResetStats()
			_, err := d.ReadFile(ctx, hc, &driver.ReadFileRequest{Repo: basicRepo, Path: "catalog-info.yaml"})
			if got := d.ErrorInfo(err).Code; got != tc.code {
				t.Errorf("ReadFile = %v (%v); want %v", err, got, tc.code)
			}
			if got := repoGets(fake.Requests()); got != tc.lookups {
				t.Errorf("%d main branch lookups after the failure; want %d", got, tc.lookups)
			}
			// The remembered branch was not read with this request's
			// credential: a failure that is not the caller's own
			// lookup's does not name it.
			if tc.lookups == 0 && err != nil && strings.Contains(err.Error(), "/src/main") {
				t.Errorf("the error names the remembered branch: %v", err)
			}
			if tc.code == errcode.RateLimited {
				if _, ok := errcode.RetryAt(err); !ok {
					t.Errorf("the rate limit's retry time was lost: %v", err)
				}
			}
		})
	}
}

// TestMainBranchKeepsAnswersToTheCaller: an answer the caller's own
// credential was given at a remembered main branch (a directory where a
// file was asked for, a file over the limit) keeps its text, as when the
// branch is looked up.
func TestMainBranchKeepsAnswersToTheCaller(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	d, hc := driverFor(t, fake, nil)
	for i := range 2 { // looked up, then remembered
		_, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: basicRepo, Path: "templates/service"})
		if err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("read %d of a directory: %v; want the directory error", i+1, err)
		}
	}
	_, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: basicRepo, Path: "README.md", MaxBytes: 4})
	if err == nil || strings.Contains(err.Error(), "main branch failed") {
		t.Errorf("a file over the limit at the remembered branch: %v; want the limit's own error", err)
	}
}
