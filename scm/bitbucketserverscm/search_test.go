package bitbucketserverscm_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

const searchRoute = "POST /rest/search/latest/search"

// searchClient returns a client for the fake whose Bitbucket Server
// driver has opts.
func searchClient(t testing.TB, fake *fakebitbucketserver.Server, opts *bitbucketserverscm.Options) *scm.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	cfg := integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Token: integrations.NewSecret(goodToken)}}}
	return adaptertest.NewClient(t, cfg, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.BitbucketServer: bitbucketserverscm.Opener(opts)},
		Transport: tr,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
	})
}

// discoveryWorld is a fake whose project ACME holds repositories with and
// without catalog-info.yaml, and traps for an inexact search: the name in
// a subdirectory, the name in a file's text, the file on another branch
// only, and the file in another project.
func discoveryWorld(t testing.TB, contextPath string) *fakebitbucketserver.Server {
	t.Helper()
	fake := fakebitbucketserver.New(&fakebitbucketserver.Options{ContextPath: contextPath, Tokens: []string{goodToken}})
	t.Cleanup(fake.Close)
	cat := func(name string) []byte {
		return []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: " + name + "\n")
	}
	repos := []fakebitbucketserver.Repo{
		{Project: "ACME", Name: "alpha", Files: []fakekit.File{{Path: "catalog-info.yaml", Content: cat("alpha")}}},
		{Project: "ACME", Name: "Beta Service", DefaultBranch: "master", Files: []fakekit.File{{Path: "catalog-info.yaml", Content: cat("beta")}}},
		{Project: "ACME", Name: "nested", Files: []fakekit.File{{Path: "docs/catalog-info.yaml", Content: cat("nested")}}},
		{Project: "ACME", Name: "mentions", Files: []fakekit.File{{Path: "notes.yaml", Content: []byte("see catalog-info.yaml\n")}}},
		{Project: "ACME", Name: "other-name", Files: []fakekit.File{{Path: "catalog-info.yml", Content: cat("yml")}}},
		{Project: "ACME", Name: "empty"},
		{Project: "ACME", Name: "branch-only", Files: []fakekit.File{{Path: "README.md", Content: []byte("hi\n")}}},
		{Project: "OTHER", Name: "elsewhere", Files: []fakekit.File{{Path: "catalog-info.yaml", Content: cat("elsewhere")}}},
	}
	for _, r := range repos {
		if _, err := fake.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fake.Commit("ACME", "branch-only", "feature", fakebitbucketserver.Commit{Message: "add",
		Files: []fakekit.File{{Path: "catalog-info.yaml", Content: cat("branch")}}}); err != nil {
		t.Fatal(err)
	}
	return fake
}

type found struct {
	Repo, Branch, URL string
	Method            scm.FindMethod
}

func discover(t testing.TB, c *scm.Client, ownerURL string) []found {
	t.Helper()
	var out []found
	for f, err := range c.FindFiles(t.Context(), ownerURL, "catalog-info.yaml") {
		if err != nil {
			t.Fatalf("FindFiles: %v", err)
		}
		out = append(out, found{Repo: f.Repository.Owner + "/" + f.Repository.Name, Branch: f.Repository.DefaultBranch, URL: f.URL, Method: f.Method})
	}
	slices.SortFunc(out, func(a, b found) int {
		if a.Repo < b.Repo {
			return -1
		}
		if a.Repo > b.Repo {
			return 1
		}
		return 0
	})
	return out
}

// TestFindFilesSearch: with search, discovery finds exactly what reading
// each repository finds, with 1 request instead of 1 + 1 per repository.
func TestFindFilesSearch(t *testing.T) {
	for _, contextPath := range []string{"", "/bitbucket"} {
		t.Run("context="+contextPath, func(t *testing.T) {
			fake := discoveryWorld(t, contextPath)
			owner := fake.URL() + "/projects/ACME"
			c := searchClient(t, fake, nil)
			before := fake.Stats()
			got := discover(t, c, owner)
			after := fake.Stats()

			web := fake.URL() + "/projects/ACME/repos/"
			want := []found{
				{Repo: "ACME/alpha", Branch: "main", URL: web + "alpha/browse/catalog-info.yaml?at=main", Method: scm.FoundByFinder},
				{Repo: "ACME/beta-service", Branch: "master", URL: web + "beta-service/browse/catalog-info.yaml?at=master", Method: scm.FoundByFinder},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("FindFiles with search (-want +got):\n%s", diff)
			}
			if n := after.Total - before.Total; n != 1 {
				t.Errorf("FindFiles with search made %d requests; want 1", n)
			}
			if n := after.Routes[searchRoute] - before.Routes[searchRoute]; n != 1 {
				t.Errorf("FindFiles made %d search requests; want 1", n)
			}

			// The fallback finds the same repositories.
			slow := discover(t, searchClient(t, fake, &bitbucketserverscm.Options{NoCodeSearch: true}), owner)
			for i := range slow {
				if slow[i].Method != scm.FoundByReadFile {
					t.Errorf("NoCodeSearch: %s: Method %v; want readFile", slow[i].Repo, slow[i].Method)
				}
				slow[i].Method = scm.FoundByFinder
			}
			if diff := cmp.Diff(got, slow); diff != "" {
				t.Errorf("search and per-repository reads disagree (-search +reads):\n%s", diff)
			}
		})
	}
}

// TestFindFilesSearchPaging: hits come 100 per request, following
// isLastPage and nextStart.
func TestFindFilesSearchPaging(t *testing.T) {
	fake := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{goodToken}})
	t.Cleanup(fake.Close)
	const n = 250
	for i := range n {
		files := []fakekit.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}
		if i%5 == 0 { // a decoy ranked among the hits
			files = append(files, fakekit.File{Path: "x/catalog-info.yaml", Content: []byte("kind: Component\n")})
		}
		if _, err := fake.AddRepo(fakebitbucketserver.Repo{Project: "ACME", Name: fmt.Sprintf("svc-%03d", i), Files: files}); err != nil {
			t.Fatal(err)
		}
	}
	c := searchClient(t, fake, nil)
	got := discover(t, c, fake.URL()+"/projects/acme")
	if len(got) != n {
		t.Errorf("FindFiles found %d repositories; want %d", len(got), n)
	}
	for _, f := range got {
		if f.Method != scm.FoundByFinder {
			t.Fatalf("%s: Method %v; want finder", f.Repo, f.Method)
		}
	}
	if st := fake.Stats(); st.Total != 3 || st.Routes[searchRoute] != 3 { // 300 hits, 100 a page
		t.Errorf("FindFiles made %d requests (%d searches); want 3", st.Total, st.Routes[searchRoute])
	}
}

