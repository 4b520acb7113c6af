package adapters_test

import (
	"net/http"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// fallbackWorld is what every adapter's fake holds for
// TestFindFilesFallbackSkipsDirectories: the file, a directory of that
// name, and neither.
var fallbackWorld = map[string]fstest.MapFS{
	"has":  {"catalog-info.yaml": {Data: []byte("kind: Component\n")}},
	"dir":  {"catalog-info.yaml/x.yaml": {Data: []byte("a directory\n")}},
	"none": {"README.md": {Data: []byte("# none\n")}},
}

// TestFindFilesFallbackSkipsDirectories: with every adapter, discovery by
// reading each repository (the driver's FileFinder hidden) skips a
// repository where the path is a directory as it skips one without it
// (ReadFileRequest.DirAsMissing: NotFound, not InvalidArgument, which
// FindFiles now reports), and pays one read per repository, not a second
// request to tell a directory from a missing file.
func TestFindFilesFallbackSkipsDirectories(t *testing.T) {
	type served struct {
		cfg      integrations.Config
		owner    string
		requests func() int
	}
	for _, tc := range []struct {
		kind  integrations.Kind
		serve func(t *testing.T) served
	}{
		{integrations.GitHub, func(t *testing.T) served {
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{githubToken}})
			t.Cleanup(s.Close)
			for name, fsys := range fallbackWorld {
				if _, err := s.AddFS(fakegithub.Repo{Owner: "acme", Name: name}, fsys); err != nil {
					t.Fatal(err)
				}
			}
			return served{integrations.Config{GitHub: []integrations.GitHubConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
				Token: integrations.NewSecret(githubToken)}}}, "https://" + s.Host() + "/acme", func() int { st := s.Stats(); return st.API + st.Raw }}
		}},
		{integrations.GitLab, func(t *testing.T) served {
			s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{gitlabToken}})
			t.Cleanup(s.Close)
			for name, fsys := range fallbackWorld {
				if _, _, err := s.AddFS(fakegitlab.Project{Namespace: "acme", Path: name}, fsys); err != nil {
					t.Fatal(err)
				}
			}
			return served{integrations.Config{GitLab: []integrations.GitLabConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(), BaseURL: s.URL(),
				Token: integrations.NewSecret(gitlabToken)}}}, s.URL() + "/acme", func() int { return s.Stats().Total }}
		}},
		{integrations.BitbucketCloud, func(t *testing.T) served {
			const user = "bot@example.com"
			s := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Users: map[string]string{user: bitbucketCloudToken}})
			t.Cleanup(s.Close)
			for name, fsys := range fallbackWorld {
				if _, err := s.AddFS(fakebitbucketcloud.Repo{Workspace: "acme", Slug: name}, fsys); err != nil {
					t.Fatal(err)
				}
			}
			return served{integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
				Username: user, Token: integrations.NewSecret(bitbucketCloudToken)}}}, s.URL() + "/acme", func() int { st := s.Stats(); return st.API + st.Web }}
		}},
		{integrations.BitbucketServer, func(t *testing.T) served {
			s := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{bitbucketServerToken}})
			t.Cleanup(s.Close)
			for name, fsys := range fallbackWorld {
				if _, err := s.AddFS(fakebitbucketserver.Repo{Project: "ACME", Name: name}, fsys); err != nil {
					t.Fatal(err)
				}
			}
			return served{integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
				Token: integrations.NewSecret(bitbucketServerToken)}}}, s.URL() + "/projects/ACME", func() int { return s.Stats().Total }}
		}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			sv := tc.serve(t)
			open := adapters.All(nil)[tc.kind]
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			c := adaptertest.NewClient(t, sv.cfg, &scm.Options{
				Drivers: map[integrations.Kind]driver.Opener{tc.kind: func(in *integrations.Integration) (driver.Driver, error) {
					d, err := open(in)
					return struct{ driver.Driver }{d}, err // no FileFinder: read each repository
				}},
				Transport: tr,
				Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
			})
			list := func() int {
				before := sv.requests()
				for _, err := range c.ListRepositories(t.Context(), sv.owner, nil) {
					if err != nil {
						t.Fatal(err)
					}
				}
				return sv.requests() - before
			}
			list() // warm up: the owner's kind is remembered
			listing := list()
			before := sv.requests()
			var found, errs []string
			for f, err := range c.FindFiles(t.Context(), sv.owner, "catalog-info.yaml") {
				if err != nil {
					errs = append(errs, err.Error())
					continue
				}
				found = append(found, f.Repository.Name)
			}
			n := sv.requests() - before
			if !slices.Equal(found, []string{"has"}) || len(errs) != 0 {
				t.Errorf("FindFiles found %q, errors %q; want [has] and no error", found, errs)
			}
			if want := listing + len(fallbackWorld); n != want {
				t.Errorf("FindFiles made %d requests; want %d (the listing, %d, and one read per repository)", n, want, listing)
			}
		})
	}
}
