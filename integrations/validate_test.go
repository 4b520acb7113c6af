package integrations

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scmkit/scmkit/errcode"
)

// summary is the part of an Integration the config tests compare.
type summary struct {
	Kind                                  Kind
	Host, APIBaseURL, RawBaseURL, BaseURL string
	ConfigPath                            string
}

func summarize(list []*Integration) []summary {
	out := make([]summary, len(list))
	for i, in := range list {
		out[i] = summary{in.Kind, in.Host, in.APIBaseURL, in.RawBaseURL, in.BaseURL, in.ConfigPath}
	}
	return out
}

var (
	defGitHub = summary{GitHub, "github.com", "https://api.github.com", "https://raw.githubusercontent.com", "https://github.com", "integrations.github (default github.com)"}
	defGitLab = summary{GitLab, "gitlab.com", "https://gitlab.com/api/v4", "", "https://gitlab.com", "integrations.gitlab (default gitlab.com)"}
	defBBC    = summary{BitbucketCloud, "bitbucket.org", "https://api.bitbucket.org/2.0", "", "https://bitbucket.org", "integrations.bitbucketCloud (default bitbucket.org)"}
)

func TestNewRegistryDefaults(t *testing.T) {
	want := []summary{defGitHub, defGitLab, defBBC}
	r, err := NewRegistry(Config{})
	if err != nil {
		t.Fatalf("NewRegistry(Config{}) = %v", err)
	}
	if diff := cmp.Diff(want, summarize(r.List())); diff != "" {
		t.Errorf("empty config List() mismatch (-want +got):\n%s", diff)
	}
	var zero Registry
	if diff := cmp.Diff(want, summarize(zero.List())); diff != "" {
		t.Errorf("zero Registry List() mismatch (-want +got):\n%s", diff)
	}
	var nilReg *Registry
	if diff := cmp.Diff(want, summarize(nilReg.List())); diff != "" {
		t.Errorf("nil Registry List() mismatch (-want +got):\n%s", diff)
	}
	if w := r.Warnings(); len(w) != 0 {
		t.Errorf("Warnings() = %q; want none", w)
	}
}

