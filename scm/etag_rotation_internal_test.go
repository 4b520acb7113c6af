package scm

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// rotationApp is the GitHub App of the token-renewal tests.
const rotationApp = 4711

var (
	rotationKeyOnce sync.Once
	rotationKey     *rsa.PrivateKey
	rotationKeyPEM  string
)

// contentsRoute is the fake's route of GET contents.
const contentsRoute = "GET /repos/{owner}/{repo}/contents/{path...}"

// rotationEnv is a catalog reading files of acme/catalog with a GitHub
// App whose installation token the fake expires after an hour, on one
// hand-moved clock (the fake's, the resolver's and the client's).
type rotationEnv struct {
	fake *fakegithub.Server
	clk  *testclock.Clock
	c    *Client
	urls []string
}

// newRotationEnv starts the fake with n files committed a minute before
// the clock's time (so that their Last-Modified is settled when read),
// and a client with fc as FileCache (nil: the default). blobETags is
// fakegithub.Options.BlobETags.
func newRotationEnv(tb testing.TB, n int, fc FileCache, blobETags bool) *rotationEnv {
	tb.Helper()
	rotationKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rotationKey = k
		rotationKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	clk := testclock.New(time.Now().UTC().Truncate(time.Second).Add(-time.Minute))
	fake := fakegithub.New(&fakegithub.Options{Now: clk.Now, BlobETags: blobETags})
	tb.Cleanup(fake.Close)
	e := &rotationEnv{fake: fake, clk: clk}
	var files []fakegithub.File
	for i := range n {
		p := fmt.Sprintf("components/c%04d/catalog-info.yaml", i)
		files = append(files, fakegithub.File{Path: p, Content: []byte(fmt.Sprintf("kind: Component\nmetadata:\n  name: c%04d\n", i))})
		e.urls = append(e.urls, "https://"+fake.Host()+"/acme/catalog/blob/main/"+p)
	}
	if _, err := fake.AddRepo(fakegithub.Repo{Owner: "acme", Name: "catalog", Private: true, Files: files}); err != nil {
		tb.Fatal(err)
	}
	if err := fake.AddApp(fakegithub.App{ID: rotationApp, PublicKey: &rotationKey.PublicKey}); err != nil {
		tb.Fatal(err)
	}
	if _, err := fake.AddInstallation(fakegithub.Installation{AppID: rotationApp, Account: "acme"}); err != nil {
		tb.Fatal(err)
	}
	clk.Advance(time.Minute)
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(),
		Apps: []integrations.GitHubAppConfig{{AppID: rotationApp, PrivateKey: integrations.NewSecret(rotationKeyPEM)}},
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	e.c, err = NewClient(reg, res, &Options{FileCache: fc, Transport: fake.Client().Transport,
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)}})
	if err != nil {
		tb.Fatal(err)
	}
	e.c.s.now = clk.Now
	return e
}

// readAll reads every file once and returns how many of the reads GitHub
// counts against the rate limit (those not answered 304) and how many
// installation tokens were minted meanwhile.
func (e *rotationEnv) readAll(tb testing.TB) (counted, mints int) {
	tb.Helper()
	before := e.fake.Stats()
	for i, u := range e.urls {
		f, err := e.c.ReadFile(tb.Context(), u, nil)
		if err != nil {
			tb.Fatalf("ReadFile(%s): %v", u, err)
		}
		if want := fmt.Sprintf("name: c%04d\n", i); len(f.Content) < len(want) || string(f.Content[len(f.Content)-len(want):]) != want {
			if string(f.Content) != "changed\n" {
				tb.Fatalf("ReadFile(%s) = %q; want c%04d's", u, f.Content, i)
			}
		}
	}
	after := e.fake.Stats()
	counted = after.Routes[contentsRoute] - before.Routes[contentsRoute] - (after.NotModified - before.NotModified)
	return counted, after.Routes[fakegithub.RouteCreateInstallToken] - before.Routes[fakegithub.RouteCreateInstallToken]
}

