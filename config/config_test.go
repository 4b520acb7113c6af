package config

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/config")

const testdata = "../testdata/config"

// secret is shorthand for integrations.NewSecret.
func secret(s string) integrations.Secret { return integrations.NewSecret(s) }

// lookupMap returns an Options.Lookup backed by m.
func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// mapFS returns an Options.ReadFile that reads from files.
func mapFS(files map[string]string) func(string) ([]byte, error) {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return func(name string) ([]byte, error) { return fsys.ReadFile(filepath.ToSlash(name)) }
}

// problems returns the message of each problem in err, or nil.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *errcode.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is a %T; want *errcode.Error", err, err)
	}
	if e.Op != "config.Load" {
		t.Errorf("Op = %q; want config.Load", e.Op)
	}
	if e.Code != errcode.InvalidArgument {
		t.Fatalf("Code = %v; want InvalidArgument (error: %v)", e.Code, err)
	}
	var out []string
	for _, p := range flatten(e.Err) {
		out = append(out, p.Error())
	}
	// Every problem is an *integrations.FieldError.
	var fields []string
	for _, fe := range integrations.FieldErrors(err) {
		fields = append(fields, fe.Error())
	}
	if diff := cmp.Diff(out, fields); diff != "" {
		t.Errorf("integrations.FieldErrors(err) mismatch (-problems +field errors):\n%s", diff)
	}
	return out
}

// testEnv is the environment of the tests that load testdata/config.
var testEnv = map[string]string{
	"GITHUB_TOKEN":             "s3cr3t-github-token",
	"GITHUB_ACME_TOKEN":        "  s3cr3t-github-acme-token\n", // trimmed, as Backstage does
	"GITHUB_APP_CLIENT_SECRET": "s3cr3t-github-app-client-secret",
	"GHE_TOKEN":                "s3cr3t-ghe-token",
	"GITLAB_PROD_TOKEN":        "s3cr3t-gitlab-prod-token",
	"POSTGRES_PASSWORD":        "s3cr3t-postgres-password",
}

// testKey generates, once, the RSA private key of the tests' GitHub Apps.
var testKey = sync.OnceValues(func() (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})), nil
})

// privateKey returns the PEM-encoded test key, ending in a newline.
func privateKey(t testing.TB) string {
	t.Helper()
	k, err := testKey()
	if err != nil {
		t.Fatalf("generating the test key: %v", err)
	}
	return k
}

// readFileWithKey is os.ReadFile, except that every file named
// github-app.pem holds the test key.
func readFileWithKey(t testing.TB) func(string) ([]byte, error) {
	key := privateKey(t)
	return func(name string) ([]byte, error) {
		if filepath.Base(name) == "github-app.pem" {
			return []byte(key), nil
		}
		return os.ReadFile(name)
	}
}

// wantFull is testdata/config/app-config.yaml decoded with testEnv.
func wantFull(t testing.TB) integrations.Config {
	privateKey := strings.TrimSpace(privateKey(t))
	return integrations.Config{
		GitHub: []integrations.GitHubConfig{
			{
				Host:  "github.com",
				Token: secret("s3cr3t-github-token"),
				Apps: []integrations.GitHubAppConfig{
					{
						AppID:                     123456,
						PrivateKey:                secret(privateKey),
						ClientID:                  "Iv1.0123456789abcdef",
						ClientSecret:              secret("s3cr3t-github-app-client-secret"),
						WebhookSecret:             secret("${NOT_SUBSTITUTED}"),
						AllowedInstallationOwners: []string{"acme", "acme-labs"},
					},
					{
						AppID:        654321,
						PrivateKey:   secret(privateKey),
						ClientID:     "Iv1.fedcba9876543210",
						ClientSecret: secret("s3cr3t-second-app-client-secret"),
						PublicAccess: true,
					},
				},
				Credentials: []integrations.ScopedCredential{
					{Owners: []string{"acme", "acme-labs"}, Token: secret("s3cr3t-github-acme-token")},
					{Owners: []string{"contractors"}, Token: secret("s3cr3t-contractors-token")},
				},
			},
			{
				Host:       "ghe.example.com",
				APIBaseURL: "https://ghe.example.com/api/v3",
				RawBaseURL: "https://ghe.example.com/raw",
				Token:      secret("s3cr3t-ghe-token"),
			},
		},
		GitLab: []integrations.GitLabConfig{
			{Host: "gitlab.com"},
			{
				Host:       "git.example.com:8443",
				APIBaseURL: "https://git.example.com:8443/gitlab/api/v4",
				BaseURL:    "https://git.example.com:8443/gitlab",
				Token:      secret("s3cr3t-gitlab-selfmanaged-token"),
				Retry:      &integrations.GitLabRetry{MaxRetries: 3, RetryStatusCodes: []int{429, 503}},
				Credentials: []integrations.ScopedCredential{
					{Owners: []string{"platform/infra", "platform"}, Token: secret("s3cr3t-gitlab-platform-token")},
				},
			},
		},
		BitbucketCloud: []integrations.BitbucketCloudConfig{
			{
				Username: "acme-bot",
				Token:    secret("s3cr3t-bitbucket-api-token"),
				Credentials: []integrations.ScopedCredential{
					{Owners: []string{"acme-workspace"}, Token: secret("s3cr3t-bitbucket-workspace-token")},
				},
			},
		},
		BitbucketServer: []integrations.BitbucketServerConfig{
			{
				Host:       "bitbucket.example.com",
				APIBaseURL: "https://bitbucket.example.com/rest/api/1.0",
				Token:      secret("s3cr3t-bitbucket-server-token"),
				Credentials: []integrations.ScopedCredential{
					{Owners: []string{"PLAT"}, Username: "platform-bot", Password: secret("s3cr3t-bitbucket-server-password")},
				},
			},
		},
		ReadingAllow: []integrations.ReadingAllow{
			{Host: "*.example.org"},
			{Host: "docs.example.net:8443", Paths: []string{"/public/", "/handbook/"}},
		},
		Unsupported: []integrations.UnsupportedEntry{
			{Section: "azure", Path: "integrations.azure[0]", Host: "dev.azure.com"},
			{Section: "gerrit", Path: "integrations.gerrit[0]", Host: "gerrit.example.com"},
		},
	}
}

