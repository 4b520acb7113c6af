package adapters_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// etagFake is a fake started for BenchmarkReadTreeETag, holding the
// repository whose templates/service folder is read.
type etagFake struct {
	cfg integrations.Config
	// treeURL is the web URL of templates/service on main.
	treeURL string
	// commit writes templates/service/changed.txt on main, on the fake
	// directly (not counted).
	commit func(content []byte) error
	// requests counts the requests that requests/op reports; downloads,
	// if not nil, those that downloads/op reports (when there are any).
	requests, downloads func() int
	// free, if not nil, counts the requests among them that the provider
	// does not count against the rate limit (GitHub's 304s): counted/op
	// is requests/op less these.
	free func() int
}

// etagAdapter is one row of BenchmarkReadTreeETag.
type etagAdapter struct {
	name  string
	serve func(b testing.TB) etagFake
}

var etagAdapters = []etagAdapter{{
	// GitHub: a repository of its own; requests/op counts API requests,
	// downloads/op (reported if any) those to the archive download host.
	name: "github",
	serve: func(b testing.TB) etagFake {
		s := fakegithub.New(&fakegithub.Options{Tokens: []string{githubToken}})
		b.Cleanup(s.Close)
		files := []fakegithub.File{
			{Path: "catalog-info.yaml", Content: []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\n")},
			{Path: "README.md", Content: []byte("# svc\n")},
		}
		for i := range 8 {
			files = append(files, fakegithub.File{Path: fmt.Sprintf("templates/service/skeleton/file%d.yaml", i), Content: []byte(fmt.Sprintf("n: %d\n", i))})
		}
		files = append(files, fakegithub.File{Path: "templates/service/template.yaml", Content: []byte("kind: Template\n")})
		if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Files: files}); err != nil {
			b.Fatal(err)
		}
		return etagFake{
			cfg: integrations.Config{GitHub: []integrations.GitHubConfig{{
				Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret(githubToken)}}},
			treeURL: "https://" + s.Host() + "/acme/svc/tree/main/templates/service",
			commit: func(content []byte) error {
				_, err := s.Commit("acme", "svc", "main", fakegithub.Commit{Files: []fakegithub.File{{Path: "templates/service/changed.txt", Content: content}}})
				return err
			},
			requests:  func() int { return s.Stats().API },
			downloads: func() int { return s.Stats().Download },
			free:      func() int { return s.Stats().NotModified },
		}
	},
}, {
	// GitLab: a project in a subgroup; requests/op counts every request.
	name: "gitlab",
	serve: func(b testing.TB) etagFake {
		s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{gitlabToken}})
		b.Cleanup(s.Close)
		p := fakegitlab.Project{Namespace: "acme/platform", Path: "svc", Files: []fakegitlab.File{
			{Path: "catalog-info.yaml", Content: []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\n")},
			{Path: "templates/service/template.yaml", Content: []byte("kind: Template\n")},
			{Path: "templates/service/skeleton/a.txt", Content: []byte("a\n")},
			{Path: "templates/service/skeleton/b.txt", Content: []byte("b\n")},
			{Path: "README.md", Content: []byte("# svc\n")},
		}}
		if _, _, err := s.AddProject(p); err != nil {
			b.Fatal(err)
		}
		cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{
			Host: s.Host(), APIBaseURL: s.APIBaseURL(), BaseURL: s.URL(), Token: integrations.NewSecret(gitlabToken)}}}
		reg, err := integrations.NewRegistry(cfg)
		if err != nil {
			b.Fatal(err)
		}
		u, err := reg.URL(integrations.Location{Kind: integrations.GitLab, Host: s.Host(), Owner: "acme/platform", Repo: "svc",
			Ref: "main", Path: "templates/service", Tree: true})
		if err != nil {
			b.Fatal(err)
		}
		return etagFake{
			cfg:     cfg,
			treeURL: u,
			commit: func(content []byte) error {
				_, err := s.Commit("acme/platform/svc", "main", fakegitlab.Commit{Files: []fakegitlab.File{{Path: "templates/service/changed.txt", Content: content}}})
				return err
			},
			requests: func() int { return s.Stats().Total },
		}
	},
}, {
	// Bitbucket Cloud: the conformance world (scmtest.World) in workspace
	// acme; requests/op counts API and web-host requests.
	name: "bitbucketCloud",
	serve: func(b testing.TB) etagFake {
		const user = "bot@example.com"
		s := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Users: map[string]string{user: bitbucketCloudToken}})
		b.Cleanup(s.Close)
		for _, r := range scmtest.World() {
			if _, err := s.AddFS(fakebitbucketcloud.Repo{Workspace: "acme", Slug: r.Name, MainBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
				b.Fatalf("seeding %s: %v", r.Name, err)
			}
		}
		return etagFake{
			cfg: integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
				Host: s.Host(), APIBaseURL: s.APIBaseURL(), Username: user, Token: integrations.NewSecret(bitbucketCloudToken)}}},
			treeURL: s.URL() + "/acme/" + scmtest.BasicRepo + "/src/main/templates/service/",
			commit: func(content []byte) error {
				_, err := s.Commit("acme", scmtest.BasicRepo, "main", fakebitbucketcloud.Commit{Files: []fake.File{{Path: "templates/service/changed.txt", Content: content}}})
				return err
			},
			requests: func() int { st := s.Stats(); return st.API + st.Web },
		}
	},
}, {
	// Bitbucket Server under the context path /bitbucket: the conformance
	// world in project ACME; requests/op counts every request.
	name: "bitbucketServer",
	serve: func(b testing.TB) etagFake {
		s := fakebitbucketserver.New(&fakebitbucketserver.Options{ContextPath: "/bitbucket", Tokens: []string{bitbucketServerToken}})
		b.Cleanup(s.Close)
		for _, r := range scmtest.World() {
			if _, err := s.AddFS(fakebitbucketserver.Repo{Project: "ACME", Name: r.Name, DefaultBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
				b.Fatalf("seeding %s: %v", r.Name, err)
			}
		}
		return etagFake{
			cfg: integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
				Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret(bitbucketServerToken)}}},
			treeURL: s.URL() + "/projects/ACME/repos/" + scmtest.BasicRepo + "/browse/templates/service/?at=main",
			commit: func(content []byte) error {
				_, err := s.Commit("ACME", scmtest.BasicRepo, "main", fakebitbucketserver.Commit{Files: []fake.File{{Path: "templates/service/changed.txt", Content: content}}})
				return err
			},
			requests: func() int { return s.Stats().Total },
		}
	},
}}

