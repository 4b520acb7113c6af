package bitbucketserverscm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// noDefaultBranch takes every "defaultBranch" out of the JSON answers it
// carries (repository listings, search hits), as Bitbucket Server before
// Data Center 9 answers: its repositories have no such field.
type noDefaultBranch struct{ next http.RoundTripper }

func (n noDefaultBranch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := n.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return resp, nil
	}
	defer resp.Body.Close()
	var body any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			delete(v, "defaultBranch")
			for _, e := range v {
				strip(e)
			}
		case []any:
			for _, e := range v {
				strip(e)
			}
		}
	}
	strip(body)
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// olderClient is searchClient for a server whose answers name no default
// branch (noDefaultBranch), or do (older false).
func olderClient(t testing.TB, fake *fakebitbucketserver.Server, opts *bitbucketserverscm.Options, older bool) *scm.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	var rt http.RoundTripper = tr
	if older {
		rt = noDefaultBranch{next: tr}
	}
	cfg := integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Token: integrations.NewSecret(goodToken)}}}
	return adaptertest.NewClient(t, cfg, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.BitbucketServer: bitbucketserverscm.Opener(opts)},
		Transport: rt,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
	})
}

// TestDiscoverOlderServer: on a server whose repository listing and search
// hits name no default branch (before Data Center 9), catalog.Discover
// finds what it finds on Data Center 9, with or without code search, with
// as many requests, and with URLs that name no ref (the default branch)
// and read back.
func TestDiscoverOlderServer(t *testing.T) {
	for _, contextPath := range []string{"", "/bitbucket"} {
		for _, search := range []bool{true, false} {
			t.Run(fmt.Sprintf("context=%s,search=%v", contextPath, search), func(t *testing.T) {
				fake := discoveryWorld(t, contextPath)
				owner := fake.URL() + "/projects/ACME"
				opts := &bitbucketserverscm.Options{NoCodeSearch: !search}
				run := func(older bool) (names, urls []string, requests int) {
					t.Helper()
					c := olderClient(t, fake, opts, older)
					before := fake.Stats().Total
					locs, err := catalog.Discover(t.Context(), c, owner, nil)
					requests = fake.Stats().Total - before
					if err != nil {
						t.Fatalf("Discover (older %v): %v", older, err)
					}
					for _, l := range locs {
						names = append(names, l.Repo.Name)
						urls = append(urls, l.FileURL)
						f, err := c.ReadFile(t.Context(), l.FileURL, nil)
						if err != nil || !strings.Contains(string(f.Content), "kind: Component") {
							t.Errorf("ReadFile(%s) (older %v): %v", l.FileURL, older, err)
						}
					}
					return names, urls, requests
				}
				names9, _, n9 := run(false)
				names, urls, n := run(true)
				if diff := cmp.Diff(names9, names); diff != "" || len(names) != 2 {
					t.Errorf("Discover found %q on Data Center 9, %q before it (want alpha and beta-service)", names9, names)
				}
				web := fake.URL() + "/projects/ACME/repos/"
				if diff := cmp.Diff([]string{web + "alpha/browse/catalog-info.yaml", web + "beta-service/browse/catalog-info.yaml"}, urls); diff != "" {
					t.Errorf("FileURLs (-want +got):\n%s", diff)
				}
				if n != n9 {
					t.Errorf("Discover made %d requests before Data Center 9, %d on it", n, n9)
				}
			})
		}
	}
}

// benchDiscoverOlder discovers with catalog.Discover in a project of 1,000
// repositories (each with catalog-info.yaml) of a server whose answers name
// no default branch (older) or do, and reports requests/op.
func benchDiscoverOlder(b *testing.B, search, older bool) {
	fake := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{goodToken}})
	b.Cleanup(fake.Close)
	for i := range 1000 {
		if _, err := fake.AddRepo(fakebitbucketserver.Repo{Project: "ACME", Name: fmt.Sprintf("svc-%04d", i),
			Files: []fakekit.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
			b.Fatal(err)
		}
	}
	c := olderClient(b, fake, &bitbucketserverscm.Options{NoCodeSearch: !search}, older)
	owner := fake.URL() + "/projects/ACME"
	adaptertest.Bench(b, func() int { return fake.Stats().Total }, func(int) error {
		locs, err := catalog.Discover(b.Context(), c, owner, nil)
		if err != nil {
			return err
		}
		if len(locs) != 1000 {
			return fmt.Errorf("found %d; want 1000", len(locs))
		}
		return nil
	})
}

// BenchmarkBitbucketServerCatalogDiscover: catalog.Discover on Data Center
// 9 (the listing and search hits name the default branch) and before it
// (they do not), with code search and without: the same requests/op.
func BenchmarkBitbucketServerCatalogDiscover(b *testing.B) {
	for _, search := range []bool{true, false} {
		for _, older := range []bool{false, true} {
			b.Run(fmt.Sprintf("search=%v/older=%v", search, older), func(b *testing.B) { benchDiscoverOlder(b, search, older) })
		}
	}
}
