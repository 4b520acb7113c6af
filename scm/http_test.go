package scm_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
)

// recorder is an httptest server that records the Authorization header of
// every request it receives.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) authorizations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}

func hostOf(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestAnonymousRead(t *testing.T) {
	other := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "other host\n") })
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/file.yaml":
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprint(w, "kind: Component\n")
		case "/moved":
			http.Redirect(w, r, "/file.yaml", http.StatusFound)
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/big":
			fmt.Fprint(w, strings.Repeat("x", 100))
		case "/limited":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			http.NotFound(w, r)
		}
	})
	reg, err := integrations.NewRegistry(integrations.Config{ReadingAllow: []integrations.ReadingAllow{{Host: hostOf(t, srv.URL)}}})
	if err != nil {
		t.Fatal(err)
	}
	res := &recordingResolver{cred: &credentials.Credential{Kind: credentials.KindToken, Token: "secret-token"}}
	c, err := scm.NewClient(reg, res, &scm.Options{Retry: scm.RetryOptions{MinWait: time.Millisecond, MaxWait: time.Millisecond,
		MaxRateLimitWait: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, tc := range []struct {
		name, path string
		opts       *scm.ReadFileOptions
		want       string
		code       scm.ErrorCode
	}{
		{"read", "/file.yaml", nil, "kind: Component\n", scm.OK},
		{"not modified", "/file.yaml", &scm.ReadFileOptions{IfNoneMatch: `"v1"`}, "", scm.NotModified},
		{"allowed redirect", "/moved", nil, "kind: Component\n", scm.OK},
		{"redirect to a host not allowed", "/away", nil, "", scm.PermissionDenied},
		{"redirect loop", "/loop", nil, "", scm.PermissionDenied},
		{"missing", "/nope", nil, "", scm.NotFound},
		{"too large", "/big", &scm.ReadFileOptions{MaxBytes: 10}, "", scm.InvalidArgument},
		{"rate limited", "/limited", nil, "", scm.RateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := c.ReadFile(ctx, srv.URL+tc.path, tc.opts)
			if got := scm.Code(err); got != tc.code {
				t.Fatalf("ReadFile(%s): code %v (%v); want %v", tc.path, got, err, tc.code)
			}
			if err == nil && string(f.Content) != tc.want {
				t.Errorf("ReadFile(%s) = %q; want %q", tc.path, f.Content, tc.want)
			}
			if err == nil && tc.path == "/file.yaml" && f.ETag != `"v1"` {
				t.Errorf("ETag = %q; want %q", f.ETag, `"v1"`)
			}
		})
	}
	if n := len(other.authorizations()); n != 0 {
		t.Errorf("the host that is not allowed received %d requests; want 0", n)
	}
	_, err = c.ReadFile(ctx, other.URL+"/x", nil)
	if scm.Code(err) != scm.PermissionDenied || !strings.Contains(err.Error(), "backend.reading.allow") {
		t.Errorf("ReadFile of a host that is not allowed: %v; want PermissionDenied naming backend.reading.allow", err)
	}
	if _, err := c.ReadTree(ctx, srv.URL+"/dir", nil); scm.Code(err) != scm.Unimplemented {
		t.Errorf("ReadTree of an allow-listed host: %v; want Unimplemented", err)
	}
	for i, a := range srv.authorizations() {
		if a != "" {
			t.Errorf("anonymous request %d carried Authorization %q; want none", i, a)
		}
	}
	if n := len(res.requests()); n != 0 {
		t.Errorf("the resolver was asked %d times for an anonymous read; want 0", n)
	}
}

// httpDriver reads files with GET {APIBaseURL}/files/{path}.
type httpDriver struct {
	fakeDriver
	in *integrations.Integration
}

func (d *httpDriver) ReadFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.in.APIBaseURL+"/files/"+r.Path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{resp.StatusCode}
	}
	return &driver.File{Path: r.Path, Content: b}, nil
}

type statusError struct{ status int }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d", e.status) }

func (d *httpDriver) ErrorInfo(err error) driver.ErrorInfo {
	if se, ok := err.(*statusError); ok {
		code := scm.Unknown
		switch se.status {
		case http.StatusUnauthorized:
			code = scm.Unauthorized
		case http.StatusNotFound:
			code = scm.NotFound
		case http.StatusServiceUnavailable:
			code = scm.Unavailable
		}
		return driver.ErrorInfo{Code: code, Status: se.status}
	}
	return driver.ErrorInfo{Code: scm.Unknown}
}

