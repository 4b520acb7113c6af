package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scmkit/scmkit/integrations"
)

// bs is a Bitbucket Server entry with a host and a token.
func bs(host, token string) integrations.BitbucketServerConfig {
	return integrations.BitbucketServerConfig{Host: host, Token: secret(token)}
}

// privateKeyRequired is the registry's complaint about app i of
// integrations.github[0] having no private key.
func privateKeyRequired(i int) string {
	return fmt.Sprintf("integrations.github[0].apps[%d].privateKey: privateKey is required; "+
		"paste the private key downloaded from the GitHub App's settings page (-----BEGIN RSA PRIVATE KEY-----)", i)
}

func TestLoadRules(t *testing.T) {
	key := privateKey(t)
	keyJSON, err := json.Marshal(key)
	if err != nil {
		t.Fatal(err)
	}
	trimmedKey := secret(strings.TrimSpace(key))

	tests := []struct {
		name    string
		files   map[string]string // the file system; "a.yaml" and "b.yaml" are loaded in that order when present
		load    []string          // files to load, if not a.yaml, b.yaml
		lookup  map[string]string
		environ []string

		want         integrations.Config
		wantWarnings []string
		wantErrs     []string
	}{
		// Merging.
		{
			name: "later file overrides a scalar, objects merge deeply",
			files: map[string]string{
				"a.yaml": "integrations:\n  github: [{host: github.com}]\nbackend:\n  reading:\n    allow: [{host: one.example.com}]\n",
				"b.yaml": "integrations:\n  gitlab: [{host: gitlab.example.com, apiBaseUrl: 'https://gitlab.example.com/api/v4'}]\nbackend:\n  baseUrl: http://localhost\n",
			},
			want: integrations.Config{
				GitHub:       []integrations.GitHubConfig{{Host: "github.com"}},
				GitLab:       []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4"}},
				ReadingAllow: []integrations.ReadingAllow{{Host: "one.example.com"}},
			},
		},
		{
			name: "arrays are replaced as a whole",
			files: map[string]string{
				"a.yaml": "integrations:\n  bitbucketServer:\n    - {host: a.example.com, token: ta}\n    - {host: b.example.com, token: tb}\n",
				"b.yaml": "integrations:\n  bitbucketServer:\n    - {host: c.example.com}\n",
			},
			want: integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: "c.example.com"}}},
		},
		{
			name: "null in a later file removes the value",
			files: map[string]string{
				"a.yaml": "integrations:\n  bitbucketServer: [{host: a.example.com}]\n  gitlab: [{host: gitlab.com}]\n",
				"b.yaml": "integrations:\n  bitbucketServer: null\n",
			},
			want: integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.com"}}},
		},
		{
			name:  "empty file changes nothing",
			files: map[string]string{"a.yaml": "integrations:\n  bitbucketServer: [{host: a.example.com}]\n", "b.yaml": "# nothing\n"},
			want:  integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: "a.example.com"}}},
		},

		// Environment overlay.
		{
			name:    "APP_CONFIG_ array replaces the files' array",
			files:   map[string]string{"a.yaml": "backend:\n  reading:\n    allow: [{host: one.example.com}, {host: two.example.com}]\n"},
			environ: []string{`APP_CONFIG_backend_reading_allow=[{"host":"example.com","paths":["/docs/"]}]`},
			want:    integrations.Config{ReadingAllow: []integrations.ReadingAllow{{Host: "example.com", Paths: []string{"/docs/"}}}},
		},
		{
			name:  "APP_CONFIG_ object merges with the files and keeps only known sections",
			files: map[string]string{"a.yaml": "integrations:\n  bitbucketServer: [{host: a.example.com}]\n"},
			environ: []string{
				`APP_CONFIG_integrations={"gitlab":[{"host":"gitlab.com","token":"from-env"}],"azure":[{"host":"dev.azure.com"}]}`,
				"APP_CONFIG_app_title=My Portal",
				"APP_CONFIG_app_0=not a valid key, but outside scmkit's sections",
				"APP_CONFIG_backend_baseUrl=http://localhost",
				"UNRELATED=1",
			},
			want: integrations.Config{
				GitLab:          []integrations.GitLabConfig{{Host: "gitlab.com", Token: secret("from-env")}},
				BitbucketServer: []integrations.BitbucketServerConfig{{Host: "a.example.com"}},
			},
		},
		{
			name:    "APP_CONFIG_ value that is not JSON is a string",
			environ: []string{"APP_CONFIG_integrations_github=github.com"},
			wantErrs: []string{
				"integrations.github: must be an array, got a string",
			},
		},
		{
			name:    "APP_CONFIG_ values are not substituted; empty variables are skipped",
			environ: []string{`APP_CONFIG_integrations_bitbucketServer=[{"host":"a.example.com","token":"${X}"}]`, "APP_CONFIG_backend_reading_allow="},
			lookup:  map[string]string{"X": "x"},
			want:    integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{bs("a.example.com", "${X}")}},
		},
		{
			name: "APP_CONFIG_ numbers and booleans keep their JSON type",
			environ: []string{`APP_CONFIG_integrations_github=[{"host":"github.com","apps":[` +
				`{"appId":42,"publicAccess":true,"privateKey":` + string(keyJSON) + `},` +
				`{"appId":"43","publicAccess":"false","privateKey":` + string(keyJSON) + `}]}]`},
			want: integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "github.com", Apps: []integrations.GitHubAppConfig{
				{AppID: 42, PublicAccess: true, PrivateKey: secret(key)}, {AppID: 43, PrivateKey: secret(key)},
			}}}},
		},
		{
			name: "APP_CONFIG_ problems",
			environ: []string{
				"APP_CONFIG_integrations_github_0_token=s3cr3t-env",
				"APP_CONFIG_backend_reading=\"x\"",
				"APP_CONFIG_backend_reading_allow=[]",
				"APP_CONFIG_integrations_gitlab=null",
				"APP_CONFIG_integrations_bitbucketServer_x__y=1",
			},
			wantErrs: []string{
				`APP_CONFIG_backend_reading_allow: could not nest config under existing value APP_CONFIG_backend_reading`,
				`APP_CONFIG_integrations_bitbucketServer_x__y: invalid key part ""`,
				`APP_CONFIG_integrations_github_0_token: invalid key part "0": array elements cannot be set from the environment; set the whole array as JSON instead`,
				`APP_CONFIG_integrations_gitlab: value may not be null`,
				`backend.reading: must be an object, got a string`,
			},
		},
		{
			name:    "APP_CONFIG_ refuses to override another variable's value",
			environ: []string{`APP_CONFIG_integrations={"github":[]}`, `APP_CONFIG_integrations_github=[{"host":"github.com"}]`},
			wantErrs: []string{
				`APP_CONFIG_integrations_github: refusing to override existing config set by another variable`,
			},
		},
		{
			name:    "Lookup falls back to Environ",
			files:   map[string]string{"a.yaml": "integrations:\n  bitbucketServer: [{host: a.example.com, token: '${TOKEN}'}]\n"},
			environ: []string{"TOKEN=from-environ", "TOKEN=last-wins"},
			want:    integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{bs("a.example.com", "last-wins")}},
		},

		// Substitutions.
		{
			name:   "${VAR} inside strings, trimmed",
			files:  map[string]string{"a.yaml": "integrations:\n  github:\n    - host: ${HOST}\n      apiBaseUrl: https://${HOST}/api/${ VERSION }\n      token: '  ${TOKEN}  '\n"},
			lookup: map[string]string{"HOST": "ghe.example.com", "VERSION": " v3 ", "TOKEN": "t"},
			want: integrations.Config{GitHub: []integrations.GitHubConfig{
				{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3", Token: secret("  t  ")},
			}},
		},
		{
			name:   "$${VAR} is a literal ${VAR}",
			files:  map[string]string{"a.yaml": "integrations:\n  bitbucketServer:\n    - host: a.example.com\n      token: $${TOKEN}-$$${TOKEN}-$$TOKEN\n"},
			lookup: map[string]string{"TOKEN": "t"},
			want:   integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{bs("a.example.com", "${TOKEN}-$${TOKEN}-$$TOKEN")}},
		},
		{
			// Backstage's config-loader 1.8.0 parameter substitution: the
			// variable's value if set and not blank, else the fallback
			// (both trimmed), else unset.
			name: "${VAR:-fallback}",
			files: map[string]string{"a.yaml": "integrations:\n  bitbucketServer:\n" +
				"    - {host: a.example.com, token: '${UNSET:-fb-a}'}\n" +
				"    - {host: b.example.com, token: '${TOKEN:-fb-b}'}\n" +
				"    - {host: c.example.com, token: '${ BLANK :- fb c }'}\n" +
				"    - {host: d.example.com, token: 'x-${UNSET:-a:-b}-$${UNSET:-c}'}\n" +
				"    - {host: e.example.com, token: '${UNSET:-}'}\n"},
			lookup: map[string]string{"TOKEN": " t ", "BLANK": "  "},
			want: integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{
				bs("a.example.com", "fb-a"), bs("b.example.com", "t"), bs("c.example.com", "fb c"),
				bs("d.example.com", "x-a:-b-${UNSET:-c}"), {Host: "e.example.com"},
			}},
			wantWarnings: []string{`a.yaml: integrations.bitbucketServer[4].token: environment variable "UNSET" is not set; the value is left unset`},
		},
		{
			name: "missing variable leaves the value unset and warns",
			files: map[string]string{"a.yaml": "integrations:\n  bitbucketServer:\n    - host: a.example.com\n      token: ${TOKEN}\n      username: x-${TOKEN}\n" +
				"      credentials:\n        - owners: [ACME, '${OWNER}', '${A}${B}']\n          token: t\n"},
			want: integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
				Host:        "a.example.com",
				Credentials: []integrations.ScopedCredential{{Owners: []string{"ACME"}, Token: secret("t")}},
			}}},
			wantWarnings: []string{
				`a.yaml: integrations.bitbucketServer[0].credentials[0].owners[1]: environment variable "OWNER" is not set; the value is left unset`,
				`a.yaml: integrations.bitbucketServer[0].credentials[0].owners[2]: environment variables "A", "B" are not set; the value is left unset`,
				`a.yaml: integrations.bitbucketServer[0].token: environment variable "TOKEN" is not set; the value is left unset`,
				`a.yaml: integrations.bitbucketServer[0].username: environment variable "TOKEN" is not set; the value is left unset`,
			},
		},
		{
			name: "$env",
			files: map[string]string{"a.yaml": "integrations:\n  bitbucketServer:\n    - {host: a.example.com, token: {$env: TOKEN}}\n" +
				"    - {host: b.example.com, token: {$env: '${NAME}'}}\n    - {host: c.example.com, token: {$env: UNSET}}\n"},
			lookup: map[string]string{"TOKEN": " ta\n", "NAME": "TOKEN_B", "TOKEN_B": "tb"},
			want: integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{
				bs("a.example.com", "ta"), bs("b.example.com", "tb"), {Host: "c.example.com"},
			}},
			wantWarnings: []string{`a.yaml: integrations.bitbucketServer[2].token: environment variable "UNSET" is not set; the value is left unset`},
		},
		{
			name: "$file is relative to the config file's directory",
			files: map[string]string{
				"etc/backstage/app-config.yaml": "integrations:\n  github:\n    - host: github.com\n      token: {$file: secrets/token}\n      apps: [{appId: 1, privateKey: {$file: '${DIR}/key.pem'}}]\n",
				"etc/backstage/secrets/token":   "ta\n\n",
				"abs/key.pem":                   key,
			},
			load:   []string{"etc/backstage/app-config.yaml"},
			lookup: map[string]string{"DIR": "../../abs"},
			want: integrations.Config{GitHub: []integrations.GitHubConfig{{
				Host: "github.com", Token: secret("ta"), Apps: []integrations.GitHubAppConfig{{AppID: 1, PrivateKey: trimmedKey}},
			}}},
		},
		{
			name: "$include with a data path, relative paths inside",
			files: map[string]string{
				"a.yaml":                   "integrations:\n  bitbucketServer: {$include: shared/integrations.yaml#integrations.servers}\n  gitlab: {$include: shared/gitlab.json}\n",
				"shared/integrations.yaml": "integrations:\n  servers:\n    - host: a.example.com\n      token: {$file: token.txt}\n    - host: ${HOST}\n",
				"shared/token.txt":         "ta",
				"shared/gitlab.json":       `[{"host": "gitlab.com", "token": "tg"}]`,
			},
			lookup: map[string]string{"HOST": "b.example.com"},
			want: integrations.Config{
				GitLab:          []integrations.GitLabConfig{{Host: "gitlab.com", Token: secret("tg")}},
				BitbucketServer: []integrations.BitbucketServerConfig{bs("a.example.com", "ta"), {Host: "b.example.com"}},
			},
		},
		{
			name: "include problems",
			files: map[string]string{
				"a.yaml": "integrations:\n  bitbucketServer:\n" +
					"    - {host: h0.example.com, token: {$file: missing.txt}}\n" +
					"    - {host: h1.example.com, token: {$env: TOKEN, other: 1}}\n" +
					"    - {host: h2.example.com, token: {$env: [TOKEN]}}\n" +
					"    - {host: h3.example.com, token: {$file: '${UNSET}'}}\n" +
					"    - {host: h4.example.com, token: {$include: token.txt}}\n" +
					"    - {host: h5.example.com, token: {$include: 'bad.yaml#a.b'}}\n" +
					"  github:\n    - apps: {$include: self.yaml#apps}\n",
				"self.yaml": "apps:\n  a: {$include: self.yaml#apps}\n",
				"bad.yaml":  "a: s3cr3t-not-an-object\n",
			},
			wantErrs: []string{
				`a.yaml: integrations.bitbucketServer[0].token: $file: open missing.txt: file does not exist`,
				`a.yaml: integrations.bitbucketServer[1].token: include key $env should not have adjacent keys`,
				`a.yaml: integrations.bitbucketServer[2].token: $env: value must be a string, got an array`,
				`a.yaml: integrations.bitbucketServer[3].token: $file: the value names a variable that is not set`,
				`a.yaml: integrations.bitbucketServer[4].token: $include: no configuration parser available for included file "token.txt" (want .yaml, .yml or .json)`,
				`a.yaml: integrations.bitbucketServer[5].token: $include: value at "a" in included file "bad.yaml" is not an object`,
				`self.yaml: integrations.github[0].apps.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a: $include: more than 16 nested includes`,
				`integrations.github[0].apps: must be an array, got an object`,
			},
		},
		{
			name: "substitutions outside scmkit's sections are not evaluated",
			files: map[string]string{"a.yaml": "auth:\n  secret: {$file: missing.txt}\n  other: ${UNSET}\n" +
				"catalog:\n  locations: [{$include: missing.yaml}]\nintegrations:\n  azure: [{token: {$env: UNSET}}]\n  github: [{host: github.com}]\n"},
			want: integrations.Config{
				GitHub:      []integrations.GitHubConfig{{Host: "github.com"}},
				Unsupported: []integrations.UnsupportedEntry{{Section: "azure", Path: "integrations.azure[0]", Host: "dev.azure.com"}},
			},
			wantWarnings: []string{
				"a.yaml: integrations.azure: scmkit does not support azure integrations; its entry is ignored, and URLs on dev.azure.com are refused with an error naming this section",
			},
		},

		// Keys.
		{
			name: "unknown keys: sections ignored, keys in entries warned about",
			files: map[string]string{"a.yaml": "app: {title: x}\norganization: {name: acme}\nkubernetes: {clusters: []}\n" +
				"integrations:\n  gerrit: [{host: g.example.com}]\n  awsS3: [{}]\n  googleGcs: {clientEmail: x}\n" +
				"  github: [{host: github.com, tokne: x, 'github.com': y}]\n" +
				"  gitlab: [{host: gitlab.com, commitSigningKey: k, retry: {maxRetries: 3}}]\n"},
			want: integrations.Config{
				GitHub: []integrations.GitHubConfig{{Host: "github.com"}},
				GitLab: []integrations.GitLabConfig{{Host: "gitlab.com", Retry: &integrations.GitLabRetry{MaxRetries: 3}}},
				Unsupported: []integrations.UnsupportedEntry{
					{Section: "awsS3", Path: "integrations.awsS3[0]", Host: "amazonaws.com"},
					{Section: "gerrit", Path: "integrations.gerrit[0]", Host: "g.example.com"},
					{Section: "googleGcs", Path: "integrations.googleGcs", Host: "storage.cloud.google.com"},
				},
			},
			wantWarnings: []string{
				"a.yaml: integrations.github[0].github.com: unknown key, ignored",
				"a.yaml: integrations.github[0].tokne: unknown key, ignored",
				"a.yaml: integrations.awsS3: scmkit does not support awsS3 integrations; its entry is ignored, and URLs on amazonaws.com are refused with an error naming this section",
				"a.yaml: integrations.gerrit: scmkit does not support gerrit integrations; its entry is ignored, and URLs on g.example.com are refused with an error naming this section",
				"a.yaml: integrations.googleGcs: scmkit does not support googleGcs integrations; its entry is ignored, and URLs on storage.cloud.google.com are refused with an error naming this section",
			},
		},
		{
			name: "keys and hosts with dots, ports and colons are never split",
			files: map[string]string{"a.yaml": "'integrations.github': [{host: dotted-key.example.com}]\n" +
				"'integrations::github': [{host: delimiter-key.example.com}]\n" +
				"integrations:\n  'github.com': [{host: x}]\n  github:\n" +
				"    - host: git.example.com:8443\n      apiBaseUrl: https://git.example.com:8443/api/v3\n" +
				"    - host: '[::1]:8443'\n      apiBaseUrl: 'https://[::1]:8443/api/v3'\n" +
				"backend:\n  reading:\n    allow:\n      - host: '*.example.org:8080'\n        paths: ['/a.b/c::d/']\n"},
			want: integrations.Config{
				GitHub: []integrations.GitHubConfig{
					{Host: "git.example.com:8443", APIBaseURL: "https://git.example.com:8443/api/v3"},
					{Host: "[::1]:8443", APIBaseURL: "https://[::1]:8443/api/v3"},
				},
				ReadingAllow: []integrations.ReadingAllow{{Host: "*.example.org:8080", Paths: []string{"/a.b/c::d/"}}},
			},
			wantWarnings: []string{"a.yaml: integrations.github.com: unknown integration section, ignored"},
		},

		// Types.
		{
			name: "numbers",
			files: map[string]string{
				"a.yaml": "integrations:\n  github:\n    - host: github.com\n      apps:\n" +
					"        - {appId: 1, privateKey: {$file: k.pem}}\n        - {appId: '2', privateKey: {$file: k.pem}}\n" +
					"        - {appId: ' 3 ', privateKey: {$file: k.pem}}\n        - {appId: 4.0, privateKey: {$file: k.pem}}\n" +
					"        - {appId: abc}\n        - {appId: 1.5}\n        - {appId: true}\n        - {appId: 99999999999999999999}\n" +
					"        - {appId: [1]}\n        - {appId: 'a very long value that is not shown in the error message at all'}\n",
				"k.pem": key,
			},
			wantErrs: []string{
				`integrations.github[0].apps[4].appId: must be a number, got a string`,
				`integrations.github[0].apps[5].appId: must be a number, got 1.5`,
				`integrations.github[0].apps[6].appId: must be a number, got true`,
				`integrations.github[0].apps[7].appId: must be a number, got 1e+20`,
				`integrations.github[0].apps[8].appId: must be a number, got an array`,
				`integrations.github[0].apps[9].appId: must be a number, got a string`,
				// The registry's own checks: the apps above have no key.
				privateKeyRequired(4), privateKeyRequired(5), privateKeyRequired(6), privateKeyRequired(7),
				privateKeyRequired(8), privateKeyRequired(9),
			},
		},
		{
			name: "numbers that are valid",
			files: map[string]string{
				"a.yaml": "integrations:\n  github:\n    - host: github.com\n      apps:\n" +
					"        - {appId: 1, privateKey: {$file: k.pem}}\n        - {appId: '2', privateKey: {$file: k.pem}}\n" +
					"        - {appId: ' 3 ', privateKey: {$file: k.pem}}\n        - {appId: 4.0, privateKey: {$file: k.pem}}\n",
				"k.pem": key,
			},
			want: integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "github.com", Apps: []integrations.GitHubAppConfig{
				{AppID: 1, PrivateKey: trimmedKey}, {AppID: 2, PrivateKey: trimmedKey}, {AppID: 3, PrivateKey: trimmedKey}, {AppID: 4, PrivateKey: trimmedKey},
			}}}},
		},
		{
			name: "booleans and string lists",
			files: map[string]string{
				"a.yaml": "integrations:\n  github:\n    - host: github.com\n      apps:\n" +
					"        - {appId: 1, privateKey: {$file: k.pem}, publicAccess: true, allowedInstallationOwners: [acme, Acme-Labs]}\n" +
					"        - {appId: 2, privateKey: {$file: k.pem}, publicAccess: 'true'}\n" +
					"        - {appId: 3, privateKey: {$file: k.pem}, publicAccess: 'yes', allowedInstallationOwners: acme}\n" +
					"        - {appId: 4, privateKey: {$file: k.pem}, publicAccess: 1, allowedInstallationOwners: [acme, 7, '', null]}\n",
				"k.pem": key,
			},
			wantErrs: []string{
				`integrations.github[0].apps[2].allowedInstallationOwners: must be an array of strings, got a string`,
				`integrations.github[0].apps[2].publicAccess: must be a boolean (true or false), got a string`,
				`integrations.github[0].apps[3].allowedInstallationOwners[1]: must be a non-empty string, got a number`,
				`integrations.github[0].apps[3].allowedInstallationOwners[2]: must be a non-empty string, got an empty string`,
				`integrations.github[0].apps[3].allowedInstallationOwners[3]: must be a non-empty string, got null`,
				`integrations.github[0].apps[3].publicAccess: must be a boolean (true or false), got 1`,
			},
		},
		{
			name: "booleans and string lists that are valid",
			files: map[string]string{
				"a.yaml": "integrations:\n  github:\n    - host: github.com\n      apps:\n" +
					"        - {appId: 1, privateKey: {$file: k.pem}, publicAccess: true, allowedInstallationOwners: [acme, Acme-Labs]}\n" +
					"        - {appId: 2, privateKey: {$file: k.pem}, publicAccess: 'true', allowedInstallationOwners: []}\n" +
					"        - {appId: 3, privateKey: {$file: k.pem}, publicAccess: false}\n",
				"k.pem": key,
			},
			want: integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "github.com", Apps: []integrations.GitHubAppConfig{
				{AppID: 1, PrivateKey: trimmedKey, PublicAccess: true, AllowedInstallationOwners: []string{"acme", "Acme-Labs"}},
				{AppID: 2, PrivateKey: trimmedKey, PublicAccess: true, AllowedInstallationOwners: []string{}},
				{AppID: 3, PrivateKey: trimmedKey},
			}}}},
		},
		{
			name: "secrets of the wrong type are reported without their value",
			files: map[string]string{"a.yaml": "integrations:\n  github:\n    - {host: github.com, token: 123456789}\n" +
				"  bitbucketServer:\n    - {host: b.example.com, password: [s3cr3t], credentials: [{owners: [P], token: {s3cr3t: 1}}]}\n"},
			wantErrs: []string{
				`integrations.bitbucketServer[0].credentials[0].token: must be a string, got an object`,
				`integrations.bitbucketServer[0].password: must be a string, got an array`,
				`integrations.github[0].token: must be a string, got a number`,
			},
		},
		{
			name: "sections of the wrong type",
			files: map[string]string{"a.yaml": "integrations:\n  github: {host: github.com}\n  gitlab: [gitlab.com]\n  bitbucketCloud: [null]\n" +
				"backend: {reading: [allow]}\n"},
			wantErrs: []string{
				`integrations.bitbucketCloud[0]: must be an object, got null`,
				`integrations.github: must be an array, got an object`,
				`integrations.gitlab[0]: must be an object, got a string`,
				`backend.reading: must be an object, got an array`,
			},
		},
		{
			name:     "root of the wrong type",
			files:    map[string]string{"a.yaml": "integrations: [github]\nbackend: 7\n"},
			wantErrs: []string{`integrations: must be an object, got an array`, `backend: must be an object, got a number`},
		},
		{
			name: "registry validation errors are reported with decoding errors",
			files: map[string]string{"a.yaml": "integrations:\n  github:\n    - {host: ghe.example.com, token: 1}\n" +
				"  gitlab:\n    - {host: Git.Example.com}\n"},
			wantErrs: []string{
				`integrations.github[0].token: must be a string, got a number`,
				`integrations.gitlab[0].host: "Git.Example.com" is not a valid host: it must be lower-case`,
			},
		},
		{
			name:  "registry warnings are passed on",
			files: map[string]string{"a.yaml": "integrations:\n  bitbucketCloud: [{username: bot, appPassword: p, tokne: x}]\n"},
			want: integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{
				{Username: "bot", AppPassword: secret("p")},
			}},
			wantWarnings: []string{
				"a.yaml: integrations.bitbucketCloud[0].tokne: unknown key, ignored",
				"a.yaml: integrations.bitbucketCloud[0].appPassword: " + integrations.AppPasswordWarning,
			},
		},
		{
			name: "every problem of every file at once",
			files: map[string]string{
				"a.yaml": "integrations:\n  github: [{host: github.com, token: {$file: nope}}]\n",
				"b.yaml": "integrations:\n  gitlab: [{host: 1}]\n  bitbucketServer: [{host: b.example.com, token: {$env: T, x: 1}}]\nbackend: {reading: {allow: [{host: 2}]}}\n",
			},
			environ: []string{"APP_CONFIG_integrations_bitbucketCloud_0=x"},
			wantErrs: []string{
				`a.yaml: integrations.github[0].token: $file: open nope: file does not exist`,
				`b.yaml: integrations.bitbucketServer[0].token: include key $env should not have adjacent keys`,
				`APP_CONFIG_integrations_bitbucketCloud_0: invalid key part "0": array elements cannot be set from the environment; set the whole array as JSON instead`,
				`integrations.gitlab[0].host: must be a string, got a number`,
				`backend.reading.allow[0].host: must be a string, got a number`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := tt.load
			if load == nil {
				for _, name := range []string{"a.yaml", "b.yaml"} {
					if _, ok := tt.files[name]; ok {
						load = append(load, name)
					}
				}
			}
			opts := &Options{ReadFile: mapFS(tt.files), Environ: tt.environ}
			if tt.lookup != nil {
				opts.Lookup = lookupMap(tt.lookup)
			}
			cfg, err := Load(t.Context(), opts, load...)
			if diff := cmp.Diff(tt.wantErrs, problems(t, err), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("problems mismatch (-want +got):\n%s", diff)
			}
			if err != nil {
				if cfg != nil {
					t.Errorf("Load returned a config and an error")
				}
				return
			}
			if diff := cmp.Diff(tt.want, cfg.Integrations, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Integrations mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarnings, cfg.Warnings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