// BenchmarkReadTreeETag measures conditional tree reads of
// templates/service through each adapter and its fake. unchanged re-reads
// with the folder's ETag and must cost 1 request (the commit listing by
// path); changed makes a commit under the folder before every read (on
// the fake directly, not counted) and must cost at most one request more
// than an unconditional ReadTree.
func BenchmarkReadTreeETag(b *testing.B) {
	for _, ad := range etagAdapters {
		b.Run(ad.name, func(b *testing.B) {
			b.Run("unchanged", func(b *testing.B) {
				f, c := etagClient(b, ad)
				etag := treeETag(b, c, f.treeURL)
				opts := &scm.TreeOptions{IfNoneMatch: etag}
				benchETag(b, f, func(int) error {
					if _, err := c.ReadTree(b.Context(), f.treeURL, opts); scm.Code(err) != scm.NotModified {
						return fmt.Errorf("got %v; want NotModified", err)
					}
					return nil
				})
			})
			b.Run("changed", func(b *testing.B) {
				f, c := etagClient(b, ad)
				etag := treeETag(b, c, f.treeURL)
				benchETag(b, f, func(i int) error {
					content := []byte(fmt.Sprintf("change %d\n", i))
					if err := f.commit(content); err != nil {
						return err
					}
					fsys, err := c.ReadTree(b.Context(), f.treeURL, &scm.TreeOptions{IfNoneMatch: etag})
					if err != nil {
						return err
					}
					if got, err := fs.ReadFile(fsys, "changed.txt"); err != nil || string(got) != string(content) {
						return fmt.Errorf("changed.txt = %q, %v; want %q", got, err, content)
					}
					next := scm.TreeETag(fsys)
					if next == "" || next == etag {
						return fmt.Errorf("ETag %q after a change; want a new one (old %q)", next, etag)
					}
					etag = next
					return nil
				})
			})
		})
	}
}

// etagClient starts ad's fake and returns it with a portable client for
// it, through a real credentials.Resolver.
func etagClient(b *testing.B, ad etagAdapter) (etagFake, *scm.Client) {
	b.Helper()
	f := ad.serve(b)
	reg, err := integrations.NewRegistry(f.cfg)
	if err != nil {
		b.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		b.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(tr.CloseIdleConnections)
	c, err := scm.NewClient(reg, res, &scm.Options{
		Drivers:   adapters.All(nil),
		Transport: tr,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
	})
	if err != nil {
		b.Fatal(err)
	}
	return f, c
}

// treeETag reads the tree at u WithETag and returns its ETag.
func treeETag(b *testing.B, c *scm.Client, u string) string {
	b.Helper()
	fsys, err := c.ReadTree(b.Context(), u, &scm.TreeOptions{WithETag: true})
	if err != nil {
		b.Fatal(err)
	}
	etag := scm.TreeETag(fsys)
	if etag == "" {
		b.Fatal("no ETag")
	}
	return etag
}

// benchETag runs op b.N times after one warm-up run and reports
// requests/op, counted/op (less the free ones, where f counts them), and
// downloads/op if f counts downloads and there were any.
func benchETag(b *testing.B, f etagFake, op func(i int) error) {
	b.Helper()
	if err := op(-1); err != nil { // warm up: connections
		b.Fatal(err)
	}
	b.ReportAllocs()
	req := f.requests()
	free := 0
	if f.free != nil {
		free = f.free()
	}
	dl := 0
	if f.downloads != nil {
		dl = f.downloads()
	}
	n := 0
	for b.Loop() {
		if err := op(n); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(f.requests()-req)/float64(n), "requests/op")
	counted := f.requests() - req
	if f.free != nil {
		counted -= f.free() - free
	}
	b.ReportMetric(float64(counted)/float64(n), "counted/op")
	if f.downloads != nil {
		if d := f.downloads() - dl; d > 0 {
			b.ReportMetric(float64(d)/float64(n), "downloads/op")
		}
	}
}
