package bitbucketserverscm_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// checkCounter counts, through the client it wraps, the requests that
// check Update changes: GET browse?type=true (one path's type) and the
// listings, GET browse/{dir} without type and GET files/{dir}.
type checkCounter struct {
	next             http.RoundTripper
	mu               sync.Mutex
	checks, listings int
}

func (c *checkCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet {
		p := r.URL.EscapedPath()
		c.mu.Lock()
		switch {
		case strings.Contains(p, "/browse") && r.URL.Query().Get("type") == "true":
			c.checks++
		case strings.Contains(p, "/browse") || strings.Contains(p, "/files"):
			c.listings++
		}
		c.mu.Unlock()
	}
	return c.next.RoundTrip(r)
}

// counted returns the driver and a client that counts its check requests.
func counted(t *testing.T, e *env, opts *bitbucketserverscm.Options) (*bitbucketserverscm.Driver, *http.Client, *checkCounter) {
	d, hc := driverFor(t, e.fake, opts)
	c := &checkCounter{next: cmp.Or[http.RoundTripper](hc.Transport, http.DefaultTransport)}
	hc2 := *hc
	hc2.Transport = c
	return d, &hc2, c
}

// updateWorld is the test fake with conf/f01.txt..f10.txt, one/a.txt,
// and the directory deep/dir/ on main.
func updateWorld(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, "")
	files := []fake.File{{Path: "one/a.txt", Content: []byte("a\n")}, {Path: "deep/dir/x.txt", Content: []byte("x\n")}}
	for _, ch := range adaptertest.TextChanges("conf", 10) {
		files = append(files, fake.File{Path: ch.Path, Content: ch.Content})
	}
	if _, err := e.fake.Commit(project, scmtest.BasicRepo, "main", fakebitbucketserver.Commit{Message: "seed", Files: files}); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestUpdateChangesListedByDirectory: the Update changes' files are
// checked with one listing of the directory's own entries per directory
// holding two or more of them, one browse?type=true for a directory
// holding one; a missing file, or a directory, still fails before
// anything is written, and a complete listing tells it with no further
// request; a failed listing falls back to the per-file checks.
func TestUpdateChangesListedByDirectory(t *testing.T) {
	upd := func(paths ...string) []driver.Change {
		var ch []driver.Change
		for _, p := range paths {
			ch = append(ch, driver.Change{Path: p, Action: driver.Update, Content: []byte("new " + p + "\n")})
		}
		return ch
	}
	ten := func(n int) []driver.Change {
		var ch []driver.Change
		for _, c := range updateChanges("conf", 10, "x")[:n] {
			ch = append(ch, driver.Change{Path: c.Path, Action: driver.Update, Content: c.Content})
		}
		return ch
	}
	for i, tc := range []struct {
		name             string
		changes          []driver.Change
		fault            *fake.Fault
		code             scm.ErrorCode
		checks, listings int
	}{
		{"ten in one directory", ten(10), nil, scm.OK, 0, 1},
		{"two directories", append(upd("one/a.txt"), ten(3)...), nil, scm.OK, 1, 1},
		{"one missing among listed", append(ten(4), upd("conf/nope.txt")...), nil, scm.NotFound, 0, 1},
		{"a directory among listed", upd("deep/dir", "deep/x"), nil, scm.InvalidArgument, 0, 1},
		{"at the root", upd("catalog-info.yaml", "one"), nil, scm.InvalidArgument, 0, 1},
		{"a missing directory", upd("gone/a", "gone/b"), nil, scm.NotFound, 1, 1},
		{"listing fails", ten(3), &fake.Fault{Kind: scmtest.FaultUnprocessable, Method: http.MethodGet, Times: 1,
			Path: "/projects/ACME/repos/basic/browse/conf"}, scm.OK, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := updateWorld(t)
			if tc.fault != nil {
				e.fake.Inject(*tc.fault)
			}
			d, hc, c := counted(t, e, nil)
			branch := fmt.Sprintf("upd/%d", i)
			_, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
				Base: "main", Branch: branch, Title: "Update", CommitMessage: "update", Changes: tc.changes})
			if got := d.ErrorInfo(err).Code; got != tc.code {
				t.Fatalf("OpenPullRequest = %v (%v); want %v", err, got, tc.code)
			}
			if c.checks != tc.checks || c.listings != tc.listings {
				t.Errorf("%d browse?type=true checks and %d listings; want %d and %d", c.checks, c.listings, tc.checks, tc.listings)
			}
			if _, ok := e.fake.Branch(project, scmtest.BasicRepo, branch); ok != (tc.code == scm.OK) {
				t.Errorf("branch %s exists: %v; want %v (nothing written on failure)", branch, ok, tc.code == scm.OK)
			}
		})
	}
}