// TestFileCacheSurvivesTokenRenewal: a catalog re-reading its files after
// its GitHub App's installation token was renewed. GitHub's ETags are
// per token, so the old token's ETags would be answered 200 (counted):
// the entries are revalidated by date instead (If-Modified-Since, a free
// 304), then with the new token's ETags; a file changed since is read
// again. Seen failing before the fix: 20 counted after the renewal.
func TestFileCacheSurvivesTokenRenewal(t *testing.T) {
	for _, blobETags := range []bool{false, true} {
		t.Run(fmt.Sprint("BlobETags=", blobETags), func(t *testing.T) {
			e := newRotationEnv(t, 20, nil, blobETags)
			if counted, mints := e.readAll(t); counted != 20 || mints != 1 {
				t.Fatalf("first read: %d counted, %d tokens minted; want 20, 1", counted, mints)
			}
			if counted, mints := e.readAll(t); counted != 0 || mints != 0 {
				t.Fatalf("re-read with the same token: %d counted, %d minted; want 0, 0", counted, mints)
			}
			e.clk.Advance(time.Hour)
			if counted, mints := e.readAll(t); counted != 0 || mints != 1 {
				t.Errorf("after the token's renewal: %d counted, %d minted; want 0, 1 (every file answered 304)", counted, mints)
			}
			// The entries now hold the new token's ETags: If-None-Match.
			before := len(e.fake.Requests())
			if counted, _ := e.readAll(t); counted != 0 {
				t.Errorf("re-read with the renewed token: %d counted; want 0", counted)
			}
			for _, r := range e.fake.Requests()[before:] {
				if r.Route == contentsRoute && r.Header.Get("If-None-Match") == "" || r.Header.Get("If-Modified-Since") != "" {
					t.Errorf("re-read with the renewed token: If-None-Match %q, If-Modified-Since %q; want the ETag only",
						r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"))
					break
				}
			}
			// A file changed meanwhile is read again after the next
			// renewal: its date is later.
			e.clk.Advance(time.Minute)
			if _, err := e.fake.Commit("acme", "catalog", "main", fakegithub.Commit{Files: []fakegithub.File{
				{Path: "components/c0003/catalog-info.yaml", Content: []byte("changed\n")}}}); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(time.Hour)
			if counted, mints := e.readAll(t); counted != 1 || mints != 1 {
				t.Errorf("after a change and a renewal: %d counted, %d minted; want 1, 1", counted, mints)
			}
			f, err := e.c.ReadFile(t.Context(), e.urls[3], nil)
			if err != nil || string(f.Content) != "changed\n" {
				t.Errorf("changed file: %q, %v; want %q", f.Content, err, "changed\n")
			}
		})
	}
}

// TestFileCacheDateRevalidationBounds: a date is not trusted when it was
// not a few seconds old when read (a file changed twice in one second
// keeps its date), nor more than maxSinceAge after the entry's content was
// last read in full (a branch reset to an older commit moves the date
// back): the renewed token then reads in full, and that read restarts the
// period.
func TestFileCacheDateRevalidationBounds(t *testing.T) {
	t.Run("fresh date", func(t *testing.T) {
		e := newRotationEnv(t, 3, nil, false)
		e.clk.Advance(time.Minute)
		if _, err := e.fake.Commit("acme", "catalog", "main", fakegithub.Commit{Files: []fakegithub.File{
			{Path: "components/c0001/catalog-info.yaml", Content: []byte("changed\n")}}}); err != nil {
			t.Fatal(err)
		}
		// Read in the second of the change: c0001's date is not settled.
		if counted, _ := e.readAll(t); counted != 3 {
			t.Fatalf("first read: %d counted; want 3", counted)
		}
		e.clk.Advance(time.Hour)
		if counted, _ := e.readAll(t); counted != 1 {
			t.Errorf("after the renewal: %d counted; want 1 (c0001, its date read fresh)", counted)
		}
	})
	t.Run("old read", func(t *testing.T) {
		e := newRotationEnv(t, 3, nil, false)
		if counted, _ := e.readAll(t); counted != 3 {
			t.Fatalf("first read: %d counted; want 3", counted)
		}
		renewals := int(maxSinceAge/time.Hour) - 1
		for i := range renewals {
			e.clk.Advance(time.Hour)
			if counted, _ := e.readAll(t); counted != 0 {
				t.Fatalf("renewal %d: %d counted; want 0", i+1, counted)
			}
		}
		e.clk.Advance(time.Hour) // maxSinceAge since the full read
		if counted, _ := e.readAll(t); counted != 3 {
			t.Errorf("renewal at maxSinceAge: %d counted; want 3 (read in full)", counted)
		}
		e.clk.Advance(time.Hour)
		if counted, _ := e.readAll(t); counted != 0 {
			t.Errorf("the renewal after: %d counted; want 0", counted)
		}
	})
	t.Run("branch reset", func(t *testing.T) {
		// The risk the bound is for: main reset to an older commit
		// brings back c0001's older content with an older date, which
		// the date check answers 304. It is seen at the first renewal
		// maxSinceAge after the full read (with the same token, at once:
		// its ETag differs).
		e := newRotationEnv(t, 3, nil, false)
		old, ok := e.fake.Ref("acme", "catalog", "main")
		if !ok {
			t.Fatal("no main")
		}
		e.clk.Advance(time.Minute)
		if _, err := e.fake.Commit("acme", "catalog", "main", fakegithub.Commit{Files: []fakegithub.File{
			{Path: "components/c0001/catalog-info.yaml", Content: []byte("changed\n")}}}); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Minute)
		if counted, _ := e.readAll(t); counted != 3 {
			t.Fatalf("first read: %d counted; want 3", counted)
		}
		if _, err := e.fake.CreateBranch("acme", "catalog", "main", old); err != nil { // a force-push back
			t.Fatal(err)
		}
		content := func() string {
			f, err := e.c.ReadFile(t.Context(), e.urls[1], nil)
			if err != nil {
				t.Fatal(err)
			}
			return string(f.Content)
		}
		for h := 1; h < int(maxSinceAge/time.Hour); h++ {
			e.clk.Advance(time.Hour)
			if got := content(); got != "changed\n" {
				t.Fatalf("renewal %d: c0001 = %q; want the kept %q (the date did not move forward)", h, got, "changed\n")
			}
		}
		e.clk.Advance(time.Hour)
		if got, want := content(), "kind: Component\nmetadata:\n  name: c0001\n"; got != want {
			t.Errorf("renewal at maxSinceAge: c0001 = %q; want %q (read in full)", got, want)
		}
	})
	t.Run("blob id ETags", func(t *testing.T) {
		// ETags that are the content's blob id are checked with
		// If-None-Match whoever asks: exact, no date, no full read.
		e := newRotationEnv(t, 3, nil, true)
		if counted, _ := e.readAll(t); counted != 3 {
			t.Fatalf("first read: %d counted; want 3", counted)
		}
		for i := range int(maxSinceAge/time.Hour) + 2 {
			e.clk.Advance(time.Hour)
			if counted, _ := e.readAll(t); counted != 0 {
				t.Fatalf("renewal %d: %d counted; want 0", i+1, counted)
			}
		}
		for _, r := range e.fake.Requests() {
			if r.Header.Get("If-Modified-Since") != "" {
				t.Fatalf("%s sent If-Modified-Since; want If-None-Match only", r.Path)
			}
		}
	})
}

