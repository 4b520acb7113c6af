package adapters_test

import (
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// The credentials the fakes of BenchmarkReadTreeBytes accept: the
// adapters' conformance tokens, so that headers that derive from them
// weigh the same in bytes/op.
const (
	githubToken          = "ghp_conformanceGoodToken0000000000000000"
	gitlabToken          = "glpat-conformanceGoodToken000"
	bitbucketCloudToken  = "bbc-api-token-good-71c2"
	bitbucketServerToken = "bbs-good-token-5f1e"
)

// bytesAdapter is one row of BenchmarkReadTreeBytes: a fake of its kind
// holding a repository, and the integration pointing at it.
type bytesAdapter struct {
	name string
	kind integrations.Kind
	// binary adds a 1 KiB binary file (logo.png) to the template folder.
	binary bool
	// serve starts the fake with fsys as repository "mono" of owner and
	// returns the integrations config pointing at it and its host.
	serve func(b *testing.B, fsys fs.FS) (cfg integrations.Config, host, owner string)
}

var bytesAdapters = []bytesAdapter{{
	// GitHub: the folder is one GraphQL query, and its bytes/op do not
	// grow with the repository.
	name: "github", kind: integrations.GitHub, serve: serveGitHub,
}, {
	// GitHub with a binary file in the folder: the query, then the tarball
	// of the whole repository.
	name: "github-fallback", kind: integrations.GitHub, binary: true, serve: serveGitHub,
}, {
	// GitLab filters the archive on the server
	// (repository/archive.tar.gz?path=), so bytes/op do not grow with the
	// repository.
	name: "gitlab", kind: integrations.GitLab,
	serve: func(b *testing.B, fsys fs.FS) (integrations.Config, string, string) {
		s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{gitlabToken}})
		b.Cleanup(s.Close)
		if _, _, err := s.AddFS(fakegitlab.Project{Namespace: "acme", Path: "mono"}, fsys); err != nil {
			b.Fatal(err)
		}
		return integrations.Config{GitLab: []integrations.GitLabConfig{{
			Host: s.Host(), APIBaseURL: s.APIBaseURL(), BaseURL: s.URL(), Token: integrations.NewSecret(gitlabToken)}}}, s.Host(), "acme"
	},
}, {
	// Bitbucket Cloud's archive cannot be filtered by path: bytes/op are
	// the whole repository's archive, and grow with it (see the package
	// doc of bitbucketcloudscm).
	name: "bitbucketCloud", kind: integrations.BitbucketCloud,
	serve: func(b *testing.B, fsys fs.FS) (integrations.Config, string, string) {
		const user = "bot@example.com"
		s := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Users: map[string]string{user: bitbucketCloudToken}})
		b.Cleanup(s.Close)
		if _, err := s.AddFS(fakebitbucketcloud.Repo{Workspace: "acme", Slug: "mono"}, fsys); err != nil {
			b.Fatal(err)
		}
		return integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
			Host: s.Host(), APIBaseURL: s.APIBaseURL(), Username: user, Token: integrations.NewSecret(bitbucketCloudToken)}}}, s.Host(), "acme"
	},
}, {
	// Bitbucket Server filters the archive on the server (archive?path=),
	// so bytes/op do not grow with the repository.
	name: "bitbucketServer", kind: integrations.BitbucketServer,
	serve: func(b *testing.B, fsys fs.FS) (integrations.Config, string, string) {
		s := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{bitbucketServerToken}})
		b.Cleanup(s.Close)
		if _, err := s.AddFS(fakebitbucketserver.Repo{Project: "ACME", Name: "mono"}, fsys); err != nil {
			b.Fatal(err)
		}
		return integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
			Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret(bitbucketServerToken)}}}, s.Host(), "ACME"
	},
}}

func serveGitHub(b *testing.B, fsys fs.FS) (integrations.Config, string, string) {
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{githubToken}})
	b.Cleanup(s.Close)
	if _, err := s.AddFS(fakegithub.Repo{Owner: "acme", Name: "mono"}, fsys); err != nil {
		b.Fatal(err)
	}
	return integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret(githubToken)}}}, s.Host(), "acme"
}