// TestUpdateChangesListingPages: a listing over several pages is read
// until every path is found or it ends, and stops after a page that
// names none of them; the paths not found by then are checked one by
// one: k paths never cost more than k+1 requests.
func TestUpdateChangesListingPages(t *testing.T) {
	for _, tc := range []struct {
		name             string
		paths            []string
		code             scm.ErrorCode
		listings, checks int
	}{
		{"found on the first two pages", []string{"conf/f01.txt", "conf/f02.txt", "conf/f04.txt", "conf/f05.txt"}, scm.OK, 2, 0},
		{"to the end", []string{"conf/f01.txt", "conf/f04.txt", "conf/f07.txt", "conf/f10.txt"}, scm.OK, 4, 0},
		{"missing at the end", []string{"conf/f01.txt", "conf/f04.txt", "conf/f07.txt", "conf/nope"}, scm.NotFound, 4, 0},
		{"a page names none", []string{"conf/f01.txt", "conf/f09.txt", "conf/f10.txt"}, scm.OK, 2, 2},
		{"none on the first page", []string{"conf/f09.txt", "conf/f10.txt"}, scm.OK, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := updateWorld(t)
			d, hc, c := counted(t, e, &bitbucketserverscm.Options{FilesPageSize: 3})
			var changes []driver.Change
			for _, p := range tc.paths {
				changes = append(changes, driver.Change{Path: p, Action: driver.Update, Content: []byte("new\n")})
			}
			_, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
				Base: "main", Branch: "upd/pages", Title: "Update", CommitMessage: "update", Changes: changes})
			if got := d.ErrorInfo(err).Code; got != tc.code {
				t.Fatalf("OpenPullRequest = %v (%v); want %v", err, got, tc.code)
			}
			if c.listings != tc.listings || c.checks != tc.checks {
				t.Errorf("%d listing pages and %d browse?type=true checks; want %d and %d", c.listings, c.checks, tc.listings, tc.checks)
			}
			if n := c.listings + c.checks; n > len(tc.paths)+1 {
				t.Errorf("checking %d paths cost %d requests; the bound is k+1", len(tc.paths), n)
			}
		})
	}
}

// TestUpdateChangesRootOfALargeRepository: Update changes at the root of
// a repository holding more than a page (1,000) of files under a
// subdirectory cost one listing of the root's own entries, not a
// recursive listing of the whole repository (3 requests for k=2 before).
func TestUpdateChangesRootOfALargeRepository(t *testing.T) {
	e := newEnv(t, "")
	var files []fake.File
	for i := range 1500 {
		files = append(files, fake.File{Path: fmt.Sprintf("apps/f%04d.txt", i), Content: []byte("x\n")})
	}
	files = append(files, fake.File{Path: "catalog-info.yaml", Content: []byte("a\n")}, fake.File{Path: "mkdocs.yml", Content: []byte("b\n")})
	if _, err := e.fake.Commit(project, scmtest.BasicRepo, "main", fakebitbucketserver.Commit{Message: "seed", Files: files}); err != nil {
		t.Fatal(err)
	}
	d, hc, c := counted(t, e, nil)
	_, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
		Base: "main", Branch: "upd/root", Title: "Update", CommitMessage: "update", Changes: []driver.Change{
			{Path: "catalog-info.yaml", Action: driver.Update, Content: []byte("n\n")},
			{Path: "mkdocs.yml", Action: driver.Update, Content: []byte("n\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.listings != 1 || c.checks != 0 {
		t.Errorf("checking 2 Update changes at the root cost %d listing pages and %d browse?type=true; want 1 and 0", c.listings, c.checks)
	}
}

// TestReadFileDirAsMissing: with DirAsMissing, a path Bitbucket answers
// 404 for (a missing file or a directory) is NotFound after one request;
// without it, one more request tells a directory (InvalidArgument).
func TestReadFileDirAsMissing(t *testing.T) {
	e := updateWorld(t)
	d, hc := driverFor(t, e.fake, nil)
	for _, tc := range []struct {
		path     string
		asMiss   bool
		code     scm.ErrorCode
		requests int
	}{
		{"nope.txt", true, scm.NotFound, 1},
		{"deep/dir", true, scm.NotFound, 1},
		{"nope.txt", false, scm.NotFound, 2},
		{"deep/dir", false, scm.InvalidArgument, 2},
		{"one/a.txt", true, scm.OK, 1},
	} {
		before := e.requests()
		_, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
			Path: tc.path, MaxBytes: 1 << 20, DirAsMissing: tc.asMiss})
		if got := d.ErrorInfo(err).Code; got != tc.code || e.requests()-before != tc.requests {
			t.Errorf("ReadFile(%s, DirAsMissing %v) = %v after %d requests; want %v after %d", tc.path, tc.asMiss, err,
				e.requests()-before, tc.code, tc.requests)
		}
	}
}

