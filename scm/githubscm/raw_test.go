package githubscm_test

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// rawFake starts a fake GitHub (accepting goodToken) with a public
// repository acme/pub and a private one acme/priv, and returns it with the
// commit id of acme/pub's default branch.
func rawFake(t *testing.T) (*fakegithub.Server, string) {
	t.Helper()
	// BlobETags: the API's contents answers carry the blob id as ETag, as
	// GitHub's recorded one does, and as the raw host's do.
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}, BlobETags: true})
	t.Cleanup(s.Close)
	head, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "pub", Files: []fakegithub.File{
		{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")},
		{Path: "docs/a b.md", Content: []byte("spaced\n")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "priv", Private: true, Files: []fakegithub.File{
		{Path: "catalog-info.yaml", Content: []byte("kind: Secret\n")},
	}}); err != nil {
		t.Fatal(err)
	}
	return s, head
}

// rawClient returns a portable client for one GitHub integration of the
// fake; withResolver false gives the client no resolver at all.
func rawClient(t *testing.T, cfg integrations.GitHubConfig, withResolver bool) *scm.Client {
	t.Helper()
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{cfg}})
	if err != nil {
		t.Fatal(err)
	}
	var res scm.Resolver
	if withResolver {
		r, err := credentials.NewResolver(reg, nil)
		if err != nil {
			t.Fatal(err)
		}
		res = r
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c, err := scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)},
		Transport: tr,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readCase is one ReadFile and what it must cost.
type readCase struct {
	name     string
	path     string // after https://HOST/acme/
	etag     func() string
	want     string        // content, when code is OK
	code     scm.ErrorCode // OK for success
	api, raw int           // requests to each host
	rawPath  string        // the raw host's request path, when raw is 1
}

// runReads runs the cases in order against c, checking the request counts
// per host and that nothing carried an Authorization header. Each file
// read is stored in files under its case's name, for the ETags of later
// cases.
func runReads(t *testing.T, s *fakegithub.Server, c *scm.Client, files map[string]*scm.File, cases []readCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o *scm.ReadFileOptions
			if tc.etag != nil {
				o = &scm.ReadFileOptions{IfNoneMatch: tc.etag()}
			}
			before, n := s.Stats(), len(s.Requests())
			f, err := c.ReadFile(t.Context(), "https://"+s.Host()+"/acme/"+tc.path, o)
			after := s.Stats()
			if got := scm.Code(err); got != tc.code {
				t.Fatalf("ReadFile(%s): code %v (%v); want %v", tc.path, got, err, tc.code)
			}
			if err == nil {
				if string(f.Content) != tc.want {
					t.Errorf("content = %q; want %q", f.Content, tc.want)
				}
				if want := fakegithub.BlobSHA([]byte(tc.want)); f.BlobID != want {
					t.Errorf("BlobID = %s; want %s", f.BlobID, want)
				}
				if want := `"` + fakegithub.BlobSHA([]byte(tc.want)) + `"`; f.ETag != want {
					t.Errorf("ETag = %s; want %s", f.ETag, want)
				}
				files[tc.name] = f
			}
			if api, raw := after.API-before.API, after.Raw-before.Raw; api != tc.api || raw != tc.raw {
				t.Errorf("requests: API %d, raw %d; want API %d, raw %d", api, raw, tc.api, tc.raw)
			}
			reqs := s.Requests()[n:]
			for _, r := range reqs {
				if r.Header.Get("Authorization") != "" {
					t.Errorf("%s request %s %s carried Authorization", r.Host, r.Method, r.Path)
				}
			}
			if tc.rawPath != "" && (len(reqs) != 1 || reqs[0].Host != "raw" || reqs[0].Path != tc.rawPath) {
				t.Errorf("requests = %+v; want one raw request for %s", reqs, tc.rawPath)
			}
		})
	}
}

