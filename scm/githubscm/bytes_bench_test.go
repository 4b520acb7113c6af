package githubscm_test

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
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// BenchmarkGitHubReadTreeBytes reads a 30 KiB template folder from
// repositories with 20 and 40 MiB of other files: the folder is one
// GraphQL query, and its bytes/op do not grow with the repository.
func BenchmarkGitHubReadTreeBytes(b *testing.B) {
	benchGitHubBytes(b, false)
}

// BenchmarkGitHubReadTreeBytesFallback is BenchmarkGitHubReadTreeBytes
// with a binary file in the folder (a 1 KiB logo.png): the query, then
// the tarball of the whole repository.
func BenchmarkGitHubReadTreeBytesFallback(b *testing.B) {
	benchGitHubBytes(b, true)
}

func benchGitHubBytes(b *testing.B, binary bool) {
	for _, other := range []int{20, 40} {
		b.Run(fmt.Sprintf("other=%dMiB", other), func(b *testing.B) {
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}})
			b.Cleanup(s.Close)
			fsys, folder := monorepo(other)
			if binary {
				logo := make([]byte, 1024) // NUL bytes: binary
				fsys["templates/service/logo.png"] = &fstest.MapFile{Data: logo, Mode: 0o644}
				folder += len(logo)
			}
			if _, err := s.AddFS(fakegithub.Repo{Owner: "acme", Name: "mono"}, fsys); err != nil {
				b.Fatal(err)
			}
			reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
				Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret(goodToken)}}})
			if err != nil {
				b.Fatal(err)
			}
			res, err := credentials.NewResolver(reg, nil)
			if err != nil {
				b.Fatal(err)
			}
			cnt := newCounter()
			c, err := scm.NewClient(reg, res, &scm.Options{Transport: cnt,
				Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)}})
			if err != nil {
				b.Fatal(err)
			}
			u, err := reg.URL(integrations.Location{Kind: integrations.GitHub, Host: s.Host(), Owner: "acme", Repo: "mono",
				Ref: "main", Path: "templates/service", Tree: true})
			if err != nil {
				b.Fatal(err)
			}
			benchBytes(b, c, cnt, u, folder)
		})
	}
}

// The bytes benchmark: a template folder of about 30 KiB (21 text files
// in 3 levels, templates/service) beside otherMiB MiB of incompressible
// files (1 MiB each, under assets/), read with ReadTree. bytes/op counts
// every byte the client receives from the fake over HTTP (status lines,
// headers and bodies, on every host; compression is off), requests/op
// every HTTP request, both by a counting transport under the client.

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

// benchBytes reads the template folder at treeURL b.N times with c and
// reports requests/op, bytes/op and the folder's size (folder-bytes).
func benchBytes(b *testing.B, c *scm.Client, cnt *counter, treeURL string, folder int) {
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
		if err != nil || files < 21 || size != folder {
			b.Fatalf("read %d files, %d bytes, %v; want 21 or more files, %d bytes", files, size, err, folder)
		}
		n++
	}
	b.ReportMetric(float64(cnt.requests.Load()-req)/float64(n), "requests/op")
	b.ReportMetric(float64(cnt.bytes.Load()-got)/float64(n), "bytes/op")
	b.ReportMetric(float64(folder), "folder-bytes")
}