// TestFindFilesSearchUnavailable: a server without search costs one
// failed search, then falls back; the driver remembers it for
// SearchRecheck (no failed search on later discoveries), then tries again.
func TestFindFilesSearchUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode fakebitbucketserver.SearchMode
	}{
		{"not installed (404)", fakebitbucketserver.SearchNotInstalled},
		{"search server down (503)", fakebitbucketserver.SearchUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := discoveryWorld(t, "/bitbucket")
			fake.SetSearch(tc.mode)
			clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			c := searchClient(t, fake, &bitbucketserverscm.Options{SearchRecheck: 10 * time.Minute, Now: clk.Now})
			owner := fake.URL() + "/projects/ACME"
			// The fallback lists ACME's 7 repositories and reads the file in
			// each; a missing file costs nothing more (it cost one more
			// request, is it a directory?, in the 4 non-empty repositories
			// without it, before ReadFileRequest.DirAsMissing).
			const fallback = 1 + 7

			run := func(wantSearches, wantTotal int, wantMethod scm.FindMethod) {
				t.Helper()
				before := fake.Stats()
				got := discover(t, c, owner)
				after := fake.Stats()
				if len(got) != 2 {
					t.Errorf("FindFiles found %v; want alpha and beta-service", got)
				}
				for _, f := range got {
					if f.Method != wantMethod {
						t.Errorf("%s: Method %v; want %v", f.Repo, f.Method, wantMethod)
					}
				}
				if n := after.Routes[searchRoute] - before.Routes[searchRoute]; n != wantSearches {
					t.Errorf("search requests: %d; want %d", n, wantSearches)
				}
				if n := after.Total - before.Total; n != wantTotal {
					t.Errorf("requests: %d; want %d", n, wantTotal)
				}
			}
			run(1, 1+fallback, scm.FoundByReadFile) // one failed search, then the fallback
			run(0, fallback, scm.FoundByReadFile)   // remembered: no failed search
			clk.Advance(9 * time.Minute)
			run(0, fallback, scm.FoundByReadFile)
			clk.Advance(2 * time.Minute)
			fake.SetSearch(fakebitbucketserver.SearchEnabled)
			run(1, 1, scm.FoundByFinder) // tried again after SearchRecheck
		})
	}
}