// TestReadFileAnonymousUsesRawHost: without a credential, ReadFile on an
// integration with a rawBaseUrl costs one request to the raw host and
// none to the API, with or without a resolver; conditional re-reads are
// answered 304 (NotModified) there.
func TestReadFileAnonymousUsesRawHost(t *testing.T) {
	for _, withResolver := range []bool{true, false} {
		name := "resolver without credential"
		if !withResolver {
			name = "no resolver"
		}
		t.Run(name, func(t *testing.T) {
			s, head := rawFake(t)
			c := rawClient(t, integrations.GitHubConfig{Host: s.Host(), APIBaseURL: s.APIBaseURL(), RawBaseURL: s.RawBaseURL()}, withResolver)
			files := map[string]*scm.File{}
			runReads(t, s, c, files, []readCase{
				{name: "default branch", path: "pub/blob/main/catalog-info.yaml", want: "kind: Component\n", raw: 1,
					rawPath: "/acme/pub/main/catalog-info.yaml"},
				{name: "not modified", path: "pub/blob/main/catalog-info.yaml", etag: func() string { return files["default branch"].ETag },
					code: scm.NotModified, raw: 1},
				{name: "commit id, escaped path", path: "pub/blob/" + head + "/docs/a%20b.md", want: "spaced\n", raw: 1,
					rawPath: "/acme/pub/" + head + "/docs/a%20b.md"},
				{name: "missing file", path: "pub/blob/main/nope.yaml", code: scm.NotFound, raw: 1},
				{name: "missing ref", path: "pub/blob/nope/catalog-info.yaml", code: scm.NotFound, raw: 1},
				{name: "private repository", path: "priv/blob/main/catalog-info.yaml", code: scm.NotFound, raw: 1},
				{name: "directory is NotFound on the raw host", path: "pub/blob/main/docs", code: scm.NotFound, raw: 1},
			})
			if st := s.Stats(); st.API != 0 || st.NotModified != 1 {
				t.Errorf("Stats = %+v; want no API request and one 304", st)
			}
		})
	}
}

