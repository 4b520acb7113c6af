package bitbucketserverscm_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// Routes of the fake, as its Stats count them.
const (
	browseRoute = "GET /projects/{key}/repos/{slug}/browse/{path...}"
	filesRoute  = "GET /projects/{key}/repos/{slug}/files/{path...}"
)

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
// checked with one listing per directory holding two or more of them,
// one browse?type=true for a directory holding one; a missing file, or a
// directory, still fails before anything is written; a failed listing
// falls back to the per-file checks.
func TestUpdateChangesListedByDirectory(t *testing.T) {
	upd := func(paths ...string) []scm.Change {
		var ch []scm.Change
		for _, p := range paths {
			ch = append(ch, scm.Change{Path: p, Action: scm.Update, Content: []byte("new " + p + "\n")})
		}
		return ch
	}
	ten := func(n int) []scm.Change { return updateChanges("conf", 10, "x")[:n] }
	for i, tc := range []struct {
		name           string
		changes        []scm.Change
		fault          *fake.Fault
		code           scm.ErrorCode
		browse, listed int
	}{
		{"ten in one directory", ten(10), nil, scm.OK, 0, 1},
		{"two directories", append(upd("one/a.txt"), ten(3)...), nil, scm.OK, 1, 1},
		{"one missing among listed", append(ten(4), upd("conf/nope.txt")...), nil, scm.NotFound, 1, 1},
		{"a directory among listed", upd("deep/dir", "deep/x"), nil, scm.InvalidArgument, 1, 1},
		{"a missing directory", upd("gone/a", "gone/b"), nil, scm.NotFound, 1, 1},
		{"listing fails", ten(3), &fake.Fault{Kind: scmtest.FaultServerError, Method: http.MethodGet,
			Path: "/projects/ACME/repos/basic/files/"}, scm.OK, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := updateWorld(t)
			if tc.fault != nil {
				e.fake.Inject(*tc.fault)
			}
			branch := fmt.Sprintf("upd/%d", i)
			before := e.fake.Stats()
			_, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "main",
				Branch: branch, Title: "Update", Changes: tc.changes})
			if scm.Code(err) != tc.code {
				t.Fatalf("OpenPullRequest = %v; want %v", err, tc.code)
			}
			after := e.fake.Stats()
			if n := after.Routes[browseRoute] - before.Routes[browseRoute]; n != tc.browse {
				t.Errorf("%d browse?type=true checks; want %d", n, tc.browse)
			}
			if n := after.Routes[filesRoute] - before.Routes[filesRoute]; n < tc.listed || n > tc.listed*5 {
				t.Errorf("%d listings; want %d (a failed one retried at most 4 times)", n, tc.listed)
			}
			if _, ok := e.fake.Branch(project, scmtest.BasicRepo, branch); ok != (tc.code == scm.OK) {
				t.Errorf("branch %s exists: %v; want %v (nothing written on failure)", branch, ok, tc.code == scm.OK)
			}
		})
	}
}

// TestUpdateChangesListingPages: a listing over several pages is read
// until every path is found, at most k-1 pages for k paths; the paths
// not found by then are checked one by one.
func TestUpdateChangesListingPages(t *testing.T) {
	for _, tc := range []struct {
		name          string
		paths         []string
		pages, browse int
	}{
		{"found on the first two pages", []string{"conf/f01.txt", "conf/f02.txt", "conf/f04.txt", "conf/f05.txt"}, 2, 0},
		{"beyond the pages read", []string{"conf/f01.txt", "conf/f09.txt", "conf/f10.txt"}, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := updateWorld(t)
			d, hc := driverFor(t, e.fake, &bitbucketserverscm.Options{FilesPageSize: 3})
			var changes []driver.Change
			for _, p := range tc.paths {
				changes = append(changes, driver.Change{Path: p, Action: driver.Update, Content: []byte("new\n")})
			}
			before := e.fake.Stats()
			_, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
				Base: "main", Branch: "upd/pages", Title: "Update", CommitMessage: "update", Changes: changes})
			if err != nil {
				t.Fatal(err)
			}
			after := e.fake.Stats()
			if n := after.Routes[filesRoute] - before.Routes[filesRoute]; n != tc.pages {
				t.Errorf("%d listing pages; want %d", n, tc.pages)
			}
			if n := after.Routes[browseRoute] - before.Routes[browseRoute]; n != tc.browse {
				t.Errorf("%d browse?type=true checks; want %d", n, tc.browse)
			}
		})
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
