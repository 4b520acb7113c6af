package scm_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// fileFake is a fake provider holding one private file, seen through a
// client per token.
type fileFake struct {
	name string
	url  string // the file's web URL
	// client returns a client of token ("" for none) with opts (whose
	// Drivers and Transport it sets).
	client func(t testing.TB, token string, opts scm.Options) *scm.Client
	// write commits content as the file.
	write func(t testing.TB, content string)
	// stats returns the fake's request and 304 counts.
	stats func() (requests, notModified int)
	// conditional counts the requests received so far that carried
	// If-None-Match.
	conditional func() int
	rx          *atomic.Int64 // body bytes the clients received
}

func gitHubFile(t testing.TB, content string) *fileFake {
	t.Helper()
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{"token-a"}})
	t.Cleanup(s.Close)
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Private: true,
		Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte(content)}}}); err != nil {
		t.Fatal(err)
	}
	f := &fileFake{name: "github", url: "https://" + s.Host() + "/acme/svc/blob/main/catalog-info.yaml", rx: new(atomic.Int64)}
	f.client = func(t testing.TB, token string, o scm.Options) *scm.Client {
		t.Helper()
		gc := integrations.GitHubConfig{Host: s.Host(), APIBaseURL: s.APIBaseURL(), RawBaseURL: s.RawBaseURL()}
		if token != "" {
			gc.Token = integrations.NewSecret(token)
		}
		o.Drivers = map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)}
		o.Transport = countingTransport{f.rx}
		return adaptertest.NewClient(t, integrations.Config{GitHub: []integrations.GitHubConfig{gc}}, &o)
	}
	f.write = func(t testing.TB, content string) {
		t.Helper()
		if _, err := s.Commit("acme", "svc", "main", fakegithub.Commit{Message: "change",
			Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte(content)}}}); err != nil {
			t.Fatal(err)
		}
	}
	f.stats = func() (int, int) { st := s.Stats(); return st.API + st.Raw, st.NotModified }
	f.conditional = func() int {
		n := 0
		for _, h := range []string{"api", "raw"} {
			for _, r := range s.RequestsTo(h) {
				if r.Header.Get("If-None-Match") != "" {
					n++
				}
			}
		}
		return n
	}
	return f
}

func gitLabFile(t testing.TB, content string) *fileFake {
	t.Helper()
	s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"glpat-token-a"}})
	t.Cleanup(s.Close)
	if _, _, err := s.AddProject(fakegitlab.Project{Namespace: "acme", Path: "svc",
		Files: []fakegitlab.File{{Path: "catalog-info.yaml", Content: []byte(content)}}}); err != nil {
		t.Fatal(err)
	}
	f := &fileFake{name: "gitlab", url: s.URL() + "/acme/svc/-/blob/main/catalog-info.yaml", rx: new(atomic.Int64)}
	f.client = func(t testing.TB, token string, o scm.Options) *scm.Client {
		t.Helper()
		gc := integrations.GitLabConfig{Host: s.Host(), APIBaseURL: s.APIBaseURL(), BaseURL: s.URL()}
		if token != "" {
			gc.Token = integrations.NewSecret("glpat-" + token)
		}
		o.Drivers = map[integrations.Kind]driver.Opener{integrations.GitLab: gitlabscm.Opener(nil)}
		o.Transport = countingTransport{f.rx}
		return adaptertest.NewClient(t, integrations.Config{GitLab: []integrations.GitLabConfig{gc}}, &o)
	}
	f.write = func(t testing.TB, content string) {
		t.Helper()
		if _, err := s.Commit("acme/svc", "main", fakegitlab.Commit{Message: "change",
			Files: []fakegitlab.File{{Path: "catalog-info.yaml", Content: []byte(content)}}}); err != nil {
			t.Fatal(err)
		}
	}
	f.stats = func() (int, int) { st := s.Stats(); return st.Total, st.NotModified }
	f.conditional = func() int {
		n := 0
		for _, r := range s.Requests() {
			if r.Header.Get("If-None-Match") != "" {
				n++
			}
		}
		return n
	}
	return f
}

var fileFakes = []func(testing.TB, string) *fileFake{gitHubFile, gitLabFile}

