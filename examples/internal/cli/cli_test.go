package cli

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantPos []string
		wantX   string
		wantB   bool
	}{
		{name: "flags first", args: []string{"-x", "1", "-b", "u"}, wantPos: []string{"u"}, wantX: "1", wantB: true},
		{name: "flags after", args: []string{"u", "-x", "2", "v", "-b"}, wantPos: []string{"u", "v"}, wantX: "2", wantB: true},
		{name: "double dash", args: []string{"-x", "3", "--", "-b", "u"}, wantPos: []string{"-b", "u"}, wantX: "3"},
		{name: "positional then double dash", args: []string{"u", "--", "-x"}, wantPos: []string{"u", "-x"}},
		{name: "none", args: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			x := fs.String("x", "", "")
			b := fs.Bool("b", false, "")
			pos, err := Parse(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPos, pos); diff != "" {
				t.Errorf("positional (-want +got):\n%s", diff)
			}
			if *x != tt.wantX || *b != tt.wantB {
				t.Errorf("flags: got x=%q b=%v; want x=%q b=%v", *x, *b, tt.wantX, tt.wantB)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "https://github.com/acme/svc/blob/main/a.yaml", "https://github.com/acme/svc/blob/main/a.yaml"},
		{"user info", "https://x-access-token:ghs_secret@github.com/acme/svc", "https://github.com/acme/svc"},
		{"query token", "https://gitlab.com/a/b/-/raw/main/f?private_token=glpat-secret&at=main", "https://gitlab.com/a/b/-/raw/main/f?at=main"},
		{"fragment", "https://github.com/a/b/blob/main/f#L3", "https://github.com/a/b/blob/main/f"},
		{"bitbucket server ref", "https://bb.example.com/projects/P/repos/r/browse/f?at=refs/heads/main",
			"https://bb.example.com/projects/P/repos/r/browse/f?at=refs/heads/main"},
		{"unparsable", "https://a b\x7f", "(unparsable URL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := NewCounter(http.DefaultTransport)
	if got, want := c.String(), "0 HTTP requests"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	hc := &http.Client{Transport: c}
	for range 3 {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if got, want := c.String(), "3 HTTP requests ("+host+" 3)"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	if got := c.Total(); got != 3 {
		t.Errorf("Total() = %d; want 3", got)
	}
}

func TestHint(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		want string // a substring; "" means no hint
	}{
		{"unauthorized", &scm.Error{Code: scm.Unauthorized}, "check the token"},
		{"not found", &scm.Error{Code: scm.NotFound}, "private repositories"},
		{"rate limited", &scm.Error{Code: scm.RateLimited, RetryAt: at}, "try again after " + at.Local().Format(time.DateTime)},
		{"unknown", errors.New("boom"), ""},
		// The hint fits the operation: a read gets no advice about write
		// access, a write no advice about reading.
		{"read denied", &scm.Error{Code: scm.PermissionDenied, Op: "scm.ReadFile", Provider: "github"}, "read access"},
		{"write denied", &scm.Error{Code: scm.PermissionDenied, Op: "scm.OpenPullRequest", Provider: "github"}, "write access"},
		{"host without integration", &scm.Error{Code: scm.PermissionDenied, Op: "scm.ReadFile"}, "configure an integration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Hint(tt.err)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Hint = %q; want one containing %q", got, tt.want)
			}
		})
	}
}

// TestHintFitsTheOperation checks the hints of real errors of the client
// for a host without integration and for a denied read: none speaks of
// write access.
func TestHintFitsTheOperation(t *testing.T) {
	c := Common{Configs: []string{writeConfig(t, "integrations: {}\n")}}
	var stderr bytes.Buffer
	env, err := c.Open(t.Context(), &stderr, "https://unknown.example.net/a/b", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.Client.ReadFile(t.Context(), "https://unknown.example.net/acme/svc/blob/main/catalog-info.yaml", nil)
	if h := Hint(err); scm.Code(err) != scm.PermissionDenied || strings.Contains(h, "write") || !strings.Contains(h, "integration") {
		t.Errorf("ReadFile on a host without integration: %v, hint %q; want PermissionDenied and a hint about integrations, not writes", err, h)
	}
	_, err = env.Client.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: "https://unknown.example.net/acme/svc", Branch: "b", Title: "t",
		Changes: []scm.Change{{Path: "a", Content: []byte("a")}}})
	if scm.Code(err) != scm.PermissionDenied || strings.Contains(err.Error(), "reading.allow") {
		t.Errorf("OpenPullRequest on a host without integration: %v; want PermissionDenied without advice about backend.reading.allow", err)
	}
}

