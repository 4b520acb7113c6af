package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// load loads a.yaml (and b.yaml when present) from files.
func load(t *testing.T, files map[string]string, lookup map[string]string) (*Config, error) {
	t.Helper()
	names := []string{"a.yaml"}
	if _, ok := files["b.yaml"]; ok {
		names = append(names, "b.yaml")
	}
	opts := &Options{ReadFile: mapFS(files)}
	if lookup != nil {
		opts.Lookup = lookupMap(lookup)
	}
	return Load(t.Context(), opts, names...)
}

// TestLoadOneBadEntry: a bitbucketServer entry whose apiBaseUrl is not a
// URL at all (from a real deployment's config) does not refuse the file,
// as Backstage starts with it: it warns, naming the entry and the file,
// and calls through it fail with InvalidArgument naming the config path.
func TestLoadOneBadEntry(t *testing.T) {
	cfg, err := load(t, map[string]string{"a.yaml": `
integrations:
  github:
    - host: github.com
      token: t
  bitbucketServer:
    - host: bitbucket.example.com
      apiBaseUrl: bitbucket.example.com/rest/api/1.0
      token: t
`}, nil)
	if err != nil {
		t.Fatalf("Load: %v; want the file loaded", err)
	}
	want := "a.yaml: integrations.bitbucketServer[0].apiBaseUrl: apiBaseUrl is not a valid URL"
	if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], want) {
		t.Errorf("Warnings = %q; want one starting %q", cfg.Warnings, want)
	}
	_, err = cfg.Registry.Parse("https://bitbucket.example.com/projects/P/repos/r/browse/catalog-info.yaml")
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "integrations.bitbucketServer[0]") {
		t.Errorf("Parse through the bad entry = %v; want InvalidArgument naming integrations.bitbucketServer[0]", err)
	}
	if _, err := cfg.Registry.Parse("https://github.com/acme/api/blob/main/x.yaml"); err != nil {
		t.Errorf("Parse through the good entry = %v", err)
	}

	// What Backstage refuses to start with is still refused.
	_, err = load(t, map[string]string{"a.yaml": "integrations:\n  gitlab:\n    - host: git.example.com\n      apiBaseUrl: git.example.com/api/v4\n"}, nil)
	if got := problems(t, err); len(got) != 1 || !strings.HasPrefix(got[0], "integrations.gitlab[0].apiBaseUrl: ") {
		t.Errorf("problems = %q; want one at integrations.gitlab[0].apiBaseUrl", got)
	}
}

// TestLoadGitHubEnterpriseRawOnly: a GitHub Enterprise entry without
// apiBaseUrl loads; the warning says to set apiBaseUrl.
func TestLoadGitHubEnterpriseRawOnly(t *testing.T) {
	cfg, err := load(t, map[string]string{"a.yaml": "integrations:\n  github:\n    - host: ghe.example.com\n      rawBaseUrl: https://ghe.example.com/raw\n"}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], "a.yaml: integrations.github[0].apiBaseUrl: ") || !strings.Contains(cfg.Warnings[0], "https://ghe.example.com/api/v3") {
		t.Errorf("Warnings = %q; want one naming the file and saying to set apiBaseUrl", cfg.Warnings)
	}
	in, ok := cfg.Registry.ByHost("ghe.example.com")
	if !ok || in.RawBaseURL != "https://ghe.example.com/raw" || in.Disabled != nil {
		t.Errorf("ByHost = %+v, %v; want the raw-only integration", in, ok)
	}
}