// TestReadFileRawDefaultBranch: the driver asks the raw host for HEAD
// when no ref is given.
func TestReadFileRawDefaultBranch(t *testing.T) {
	s, _ := rawFake(t)
	d, err := githubscm.New(&integrations.Integration{Kind: integrations.GitHub, Host: s.Host(),
		APIBaseURL: s.APIBaseURL(), RawBaseURL: s.RawBaseURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := d.ReadFile(t.Context(), s.Client(), &driver.ReadFileRequest{Repo: driver.Repo{Owner: "acme", Name: "pub"},
		Path: "catalog-info.yaml", MaxBytes: 1 << 20, Anonymous: true})
	if err != nil || string(f.Content) != "kind: Component\n" {
		t.Fatalf("ReadFile = %+v, %v; want the file", f, err)
	}
	if reqs := s.Requests(); len(reqs) != 1 || reqs[0].Host != "raw" || reqs[0].Path != "/acme/pub/HEAD/catalog-info.yaml" {
		t.Errorf("requests = %+v; want GET /acme/pub/HEAD/catalog-info.yaml on the raw host", reqs)
	}
	// The content is capped as on the API.
	_, err = d.ReadFile(t.Context(), s.Client(), &driver.ReadFileRequest{Repo: driver.Repo{Owner: "acme", Name: "pub"},
		Path: "catalog-info.yaml", MaxBytes: 4, Anonymous: true})
	if got := d.ErrorInfo(err).Code; got != scm.InvalidArgument || !strings.Contains(err.Error(), "4-byte limit") {
		t.Errorf("ReadFile over MaxBytes: %v (%v); want InvalidArgument naming the limit", got, err)
	}
}

// TestReadFileAuthenticatedUsesContentsAPI: with a credential, ReadFile
// uses the contents API (which sees private repositories), never the raw
// host, even when the integration has a rawBaseUrl.
func TestReadFileAuthenticatedUsesContentsAPI(t *testing.T) {
	s, _ := rawFake(t)
	c := rawClient(t, integrations.GitHubConfig{Host: s.Host(), APIBaseURL: s.APIBaseURL(), RawBaseURL: s.RawBaseURL(),
		Token: integrations.NewSecret(goodToken)}, true)
	for _, p := range []struct{ path, want string }{
		{"pub/blob/main/catalog-info.yaml", "kind: Component\n"},
		{"priv/blob/main/catalog-info.yaml", "kind: Secret\n"},
	} {
		before, n := s.Stats(), len(s.Requests())
		f, err := c.ReadFile(t.Context(), "https://"+s.Host()+"/acme/"+p.path, nil)
		if err != nil || string(f.Content) != p.want {
			t.Fatalf("ReadFile(%s) = %v; want %q", p.path, err, p.want)
		}
		after := s.Stats()
		if api, raw := after.API-before.API, after.Raw-before.Raw; api != 1 || raw != 0 {
			t.Errorf("ReadFile(%s): API %d, raw %d requests; want API 1, raw 0", p.path, api, raw)
		}
		if r := s.Requests()[n]; r.Route != "GET /repos/{owner}/{repo}/contents/{path...}" || r.Header.Get("Authorization") != "Bearer "+goodToken {
			t.Errorf("request %s %q with Authorization %t; want the contents API with the token", r.Route, r.Path, r.Header.Get("Authorization") != "")
		}
	}
}

// TestReadFileGHEWithoutRawBaseURL: a GitHub Enterprise integration has
// no raw host unless configured, so an anonymous read uses the contents
// API under /api/v3, without a credential.
func TestReadFileGHEWithoutRawBaseURL(t *testing.T) {
	s, _ := rawFake(t)
	c := rawClient(t, integrations.GitHubConfig{Host: s.Host(), APIBaseURL: s.GHEAPIBaseURL()}, true)
	files := map[string]*scm.File{}
	runReads(t, s, c, files, []readCase{
		{name: "public file", path: "pub/blob/main/catalog-info.yaml", want: "kind: Component\n", api: 1},
		{name: "not modified", path: "pub/blob/main/catalog-info.yaml", etag: func() string { return files["public file"].ETag },
			code: scm.NotModified, api: 1},
		{name: "private repository", path: "priv/blob/main/catalog-info.yaml", code: scm.NotFound, api: 1},
		{name: "directory", path: "pub/blob/main/docs", code: scm.InvalidArgument, api: 1},
	})
	if reqs := s.Requests(); len(reqs) == 0 || !strings.HasPrefix(reqs[0].Path, "/api/v3/repos/acme/pub/contents/") {
		t.Errorf("first request %+v; want the contents API under /api/v3", reqs)
	}
	if st := s.Stats(); st.Raw != 0 {
		t.Errorf("raw requests = %d; want 0", st.Raw)
	}
}

// rawOnly returns a driver whose raw-content host is rawBase; its API host
// refuses connections, so that a test sees any request that reached it.
func rawOnly(t *testing.T, rawBase string) *githubscm.Driver {
	t.Helper()
	d, err := githubscm.New(&integrations.Integration{Kind: integrations.GitHub, Host: "github.example",
		APIBaseURL: "http://127.0.0.1:1/", RawBaseURL: rawBase}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// countingTransport counts the response body bytes its callers read.
type countingTransport struct {
	base http.RoundTripper
	read atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.read}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// TestReadFileRawErrorBodyCapped: a raw host answering an error status
// with an endless body is read no further than the 1 MiB error cap, and
// the read ends promptly with the status's error.
func TestReadFileRawErrorBodyCapped(t *testing.T) {
	const (
		errorCap = 1 << 20   // githubscm's maxErrorBytes
		offered  = 200 << 20 // what the server would send
	)
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var written atomic.Int64
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				chunk := bytes.Repeat([]byte("<p>x</p>"), 4<<10)
				for written.Load() < offered {
					n, err := w.Write(chunk)
					written.Add(int64(n))
					if err != nil {
						return
					}
				}
			}))
			t.Cleanup(srv.Close)
			tr := srv.Client().Transport.(*http.Transport).Clone()
			t.Cleanup(tr.CloseIdleConnections)
			ct := &countingTransport{base: tr}
			d := rawOnly(t, srv.URL)

			start := time.Now()
			_, err := d.ReadFile(t.Context(), &http.Client{Transport: ct}, &driver.ReadFileRequest{
				Repo: driver.Repo{Owner: "acme", Name: "pub"}, Path: "catalog-info.yaml", MaxBytes: 1 << 20, Anonymous: true})
			elapsed := time.Since(start)
			if info := d.ErrorInfo(err); info.Status != status || info.Code == scm.OK {
				t.Errorf("ReadFile: %+v (%v); want an error with status %d", info, err, status)
			}
			if got, limit := ct.read.Load(), int64(errorCap+64<<10); got > limit {
				t.Errorf("read %d bytes of the error body; want at most %d", got, limit)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the server is still writing 10s after ReadFile returned; want the connection closed")
			}
			if w := written.Load(); w >= offered {
				t.Errorf("server wrote all %d bytes; want the client to stop reading early", w)
			}
			if elapsed > 10*time.Second {
				t.Errorf("ReadFile took %v; want it prompt", elapsed)
			}
		})
	}
}

