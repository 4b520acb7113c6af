package catalog_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// fileMap is an in-memory scm.FileCache.
type fileMap struct {
	mu sync.Mutex
	m  map[string]*scm.CachedFile
}

func (c *fileMap) GetFile(_ context.Context, key string) (*scm.CachedFile, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[key]
	return f, ok, nil
}

func (c *fileMap) PutFile(_ context.Context, key string, f *scm.CachedFile) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = f
	return nil
}

const bbToken = "bitbucket-access-token"

// newPerRepositoryFake starts a fake Bitbucket Cloud workspace "acme"
// without code search, so that Discover lists the repositories and reads
// the file in each, and a client for it with fc as its FileCache.
func newPerRepositoryFake(t testing.TB, withCatalog, without int) (*fakebitbucketcloud.Server, func(fc scm.FileCache) *scm.Client) {
	t.Helper()
	s := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Tokens: []string{bbToken}, SearchDisabled: true})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(func() {
		s.Close()
		tr.CloseIdleConnections()
	})
	for i := range withCatalog + without {
		r := fakebitbucketcloud.Repo{Workspace: "acme", Slug: fmt.Sprintf("svc-%03d", i),
			Files: []fake.File{{Path: "README.md", Content: []byte("# svc\n")}}}
		if i < withCatalog {
			r.Files = append(r.Files, fake.File{Path: "catalog-info.yaml", Content: []byte(fmt.Sprintf("kind: Component\nmetadata:\n  name: svc-%03d\n", i))})
		}
		if _, err := s.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	cfg := integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
		Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret(bbToken)}}}
	return s, func(fc scm.FileCache) *scm.Client {
		return adaptertest.NewClient(t, cfg, &scm.Options{Transport: tr, FileCache: fc,
			Drivers: map[integrations.Kind]driver.Opener{
				integrations.BitbucketCloud: bitbucketcloudscm.Opener(&bitbucketcloudscm.Options{NoCodeSearch: true})}})
	}
}

// contents maps each location's repository to its file's content.
func contents(t testing.TB, locs []catalog.Location) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range locs {
		if l.File == nil {
			t.Fatalf("%s: no file content", l.FileURL)
		}
		out[l.Repo.Name] = string(l.File.Content)
	}
	return out
}