// TestRevalidated: what a 304 makes of an entry. After a date check: the
// ETag the 304 carries, now the asking credential's, and the period of
// date checks restarted only when that ETag is the entry's own or its
// content's blob id; nothing without an ETag. After If-None-Match: the
// entry marked as the asking credential's, unless its ETag is the blob id
// (good for any credential) or it is already.
func TestRevalidated(t *testing.T) {
	then, now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	const blob = "0123456789abcdef0123456789abcdef01234567"
	entry := func(etag string) *CachedFile {
		return &CachedFile{ETag: etag, BlobID: blob, Content: []byte("x"), Cred: "old", LastModified: then.Add(-time.Hour), ReadAt: then}
	}
	for _, tc := range []struct {
		name    string
		cached  *CachedFile
		bySince bool
		etag    string // the 304's
		want    *CachedFile
	}{
		{"date check, the new token's ETag", entry(`"a"`), true, `"b"`, &CachedFile{ETag: `"b"`, Cred: "new", ReadAt: then}},
		{"date check, the entry's ETag", entry(`"a"`), true, `"a"`, &CachedFile{ETag: `"a"`, Cred: "new", ReadAt: now}},
		{"date check, the blob id", entry(`"a"`), true, `"` + blob + `"`, &CachedFile{ETag: `"` + blob + `"`, Cred: "new", ReadAt: now}},
		{"date check, no ETag", entry(`"a"`), true, "", nil},
		{"If-None-Match, another credential", entry(`"a"`), false, `"a"`, &CachedFile{ETag: `"a"`, Cred: "new", ReadAt: then}},
		{"If-None-Match, a blob id ETag", entry(`"` + blob + `"`), false, `"` + blob + `"`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &fileProbe{sent: "new", bySince: tc.bySince, header: http.Header{}}
			if tc.etag != "" {
				p.header.Set("ETag", tc.etag)
			}
			got := p.revalidated(tc.cached, now)
			if (got == nil) != (tc.want == nil) {
				t.Fatalf("revalidated = %+v; want %+v", got, tc.want)
			}
			if got == nil {
				return
			}
			if got.ETag != tc.want.ETag || got.Cred != tc.want.Cred || !got.ReadAt.Equal(tc.want.ReadAt) ||
				string(got.Content) != "x" || !got.LastModified.Equal(tc.cached.LastModified) || got.BlobID != blob {
				t.Errorf("revalidated = %+v; want ETag %s, Cred %s, ReadAt %v, the rest kept", got, tc.want.ETag, tc.want.Cred, tc.want.ReadAt)
			}
		})
	}
	same := entry(`"a"`)
	same.Cred = "new"
	if got := (&fileProbe{sent: "new", header: http.Header{"Etag": {`"a"`}}}).revalidated(same, now); got != nil {
		t.Errorf("If-None-Match by the entry's own credential: %+v; want nothing to store", got)
	}
}