func TestCredentialsOverHTTP(t *testing.T) {
	foreign := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "from the foreign host\n") })
	var fails atomic.Int32
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v3/files/a.txt":
			fmt.Fprint(w, "a\n")
		case "/api/v3/files/flaky.txt":
			if fails.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, "flaky\n")
		case "/api/v3/files/redirect.txt":
			http.Redirect(w, r, foreign.URL+"/download", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	host := hostOf(t, api.URL)
	reg, in, resolvers := tokenSetup(t, host, api.URL+"/api/v3")
	for _, tc := range resolvers {
		t.Run(tc.name, func(t *testing.T) {
			api.mu.Lock()
			api.auths = nil
			api.mu.Unlock()
			foreign.mu.Lock()
			foreign.auths = nil
			foreign.mu.Unlock()
			fails.Store(0)
			d := &httpDriver{in: in}
			c, err := scm.NewClient(reg, tc.res, &scm.Options{
				Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: func(*integrations.Integration) (driver.Driver, error) { return d, nil }},
				Retry:   scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond},
			})
			if err != nil {
				t.Fatal(err)
			}
			base := "http://" + host + "/acme/svc/blob/main/"
			for _, p := range []string{"a.txt", "flaky.txt", "redirect.txt"} {
				if _, err := c.ReadFile(t.Context(), base+p, nil); err != nil {
					t.Errorf("ReadFile(%s): %v", p, err)
				}
			}
			if _, err := c.ReadFile(t.Context(), base+"missing.txt", nil); scm.Code(err) != scm.NotFound {
				t.Errorf("ReadFile(missing.txt): %v; want NotFound", err)
			}
			auths := api.authorizations()
			if len(auths) != 5 { // a, flaky twice (503 retried), redirect, missing
				t.Errorf("the API host received %d requests; want 5", len(auths))
			}
			for i, a := range auths {
				if a != tc.wantAuth {
					t.Errorf("API request %d: Authorization %q; want %q", i, a, tc.wantAuth)
				}
			}
			fa := foreign.authorizations()
			if len(fa) != 1 || fa[0] != "" {
				t.Errorf("foreign host Authorization headers = %q; want one request without", fa)
			}
		})
	}
}

// tarGz builds a gzip-compressed tar archive.
func tarGz(t *testing.T, entries []tar.Header, contents map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range entries {
		h.Size = int64(len(contents[h.Name]))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, contents[h.Name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type trackClose struct {
	io.Reader
	closed atomic.Bool
}

func (c *trackClose) Close() error { c.closed.Store(true); return nil }

func TestReadTreeArchive(t *testing.T) {
	data := tarGz(t, []tar.Header{
		{Name: "acme-svc-abc123/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "acme-svc-abc123/README.md", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "acme-svc-abc123/templates/web/template.yaml", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "acme-svc-abc123/templates/web/run.sh", Typeflag: tar.TypeReg, Mode: 0o755},
		{Name: "acme-svc-abc123/templates/web/skeleton/index.md", Typeflag: tar.TypeReg, Mode: 0o644},
	}, map[string]string{
		"acme-svc-abc123/README.md":                       "# svc\n",
		"acme-svc-abc123/templates/web/template.yaml":     "kind: Template\n",
		"acme-svc-abc123/templates/web/run.sh":            "#!/bin/sh\n",
		"acme-svc-abc123/templates/web/skeleton/index.md": "# index\n",
	})
	var bodies []*trackClose
	d := &fakeDriver{readTree: func(_ context.Context, r *driver.TreeRequest) (*driver.Tree, error) {
		b := &trackClose{Reader: bytes.NewReader(data)}
		bodies = append(bodies, b)
		return &driver.Tree{Archive: &driver.Archive{Body: b, StripComponents: 1, Dir: r.Dir}}, nil
	}}
	c := newClient(t, d.opener(), nil, nil)
	ctx := t.Context()
	fsys, err := c.ReadTree(ctx, ghBase+"svc/tree/main/templates/web", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "template.yaml", "run.sh", "skeleton/index.md"); err != nil {
		t.Error(err)
	}
	if info, err := fs.Stat(fsys, "run.sh"); err != nil || info.Mode()&0o111 == 0 {
		t.Errorf("Stat(run.sh) = %v, %v; want executable", info, err)
	}
	fsys, err = c.ReadTree(ctx, ghBase+"svc/tree/main/templates", &scm.TreeOptions{
		Filter: func(p string, _ int64) bool { return strings.HasSuffix(p, ".md") }})
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "web/skeleton/index.md"); err != nil {
		t.Error(err)
	}
	if _, err := c.ReadTree(ctx, ghBase+"svc/tree/main/nope", nil); scm.Code(err) != scm.NotFound {
		t.Errorf("ReadTree of a missing directory: %v; want NotFound", err)
	}
	if _, err := c.ReadTree(ctx, ghBase+"svc/tree/main/templates", &scm.TreeOptions{MaxFiles: 1}); scm.Code(err) != scm.InvalidArgument {
		t.Errorf("ReadTree over MaxFiles: %v; want InvalidArgument", err)
	}
	for i, b := range bodies {
		if !b.closed.Load() {
			t.Errorf("archive body %d not closed", i)
		}
	}
}

// resolverCase is a resolver to run a call with and the Authorization
// header its requests must carry.
type resolverCase struct {
	name     string
	res      scm.Resolver
	wantAuth string
}

// tokenSetup returns a registry with one GitHub integration, for host
// with its API at apiBase and the token "config-token"; that integration;
// and the two resolvers a call must work with: credentials.Resolver over
// the registry ("Bearer config-token") and a custom scm.Resolver ("Bearer
// custom-token").
func tokenSetup(t *testing.T, host, apiBase string) (*integrations.Registry, *integrations.Integration, []resolverCase) {
	t.Helper()
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: host, APIBaseURL: apiBase, Token: integrations.NewSecret("config-token"),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	in, ok := reg.ByHost(host)
	if !ok {
		t.Fatalf("registry has no %s", host)
	}
	resolver, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return reg, in, []resolverCase{
		{"credentials.Resolver", resolver, "Bearer config-token"},
		{"custom resolver", &recordingResolver{cred: &credentials.Credential{Kind: credentials.KindToken, Token: "custom-token"}}, "Bearer custom-token"},
	}
}