func TestLoadTestdata(t *testing.T) {
	full := filepath.Join(testdata, "app-config.yaml")
	prod := filepath.Join(testdata, "app-config.production.yaml")

	wantProd := wantFull(t)
	wantProd.GitLab = []integrations.GitLabConfig{{Host: "gitlab.com", Token: secret("s3cr3t-gitlab-prod-token")}}
	wantProd.BitbucketServer = []integrations.BitbucketServerConfig{{
		Host:       "bitbucket.example.com",
		APIBaseURL: "https://bitbucket.example.com/context/rest/api/1.0",
		Username:   "prod-bot",
		Password:   secret("s3cr3t-bitbucket-prod-password"),
	}}
	wantProd.ReadingAllow = []integrations.ReadingAllow{{Host: "*.example.org", Paths: []string{"/catalog/"}}}

	wantInclude := integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host:       "ghe.example.com",
		APIBaseURL: "https://ghe.example.com/api/v3",
		Token:      secret("s3cr3t-included-ghe-token"),
	}}}

	fullWarnings := []string{
		testdata + "/app-config.yaml: integrations.gitlab[0].token: environment variable \"GITLAB_TOKEN\" is not set; the value is left unset",
		testdata + "/app-config.yaml: integrations.gitlab[1].commitSigningKey: environment variable \"GITLAB_SIGNING_KEY\" is not set; the value is left unset",
		// Sections scmkit does not serve: one warning each.
		testdata + "/app-config.yaml: integrations.azure: scmkit does not support azure integrations; its entry is ignored, and URLs on dev.azure.com are refused with an error naming this section",
		testdata + "/app-config.yaml: integrations.gerrit: scmkit does not support gerrit integrations; its entry is ignored, and URLs on gerrit.example.com are refused with an error naming this section",
	}

	tests := []struct {
		name         string
		files        []string
		want         integrations.Config
		wantWarnings []string
	}{
		{
			name:         "whole Backstage config",
			files:        []string{full},
			want:         wantFull(t),
			wantWarnings: fullWarnings,
		},
		{
			name:         "production override",
			files:        []string{full, prod},
			want:         wantProd,
			wantWarnings: fullWarnings,
		},
		{
			name:  "include with relative $file",
			files: []string{filepath.Join(testdata, "app-config.include.yaml")},
			want:  wantInclude,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(t.Context(), &Options{Lookup: lookupMap(testEnv), ReadFile: readFileWithKey(t)}, tt.files...)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, cfg.Integrations); diff != "" {
				t.Errorf("Integrations mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarnings, cfg.Warnings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
			}
			if cfg.Registry == nil {
				t.Fatal("Registry is nil")
			}
			for _, gh := range tt.want.GitHub {
				if _, ok := cfg.Registry.ByHost(gh.Host); !ok {
					t.Errorf("Registry.ByHost(%q) not found", gh.Host)
				}
			}
		})
	}
}

