package scm_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

const hostileToken = "hostile-archive-token-0000000000000000"

// archiveSwap is a transport that replaces the body of every successful
// gzip answer (the archive download, whichever adapter asks for it) with
// body(ctx), so that each adapter's fake serves a crafted archive through
// the adapter's real request path (GitHub's redirect to its download host
// included). Like net/http, the replacement body fails once the request's
// context is done.
type archiveSwap struct {
	base http.RoundTripper
	body func(ctx context.Context) io.Reader
}

func (a *archiveSwap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := a.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	br := bufio.NewReader(resp.Body)
	if magic, _ := br.Peek(2); !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{br, resp.Body}
		return resp, nil
	}
	resp.Body.Close()
	pr, pw := io.Pipe()
	go func() {
		src := a.body(req.Context())
		_, err := io.Copy(pw, src)
		pw.CloseWithError(err)
		if c, ok := src.(io.Closer); ok {
			c.Close() // an endless body's writer blocks until its reader goes
		}
	}()
	stop := context.AfterFunc(req.Context(), func() { pr.CloseWithError(req.Context().Err()) })
	resp.Body = &swapBody{PipeReader: pr, stop: stop}
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	return resp, nil
}

type swapBody struct {
	*io.PipeReader
	stop func() bool
}

func (b *swapBody) Close() error { b.stop(); return b.PipeReader.Close() }

// hostileAdapters returns, for each adapter, a client for its fake holding
// repository acme/basic, whose archive downloads are replaced by body, and
// the web URL of the repository's root tree.
func hostileAdapters(t *testing.T, body func(ctx context.Context) io.Reader) map[string]func() (*scm.Client, string) {
	files := fstest.MapFS{"README.md": {Data: []byte("# basic\n")}}
	retry := scm.RetryOptions{MaxRetries: -1}
	client := func(cfg integrations.Config, kind integrations.Kind, open driver.Opener) *scm.Client {
		tr := &archiveSwap{base: http.DefaultTransport.(*http.Transport).Clone(), body: body}
		return adaptertest.NewClient(t, cfg, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{kind: open}, Transport: tr, Retry: retry})
	}
	return map[string]func() (*scm.Client, string){
		"github": func() (*scm.Client, string) {
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{hostileToken}})
			t.Cleanup(s.Close)
			if _, err := s.AddFS(fakegithub.Repo{Owner: "acme", Name: "basic", DefaultBranch: "main"}, files); err != nil {
				t.Fatal(err)
			}
			c := client(integrations.Config{GitHub: []integrations.GitHubConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
				Token: integrations.NewSecret(hostileToken)}}}, integrations.GitHub, githubscm.Opener(nil))
			return c, "https://" + s.Host() + "/acme/basic/tree/main"
		},
		"gitlab": func() (*scm.Client, string) {
			s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{hostileToken}})
			t.Cleanup(s.Close)
			if _, _, err := s.AddFS(fakegitlab.Project{Namespace: "acme", Path: "basic", DefaultBranch: "main"}, files); err != nil {
				t.Fatal(err)
			}
			c := client(integrations.Config{GitLab: []integrations.GitLabConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(), BaseURL: s.URL(),
				Token: integrations.NewSecret(hostileToken)}}}, integrations.GitLab, gitlabscm.Opener(nil))
			return c, s.URL() + "/acme/basic/-/tree/main"
		},
		"bitbucketCloud": func() (*scm.Client, string) {
			s := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Users: map[string]string{"bot@example.com": hostileToken}})
			t.Cleanup(s.Close)
			if _, err := s.AddFS(fakebitbucketcloud.Repo{Workspace: "acme", Slug: "basic", MainBranch: "main"}, files); err != nil {
				t.Fatal(err)
			}
			c := client(integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
				Username: "bot@example.com", Token: integrations.NewSecret(hostileToken)}}}, integrations.BitbucketCloud, bitbucketcloudscm.Opener(nil))
			return c, s.URL() + "/acme/basic/src/" + url.PathEscape("main") + "/"
		},
		"bitbucketServer": func() (*scm.Client, string) {
			s := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{hostileToken}})
			t.Cleanup(s.Close)
			if _, err := s.AddFS(fakebitbucketserver.Repo{Project: "ACME", Name: "basic", DefaultBranch: "main"}, files); err != nil {
				t.Fatal(err)
			}
			c := client(integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
				Token: integrations.NewSecret(hostileToken)}}}, integrations.BitbucketServer, bitbucketserverscm.Opener(nil))
			return c, s.URL() + "/projects/ACME/repos/basic/browse?at=refs%2Fheads%2Fmain"
		},
	}
}

