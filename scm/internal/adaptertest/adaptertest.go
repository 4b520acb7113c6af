// Package adaptertest holds the helpers that the tests of several scmkit
// adapters share: a requests/op benchmark loop, a repository tree to
// create, the count of a branch's commits, and a driver's integration and
// authenticated *http.Client for tests that call a driver directly. Only
// tests import it.
package adaptertest

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
)

// Bench runs op once to warm up (with i = -1: connections, caches), then
// b.N times (i = 0, 1, ...), and reports requests/op: how much requests,
// the fake's count, grew per run.
func Bench(b *testing.B, requests func() int, op func(i int) error) {
	b.Helper()
	if err := op(-1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	before := requests()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := op(i); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(requests()-before)/float64(b.N), "requests/op")
}

// CreateTree returns the files of a repository to create: n small YAML
// files under skeleton/ in seven directories, the executable script
// bin/run.sh and the binary file logo.bin.
func CreateTree(n int) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := range n {
		fsys[fmt.Sprintf("skeleton/dir%d/file%d.yaml", i%7, i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("n: %d\n", i)), Mode: 0o644}
	}
	fsys["bin/run.sh"] = &fstest.MapFile{Data: []byte("#!/bin/sh\n"), Mode: 0o755}
	fsys["logo.bin"] = &fstest.MapFile{Data: []byte{0, 1, 2, 0xff}, Mode: 0o644}
	return fsys
}

// CommitsAhead counts the commits of head (ids, newest first) that come
// before the first one base also holds: how far a branch is ahead of its
// base.
func CommitsAhead(head, base []string) int {
	n := 0
	for _, id := range head {
		if slices.Contains(base, id) {
			break
		}
		n++
	}
	return n
}

// Integration returns the integration of host in the registry that cfg
// makes, failing the test when there is none.
func Integration(t testing.TB, cfg integrations.Config, host string) *integrations.Integration {
	t.Helper()
	reg, err := integrations.NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in, ok := reg.ByHost(host)
	if !ok {
		t.Fatalf("no integration for %s", host)
	}
	return in
}

// BearerClient returns an *http.Client that sends token as a Bearer
// credential with every request, for tests that call a driver without
// the portable client. Its idle connections are closed when the test
// ends.
func BearerClient(t testing.TB, token string) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: bearer{base: tr, token: token}}
}

type bearer struct {
	base  http.RoundTripper
	token string
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the transport below,
// for http.Client.CloseIdleConnections.
func (b bearer) CloseIdleConnections() {
	if c, ok := b.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// FilePaths returns the path of every file of fsys, in fs.WalkDir's
// (lexical) order, failing the test when the walk fails.
func FilePaths(t testing.TB, fsys fs.FS) []string {
	t.Helper()
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// TextChanges returns n changes that write small text files,
// prefix/f01.txt to prefix/fNN.txt, file i holding "file i\n".
func TextChanges(prefix string, n int) []scm.Change {
	var ch []scm.Change
	for i := 1; i <= n; i++ {
		ch = append(ch, scm.Change{Path: fmt.Sprintf("%s/f%02d.txt", prefix, i), Content: []byte(fmt.Sprintf("file %d\n", i))})
	}
	return ch
}

// Forbidden is an http.RoundTripper that answers "403 Forbidden" with
// Header, ContentType and Body to every request whose escaped path
// contains Path (to every request when Path is ""), as a server answers a
// rate limit or a refusal, and sends the other requests through Base.
type Forbidden struct {
	Base        http.RoundTripper
	Path        string
	Header      http.Header
	ContentType string
	Body        string
}

// RoundTrip answers or forwards r.
func (f Forbidden) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.Path != "" && !strings.Contains(r.URL.EscapedPath(), f.Path) {
		return f.Base.RoundTrip(r)
	}
	h := f.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", f.ContentType)
	return &http.Response{StatusCode: http.StatusForbidden, Status: "403 Forbidden", Header: h, Request: r,
		Body: io.NopCloser(strings.NewReader(f.Body)), ContentLength: int64(len(f.Body))}, nil
}

// NewClient returns the portable client of the integrations cfg
// configures, with opts (nil: the defaults) and a credentials.Resolver
// over them, failing the test when cfg or opts are refused.
func NewClient(t testing.TB, cfg integrations.Config, opts *scm.Options) *scm.Client {
	t.Helper()
	reg, err := integrations.NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := scm.NewClient(reg, res, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