// TestDiscoverWithoutSearchNoDirCheck: discovery without code search
// reads each repository once, a repository where the path is missing or
// a directory included, and finds the files.
func TestDiscoverWithoutSearchNoDirCheck(t *testing.T) {
	srv := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{goodToken}})
	t.Cleanup(srv.Close)
	for i, files := range [][]fake.File{
		{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}},
		{{Path: "README.md", Content: []byte("# x\n")}},
		{{Path: "catalog-info.yaml/x", Content: []byte("a directory\n")}},
		{{Path: "catalog-info.yaml", Content: []byte("kind: API\n")}},
		nil, // empty
	} {
		if _, err := srv.AddRepo(fakebitbucketserver.Repo{Project: "ACME", Name: fmt.Sprintf("r%d", i), Files: files}); err != nil {
			t.Fatal(err)
		}
	}
	c := searchClient(t, srv, &bitbucketserverscm.Options{NoCodeSearch: true})
	var found []string
	for f, err := range c.FindFiles(t.Context(), srv.URL()+"/projects/ACME", "catalog-info.yaml") {
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, f.Repository.Name)
	}
	if fmt.Sprint(found) != "[r0 r3]" {
		t.Errorf("found in %v; want [r0 r3]", found)
	}
	if n := srv.Stats().Total; n != 1+5 {
		t.Errorf("discovery made %d requests; want 6 (the listing, one read per repository)", n)
	}
}

// untyped strips the type of every entry of the directory listings it
// carries (GET browse/{dir} without type=true), as an answer might that
// names entries without telling their types.
type untyped struct{ next http.RoundTripper }

func (u untyped) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := u.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet || !strings.Contains(r.URL.EscapedPath(), "/browse") ||
		r.URL.Query().Get("type") == "true" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if c, ok := body["children"].(map[string]any); ok {
		vs, _ := c["values"].([]any)
		for _, v := range vs {
			if m, ok := v.(map[string]any); ok {
				delete(m, "type")
			}
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestUpdateChangesListedWithoutTypes: entries listed without a type
// are checked one by one and do not keep the listing going: k paths
// still cost at most k+1 requests (a page naming only untyped ones ends
// the listing).
func TestUpdateChangesListedWithoutTypes(t *testing.T) {
	e := updateWorld(t)
	d, hc, c := counted(t, e, &bitbucketserverscm.Options{FilesPageSize: 3})
	c.next = untyped{next: c.next}
	paths := []string{"conf/f01.txt", "conf/f04.txt", "conf/f07.txt", "conf/f10.txt"}
	var changes []driver.Change
	for _, p := range paths {
		changes = append(changes, driver.Change{Path: p, Action: driver.Update, Content: []byte("new\n")})
	}
	if _, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
		Base: "main", Branch: "upd/untyped", Title: "Update", CommitMessage: "update", Changes: changes}); err != nil {
		t.Fatal(err)
	}
	if c.listings != 1 || c.checks != len(paths) {
		t.Errorf("%d listing pages and %d browse?type=true checks; want 1 and %d", c.listings, c.checks, len(paths))
	}
	if n := c.listings + c.checks; n > len(paths)+1 {
		t.Errorf("checking %d paths cost %d requests; the bound is k+1", len(paths), n)
	}
}