func readContent(t testing.TB, c *scm.Client, url string) string {
	t.Helper()
	f, err := c.ReadFile(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(f.Content)
}

// A client whose Options leave FileCache nil re-reads a file through its
// own MemoryFileCache: the second read is one request answered 304 with
// the same content, a changed file is read in full and seen. NoCache{}
// turns that off: every read is in full.
func TestMemoryFileCacheReRead(t *testing.T) {
	for _, mk := range fileFakes {
		for _, tt := range []struct {
			name     string
			opts     scm.Options
			want304s int // of the second read
		}{
			{"default", scm.Options{}, 1},
			{"explicit", scm.Options{FileCache: scm.NewMemoryFileCache(&scm.MemoryCacheOptions{MaxBytes: 1 << 20})}, 1},
			{"nocache", scm.Options{FileCache: scm.NoCache{}}, 0},
		} {
			f := mk(t, "kind: Component\n")
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				c := f.client(t, "token-a", tt.opts)
				if got := readContent(t, c, f.url); got != "kind: Component\n" {
					t.Fatalf("first read: %q", got)
				}
				r0, nm0 := f.stats()
				if got := readContent(t, c, f.url); got != "kind: Component\n" {
					t.Fatalf("second read: %q", got)
				}
				r1, nm1 := f.stats()
				if r1-r0 != 1 || nm1-nm0 != tt.want304s {
					t.Errorf("second read: %d requests, %d answered 304; want 1, %d", r1-r0, nm1-nm0, tt.want304s)
				}
				f.write(t, "kind: API\n")
				if got := readContent(t, c, f.url); got != "kind: API\n" {
					t.Errorf("after a change: %q; want the new content", got)
				}
				if _, nm2 := f.stats(); nm2 != nm1 {
					t.Errorf("a changed file was answered 304")
				}
				if got := readContent(t, c, f.url); got != "kind: API\n" {
					t.Errorf("re-read after a change: %q", got)
				}
				if mc, ok := tt.opts.FileCache.(*scm.MemoryFileCache); ok {
					if st := mc.Stats(); st.Entries != 1 || st.Hits != 3 || st.Misses != 1 {
						t.Errorf("stats %+v; want 1 entry, 3 hits, 1 miss", st)
					}
				}
			})
		}
	}
}

// The default FileCache is keyed by URL only, and an entry answers only
// what the provider approves: a caller without access to the private
// repository, sharing the cache of a caller with access, sends the cached
// ETag and is refused (NotFound), never shown the cached content.
func TestMemoryFileCacheNoLeakAcrossCredentials(t *testing.T) {
	for _, mk := range fileFakes {
		f := mk(t, "secret: true\n")
		t.Run(f.name, func(t *testing.T) {
			fc := scm.NewMemoryFileCache(nil)
			owner := f.client(t, "token-a", scm.Options{FileCache: fc})
			stranger := f.client(t, "", scm.Options{FileCache: fc})
			readContent(t, owner, f.url)
			if fc.Stats().Entries != 1 {
				t.Fatalf("the owner's read was not cached: %+v", fc.Stats())
			}
			inm0 := f.conditional()
			got, err := stranger.ReadFile(t.Context(), f.url, nil)
			if scm.Code(err) != errcode.NotFound {
				t.Fatalf("stranger's read: %v, %v; want NotFound", got, err)
			}
			if inm := f.conditional() - inm0; inm != 1 {
				t.Errorf("stranger's read carried If-None-Match %d times; want 1 (the cache was consulted)", inm)
			}
			// The owner's entry is intact.
			r0, nm0 := f.stats()
			if got := readContent(t, owner, f.url); got != "secret: true\n" {
				t.Errorf("owner's re-read: %q", got)
			}
			if r1, nm1 := f.stats(); r1-r0 != 1 || nm1-nm0 != 1 {
				t.Errorf("owner's re-read: %d requests, %d answered 304; want 1, 1", r1-r0, nm1-nm0)
			}
		})
	}
}

// listClient is a client of the fake GitHub s with token and opts; opts
// without PageCache gets the client's own MemoryPageCache.
func listClient(t testing.TB, s *fakegithub.Server, token string, opts scm.Options) *scm.Client {
	t.Helper()
	opts.Drivers = map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)}
	return adaptertest.NewClient(t, integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret(token)}}}, &opts)
}