// Where discovery reads the file of each repository (a Bitbucket Cloud
// workspace without code search), a second Discover with a FileCache
// re-validates each file found: every read of an unchanged file is
// answered 304, with the same result, and a changed file is read again.
func TestDiscoverRerunIsConditional(t *testing.T) {
	s, client := newPerRepositoryFake(t, 30, 5)
	c := client(&fileMap{m: map[string]*scm.CachedFile{}})
	owner := "https://" + s.Host() + "/acme"

	first, err := catalog.Discover(t.Context(), c, owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	st1 := s.Stats()
	if len(first) != 30 || st1.NotModified != 0 {
		t.Fatalf("first Discover: %d locations, %d answered 304; want 30, 0", len(first), st1.NotModified)
	}
	second, err := catalog.Discover(t.Context(), c, owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	st2 := s.Stats()
	if diff := cmp.Diff(contents(t, first), contents(t, second)); diff != "" {
		t.Errorf("second Discover differs (-first +second):\n%s", diff)
	}
	// 1 listing page + 35 reads, the 30 files found answered 304 (the 5
	// missing ones are 404s, which are never cached).
	if n, nm := st2.API-st1.API, st2.NotModified-st1.NotModified; n != st1.API || nm != 30 {
		t.Errorf("second Discover: %d requests (first: %d), %d answered 304; want %d, 30", n, st1.API, nm, st1.API)
	}

	if _, err := s.AddRepo(fakebitbucketcloud.Repo{Workspace: "acme", Slug: "svc-new",
		Files: []fake.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\nmetadata:\n  name: new\n")}}}); err != nil {
		t.Fatal(err)
	}
	third, err := catalog.Discover(t.Context(), c, owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := contents(t, third)["svc-new"]; got != "kind: Component\nmetadata:\n  name: new\n" || len(third) != 31 {
		t.Errorf("after a new repository: %d locations, its file %q; want 31 and its content", len(third), got)
	}
	if nm := s.Stats().NotModified - st2.NotModified; nm != 30 {
		t.Errorf("after a new repository: %d answered 304; want 30 (the unchanged files)", nm)
	}
}

// BenchmarkDiscoverPerRepository: 100 repositories, 80 with a catalog
// file, on a Bitbucket Cloud workspace without code search (1 listing
// page, then 1 read per repository). Each run uses a new client: "first"
// is a cold discovery (with the client's default MemoryFileCache, as a
// nil FileCache gets); the "second" runs are a discovery after one done
// with the same client: "second-no-cache" with scm.NoCache (every file
// read in full again), "second" with the default cache (the 80 files
// answered 304, the 20 repositories without one asked again),
// "second-notfoundmaxage" with DiscoverOptions.NotFoundMaxAge too (those
// 20 not asked: their NotFound is remembered).
func BenchmarkDiscoverPerRepository(b *testing.B) {
	s, client := newPerRepositoryFake(b, 80, 20)
	owner := "https://" + s.Host() + "/acme"
	for _, run := range []string{"first", "second-no-cache", "second", "second-notfoundmaxage"} {
		b.Run(run, func(b *testing.B) {
			var opts *catalog.DiscoverOptions
			if run == "second-notfoundmaxage" {
				opts = &catalog.DiscoverOptions{NotFoundMaxAge: time.Hour}
			}
			var reqs, nms, n int
			for b.Loop() {
				b.StopTimer()
				var fc scm.FileCache // nil: the client's default MemoryFileCache
				if run == "second-no-cache" {
					fc = scm.NoCache{}
				}
				c := client(fc)
				if run != "first" {
					if _, err := catalog.Discover(b.Context(), c, owner, opts); err != nil {
						b.Fatal(err)
					}
				}
				st0 := s.Stats()
				b.StartTimer()
				locs, err := catalog.Discover(b.Context(), c, owner, opts)
				if err != nil || len(locs) != 80 {
					b.Fatalf("%d locations, %v; want 80", len(locs), err)
				}
				st1 := s.Stats()
				reqs, nms, n = reqs+st1.API-st0.API, nms+st1.NotModified-st0.NotModified, n+1
			}
			b.ReportMetric(float64(reqs)/float64(n), "requests/op")
			b.ReportMetric(float64(nms)/float64(n), "304/op")
		})
	}
}

// With DiscoverOptions.NotFoundMaxAge, a second Discover that reads each
// repository does not ask again for the file in the repositories that were
// answered NotFound: 1 listing page and the 30 files found (answered 304),
// none of the 5 reads of a missing file (without it: 36 requests, see
// TestDiscoverRerunIsConditional). A file added to such a repository is
// found by a Discover without the option, which asks every repository,
// and not by one within the max age, which takes the remembered answer.
func TestDiscoverRemembersMissingFiles(t *testing.T) {
	s, client := newPerRepositoryFake(t, 30, 5)
	c := client(&fileMap{m: map[string]*scm.CachedFile{}})
	owner := "https://" + s.Host() + "/acme"
	opts := &catalog.DiscoverOptions{NotFoundMaxAge: time.Hour}

	first, err := catalog.Discover(t.Context(), c, owner, opts)
	if err != nil {
		t.Fatal(err)
	}
	st1 := s.Stats()
	if len(first) != 30 || st1.API != 36 {
		t.Fatalf("first Discover: %d locations, %d requests; want 30, 36 (1 listing page, 35 reads)", len(first), st1.API)
	}
	second, err := catalog.Discover(t.Context(), c, owner, opts)
	if err != nil {
		t.Fatal(err)
	}
	st2 := s.Stats()
	if diff := cmp.Diff(contents(t, first), contents(t, second)); diff != "" {
		t.Errorf("second Discover differs (-first +second):\n%s", diff)
	}
	if n, nm := st2.API-st1.API, st2.NotModified-st1.NotModified; n != 31 || nm != 30 {
		t.Errorf("second Discover: %d requests, %d answered 304; want 31, 30 (the 5 missing files not asked)", n, nm)
	}

	if _, err := s.Commit("acme", "svc-030", "main", fakebitbucketcloud.Commit{Files: []fake.File{
		{Path: "catalog-info.yaml", Content: []byte("kind: Component\nmetadata:\n  name: late\n")}}}); err != nil {
		t.Fatal(err)
	}
	third, err := catalog.Discover(t.Context(), c, owner, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(third) != 30 {
		t.Errorf("within NotFoundMaxAge: %d locations; want 30 (svc-030 remembered without the file)", len(third))
	}
	fourth, err := catalog.Discover(t.Context(), c, owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := contents(t, fourth)["svc-030"]; len(fourth) != 31 || got != "kind: Component\nmetadata:\n  name: late\n" {
		t.Errorf("without NotFoundMaxAge: %d locations, svc-030's file %q; want 31 and its content", len(fourth), got)
	}
}
