package catalog_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/memscm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

const token = "ghp_catalogTestToken"

// newFake starts a fake GitHub and a portable client for it, with a
// credentials.Resolver holding token.
func newFake(t testing.TB) (*fakegithub.Server, *scm.Client) {
	t.Helper()
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{token}})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(func() {
		s.Close()
		tr.CloseIdleConnections()
	})
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret(token)}}}
	c := adaptertest.NewClient(t, cfg, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)},
		Transport: tr,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
	})
	return s, c
}

func catalogFile(name string) []fakegithub.File {
	return []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: " + name + "\n")}}
}

func TestDiscover(t *testing.T) {
	s, c := newFake(t)
	for _, r := range []fakegithub.Repo{
		{Owner: "acme", Name: "svc", Files: catalogFile("svc")},
		{Owner: "acme", Name: "old", Archived: true, Files: catalogFile("old")},
		{Owner: "acme", Name: "fork", Fork: true, Files: catalogFile("fork")},
		{Owner: "acme", Name: "none", Files: []fakegithub.File{{Path: "README.md", Content: []byte("x")}}},
		{Owner: "acme", Name: "empty"},
		{Owner: "acme", Name: "custom", DefaultBranch: "trunk", Files: []fakegithub.File{{Path: "meta/catalog.yaml", Content: []byte("x")}}},
	} {
		if _, err := s.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	owner := "https://" + s.Host() + "/acme"
	names := func(locs []catalog.Location) []string {
		var out []string
		for _, l := range locs {
			out = append(out, l.Repo.Name)
		}
		return out
	}
	tests := []struct {
		name string
		opts *catalog.DiscoverOptions
		want []string
	}{
		{"defaults", nil, []string{"svc", "old", "fork"}},
		{"skip archived and forks", &catalog.DiscoverOptions{SkipArchived: true, SkipForks: true}, []string{"svc"}},
		{"custom path, Backstage's leading slash", &catalog.DiscoverOptions{Path: "/meta/catalog.yaml"}, []string{"custom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			locs, err := catalog.Discover(t.Context(), c, owner, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(locs)); diff != "" {
				t.Errorf("repositories (-want +got):\n%s", diff)
			}
		})
	}
	locs, err := catalog.Discover(t.Context(), c, owner, &catalog.DiscoverOptions{SkipForks: true, SkipArchived: true})
	if err != nil || len(locs) != 1 {
		t.Fatalf("Discover = %v, %v", locs, err)
	}
	want := catalog.Location{
		FileURL:       locs[0].Repo.WebURL + "/blob/main/catalog-info.yaml",
		DefaultBranch: "main",
		BlobID:        fakegithub.BlobSHA(catalogFile("svc")[0].Content),
	}
	got := locs[0]
	got.Repo = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("location (-want +got):\n%s", diff)
	}
	// The location reads back, and parses.
	f, err := c.ReadFile(t.Context(), locs[0].FileURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.BlobID != locs[0].BlobID {
		t.Errorf("ReadFile BlobID %s; want the discovered %s", f.BlobID, locs[0].BlobID)
	}
	if es, err := catalog.Parse(f.Content); err != nil || len(es) != 1 || es[0].Metadata.Name != "svc" {
		t.Errorf("Parse = %+v, %v", es, err)
	}

	t.Run("errors", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			owner string
			opts  *catalog.DiscoverOptions
			want  scm.ErrorCode
		}{
			{"missing owner", "https://" + s.Host() + "/nobody", nil, scm.NotFound},
			{"bad path", owner, &catalog.DiscoverOptions{Path: "../x"}, scm.InvalidArgument},
			{"unknown host", "https://unknown.invalid/acme", nil, scm.PermissionDenied},
		} {
			_, err := catalog.Discover(t.Context(), c, tt.owner, tt.opts)
			if got := scm.Code(err); got != tt.want {
				t.Errorf("%s: %v (%v); want %v", tt.name, got, err, tt.want)
			}
		}
		s.Inject(fake.Fault{Kind: fake.FaultUnauthorized, Path: "/graphql"})
		defer s.ClearFaults()
		if _, err := catalog.Discover(t.Context(), c, owner, nil); scm.Code(err) != scm.Unauthorized {
			t.Errorf("with GraphQL answering 401: %v; want Unauthorized", err)
		}
	})
}

func TestDiscover1000Repos(t *testing.T) {
	s, c := newFake(t)
	for i := range 1000 {
		r := fakegithub.Repo{Owner: "big", Name: fmt.Sprintf("r%04d", i), Files: []fakegithub.File{{Path: "README.md", Content: []byte("x")}}}
		if i%4 == 0 {
			r.Files = catalogFile(r.Name)
		}
		if _, err := s.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	before := s.Stats().API
	locs, err := catalog.Discover(t.Context(), c, "https://"+s.Host()+"/big", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Stats().API - before; len(locs) != 250 || n > 10 {
		t.Errorf("found %d in %d requests; want 250 in at most 10", len(locs), n)
	}
}

// TestDiscoverKeepsFilesItRead checks that when discovery has to read each
// repository (no owner-wide search), the files it read come back with the
// locations, so callers need not read them a second time.
func TestDiscoverKeepsFilesItRead(t *testing.T) {
	w := memscm.New()
	for name, files := range map[string]map[string]string{
		"svc":  {"catalog-info.yaml": "kind: Component\nmetadata:\n  name: svc\n"},
		"none": {"README.md": "x\n"},
	} {
		if err := w.AddRepo("acme", name, "main", memscm.Files(files)); err != nil {
			t.Fatal(err)
		}
	}
	open := func(in *integrations.Integration) (driver.Driver, error) {
		d, err := w.Opener(nil)(in)
		return struct{ driver.Driver }{d}, err // hides memscm's FileFinder
	}
	c, err := scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: open}})
	if err != nil {
		t.Fatal(err)
	}
	locs, err := catalog.Discover(t.Context(), c, "https://github.com/acme", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(locs) != 1 || locs[0].File == nil {
		t.Fatalf("Discover = %+v; want one location with its file", locs)
	}
	if got, want := string(locs[0].File.Content), "kind: Component\nmetadata:\n  name: svc\n"; got != want {
		t.Errorf("File.Content = %q; want %q", got, want)
	}
}