// TestReadTreeHostileArchivesEveryAdapter serves crafted archives through
// every adapter's fake and asserts that ReadTree returns within 100 ms
// (500 ms under the race detector) of the caller's deadline, refused by a
// limit or by the deadline. Before the reader walked paths element by
// element, the one-entry archive (a few hundred bytes gzipped) kept
// ReadTree busy for minutes on every adapter.
func TestReadTreeHostileArchivesEveryAdapter(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	const deadline = 300 * time.Millisecond
	slack := 100 * time.Millisecond
	if raceEnabled {
		slack *= 5
	}
	deep := func() []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: "top/" + strings.Repeat("a/", 400_000) + "f", Mode: 0o644, Size: 1})
		tw.Write([]byte{'x'})
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}()
	endless := func(name func(i int) string) func(ctx context.Context) io.Reader {
		return func(ctx context.Context) io.Reader {
			pr, pw := io.Pipe()
			go func() {
				zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
				tw := tar.NewWriter(zw)
				var err error
				for i := 0; err == nil; i++ {
					if err = tw.WriteHeader(&tar.Header{Name: "top/" + name(i), Mode: 0o644}); err == nil {
						err = ctx.Err()
					}
				}
				pw.CloseWithError(err)
			}()
			return pr
		}
	}
	tests := []struct {
		name string
		body func(ctx context.Context) io.Reader
		opts *scm.TreeOptions
		want scm.ErrorCode
	}{
		{name: "one entry of 400,000 elements", want: scm.InvalidArgument,
			body: func(context.Context) io.Reader { return bytes.NewReader(deep) }},
		{name: "one entry of 400,000 elements, MaxDepth raised", opts: &scm.TreeOptions{MaxDepth: 1 << 30}, want: scm.InvalidArgument,
			body: func(context.Context) io.Reader { return bytes.NewReader(deep) }},
		{name: "endless tiny files, MaxFiles raised", opts: &scm.TreeOptions{MaxFiles: 1 << 30}, want: scm.DeadlineExceeded,
			body: endless(func(i int) string { return fmt.Sprintf("d/f%d", i) })},
		{name: "endless new directories 254 deep, MaxFiles raised", opts: &scm.TreeOptions{MaxFiles: 1 << 30}, want: scm.DeadlineExceeded,
			body: endless(func(i int) string { return strings.Repeat(fmt.Sprintf("%x/", i), 254) + "f" })},
	}
	for _, tt := range tests {
		for _, name := range []string{"github", "gitlab", "bitbucketCloud", "bitbucketServer"} {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				c, treeURL := hostileAdapters(t, tt.body)[name]()
				var late []string
				for range 3 { // see withinDeadline in internal/archive: wall time has outliers
					ctx, cancel := context.WithTimeout(t.Context(), deadline)
					start := time.Now()
					_, err := c.ReadTree(ctx, treeURL, tt.opts)
					elapsed := time.Since(start)
					cancel()
					t.Logf("returned after %v: %.300v", elapsed, err)
					got := scm.Code(err)
					// A refusal that the loaded machine made late is
					// classified DeadlineExceeded; the code of a prompt one
					// is asserted by internal/archive's TestPathLimits.
					if elapsed <= deadline+slack && (got == tt.want || got == scm.DeadlineExceeded) {
						return
					}
					if got != tt.want && got != scm.DeadlineExceeded {
						t.Fatalf("code %v (%.300v); want %v", got, err, tt.want)
					}
					late = append(late, fmt.Sprintf("%v (%v)", elapsed, got))
				}
				t.Errorf("every run returned later than %v after the %v deadline or with the wrong code (want %v): %v",
					slack, deadline, tt.want, late)
			})
		}
	}
}