// TestLoadGitLabBaseURLOnAnotherHost: baseUrl on a proxy or vanity domain
// loads; URLs match on host; the API is apiBaseUrl.
func TestLoadGitLabBaseURLOnAnotherHost(t *testing.T) {
	cfg, err := load(t, map[string]string{"a.yaml": "integrations:\n  gitlab:\n    - host: gitlab.internal.example.com\n" +
		"      apiBaseUrl: https://gitlab.internal.example.com/api/v4\n      baseUrl: https://code.example.com\n"}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	loc, err := cfg.Registry.Parse("https://gitlab.internal.example.com/acme/api/-/blob/main/catalog-info.yaml")
	if err != nil || loc.Owner != "acme" || loc.Repo != "api" {
		t.Errorf("Parse = %+v, %v", loc, err)
	}
	in, _ := cfg.Registry.ByHost("gitlab.internal.example.com")
	if in.APIBaseURL != "https://gitlab.internal.example.com/api/v4" {
		t.Errorf("APIBaseURL = %q", in.APIBaseURL)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("Warnings = %q; want none", cfg.Warnings)
	}
}

// githubAppFile is the shape of the file `backstage-cli create-github-app`
// writes (values replaced), included as an apps entry.
const githubAppFile = `appId: 123456
webhookUrl: https://smee.io/abcdef
clientId: Iv1.0123456789abcdef
clientSecret: not-a-real-client-secret
webhookSecret: not-a-real-webhook-secret
privateKey: |
%s`

// TestLoadKnownKeys: keys real Backstage configs carry that scmkit does
// not use are not reported as unknown; GitLab retry is read.
func TestLoadKnownKeys(t *testing.T) {
	key := privateKey(t)
	indented := "  " + strings.ReplaceAll(strings.TrimSpace(key), "\n", "\n  ") + "\n"
	cfg, err := load(t, map[string]string{
		"a.yaml": `
integrations:
  github:
    - host: github.com
      throttling: {enabled: true}
      apps:
        - $include: github-app-backstage-credentials.yaml
  gitlab:
    - host: gitlab.com
      commitSigningKey: k
      throttling: {count: 5}
      retry:
        maxRetries: 3
        retryStatusCodes: [429, 502]
        maxApiRequestsPerMinute: 600
  bitbucketCloud:
    - username: bot
      token: t
      commitSigningKey: k
  bitbucketServer:
    - host: bbs.example.com
      token: t
      commitSigningKey: k
`,
		"github-app-backstage-credentials.yaml": strings.Replace(githubAppFile, "%s", indented, 1),
	}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("Warnings = %q; want none", cfg.Warnings)
	}
	if app := cfg.Integrations.GitHub[0].Apps; len(app) != 1 || app[0].AppID != 123456 || app[0].ClientID != "Iv1.0123456789abcdef" {
		t.Errorf("apps = %+v; want the included app", app)
	}
	want := &integrations.GitLabRetry{MaxRetries: 3, RetryStatusCodes: []int{429, 502}, MaxAPIRequestsPerMinute: 600}
	if diff := cmp.Diff(want, cfg.Integrations.GitLab[0].Retry); diff != "" {
		t.Errorf("GitLab retry mismatch (-want +got):\n%s", diff)
	}
	_, err = load(t, map[string]string{"a.yaml": "integrations:\n  gitlab:\n    - host: gitlab.com\n      retry: {maxRetries: x, retryStatusCodes: [429, y]}\n"}, nil)
	if diff := cmp.Diff([]string{
		"integrations.gitlab[0].retry.maxRetries: must be a number, got a string",
		"integrations.gitlab[0].retry.retryStatusCodes[1]: must be a number, got a string",
	}, problems(t, err)); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s", diff)
	}
}