func TestNewRegistryNormalises(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []summary
	}{
		{
			name: "github.com token only gets both base URLs",
			cfg:  Config{GitHub: []GitHubConfig{{Token: NewSecret("t")}}},
			want: []summary{{GitHub, "github.com", "https://api.github.com", "https://raw.githubusercontent.com", "https://github.com", "integrations.github[0]"}, defGitLab, defBBC},
		},
		{
			name: "GHE with port, api trimmed, no raw default",
			cfg:  Config{GitHub: []GitHubConfig{{Host: "ghe.example.com:8443", APIBaseURL: "https://ghe.example.com:8443/api/v3//"}}},
			want: []summary{{GitHub, "ghe.example.com:8443", "https://ghe.example.com:8443/api/v3", "", "https://ghe.example.com:8443", "integrations.github[0]"}, defGitHub, defGitLab, defBBC},
		},
		{
			name: "GHE raw only",
			cfg:  Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", RawBaseURL: "https://ghe.example.com/raw/"}}},
			want: []summary{{GitHub, "ghe.example.com", "", "https://ghe.example.com/raw", "https://ghe.example.com", "integrations.github[0]"}, defGitHub, defGitLab, defBBC},
		},
		{
			name: "default port dropped",
			cfg:  Config{GitHub: []GitHubConfig{{Host: "ghe.example.com:443", APIBaseURL: "https://ghe.example.com/api/v3"}}},
			want: []summary{{GitHub, "ghe.example.com", "https://ghe.example.com/api/v3", "", "https://ghe.example.com", "integrations.github[0]"}, defGitHub, defGitLab, defBBC},
		},
		{
			name: "plain http test server keeps http web base",
			cfg:  Config{GitHub: []GitHubConfig{{Host: "127.0.0.1:8080", APIBaseURL: "http://127.0.0.1:8080/api/v3"}}},
			want: []summary{{GitHub, "127.0.0.1:8080", "http://127.0.0.1:8080/api/v3", "", "http://127.0.0.1:8080", "integrations.github[0]"}, defGitHub, defGitLab, defBBC},
		},
		{
			name: "gitlab.com default api, explicit entry replaces default",
			cfg:  Config{GitLab: []GitLabConfig{{Host: "gitlab.com", Token: NewSecret("t")}}},
			want: []summary{defGitHub, {GitLab, "gitlab.com", "https://gitlab.com/api/v4", "", "https://gitlab.com", "integrations.gitlab[0]"}, defBBC},
		},
		{
			name: "gitlab sub-path",
			cfg:  Config{GitLab: []GitLabConfig{{Host: "git.example.com", APIBaseURL: "https://git.example.com/gitlab/api/v4/", BaseURL: "https://git.example.com/gitlab/"}}},
			want: []summary{defGitHub, {GitLab, "git.example.com", "https://git.example.com/gitlab/api/v4", "", "https://git.example.com/gitlab", "integrations.gitlab[0]"}, defGitLab, defBBC},
		},
		{
			name: "gitlab baseUrl defaults to https://host",
			cfg:  Config{GitLab: []GitLabConfig{{Host: "git.example.com:8443", APIBaseURL: "https://git.example.com:8443/api/v4"}}},
			want: []summary{defGitHub, {GitLab, "git.example.com:8443", "https://git.example.com:8443/api/v4", "", "https://git.example.com:8443", "integrations.gitlab[0]"}, defGitLab, defBBC},
		},
		{
			name: "gitlab.com ignores a baseUrl path",
			cfg:  Config{GitLab: []GitLabConfig{{Host: "gitlab.com", BaseURL: "https://gitlab.com/x"}}},
			want: []summary{defGitHub, {GitLab, "gitlab.com", "https://gitlab.com/api/v4", "", "https://gitlab.com", "integrations.gitlab[0]"}, defBBC},
		},
		{
			name: "bitbucket cloud entry: no default appended",
			cfg:  Config{BitbucketCloud: []BitbucketCloudConfig{{Username: "u", Token: NewSecret("t")}}},
			want: []summary{defGitHub, defGitLab, {BitbucketCloud, "bitbucket.org", "https://api.bitbucket.org/2.0", "", "https://bitbucket.org", "integrations.bitbucketCloud[0]"}},
		},
		{
			name: "bitbucket cloud pointed at a test server: no bitbucket.org default",
			cfg:  Config{BitbucketCloud: []BitbucketCloudConfig{{Host: "127.0.0.1:9000", APIBaseURL: "http://127.0.0.1:9000/2.0", TokenURL: "http://127.0.0.1:9000/token"}}},
			want: []summary{defGitHub, defGitLab, {BitbucketCloud, "127.0.0.1:9000", "http://127.0.0.1:9000/2.0", "", "http://127.0.0.1:9000", "integrations.bitbucketCloud[0]"}},
		},
		{
			name: "bitbucket server default api with port",
			cfg:  Config{BitbucketServer: []BitbucketServerConfig{{Host: "bitbucket.example.com:7990"}}},
			want: []summary{defGitHub, defGitLab, defBBC, {BitbucketServer, "bitbucket.example.com:7990", "https://bitbucket.example.com:7990/rest/api/1.0", "", "https://bitbucket.example.com:7990", "integrations.bitbucketServer[0]"}},
		},
		{
			name: "bitbucket server context path from apiBaseUrl",
			cfg:  Config{BitbucketServer: []BitbucketServerConfig{{Host: "bb.example.com", APIBaseURL: "https://bb.example.com/bitbucket/rest/api/1.0/"}}},
			want: []summary{defGitHub, defGitLab, defBBC, {BitbucketServer, "bb.example.com", "https://bb.example.com/bitbucket/rest/api/1.0", "", "https://bb.example.com/bitbucket", "integrations.bitbucketServer[0]"}},
		},
		{
			name: "order: configured entries per provider, each followed by its default",
			cfg: Config{
				GitHub:          []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3"}},
				GitLab:          []GitLabConfig{{Host: "gitlab.com"}},
				BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com"}},
			},
			want: []summary{
				{GitHub, "ghe.example.com", "https://ghe.example.com/api/v3", "", "https://ghe.example.com", "integrations.github[0]"},
				defGitHub,
				{GitLab, "gitlab.com", "https://gitlab.com/api/v4", "", "https://gitlab.com", "integrations.gitlab[0]"},
				defBBC,
				{BitbucketServer, "bbs.example.com", "https://bbs.example.com/rest/api/1.0", "", "https://bbs.example.com", "integrations.bitbucketServer[0]"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRegistry(tt.cfg)
			if err != nil {
				t.Fatalf("NewRegistry() = %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(r.List())); diff != "" {
				t.Errorf("List() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRegistryTrimsAndCopies(t *testing.T) {
	k := keys(t)
	escaped := strings.ReplaceAll(strings.TrimSpace(k.pkcs1), "\n", `\n`)
	cfg := Config{
		GitHub: []GitHubConfig{{
			Token:       NewSecret("  ghp-x \n"),
			Apps:        []GitHubAppConfig{{AppID: 1, PrivateKey: NewSecret(escaped), AllowedInstallationOwners: []string{" acme "}}},
			Credentials: []ScopedCredential{{Owners: []string{" acme "}, Token: NewSecret(" scoped ")}},
		}},
		GitLab:          []GitLabConfig{{Host: "gitlab.com", Token: NewSecret(" glpat \t")}},
		BitbucketCloud:  []BitbucketCloudConfig{{Token: NewSecret(" bbtok "), ClientID: " id ", ClientSecret: NewSecret(" sec ")}},
		BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com", Token: NewSecret(" bbs "), Username: "u", Password: NewSecret(" pw ")}},
	}
	r, err := NewRegistry(cfg)
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	gh, _ := r.ByHost("github.com")
	gl, _ := r.ByHost("gitlab.com")
	bbc, _ := r.ByHost("bitbucket.org")
	bbs, _ := r.ByHost("bbs.example.com")
	checks := []struct{ name, got, want string }{
		{"github token trimmed", gh.GitHub.Token.Reveal(), "ghp-x"},
		{"private key \\n converted", gh.GitHub.Apps[0].PrivateKey.Reveal(), strings.TrimSpace(k.pkcs1)},
		{"installation owner trimmed", gh.GitHub.Apps[0].AllowedInstallationOwners[0], "acme"},
		{"scoped owner trimmed", gh.GitHub.Credentials[0].Owners[0], "acme"},
		{"scoped token trimmed", gh.GitHub.Credentials[0].Token.Reveal(), "scoped"},
		{"gitlab token trimmed", gl.GitLab.Token.Reveal(), "glpat"},
		{"bitbucket cloud token not trimmed", bbc.BitbucketCloud.Token.Reveal(), " bbtok "},
		{"bitbucket cloud clientId trimmed", bbc.BitbucketCloud.ClientID, "id"},
		{"bitbucket cloud clientSecret trimmed", bbc.BitbucketCloud.ClientSecret.Reveal(), "sec"},
		{"bitbucket cloud token URL default", bbc.BitbucketCloud.TokenURL, BitbucketCloudTokenURL},
		{"bitbucket server token trimmed", bbs.BitbucketServer.Token.Reveal(), "bbs"},
		{"bitbucket server password not trimmed", bbs.BitbucketServer.Password.Reveal(), " pw "},
		// The caller's config is not modified.
		{"input token untouched", cfg.GitHub[0].Token.Reveal(), "  ghp-x \n"},
		{"input key untouched", cfg.GitHub[0].Apps[0].PrivateKey.Reveal(), escaped},
		{"input owner untouched", cfg.GitHub[0].Credentials[0].Owners[0], " acme "},
		{"input installation owner untouched", cfg.GitHub[0].Apps[0].AllowedInstallationOwners[0], " acme "},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q; want %q", c.name, c.got, c.want)
		}
	}
	if _, tok := bbs.Token(); tok.Reveal() != "bbs" {
		t.Errorf("bitbucket server Token() = %q; want the token, which wins over username+password", tok.Reveal())
	}
}

func TestNewRegistryGitHubApps(t *testing.T) {
	k := keys(t)
	tests := []struct {
		name     string
		app      GitHubAppConfig
		wantPath string // "" means valid
		wantMsg  string
	}{
		{name: "pkcs1", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret(k.pkcs1)}},
		{name: "pkcs8", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret(k.pkcs8)}},
		{name: "escaped newlines", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret(strings.ReplaceAll(k.pkcs1, "\n", `\n`))}},
		{name: "client pair", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret(k.pkcs1), ClientID: "Iv1.x", ClientSecret: NewSecret("s")}},
		{name: "no appId", app: GitHubAppConfig{PrivateKey: NewSecret(k.pkcs1)}, wantPath: ".appId", wantMsg: "appId is required"},
		{name: "negative appId", app: GitHubAppConfig{AppID: -3, PrivateKey: NewSecret(k.pkcs1)}, wantPath: ".appId", wantMsg: "positive number"},
		{name: "no key", app: GitHubAppConfig{AppID: 1}, wantPath: ".privateKey", wantMsg: "privateKey is required"},
		{name: "not PEM", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret("not-a-key")}, wantPath: ".privateKey", wantMsg: "not PEM"},
		{name: "EC key", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret(k.ec)}, wantPath: ".privateKey", wantMsg: "not RSA"},
		{name: "public key block", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")}, wantPath: ".privateKey", wantMsg: `"PUBLIC KEY" PEM block`},
		{name: "corrupt pkcs1", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")}, wantPath: ".privateKey", wantMsg: "not a valid PKCS#1"},
		{name: "corrupt pkcs8", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}, wantPath: ".privateKey", wantMsg: "not a valid PKCS#8"},
		{name: "encrypted", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n")}, wantPath: ".privateKey", wantMsg: "encrypted"},
		{name: "clientId alone", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret(k.pkcs1), ClientID: "Iv1.x"}, wantPath: ".clientSecret", wantMsg: "both"},
		{name: "clientSecret alone", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret(k.pkcs1), ClientSecret: NewSecret("s")}, wantPath: ".clientId", wantMsg: "both"},
		{name: "empty installation owner", app: GitHubAppConfig{AppID: 1, PrivateKey: NewSecret(k.pkcs1), AllowedInstallationOwners: []string{" "}}, wantPath: ".allowedInstallationOwners[0]", wantMsg: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRegistry(Config{GitHub: []GitHubConfig{{Apps: []GitHubAppConfig{tt.app}}}})
			checkOneFieldError(t, err, "integrations.github[0].apps[0]"+tt.wantPath, tt.wantMsg, tt.wantPath == "")
		})
	}
	t.Run("duplicate appId", func(t *testing.T) {
		app := GitHubAppConfig{AppID: 7, PrivateKey: NewSecret(k.pkcs1)}
		_, err := NewRegistry(Config{GitHub: []GitHubConfig{{Apps: []GitHubAppConfig{app, app}}}})
		checkOneFieldError(t, err, "integrations.github[0].apps[1].appId", "already configured at integrations.github[0].apps[0]", false)
	})
}