// BenchmarkFileCacheTokenRenewal: a catalog of 200 files re-read after
// each renewal of its GitHub App's installation token (one op: an hour
// passes, the token is renewed, every file is read). counted/file is what
// GitHub counts against the rate limit per file and renewal: 1 when the
// old token's ETags are sent (answered 200), 0 when the entries are
// revalidated by date (If-Modified-Since, answered 304), and 1/12 on
// average over maxSinceAge when that many renewals are run; requests/op
// counts every request of the op (the files', and the installation lookup
// and mint of the new token). per-token: the fake's ETags depend on the
// token, as GitHub support describes; blob-id: contents answer the blob
// id, as GitHub's 2022 recording does (If-None-Match then works across
// tokens, before the fix too).
func BenchmarkFileCacheTokenRenewal(b *testing.B) {
	const n = 200
	for _, mode := range []string{"per-token", "blob-id"} {
		b.Run(mode, func(b *testing.B) {
			e := newRotationEnv(b, n, nil, mode == "blob-id")
			e.readAll(b)
			counted, reads, reqs := 0, 0, 0
			b.ReportAllocs()
			for b.Loop() {
				e.clk.Advance(time.Hour)
				r0 := e.fake.Stats().API
				c, mints := e.readAll(b)
				if mints != 1 {
					b.Fatalf("%d tokens minted in an hour; want 1", mints)
				}
				counted, reads, reqs = counted+c, reads+n, reqs+e.fake.Stats().API-r0
			}
			b.ReportMetric(float64(counted)/float64(reads), "counted/file")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
		})
	}
}