// BenchmarkReadTreeBytes reads a 30 KiB template folder (21 text files in
// 3 levels, templates/service) from repositories with 20 and 40 MiB of
// other incompressible files (1 MiB each, under assets/), with ReadTree,
// through each adapter and its fake. bytes/op counts every byte the
// client receives from the fake over HTTP (status lines, headers and
// bodies, on every host; compression is off), requests/op every HTTP
// request, both by a counting transport under the client.
func BenchmarkReadTreeBytes(b *testing.B) {
	for _, ad := range bytesAdapters {
		b.Run(ad.name, func(b *testing.B) {
			for _, other := range []int{20, 40} {
				b.Run(fmt.Sprintf("other=%dMiB", other), func(b *testing.B) {
					fsys, folder := monorepo(other)
					files := 21
					if ad.binary {
						logo := make([]byte, 1024) // NUL bytes: binary
						fsys["templates/service/logo.png"] = &fstest.MapFile{Data: logo, Mode: 0o644}
						folder += len(logo)
						files++
					}
					cfg, host, owner := ad.serve(b, fsys)
					reg, err := integrations.NewRegistry(cfg)
					if err != nil {
						b.Fatal(err)
					}
					res, err := credentials.NewResolver(reg, nil)
					if err != nil {
						b.Fatal(err)
					}
					cnt := newCounter()
					c, err := scm.NewClient(reg, res, &scm.Options{Transport: cnt, Drivers: adapters.All(nil)})
					if err != nil {
						b.Fatal(err)
					}
					u, err := reg.URL(integrations.Location{Kind: ad.kind, Host: host, Owner: owner, Repo: "mono",
						Ref: "main", Path: "templates/service", Tree: true})
					if err != nil {
						b.Fatal(err)
					}
					benchBytes(b, c, cnt, u, files, folder)
				})
			}
		})
	}
}

// monorepo returns the benchmark's repository and the template folder's
// size in bytes.
func monorepo(otherMiB int) (fstest.MapFS, int) {
	fsys := fstest.MapFS{"README.md": {Data: []byte("# monorepo\n")}}
	size := 0
	dirs := []string{"templates/service", "templates/service/skeleton", "templates/service/skeleton/src"}
	for i := range 21 {
		var b strings.Builder
		for l := 0; b.Len() < 1450; l++ {
			fmt.Fprintf(&b, "line %d of file %d: ${{ values.name }} %x\n", l, i, l*7919+i)
		}
		fsys[fmt.Sprintf("%s/file%02d.txt", dirs[i%3], i)] = &fstest.MapFile{Data: []byte(b.String()), Mode: 0o644}
		size += b.Len()
	}
	rng := rand.NewChaCha8([32]byte{1})
	for i := range otherMiB {
		data := make([]byte, 1<<20)
		rng.Read(data)
		fsys[fmt.Sprintf("assets/blob%03d.bin", i)] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return fsys, size
}

// counter is an http.RoundTripper that counts requests and the bytes
// received.
type counter struct {
	base            http.RoundTripper
	requests, bytes atomic.Int64
}

func newCounter() *counter {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true // count the bytes as sent
	return &counter{base: tr}
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	n := len(resp.Proto) + len(resp.Status) + 4
	for k, vs := range resp.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	c.bytes.Add(int64(n + 2))
	resp.Body = &countedBody{ReadCloser: resp.Body, n: &c.bytes}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// benchBytes reads the template folder at treeURL b.N times with c,
// checks it holds wantFiles files of folder bytes, and reports
// requests/op, bytes/op and the folder's size (folder-bytes).
func benchBytes(b *testing.B, c *scm.Client, cnt *counter, treeURL string, wantFiles, folder int) {
	b.Helper()
	b.ReportAllocs()
	req, got := cnt.requests.Load(), cnt.bytes.Load()
	n := 0
	for b.Loop() {
		fsys, err := c.ReadTree(b.Context(), treeURL, nil)
		if err != nil {
			b.Fatal(err)
		}
		files, size := 0, 0
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, err := fs.ReadFile(fsys, p)
				files, size = files+1, size+len(data)
				return err
			}
			return err
		})
		if err != nil || files != wantFiles || size != folder {
			b.Fatalf("read %d files, %d bytes, %v; want %d files, %d bytes", files, size, err, wantFiles, folder)
		}
		n++
	}
	b.ReportMetric(float64(cnt.requests.Load()-req)/float64(n), "requests/op")
	b.ReportMetric(float64(cnt.bytes.Load()-got)/float64(n), "bytes/op")
	b.ReportMetric(float64(folder), "folder-bytes")
}