func TestLoadQuickstartConfig(t *testing.T) {
	env := map[string]string{"GITHUB_TOKEN": "s3cr3t-quickstart"}
	cfg, err := Load(t.Context(), &Options{Lookup: lookupMap(env)}, "../testdata/app-config.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var hosts []string
	for _, c := range cfg.Integrations.GitHub {
		hosts = append(hosts, "github:"+c.Host)
	}
	for _, c := range cfg.Integrations.GitLab {
		hosts = append(hosts, "gitlab:"+c.Host)
	}
	for _, c := range cfg.Integrations.BitbucketCloud {
		hosts = append(hosts, "bitbucketCloud:"+c.Host)
	}
	for _, c := range cfg.Integrations.BitbucketServer {
		hosts = append(hosts, "bitbucketServer:"+c.Host)
	}
	want := []string{"github:github.com", "github:ghe.example.com", "gitlab:gitlab.com", "gitlab:git.example.com",
		"bitbucketCloud:", "bitbucketServer:bitbucket.example.com"}
	if diff := cmp.Diff(want, hosts); diff != "" {
		t.Errorf("hosts mismatch (-want +got):\n%s", diff)
	}
	if got := cfg.Integrations.GitHub[0].Token.Reveal(); got != "s3cr3t-quickstart" {
		t.Errorf("github.com token = %q; want the GITHUB_TOKEN value", got)
	}
	if got, want := cfg.Integrations.ReadingAllow, []integrations.ReadingAllow{{Host: "*.example.org"}}; !cmp.Equal(got, want) {
		t.Errorf("ReadingAllow = %v; want %v", got, want)
	}
	if got, want := len(cfg.Warnings), 6; got != want { // every token variable but GITHUB_TOKEN
		t.Errorf("got %d warnings; want %d: %q", got, want, cfg.Warnings)
	}
}

func TestLoadErrorsGolden(t *testing.T) {
	tests := []struct {
		file string
		env  map[string]string
	}{
		{file: "bad-types.yaml", env: map[string]string{"WEBHOOK_SECRET": "s3cr3t-webhook"}},
		{file: "bad-syntax.yaml"},
		{file: "bad-document.yaml"},
		{file: "bad-duplicate.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name := filepath.Join(testdata, tt.file)
			cfg, err := Load(t.Context(), &Options{Lookup: lookupMap(tt.env)}, name)
			if err == nil {
				t.Fatalf("Load = %+v; want an error", cfg)
			}
			if got := errcode.CodeOf(err); got != errcode.InvalidArgument {
				t.Errorf("CodeOf(err) = %v; want InvalidArgument", got)
			}
			if !errors.Is(err, errcode.ErrInvalidArgument) {
				t.Errorf("errors.Is(err, ErrInvalidArgument) = false")
			}
			got := filepath.ToSlash(err.Error()) + "\n"
			if strings.Contains(got, "s3cr3t") {
				t.Errorf("error shows a secret:\n%s", got)
			}
			golden := strings.TrimSuffix(name, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run go test ./config -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name     string
		readFile func(string) ([]byte, error)
		files    []string
		wantCode errcode.Code
		wantMsg  string
		wantIs   error
	}{
		{
			name:     "missing file",
			files:    []string{filepath.Join(testdata, "app-config.yaml"), filepath.Join(testdata, "no-such-file.yaml")},
			wantCode: errcode.NotFound,
			wantMsg:  `config file "` + filepath.Join(testdata, "no-such-file.yaml") + `" does not exist`,
			wantIs:   fs.ErrNotExist,
		},
		{
			name: "permission denied",
			readFile: func(name string) ([]byte, error) {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
			},
			files:    []string{"app-config.yaml"},
			wantCode: errcode.PermissionDenied,
			wantMsg:  `reading config file "app-config.yaml"`,
			wantIs:   fs.ErrPermission,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(t.Context(), &Options{ReadFile: tt.readFile}, tt.files...)
			var e *errcode.Error
			if !errors.As(err, &e) {
				t.Fatalf("Load error = %v (%T); want *errcode.Error", err, err)
			}
			if e.Code != tt.wantCode || e.Op != "config.Load" || e.Msg != tt.wantMsg {
				t.Errorf("got Code %v, Op %q, Msg %q; want %v, config.Load, %q", e.Code, e.Op, e.Msg, tt.wantCode, tt.wantMsg)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(err, %v) = false; want true", tt.wantIs)
			}
		})
	}
}

func TestLoadCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Load(ctx, nil, filepath.Join(testdata, "app-config.yaml"))
	if got := errcode.CodeOf(err); got != errcode.Canceled {
		t.Errorf("CodeOf(Load with canceled context) = %v; want Canceled (err: %v)", got, err)
	}
	_, err = LoadBytes(ctx, nil, []byte("integrations: {}"))
	if got := errcode.CodeOf(err); got != errcode.Canceled {
		t.Errorf("CodeOf(LoadBytes with canceled context) = %v; want Canceled (err: %v)", got, err)
	}
}

func TestLoadNoFiles(t *testing.T) {
	cfg, err := Load(t.Context(), nil)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if diff := cmp.Diff(integrations.Config{}, cfg.Integrations); diff != "" {
		t.Errorf("Integrations mismatch (-want +got):\n%s", diff)
	}
	if _, ok := cfg.Registry.ByHost("github.com"); !ok {
		t.Error("empty configuration: registry does not know github.com")
	}
}