// TestOpenCompatibleConfig: entries Backstage starts with load; a GitHub
// Enterprise entry with rawBaseUrl only reads files from the raw host and
// refuses API calls saying to set apiBaseUrl; calls through an unusable
// entry fail clearly, naming the config path.
func TestOpenCompatibleConfig(t *testing.T) {
	gh := fakegithub.New(nil)
	defer gh.Close()
	if _, err := gh.AddFS(fakegithub.Repo{Owner: "acme", Name: "svc"}, fstest.MapFS{"catalog-info.yaml": {Data: []byte("kind: Component\n")}}); err != nil {
		t.Fatal(err)
	}
	file := writeConfig(t, `integrations:
  github:
    - host: ghe.example.com
      rawBaseUrl: `+gh.RawBaseURL()+`
      token: ghe-token
      apps: [{appId: 1, privateKey: {$file: key.pem}}]
    - host: ghe2.example.com
      apiBaseUrl: not a url
      apps: [{appId: 2, privateKey: {$file: key.pem}}]
  bitbucketServer:
    - host: bitbucket.example.com
      apiBaseUrl: bitbucket.example.com/rest/api/1.0
  azure:
    - host: dev.azure.com
`)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(filepath.Dir(file), "key.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c := Common{Configs: []string{file}}
	var stderr bytes.Buffer
	env, err := c.Open(t.Context(), &stderr, "https://ghe.example.com/acme/svc", nil)
	if err != nil {
		t.Fatalf("Open: %v; want the config loaded", err)
	}
	for _, w := range []string{
		file + ": integrations.github[0].apiBaseUrl: ",
		file + ": integrations.github[1].apiBaseUrl: ",
		file + ": integrations.bitbucketServer[0].apiBaseUrl: ",
		file + ": integrations.azure: ",
	} {
		if strings.Count(stderr.String(), w) != 1 {
			t.Errorf("stderr has not exactly one warning starting %q:\n%s", w, stderr.String())
		}
	}
	f, err := env.Client.ReadFile(t.Context(), "https://ghe.example.com/acme/svc/blob/main/catalog-info.yaml", nil)
	if err != nil || string(f.Content) != "kind: Component\n" {
		t.Errorf("ReadFile through rawBaseUrl = %v, %v; want the file", f, err)
	}
	_, err = env.Client.ReadTree(t.Context(), "https://ghe.example.com/acme/svc/tree/main", nil)
	if scm.Code(err) != scm.InvalidArgument || !strings.Contains(err.Error(), "set apiBaseUrl") {
		t.Errorf("ReadTree without apiBaseUrl = %v; want InvalidArgument saying to set apiBaseUrl", err)
	}
	tests := []struct {
		url      string
		code     scm.ErrorCode
		wantText string
	}{
		{"https://bitbucket.example.com/projects/P/repos/r/browse/catalog-info.yaml", scm.InvalidArgument, "integrations.bitbucketServer[0]"},
		{"https://ghe2.example.com/acme/svc/blob/main/catalog-info.yaml", scm.InvalidArgument, "integrations.github[1]"},
		{"https://dev.azure.com/org/project/_git/repo?path=/catalog-info.yaml", scm.Unimplemented, "integrations.azure[0]"},
	}
	for _, tt := range tests {
		_, err := env.Client.ReadFile(t.Context(), tt.url, nil)
		if scm.Code(err) != tt.code || !strings.Contains(err.Error(), tt.wantText) {
			t.Errorf("ReadFile(%s) = %v; want %v naming %q", tt.url, err, tt.code, tt.wantText)
		}
	}
}

// TestGitLabRetryHonoured: integrations.gitlab[].retry.maxRetries sets the
// number of retries for that host.
func TestGitLabRetryHonoured(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, `{"message":"503 Service Unavailable"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tt := range []struct {
		retry string
		want  int32
	}{
		{"retry: {maxRetries: 0}", 1},
		{"retry: {maxRetries: 1, retryStatusCodes: [503]}", 2},
		{"retry: {maxRetries: 3, retryStatusCodes: [429]}", 1}, // 503 not listed: not retried
	} {
		n.Store(0)
		c := Common{Configs: []string{writeConfig(t, "integrations:\n  gitlab:\n    - host: "+host+"\n      apiBaseUrl: "+srv.URL+"/api/v4\n      baseUrl: "+srv.URL+"\n      "+tt.retry+"\n")}}
		var stderr bytes.Buffer
		env, err := c.Open(t.Context(), &stderr, srv.URL+"/acme/svc", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = env.Client.ReadFile(t.Context(), srv.URL+"/acme/svc/-/blob/main/catalog-info.yaml", nil)
		if err == nil || n.Load() != tt.want {
			t.Errorf("%s: ReadFile = %v after %d requests; want a failure after %d", tt.retry, err, n.Load(), tt.want)
		}
	}
}

func TestOpenUserTokenNeedsIntegration(t *testing.T) {
	t.Setenv("SCMKIT_CLI_TEST_USER", "gho_user")
	c := Common{Configs: []string{writeConfig(t, "integrations: {}\n")}, UserTokenEnv: "SCMKIT_CLI_TEST_USER"}
	var stderr bytes.Buffer
	_, err := c.Open(t.Context(), &stderr, "https://unknown.example.net/a/b", nil)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "not on the host of any integration") {
		t.Fatalf("Open: got %v; want a usage error about the host", err)
	}
	if strings.Contains(err.Error(), "gho_user") {
		t.Errorf("the error shows the token: %v", err)
	}
	env, err := c.Open(t.Context(), &stderr, "https://github.com/acme/svc", nil)
	if err != nil || !env.User {
		t.Fatalf("Open for github.com: got %+v, %v; want a user client", env, err)
	}
}

func TestOpenWarnings(t *testing.T) {
	c := Common{Configs: []string{writeConfig(t, "integrations:\n  github:\n    - host: github.com\n      token: ${SCMKIT_CLI_TEST_UNSET}\n")}}
	var stderr bytes.Buffer
	if _, err := c.Open(t.Context(), &stderr, "https://github.com/acme", nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "warning: ") || !strings.Contains(stderr.String(), "SCMKIT_CLI_TEST_UNSET") {
		t.Errorf("stderr lacks a warning naming the unset variable; got %q", stderr.String())
	}
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app-config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Without -config and without app-config.yaml in the current directory,
// Open reads no file and says so: the built-in hosts are still known, so a
// public repository can be read anonymously. With one there, it is read.
func TestOpenWithoutConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	var stderr bytes.Buffer
	env, err := (&Common{}).Open(t.Context(), &stderr, "https://github.com/acme", nil)
	if err != nil {
		t.Fatalf("Open without a config: %v", err)
	}
	if _, ok := env.Config.Registry.ByURL("https://gitlab.com/acme/svc"); !ok {
		t.Error("gitlab.com is not known without a config")
	}
	if !strings.Contains(stderr.String(), "no -config and no app-config.yaml") {
		t.Errorf("stderr does not say that no config file was read: %q", stderr.String())
	}

	if err := os.WriteFile(DefaultConfig, []byte("integrations:\n  github:\n    - host: ghe.example.com\n      apiBaseUrl: https://ghe.example.com/api/v3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	env, err = (&Common{}).Open(t.Context(), &stderr, "https://ghe.example.com/acme", nil)
	if err != nil {
		t.Fatalf("Open with ./app-config.yaml: %v", err)
	}
	if _, ok := env.Config.Registry.ByURL("https://ghe.example.com/acme/svc"); !ok {
		t.Error("./app-config.yaml was not read")
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %q; want nothing", stderr.String())
	}
}