// checkOneFieldError checks that err is nil (valid) or holds exactly one
// FieldError at path whose message contains msg.
func checkOneFieldError(t *testing.T, err error, path, msg string, valid bool) {
	t.Helper()
	if valid {
		if err != nil {
			t.Fatalf("NewRegistry() = %v; want no error", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("NewRegistry() = nil; want an error at %s", path)
	}
	if c := errcode.CodeOf(err); c != errcode.InvalidArgument {
		t.Errorf("CodeOf(err) = %v; want InvalidArgument", c)
	}
	fes := FieldErrors(err)
	if len(fes) != 1 {
		t.Fatalf("got %d field errors %v; want 1 at %s", len(fes), fes, path)
	}
	if fes[0].Path != path || !strings.Contains(fes[0].Msg, msg) {
		t.Errorf("got %q; want path %s and a message containing %q", fes[0].Error(), path, msg)
	}
}

func TestNewRegistryErrors(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		wantPath string
		wantMsg  string
	}{
		{"github uppercase host", Config{GitHub: []GitHubConfig{{Host: "GHE.example.com", APIBaseURL: "https://ghe.example.com/api/v3"}}}, "integrations.github[0].host", `"GHE.example.com" is not a valid host: it must be lower-case`},
		{"github host with scheme", Config{GitHub: []GitHubConfig{{Host: "https://ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3"}}}, "integrations.github[0].host", "scheme"},
		{"github host with path", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com/api", APIBaseURL: "https://ghe.example.com/api/v3"}}}, "integrations.github[0].host", "path"},
		{"github port out of range", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com:70000", APIBaseURL: "https://ghe.example.com/api/v3"}}}, "integrations.github[0].host", "between 1 and 65535"},
		{"github IDN host", Config{GitHub: []GitHubConfig{{Host: "gït.example.com", APIBaseURL: "https://x.example.com/api/v3"}}}, "integrations.github[0].host", "punycode"},
		{"github same host twice", Config{GitHub: []GitHubConfig{{}, {Host: "github.com"}}}, "integrations.github[1].host", "already configured at integrations.github[0]"},
		{"github same host twice, case and port", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3"}, {Host: "ghe.example.com:443", APIBaseURL: "https://ghe.example.com/api/v3"}}}, "integrations.github[1].host", "already configured"},
		{"same host in two providers", Config{GitHub: []GitHubConfig{{Host: "git.example.com", APIBaseURL: "https://git.example.com/api/v3"}}, GitLab: []GitLabConfig{{Host: "git.example.com", APIBaseURL: "https://git.example.com/api/v4"}}}, "integrations.gitlab[0].host", "already configured at integrations.github[0]"},
		{"gitlab no host", Config{GitLab: []GitLabConfig{{APIBaseURL: "https://git.example.com/api/v4"}}}, "integrations.gitlab[0].host", "required"},
		{"gitlab no api for self-managed", Config{GitLab: []GitLabConfig{{Host: "git.example.com"}}}, "integrations.gitlab[0].apiBaseUrl", "required for \"git.example.com\""},
		{"gitlab bad baseUrl", Config{GitLab: []GitLabConfig{{Host: "git.example.com", APIBaseURL: "https://git.example.com/api/v4", BaseURL: "git.example.com/gitlab"}}}, "integrations.gitlab[0].baseUrl", "https://"},
		{"bitbucket cloud username without secret", Config{BitbucketCloud: []BitbucketCloudConfig{{Username: "me"}}}, "integrations.bitbucketCloud[0].username", "neither token nor appPassword"},
		{"bitbucket cloud appPassword without username", Config{BitbucketCloud: []BitbucketCloudConfig{{AppPassword: NewSecret("x")}}}, "integrations.bitbucketCloud[0].username", "appPassword needs username"},
		{"bitbucket cloud clientId alone", Config{BitbucketCloud: []BitbucketCloudConfig{{ClientID: "id"}}}, "integrations.bitbucketCloud[0].clientSecret", "incomplete OAuth"},
		{"bitbucket cloud clientSecret alone", Config{BitbucketCloud: []BitbucketCloudConfig{{ClientSecret: NewSecret("s")}}}, "integrations.bitbucketCloud[0].clientId", "incomplete OAuth"},
		{"bitbucket cloud bad host", Config{BitbucketCloud: []BitbucketCloudConfig{{Host: "Bitbucket.org"}}}, "integrations.bitbucketCloud[0].host", "lower-case"},
		{"bitbucket cloud twice", Config{BitbucketCloud: []BitbucketCloudConfig{{}, {}}}, "integrations.bitbucketCloud[1].host", "already configured"},
		{"bitbucket server no host", Config{BitbucketServer: []BitbucketServerConfig{{}}}, "integrations.bitbucketServer[0].host", "required"},
		{"bitbucket server username without password", Config{BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com", Username: "u"}}}, "integrations.bitbucketServer[0].password", "password is not"},
		{"bitbucket server password without username", Config{BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com", Password: NewSecret("p")}}}, "integrations.bitbucketServer[0].username", "username is not"},
		{"scoped owner claimed twice", Config{GitHub: []GitHubConfig{{Credentials: []ScopedCredential{{Owners: []string{"acme"}, Token: NewSecret("a")}, {Owners: []string{"other", "ACME"}, Token: NewSecret("b")}}}}}, "integrations.github[0].credentials[1].owners[1]", `owner "ACME" is already claimed by integrations.github[0].credentials[0]`},
		{"scoped gitlab owner claimed twice with slashes", Config{GitLab: []GitLabConfig{{Host: "gitlab.com", Credentials: []ScopedCredential{{Owners: []string{"acme/platform"}, Token: NewSecret("a")}, {Owners: []string{"/acme/platform/"}, Token: NewSecret("b")}}}}}, "integrations.gitlab[0].credentials[1].owners[0]", "already claimed"},
		{"scoped no owners", Config{GitHub: []GitHubConfig{{Credentials: []ScopedCredential{{Token: NewSecret("a")}}}}}, "integrations.github[0].credentials[0].owners", "at least one owner"},
		{"scoped empty owner", Config{GitHub: []GitHubConfig{{Credentials: []ScopedCredential{{Owners: []string{" "}, Token: NewSecret("a")}}}}}, "integrations.github[0].credentials[0].owners[0]", "empty"},
		{"scoped no token", Config{GitHub: []GitHubConfig{{Credentials: []ScopedCredential{{Owners: []string{"acme"}, Token: NewSecret("  ")}}}}}, "integrations.github[0].credentials[0].token", "needs a token"},
		{"scoped github with username", Config{GitHub: []GitHubConfig{{Credentials: []ScopedCredential{{Owners: []string{"acme"}, Token: NewSecret("t"), Username: "u"}}}}}, "integrations.github[0].credentials[0]", "only used by Bitbucket"},
		{"scoped bitbucket server username only", Config{BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com", Credentials: []ScopedCredential{{Owners: []string{"KEY"}, Username: "u"}}}}}, "integrations.bitbucketServer[0].credentials[0].password", "password is not"},
		{"scoped bitbucket server nothing", Config{BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com", Credentials: []ScopedCredential{{Owners: []string{"KEY"}}}}}}, "integrations.bitbucketServer[0].credentials[0].token", "token (or username and password)"},
		{"scoped bitbucket cloud no token", Config{BitbucketCloud: []BitbucketCloudConfig{{Credentials: []ScopedCredential{{Owners: []string{"ws"}, Username: "u"}}}}}, "integrations.bitbucketCloud[0].credentials[0].token", "needs a token"},
		{"scoped bitbucket cloud password", Config{BitbucketCloud: []BitbucketCloudConfig{{Credentials: []ScopedCredential{{Owners: []string{"ws"}, Token: NewSecret("t"), Password: NewSecret("p")}}}}}, "integrations.bitbucketCloud[0].credentials[0].password", "not used by Bitbucket Cloud"},
		{"reading allow bad host", Config{ReadingAllow: []ReadingAllow{{Host: "Example.com"}}}, "backend.reading.allow[0].host", "lower-case"},
		{"reading allow bad port range", Config{ReadingAllow: []ReadingAllow{{Host: "example.com:9000-8000"}}}, "backend.reading.allow[0].host", "low end is above"},
		{"reading allow bad port", Config{ReadingAllow: []ReadingAllow{{Host: "example.com:0"}}}, "backend.reading.allow[0].host", "not a port"},
		{"reading allow wildcard in the middle", Config{ReadingAllow: []ReadingAllow{{Host: "prod.*.example.com"}}}, "backend.reading.allow[0].host", "'*'"},
		{"reading allow wildcard ip", Config{ReadingAllow: []ReadingAllow{{Host: "*.10.0.0.1"}}}, "backend.reading.allow[0].host", "not an IP"},
		{"reading allow two ports", Config{ReadingAllow: []ReadingAllow{{Host: "example.com:80:90"}}}, "backend.reading.allow[0].host", "port once"},
		{"reading allow relative path", Config{ReadingAllow: []ReadingAllow{{Host: "example.com", Paths: []string{"docs"}}}}, "backend.reading.allow[0].paths[0]", "must start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRegistry(tt.cfg)
			checkOneFieldError(t, err, tt.wantPath, tt.wantMsg, false)
		})
	}
}

func TestNewRegistryReportsEverythingAtOnce(t *testing.T) {
	secrets := []string{"ghp-SECRET-1", "glpat-SECRET-2", "bb-SECRET-3", "pw-SECRET-4", "key-SECRET-5", "cs-SECRET-6"}
	cfg := Config{
		GitHub: []GitHubConfig{
			{Host: "GHE.example.com", Token: NewSecret(secrets[0])},
			{Host: "ghe2.example.com", Apps: []GitHubAppConfig{{AppID: 0, PrivateKey: NewSecret(secrets[4]), ClientID: "x"}}},
		},
		GitLab:          []GitLabConfig{{Host: "gitlab.example.com", Token: NewSecret(secrets[1])}},
		BitbucketCloud:  []BitbucketCloudConfig{{Username: "me", ClientSecret: NewSecret(secrets[5])}},
		BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com", APIBaseURL: "https://user:" + secrets[3] + "@bbs.example.com/rest/api/1.0", Token: NewSecret(secrets[2])}},
		ReadingAllow:    []ReadingAllow{{Host: "https://example.com"}},
	}
	_, err := NewRegistry(cfg)
	if err == nil {
		t.Fatal("NewRegistry() = nil; want errors")
	}
	var got []string
	for _, fe := range FieldErrors(err) {
		got = append(got, fe.Path)
	}
	want := []string{
		"integrations.github[0].host",
		"integrations.github[1].apps[0].appId",
		"integrations.github[1].apps[0].privateKey",
		"integrations.github[1].apps[0].clientSecret",
		"integrations.gitlab[0].apiBaseUrl",
		"integrations.bitbucketCloud[0].username",
		"integrations.bitbucketCloud[0].clientId",
		"backend.reading.allow[0].host",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("field error paths mismatch (-want +got):\n%s\nerror: %v", diff, err)
	}
	msg := err.Error()
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error message contains secret %q:\n%s", s, msg)
		}
	}
	if !strings.Contains(msg, "8 problems") {
		t.Errorf("error message %q does not count the problems", msg)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != want[0] {
		t.Errorf("errors.As(err, *FieldError) = %v; want the first problem", fe)
	}
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Op != "integrations.NewRegistry" || ce.Code != errcode.InvalidArgument {
		t.Errorf("errors.As(err, *errcode.Error) = %+v; want Op integrations.NewRegistry, InvalidArgument", ce)
	}
	if !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Errorf("errors.Is(err, ErrInvalidArgument) = false; want true")
	}
}

func TestNewRegistryWarnings(t *testing.T) {
	r, err := NewRegistry(Config{BitbucketCloud: []BitbucketCloudConfig{{Username: "me", AppPassword: NewSecret(" app-pw-SECRET ")}}})
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	want := []string{"integrations.bitbucketCloud[0].appPassword: " + AppPasswordWarning}
	if diff := cmp.Diff(want, r.Warnings()); diff != "" {
		t.Errorf("Warnings() mismatch (-want +got):\n%s", diff)
	}
	in, _ := r.ByHost("bitbucket.org")
	if u, tok := in.Token(); u != "me" || tok.Reveal() != "app-pw-SECRET" {
		t.Errorf("Token() = %q, %q; want me and the trimmed app password", u, tok.Reveal())
	}
}

func TestFieldErrors(t *testing.T) {
	if got := FieldErrors(nil); got != nil {
		t.Errorf("FieldErrors(nil) = %v; want nil", got)
	}
	if got := FieldErrors(errors.New("x")); got != nil {
		t.Errorf("FieldErrors(plain) = %v; want nil", got)
	}
	fe := &FieldError{Path: "a.b", Msg: "bad"}
	if got := fe.Error(); got != "a.b: bad" {
		t.Errorf("Error() = %q; want %q", got, "a.b: bad")
	}
	wrapped := errcode.Wrap(errcode.InvalidArgument, "op", errors.Join(errors.New("x"), fe))
	if got := FieldErrors(wrapped); len(got) != 1 || got[0] != fe {
		t.Errorf("FieldErrors(wrapped) = %v; want [%v]", got, fe)
	}
}