// A client whose Options leave PageCache nil re-validates listings
// through its own MemoryPageCache: a refresh of an unchanged owner of
// 250 repositories (3 pages, the last of 50) gets every page answered
// 304; another credential sharing the cache starts its own entries (no
// If-None-Match on its first listing).
func TestMemoryPageCacheRefresh(t *testing.T) {
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{"token-a", "token-b"}})
	t.Cleanup(s.Close)
	for i := range 250 {
		if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: fmt.Sprintf("svc-%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	owner := "https://" + s.Host() + "/acme"
	pc := scm.NewMemoryPageCache(nil)
	for _, tt := range []struct {
		name string
		opts scm.Options
	}{{"default", scm.Options{}}, {"explicit", scm.Options{PageCache: pc}}} {
		t.Run(tt.name, func(t *testing.T) {
			a := listClient(t, s, "token-a", tt.opts)
			first := names(t, a, owner)
			st0 := s.Stats()
			second := names(t, a, owner)
			st1 := s.Stats()
			if diff := cmp.Diff(first, second); diff != "" || len(first) != 250 {
				t.Fatalf("%d repositories; the refresh differs (-first +second):\n%s", len(first), diff)
			}
			if reqs, nm := st1.API-st0.API, st1.NotModified-st0.NotModified; reqs != 3 || nm != 3 {
				t.Errorf("refresh: %d requests, %d answered 304; want 3, 3", reqs, nm)
			}
			if tt.opts.PageCache == nil {
				return
			}
			if st := pc.Stats(); st.Entries != 3 || st.Hits != 3 {
				t.Errorf("page cache stats %+v; want 3 entries, 3 hits", st)
			}
			inm0, _ := countListings(s.RequestsTo("api"), "GET /orgs/{org}/repos")
			b := listClient(t, s, "token-b", tt.opts)
			if diff := cmp.Diff(first, names(t, b, owner)); diff != "" {
				t.Errorf("token-b's listing differs:\n%s", diff)
			}
			if inm, _ := countListings(s.RequestsTo("api"), "GET /orgs/{org}/repos"); inm != inm0 {
				t.Errorf("token-b's first listing sent %d requests with If-None-Match; want 0", inm-inm0)
			}
		})
	}
	t.Run("nocache", func(t *testing.T) {
		c := listClient(t, s, "token-a", scm.Options{PageCache: scm.NoCache{}})
		names(t, c, owner)
		st0 := s.Stats()
		names(t, c, owner)
		if nm := s.Stats().NotModified - st0.NotModified; nm != 0 {
			t.Errorf("with NoCache, %d pages answered 304; want 0", nm)
		}
	})
}

func file(content string) *scm.CachedFile {
	return &scm.CachedFile{ETag: `"` + content + `"`, Content: []byte(content)}
}

func getFile(t *testing.T, c *scm.MemoryFileCache, key string) (string, bool) {
	t.Helper()
	f, ok, err := c.GetFile(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "", false
	}
	return string(f.Content), true
}

// The least recently used entries go first, by count and by bytes; an
// entry larger than the cache, without an ETag or above
// MaxCachedFileBytes is not kept and removes the stale entry under its
// key.
func TestMemoryFileCacheEviction(t *testing.T) {
	ctx := t.Context()
	t.Run("entries", func(t *testing.T) {
		c := scm.NewMemoryFileCache(&scm.MemoryCacheOptions{MaxEntries: 2})
		c.PutFile(ctx, "a", file("A"))
		c.PutFile(ctx, "b", file("B"))
		getFile(t, c, "a") // a is now the most recently used
		c.PutFile(ctx, "c", file("C"))
		for key, want := range map[string]bool{"a": true, "b": false, "c": true} {
			if _, ok := getFile(t, c, key); ok != want {
				t.Errorf("%s cached: %v; want %v", key, ok, want)
			}
		}
		if st := c.Stats(); st.Entries != 2 || st.Evictions != 1 {
			t.Errorf("stats %+v; want 2 entries, 1 eviction", st)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		// Each entry costs its key, ETag and content plus 256 bytes.
		big := strings.Repeat("x", 1000)
		one := int64(1 + len(big) + 2 + len(big) + 256)
		c := scm.NewMemoryFileCache(&scm.MemoryCacheOptions{MaxBytes: 3 * one})
		for _, k := range []string{"a", "b", "c"} {
			c.PutFile(ctx, k, file(big))
		}
		if st := c.Stats(); st.Entries != 3 || st.Bytes != 3*one {
			t.Fatalf("stats %+v; want 3 entries of %d bytes", st, one)
		}
		c.PutFile(ctx, "d", file(big))
		if _, ok := getFile(t, c, "a"); ok {
			t.Error("a, the least recently used, was kept")
		}
		if st := c.Stats(); st.Entries != 3 || st.Bytes > 3*one || st.Evictions != 1 {
			t.Errorf("stats %+v; want 3 entries, at most %d bytes, 1 eviction", st, 3*one)
		}
		// A replacement frees the old entry's bytes.
		c.PutFile(ctx, "d", file("small"))
		if st := c.Stats(); st.Bytes != 2*one+int64(1+7+5+256) {
			t.Errorf("after replacing d: %d bytes; want %d", st.Bytes, 2*one+int64(1+7+5+256))
		}
	})
	t.Run("not kept", func(t *testing.T) {
		c := scm.NewMemoryFileCache(&scm.MemoryCacheOptions{MaxBytes: 4096})
		for _, tt := range []struct {
			name string
			f    *scm.CachedFile
		}{
			{"larger than the cache", file(strings.Repeat("x", 4096))},
			{"no ETag", &scm.CachedFile{Content: []byte("x")}},
			{"above MaxCachedFileBytes", &scm.CachedFile{ETag: `"big"`, Content: make([]byte, scm.MaxCachedFileBytes+1)}},
		} {
			c.PutFile(ctx, "k", file("old"))
			if err := c.PutFile(ctx, "k", tt.f); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got, ok := getFile(t, c, "k"); ok {
				t.Errorf("%s: kept, or the stale entry %q left", tt.name, got)
			}
			if st := c.Stats(); st.Entries != 0 || st.Bytes != 0 {
				t.Errorf("%s: stats %+v; want empty", tt.name, st)
			}
		}
		if err := c.PutFile(ctx, "k", nil); scm.Code(err) != errcode.InvalidArgument {
			t.Errorf("PutFile(nil): %v; want InvalidArgument", err)
		}
	})
	t.Run("pages", func(t *testing.T) {
		c := scm.NewMemoryPageCache(&scm.MemoryCacheOptions{MaxEntries: 2})
		for _, k := range []string{"a", "b", "c"} {
			c.PutPage(ctx, k, &scm.CachedPage{ETag: `"` + k + `"`, Body: []byte(k)})
		}
		if _, ok, _ := c.GetPage(ctx, "a"); ok {
			t.Error("page a, the least recently used, was kept")
		}
		c.PutPage(ctx, "b", &scm.CachedPage{ETag: `"b"`, Body: make([]byte, scm.MaxCachedPageBytes+1)})
		if _, ok, _ := c.GetPage(ctx, "b"); ok {
			t.Error("a page above MaxCachedPageBytes was kept, or the stale one left")
		}
		if st := c.Stats(); st.Entries != 1 || st.Evictions != 1 {
			t.Errorf("stats %+v; want 1 entry, 1 eviction", st)
		}
		if err := c.PutPage(ctx, "k", nil); scm.Code(err) != errcode.InvalidArgument {
			t.Errorf("PutPage(nil): %v; want InvalidArgument", err)
		}
	})
}

// What a caller does with an entry it put or got never changes the
// cache.
func TestMemoryCacheCopies(t *testing.T) {
	ctx := t.Context()
	fc := scm.NewMemoryFileCache(nil)
	in := file("original")
	fc.PutFile(ctx, "k", in)
	in.Content[0], in.ETag = 'X', "changed"
	out, _, _ := fc.GetFile(ctx, "k")
	if string(out.Content) != "original" || out.ETag != `"original"` {
		t.Fatalf("the put file's change reached the cache: %q %q", out.Content, out.ETag)
	}
	out.Content[0] = 'Y'
	if got, _ := getFile(t, fc, "k"); got != "original" {
		t.Errorf("the got file's change reached the cache: %q", got)
	}

	pc := scm.NewMemoryPageCache(nil)
	p := &scm.CachedPage{ETag: `"p"`, Header: http.Header{"Link": {`<x?page=2>; rel="next"`}}, Body: []byte("[1]")}
	pc.PutPage(ctx, "k", p)
	p.Body[1], p.Header["Link"][0] = '9', "changed"
	p.Header.Set("X-Total", "1")
	got, _, _ := pc.GetPage(ctx, "k")
	want := &scm.CachedPage{ETag: `"p"`, Header: http.Header{"Link": {`<x?page=2>; rel="next"`}}, Body: []byte("[1]")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the put page's change reached the cache (-want +got):\n%s", diff)
	}
	got.Body[1], got.Header["Link"][0] = '8', "changed"
	got.Header.Del("Link")
	if again, _, _ := pc.GetPage(ctx, "k"); !cmp.Equal(want, again) {
		t.Errorf("the got page's change reached the cache: %+v", again)
	}
}

// Concurrent gets and puts (and callers scribbling on what they get) keep
// the cache within its bounds, and every get returns a whole entry as it
// was put. Run with -race.
func TestMemoryCacheConcurrent(t *testing.T) {
	ctx := t.Context()
	const maxBytes = 16 << 10
	fc := scm.NewMemoryFileCache(&scm.MemoryCacheOptions{MaxBytes: maxBytes, MaxEntries: 20})
	pc := scm.NewMemoryPageCache(&scm.MemoryCacheOptions{MaxBytes: maxBytes, MaxEntries: 20})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				key := fmt.Sprintf("k%d", (g*7+i)%40)
				content := bytes.Repeat([]byte(key), 1+i%50)
				etag := `"` + key + fmt.Sprint(len(content)) + `"`
				fc.PutFile(ctx, key, &scm.CachedFile{ETag: etag, Content: content})
				pc.PutPage(ctx, key, &scm.CachedPage{ETag: etag, Body: content, Header: http.Header{"Link": {key}}})
				if f, ok, _ := fc.GetFile(ctx, key); ok {
					if f.ETag != `"`+key+fmt.Sprint(len(f.Content))+`"` || !bytes.Equal(f.Content, bytes.Repeat([]byte(key), len(f.Content)/len(key))) {
						bad.Add(1)
					}
					clear(f.Content)
				}
				if p, ok, _ := pc.GetPage(ctx, key); ok {
					if p.ETag != `"`+key+fmt.Sprint(len(p.Body))+`"` || p.Header.Get("Link") != key {
						bad.Add(1)
					}
					clear(p.Body)
					p.Header.Set("Link", "x")
				}
				if st := fc.Stats(); st.Bytes > maxBytes || st.Entries > 20 {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d torn entries or bounds exceeded", n)
	}
	if st := fc.Stats(); st.Entries == 0 || st.Entries > 20 || st.Bytes > maxBytes || st.Evictions == 0 {
		t.Errorf("file cache stats %+v", st)
	}
}

// Concurrent ReadFiles of one client share its default cache safely.
func TestMemoryFileCacheConcurrentReads(t *testing.T) {
	f := gitHubFile(t, "kind: Component\n")
	c := f.client(t, "token-a", scm.Options{})
	readContent(t, c, f.url)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			got, err := c.ReadFile(t.Context(), f.url, nil)
			if err == nil && string(got.Content) != "kind: Component\n" {
				err = fmt.Errorf("content %q", got.Content)
			}
			if err == nil {
				got.Content[0] = 'X' // must not reach the others
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if _, nm := f.stats(); nm != 16 {
		t.Errorf("%d reads answered 304; want 16", nm)
	}
}

// BenchmarkMemoryFileCacheReRead re-reads one unchanged 20 KiB file:
// cold (NoCache: read in full every time) and warm (the default
// MemoryFileCache: answered 304). bytes/op counts the answers' body
// bytes received; counted/op the requests the provider counts against the
// rate limit (GitHub does not count 304s).
func BenchmarkMemoryFileCacheReRead(b *testing.B) {
	content := strings.Repeat("spec:\n  owner: team-a\n", 1000)[:20<<10]
	for _, mk := range fileFakes {
		f := mk(b, content)
		for _, run := range []string{"cold", "warm"} {
			b.Run(f.name+"/"+run, func(b *testing.B) {
				opts := scm.Options{}
				if run == "cold" {
					opts.FileCache = scm.NoCache{}
				}
				c := f.client(b, "token-a", opts)
				readContent(b, c, f.url) // the full read that fills a warm cache
				r0, nm0 := f.stats()
				rx0 := f.rx.Load()
				adaptertest.Bench(b, func() int { r, _ := f.stats(); return r }, func(int) error {
					got, err := c.ReadFile(b.Context(), f.url, nil)
					if err == nil && len(got.Content) != len(content) {
						err = fmt.Errorf("%d bytes", len(got.Content))
					}
					return err
				})
				r1, nm1 := f.stats()
				// Bench runs op b.N+1 times (one warm-up), one request each.
				b.ReportMetric(float64(f.rx.Load()-rx0)/float64(r1-r0), "bytes/op")
				b.ReportMetric(float64(nm1-nm0)/float64(r1-r0), "304/op")
				counted := r1 - r0 // GitLab counts its 304s
				if f.name == "github" {
					counted -= nm1 - nm0
				}
				b.ReportMetric(float64(counted)/float64(r1-r0), "counted/op")
			})
		}
	}
}

// BenchmarkMemoryPageCacheRefresh refreshes the listing of an unchanged
// owner of 1,000 repositories (10 pages) through one client: cold
// (NoCache) and warm (a MemoryPageCache with the default bounds: 9 pages
// answered 304, the last, full, read in full). counted/op is what the
// provider counts against the rate limit: GitHub does not count 304s.
func BenchmarkMemoryPageCacheRefresh(b *testing.B) {
	for _, mk := range listingFakes {
		f := mk(b, 1000)
		for _, run := range []string{"cold", "warm"} {
			b.Run(f.name+"/"+run, func(b *testing.B) {
				var pc scm.PageCache = scm.NoCache{}
				if run == "warm" {
					pc = scm.NewMemoryPageCache(nil)
				}
				c := f.client(b, "token-a", pc)
				names(b, c, f.owner)
				r0, nm0 := f.stats()
				rx0 := f.rx.Load()
				b.ReportAllocs()
				b.ResetTimer()
				n := 0
				for b.Loop() {
					if got := names(b, c, f.owner); len(got) != 1000 {
						b.Fatalf("%d repositories", len(got))
					}
					n++
				}
				b.StopTimer()
				r1, nm1 := f.stats()
				b.ReportMetric(float64(r1-r0)/float64(n), "requests/op")
				b.ReportMetric(float64(nm1-nm0)/float64(n), "304/op")
				counted := r1 - r0 // GitLab counts its 304s
				if f.name == "github" {
					counted -= nm1 - nm0
				}
				b.ReportMetric(float64(counted)/float64(n), "counted/op")
				b.ReportMetric(float64(f.rx.Load()-rx0)/float64(n), "bytes/op")
			})
		}
	}
}

// Zero and negative options mean the default bounds.
func TestMemoryCacheDefaultBounds(t *testing.T) {
	ctx := t.Context()
	for _, o := range []*scm.MemoryCacheOptions{nil, {}, {MaxBytes: -1, MaxEntries: -1}} {
		fc, pc := scm.NewMemoryFileCache(o), scm.NewMemoryPageCache(o)
		for i := range scm.DefaultMemoryFileEntries + 1 {
			k := fmt.Sprint(i)
			fc.PutFile(ctx, k, file(k))
			if i <= scm.DefaultMemoryPageEntries {
				pc.PutPage(ctx, k, &scm.CachedPage{ETag: `"` + k + `"`, Body: []byte(k)})
			}
		}
		if st := fc.Stats(); st.Entries != scm.DefaultMemoryFileEntries || st.Evictions != 1 {
			t.Errorf("%+v: file cache stats %+v; want %d entries, 1 eviction", o, st, scm.DefaultMemoryFileEntries)
		}
		if st := pc.Stats(); st.Entries != scm.DefaultMemoryPageEntries || st.Evictions != 1 {
			t.Errorf("%+v: page cache stats %+v; want %d entries, 1 eviction", o, st, scm.DefaultMemoryPageEntries)
		}
		// 33 files of 1 MiB (the largest kept) pass the 32 MiB bound.
		big := make([]byte, scm.MaxCachedFileBytes)
		for i := range 33 {
			fc.PutFile(ctx, fmt.Sprint("big", i), &scm.CachedFile{ETag: `"big"`, Content: big})
		}
		if st := fc.Stats(); st.Bytes > scm.DefaultMemoryFileBytes || st.Entries >= 32 {
			t.Errorf("%+v: after 33 MiB of files: %+v; want at most %d bytes", o, st, scm.DefaultMemoryFileBytes)
		}
	}
}