// TestReadFileRawRedirects: the raw read follows a redirect on the raw
// host itself, but one to another host or scheme (a private-mode GitHub
// Enterprise Server sending anonymous readers to sign in) is NotFound
// with a hint, without asking the other host and without repeating the
// redirect's query.
func TestReadFileRawRedirects(t *testing.T) {
	var otherHits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>Sign in</html>")
	}))
	t.Cleanup(other.Close)
	var rawHits atomic.Int64
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rawHits.Add(1)
		switch r.URL.Path {
		case "/acme/pub/main/moved.yaml":
			http.Redirect(w, r, "/acme/pub/main/catalog-info.yaml", http.StatusFound)
		case "/acme/pub/main/catalog-info.yaml":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "kind: Component\n")
		case "/acme/pub/main/data.json":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"a":1}`)
		case "/acme/pub/main/login.yaml":
			http.Redirect(w, r, other.URL+"/login?return_to=%2Fsecret-path&state=s3cr3t", http.StatusFound)
		case "/acme/pub/main/https.yaml":
			http.Redirect(w, r, "https://"+r.Host+"/acme/pub/main/catalog-info.yaml", http.StatusMovedPermanently)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(raw.Close)
	tr := raw.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	d := rawOnly(t, raw.URL)
	otherHost := strings.TrimPrefix(other.URL, "http://")
	rawHost := strings.TrimPrefix(raw.URL, "http://")

	for _, tc := range []struct {
		name     string
		path     string
		want     string
		code     scm.ErrorCode
		msg      string // in the error, when code is not OK
		rawHits  int64
		otherHit int64
	}{
		{name: "same host", path: "moved.yaml", want: "kind: Component\n", rawHits: 2},
		{name: "JSON content is the file", path: "data.json", want: `{"a":1}`, rawHits: 1},
		{name: "other host", path: "login.yaml", code: scm.NotFound, rawHits: 1,
			msg: "redirected to http://" + otherHost + " (sign-in?); configure a token or read through the API"},
		{name: "other scheme", path: "https.yaml", code: scm.NotFound, rawHits: 1,
			msg: "redirected to https://" + rawHost + " (sign-in?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rawBefore, otherBefore := rawHits.Load(), otherHits.Load()
			f, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: driver.Repo{Owner: "acme", Name: "pub"},
				Ref: "main", Path: tc.path, MaxBytes: 1 << 20, Anonymous: true})
			if got := d.ErrorInfo(err).Code; got != tc.code {
				t.Fatalf("ReadFile(%s): code %v (%v); want %v", tc.path, got, err, tc.code)
			}
			if err == nil && string(f.Content) != tc.want {
				t.Errorf("content = %q; want %q", f.Content, tc.want)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("error %q; want it to contain %q", err, tc.msg)
				}
				for _, leak := range []string{"return_to", "secret-path", "s3cr3t", "/login"} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("error %q repeats the redirect's %q", err, leak)
					}
				}
			}
			if got := rawHits.Load() - rawBefore; got != tc.rawHits {
				t.Errorf("raw host requests = %d; want %d", got, tc.rawHits)
			}
			if got := otherHits.Load() - otherBefore; got != 0 {
				t.Errorf("other host requests = %d; want 0", got)
			}
		})
	}
}

// TestReadTreeAnonymousSkipsGraphQL: without a credential, ReadTree of a
// folder goes straight to the tarball (GraphQL needs a credential, so
// asking it first would only cost a refused request).
func TestReadTreeAnonymousSkipsGraphQL(t *testing.T) {
	s, _ := rawFake(t)
	c := rawClient(t, integrations.GitHubConfig{Host: s.Host(), APIBaseURL: s.APIBaseURL(), RawBaseURL: s.RawBaseURL()}, true)
	fsys, err := c.ReadTree(t.Context(), "https://"+s.Host()+"/acme/pub/tree/main/docs", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(fsys, "a b.md"); err != nil || string(b) != "spaced\n" {
		t.Fatalf("a b.md = %q, %v", b, err)
	}
	st := s.Stats()
	if n := st.Routes["POST /graphql"]; n != 0 {
		t.Errorf("%d GraphQL requests; want none without a credential", n)
	}
	if st.Download != 1 {
		t.Errorf("Stats = %+v; want the tarball downloaded once", st)
	}
}