// TestLoadUnsupportedSections: one warning per section, naming the file
// and the section; a URL on such a host says which section would serve it.
func TestLoadUnsupportedSections(t *testing.T) {
	cfg, err := load(t, map[string]string{
		"a.yaml": `
integrations:
  azure:
    - host: dev.azure.com
      credentials: [{personalAccessToken: '${AZURE_TOKEN}'}]
    - host: azure.example.com
  gerrit: [{host: gerrit.example.com, password: {$file: missing.txt}}]
  bitbucket: [{host: bitbucket.example.net, token: x}]
`,
		"b.yaml": `
integrations:
  gerrit: [{host: review.example.com, gitilesBaseUrl: https://review.example.com/gitiles}]
  gitea: [{host: gitea.example.com}]
  harness: [{host: app.harness.io}]
  awsS3: [{endpoint: https://s3.example.com}]
  awsCodeCommit: [{region: eu-west-1}]
  azureBlobStorage: [{accountName: acme}]
  googleGcs: {clientEmail: x@example.com}
`,
	}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var sections []string
	for _, w := range cfg.Warnings {
		file, rest, _ := strings.Cut(w, ": ")
		sec, _, _ := strings.Cut(rest, ": ")
		sections = append(sections, file+" "+sec)
	}
	want := []string{
		"b.yaml integrations.awsCodeCommit", "b.yaml integrations.awsS3", "a.yaml integrations.azure",
		"b.yaml integrations.azureBlobStorage", "a.yaml integrations.bitbucket", "b.yaml integrations.gerrit",
		"b.yaml integrations.gitea", "b.yaml integrations.googleGcs", "b.yaml integrations.harness",
	}
	if diff := cmp.Diff(want, sections); diff != "" {
		t.Errorf("one warning per section, naming the file (-want +got):\n%s\n%s", diff, strings.Join(cfg.Warnings, "\n"))
	}
	if !strings.Contains(cfg.Warnings[2], "its 2 entries are ignored") || !strings.Contains(cfg.Warnings[4], "Backstage removed") {
		t.Errorf("Warnings = %q", cfg.Warnings)
	}
	for url, section := range map[string]string{
		"https://dev.azure.com/org/project/_git/repo":          "integrations.azure[0]",
		"https://azure.example.com/org/project/_git/repo":      "integrations.azure[1]",
		"https://review.example.com/plugins/gitiles/repo":      "integrations.gerrit[0]",
		"https://gitea.example.com/acme/repo":                  "integrations.gitea[0]",
		"https://s3.example.com/bucket/key":                    "integrations.awsS3[0]",
		"https://eu-west-1.console.aws.amazon.com/codesuite/x": "integrations.awsCodeCommit[0]",
		"https://acme.blob.core.windows.net/container/blob":    "integrations.azureBlobStorage[0]",
		"https://storage.cloud.google.com/bucket/object":       "integrations.googleGcs",
		"https://bitbucket.example.net/projects/P/repos/r":     "integrations.bitbucket[0]",
	} {
		_, err := cfg.Registry.Parse(url)
		if !strings.Contains(err.Error(), section) {
			t.Errorf("Parse(%s) = %v; want it to name %s", url, err, section)
		}
	}
	// gerrit.example.com was replaced by b.yaml's gerrit section.
	if _, ok := cfg.Registry.Unsupported("gerrit.example.com"); ok {
		t.Error("gerrit.example.com is still known; b.yaml replaced the gerrit array")
	}
}

// TestLoadWarningsOnce: every warning names its file, none is reported
// twice, and the registry keeps none of its own (so an embedder logging
// both lists still sees each once).
func TestLoadWarningsOnce(t *testing.T) {
	cfg, err := load(t, map[string]string{
		"a.yaml": "integrations:\n  bitbucketCloud:\n    - username: bot\n      appPassword: p\n      tokne: x\n",
		"b.yaml": "integrations:\n  github:\n    - host: github.com\n      token: ${T}\n      tokne: y\n",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`b.yaml: integrations.github[0].token: environment variable "T" is not set; the value is left unset`,
		"a.yaml: integrations.bitbucketCloud[0].tokne: unknown key, ignored",
		"b.yaml: integrations.github[0].tokne: unknown key, ignored",
		"a.yaml: integrations.bitbucketCloud[0].appPassword: " + integrations.AppPasswordWarning,
	}
	if diff := cmp.Diff(want, cfg.Warnings); diff != "" {
		t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
	}
	if ws := cfg.Registry.Warnings(); len(ws) != 0 {
		t.Errorf("Registry.Warnings() = %q; want none (they are in Config.Warnings)", ws)
	}
	all := append(slices.Clone(cfg.Warnings), cfg.Registry.Warnings()...)
	for i, w := range all {
		if slices.Index(all, w) != i {
			t.Errorf("warning reported twice: %q", w)
		}
	}

	// APP_CONFIG_ values are named by their variable.
	cfg, err = Load(t.Context(), &Options{Environ: []string{`APP_CONFIG_integrations_github=[{"host":"github.com","tokne":"x"}]`}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"APP_CONFIG_integrations_github: integrations.github[0].tokne: unknown key, ignored"}; !slices.Equal(cfg.Warnings, want) {
		t.Errorf("Warnings = %q; want %q", cfg.Warnings, want)
	}
}

// TestLoadWarningsKeptOnFailure: the warnings for unset variables are not
// lost when Load fails on something else; they often explain it.
func TestLoadWarningsKeptOnFailure(t *testing.T) {
	_, err := load(t, map[string]string{"a.yaml": "integrations:\n  gitlab:\n    - host: git.example.com\n      apiBaseUrl: ${GITLAB_API}\n" +
		"auth:\n  providers:\n    github:\n      development:\n        clientId: ${AUTH_GITHUB_CLIENT_ID}\n"}, nil)
	if err == nil {
		t.Fatal("Load succeeded; want the missing apiBaseUrl refused")
	}
	want := []string{
		`a.yaml: integrations.gitlab[0].apiBaseUrl: environment variable "GITLAB_API" is not set; the value is left unset`,
		`a.yaml: auth.providers.github.development.clientId: environment variable "AUTH_GITHUB_CLIENT_ID" is not set; the value is left unset`,
	}
	if diff := cmp.Diff(want, WarningsOf(err)); diff != "" {
		t.Errorf("WarningsOf mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), want[0]) {
		t.Errorf("error %q does not show the warning %q", err, want[0])
	}
	if got := problems(t, err); len(got) != 1 {
		t.Errorf("problems = %q; want the one about apiBaseUrl", got)
	}
	if WarningsOf(errcode.New(errcode.InvalidArgument, "x", "y")) != nil {
		t.Error("WarningsOf(another error) != nil")
	}
}

// TestLoadWrongTypeReportedOnce: a value of the wrong type is reported
// once, not again as a follow-on violation of a rule that needs it.
func TestLoadWrongTypeReportedOnce(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"bitbucket cloud token", "integrations:\n  bitbucketCloud:\n    - username: bot\n      token: [x]\n",
			[]string{"integrations.bitbucketCloud[0].token: must be a string, got an array"}},
		{"bitbucket cloud client secret", "integrations:\n  bitbucketCloud:\n    - clientId: id\n      clientSecret: 7\n",
			[]string{"integrations.bitbucketCloud[0].clientSecret: must be a string, got a number"}},
		{"bitbucket server password", "integrations:\n  bitbucketServer:\n    - host: b.example.com\n      username: u\n      password: {a: 1}\n",
			[]string{"integrations.bitbucketServer[0].password: must be a string, got an object"}},
		{"github app client id", "integrations:\n  github:\n    - apps:\n        - appId: 1\n          privateKey: k\n          clientId: [x]\n          clientSecret: s\n",
			[]string{"integrations.github[0].apps[0].clientId: must be a string, got an array",
				"integrations.github[0].apps[0].privateKey: privateKey is not PEM-encoded; paste the private key downloaded from the GitHub App's settings page (-----BEGIN RSA PRIVATE KEY-----)"}},
		{"gitlab host", "integrations:\n  gitlab:\n    - host: 7\n      apiBaseUrl: https://g.example.com/api/v4\n",
			[]string{"integrations.gitlab[0].host: must be a string, got a number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, map[string]string{"a.yaml": tt.doc}, nil)
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadNeverEchoesValues: a token put in the wrong key never appears in
// an error or a warning, whatever its length; a substituted value is named
// by where it came from (defect 5 of issue 9); host values may appear.
func TestLoadNeverEchoesValues(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		lookup  map[string]string
		secret  string
		wantErr string // a problem or warning containing this
	}{
		{name: "short token in appId", files: map[string]string{"a.yaml": "integrations:\n  github:\n    - apps: [{appId: ghp_x1, privateKey: k}]\n"},
			secret: "ghp_x1", wantErr: "integrations.github[0].apps[0].appId: must be a number, got a string"},
		{name: "long token in appId", files: map[string]string{"a.yaml": "integrations:\n  github:\n    - apps: [{appId: ghp_0123456789abcdefghijklmnopqrstuvwxyz, privateKey: k}]\n"},
			secret: "ghp_0123456789abcdefghijklmnopqrstuvwxyz", wantErr: "must be a number, got a string"},
		{name: "token in publicAccess", files: map[string]string{"a.yaml": "integrations:\n  github:\n    - apps: [{appId: 1, privateKey: k, publicAccess: tok3n}]\n"},
			secret: "tok3n", wantErr: "must be a boolean (true or false), got a string"},
		{name: "variable in appId", files: map[string]string{"a.yaml": "integrations:\n  github:\n    - apps: [{appId: '${GITHUB_APP_ID}', privateKey: k}]\n"},
			lookup: map[string]string{"GITHUB_APP_ID": "ghp_swapped"}, secret: "ghp_swapped",
			wantErr: `appId: must be a number, got a string (the value of environment variable "GITHUB_APP_ID")`},
		{name: "variable in apiBaseUrl", files: map[string]string{"a.yaml": "integrations:\n  gitlab:\n    - host: g.example.com\n      apiBaseUrl: ${GITLAB_API}\n"},
			lookup: map[string]string{"GITLAB_API": "glpat-swapped-in"}, secret: "glpat-swapped-in",
			wantErr: "integrations.gitlab[0].apiBaseUrl: apiBaseUrl is not a valid URL"},
		{name: "variable in a scoped owner", files: map[string]string{"a.yaml": "integrations:\n  github:\n    - credentials:\n        - {owners: [acme], token: a}\n        - {owners: ['${OWNER}'], token: b}\n"},
			lookup: map[string]string{"OWNER": "acme"}, secret: `"acme"`,
			wantErr: `owner (the value of environment variable "OWNER") is already claimed`},
		{name: "$env in a host", files: map[string]string{"a.yaml": "integrations:\n  bitbucketServer:\n    - host: {$env: BBS_HOST}\n"},
			lookup: map[string]string{"BBS_HOST": "Secret-Token"}, secret: "Secret-Token",
			wantErr: `(the value of environment variable "BBS_HOST") is not a valid host`},
		{name: "$file in a host", files: map[string]string{"a.yaml": "integrations:\n  bitbucketServer:\n    - host: {$file: host.txt}\n", "host.txt": "Secret-Token-From-File\n"},
			secret: "Secret-Token-From-File", wantErr: `(the value of file "host.txt") is not a valid host`},
		{name: "variable in a disabled entry's apiBaseUrl", files: map[string]string{"a.yaml": "integrations:\n  bitbucketServer:\n    - host: b.example.com\n      apiBaseUrl: ${BBS_API}\n"},
			lookup: map[string]string{"BBS_API": "https://user:s3cr3t@b.example.com"}, secret: "s3cr3t",
			wantErr: "integrations.bitbucketServer[0].apiBaseUrl: apiBaseUrl must not contain a user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, tt.files, tt.lookup)
			var texts []string
			if err != nil {
				texts = append(texts, err.Error())
			} else {
				texts = append(texts, cfg.Warnings...)
			}
			all := strings.Join(texts, "\n")
			if strings.Contains(all, tt.secret) {
				t.Errorf("messages show the value %q:\n%s", tt.secret, all)
			}
			if !strings.Contains(all, tt.wantErr) {
				t.Errorf("messages do not contain %q:\n%s", tt.wantErr, all)
			}
		})
	}
	// A literal host may appear.
	_, err := load(t, map[string]string{"a.yaml": "integrations:\n  bitbucketServer:\n    - host: Bad.Example.com\n"}, nil)
	if err == nil || !strings.Contains(err.Error(), `"Bad.Example.com" is not a valid host`) {
		t.Errorf("error = %v; want the host shown", err)
	}
}

// TestLoadSyntaxErrorLine: a YAML syntax error names the line of the
// problem, not the start of the enclosing block.
func TestLoadSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"bad indentation in a list entry", "integrations:\n  github:\n    - host: a\n      token: x\n     bad: y\n    - host: b\n", "a.yaml:5: "},
		{"bad indentation in a mapping", "integrations:\n  github:\n    - host: a\n   x: 1\nbackend: {}\n", "a.yaml:4: "},
		{"tab", "integrations:\n  github:\n    - host: a\n\ttoken: x\n", "a.yaml:4: "},
		{"unclosed flow sequence", "integrations:\n  github: [{host: a}\n  gitlab: []\n", "a.yaml:2: "},
		{"unterminated quote", "integrations:\n  github:\n    - host: a\n      token: \"abc\n    - host: b\n", "a.yaml:4: "},
		{"mapping in a value", "integrations:\n  github:\n    - host: github.com\n      apiBaseUrl: https://api.github.com: oops\n", "a.yaml:4: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, map[string]string{"a.yaml": tt.doc}, nil)
			got := problems(t, err)
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Errorf("problems = %q; want one starting %q", got, tt.want)
			}
		})
	}
}