// TestReadTreeHeapAtByteLimit reads, through every adapter, a tree whose
// one file is exactly TreeOptions.MaxBytes long (streamed, never held by
// the test) and checks what ReadTree allocates in all, which bounds its
// peak heap: at most 1.1 × the limit plus 4 MiB. Before the reader sized
// its buffers from the checked header, the same read peaked at 1.75 × the
// limit and allocated about 2 ×.
func TestReadTreeHeapAtByteLimit(t *testing.T) {
	if raceEnabled {
		t.Skip("a heap measurement: the race detector adds nothing here and slows streaming 32 MiB tenfold")
	}
	const limit = 32 << 20
	body := func(context.Context) io.Reader {
		pr, pw := io.Pipe()
		go func() {
			zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
			tw := tar.NewWriter(zw)
			err := tw.WriteHeader(&tar.Header{Name: "top/big.bin", Mode: 0o644, Size: limit})
			zeros := make([]byte, 64<<10)
			for left := limit; err == nil && left > 0; left -= len(zeros) {
				_, err = tw.Write(zeros)
			}
			if err == nil {
				err = tw.Close()
			}
			if err == nil {
				err = zw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr
	}
	for _, name := range []string{"github", "gitlab", "bitbucketCloud", "bitbucketServer"} {
		t.Run(name, func(t *testing.T) {
			c, treeURL := hostileAdapters(t, body)[name]()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			fsys, err := c.ReadTree(t.Context(), treeURL, &scm.TreeOptions{MaxBytes: limit})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			p := "big.bin"
			if name == "bitbucketServer" { // its archives have no top directory to strip
				p = "top/big.bin"
			}
			if fi, err := fs.Stat(fsys, p); err != nil || fi.Size() != limit {
				t.Fatalf("Stat(%s) = %v, %v; want %d bytes", p, fi, err, limit)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("limit %d: ReadTree (with the test's streaming server in the same process) allocated %d bytes (%.2fx)",
				limit, allocated, float64(allocated)/limit)
			if max := uint64(limit*11/10 + 4<<20); allocated > max {
				t.Errorf("allocated %d bytes; want at most %d (1.1 × the limit + 4 MiB)", allocated, max)
			}
		})
	}
}

// TestReadTreeFilesPathLimits: a tree a driver returns as files (not as an
// archive) gets the same depth and path-length limits.
func TestReadTreeFilesPathLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		path string
		opts *scm.TreeOptions
		want string // "" for success
	}{
		{name: "default depth", path: strings.Repeat("a/", 255) + "f"},
		{name: "past the default depth", path: strings.Repeat("a/", 256) + "f", want: "deeper than 256 elements; raise TreeOptions.MaxDepth"},
		{name: "MaxDepth 2", path: "a/b/c", opts: &scm.TreeOptions{MaxDepth: 2}, want: "deeper than 2 elements"},
		{name: "MaxDepth raised", path: strings.Repeat("a/", 999) + "f", opts: &scm.TreeOptions{MaxDepth: 1000}},
		{name: "path of 4097 bytes", path: strings.Repeat("x", 4097), want: "longer than 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &fakeDriver{readTree: func(context.Context, *driver.TreeRequest) (*driver.Tree, error) {
				return &driver.Tree{Files: []driver.TreeFile{{Path: tc.path, Content: []byte("x")}}}, nil
			}}
			c := newClient(t, d.opener(), nil, nil)
			fsys, err := c.ReadTree(t.Context(), ghBase+"svc/tree/main", tc.opts)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ReadTree: %.200v", err)
				}
				if _, err := fs.Stat(fsys, tc.path); err != nil {
					t.Fatal(err)
				}
				return
			}
			if scm.Code(err) != scm.InvalidArgument || !strings.Contains(fmt.Sprint(err), tc.want) || len(fmt.Sprint(err)) > 500 {
				t.Errorf("ReadTree: %.300v; want a short InvalidArgument containing %q", err, tc.want)
			}
		})
	}
}
