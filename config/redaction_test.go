package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

// Every secret in testdata/config and in the tests' environments contains
// this marker, so one search finds any leak.
const secretMarker = "s3cr3t"

func TestSecretsNeverShown(t *testing.T) {
	env := map[string]string{}
	for k, v := range testEnv {
		env[k] = v
	}
	env["GITLAB_TOKEN"] = "s3cr3t-gitlab-token"
	cfg, err := Load(t.Context(), &Options{Lookup: lookupMap(env), ReadFile: readFileWithKey(t)},
		filepath.Join(testdata, "app-config.yaml"), filepath.Join(testdata, "app-config.production.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// The secrets were loaded...
	if got := cfg.Integrations.GitHub[0].Token.Reveal(); !strings.Contains(got, secretMarker) {
		t.Fatalf("github token = %q; want the configured secret", got)
	}

	// ...and no way of printing the config shows them.
	var logged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("loaded", "config", cfg, "integrations", cfg.Integrations, "token", cfg.Integrations.GitHub[0].Token)
	logger.Info("loaded", slog.Any("github", cfg.Integrations.GitHub), slog.Any("app", cfg.Integrations.GitHub[0].Apps[0]))
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("loaded", "config", cfg.Integrations, "token", cfg.Integrations.GitLab[0].Token)

	tok := cfg.Integrations.GitHub[0].Apps[0].PrivateKey
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	outputs := map[string]string{
		"%v":                 fmt.Sprintf("%v", cfg),
		"%+v":                fmt.Sprintf("%+v", cfg),
		"%#v":                fmt.Sprintf("%#v", cfg),
		"%v value":           fmt.Sprintf("%v", *cfg),
		"%+v value":          fmt.Sprintf("%+v", *cfg),
		"%#v value":          fmt.Sprintf("%#v", *cfg),
		"%s %q %x %d secret": fmt.Sprintf("%s %q %x %d", tok, tok, tok, tok),
		"%+v integ":          fmt.Sprintf("%+v", cfg.Integrations),
		"%#v integ":          fmt.Sprintf("%#v", cfg.Integrations),
		"json":               string(js),
		"slog json":          logged.String(),
		"slog text":          text.String(),
		"warnings":           strings.Join(cfg.Warnings, "\n"),
		"%+v registry":       fmt.Sprintf("%+v", cfg.Registry.List()),
		"%#v registry[0]":    fmt.Sprintf("%#v", cfg.Registry.List()[0]),
	}
	// A line from the middle of the private key.
	keyLines := strings.Split(privateKey(t), "\n")
	keyLine := keyLines[len(keyLines)/2]
	for name, out := range outputs {
		if strings.Contains(out, secretMarker) || strings.Contains(out, keyLine) || strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("%s shows a secret:\n%s", name, out)
		}
		if !strings.Contains(out, "[redacted]") && name != "warnings" && !strings.Contains(name, "registry") {
			t.Errorf("%s does not show [redacted]; is the secret printed at all?\n%s", name, out)
		}
	}
}

func TestErrorsNeverShowSecrets(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		environ []string
	}{
		{name: "scalar document", files: map[string]string{"a.yaml": "s3cr3t-whole-document\n"}},
		{name: "scalar in a list document", files: map[string]string{"a.yaml": "[s3cr3t-a, s3cr3t-b]\n"}},
		{name: "syntax error next to a secret", files: map[string]string{"a.yaml": "integrations:\n  github:\n    - token: \"s3cr3t-unterminated\n"}},
		{name: "secret of the wrong type", files: map[string]string{"a.yaml": "integrations:\n  github:\n    - token: [s3cr3t-in-list]\n      apps: [{privateKey: {k: s3cr3t}, clientSecret: 12345}]\n"}},
		{name: "secret where a number belongs", files: map[string]string{"a.yaml": "integrations:\n  github:\n    - apps: [{appId: s3cr3t-app-id-that-is-a-token-of-some-length}]\n"}},
		{name: "included file with a secret", files: map[string]string{
			"a.yaml": "integrations:\n  github:\n    - token: {$include: 'b.yaml#x.y'}\n",
			"b.yaml": "x: s3cr3t-scalar\n",
		}},
		{name: "included file that does not parse", files: map[string]string{
			"a.yaml": "integrations:\n  github: {$include: b.yaml}\n",
			"b.yaml": "- s3cr3t: \"unterminated\n",
		}},
		{name: "environment", environ: []string{
			"APP_CONFIG_integrations_github_0_token=s3cr3t-env",
			"APP_CONFIG_integrations_gitlab=s3cr3t-not-json",
			`APP_CONFIG_integrations_bitbucketServer=[{"token":{"s3cr3t":1}}]`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := []string{}
			if _, ok := tt.files["a.yaml"]; ok {
				load = append(load, "a.yaml")
			}
			_, err := Load(t.Context(), &Options{ReadFile: mapFS(tt.files), Environ: tt.environ}, load...)
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(s, secretMarker) {
					t.Errorf("error shows a secret: %s", s)
				}
			}
		})
	}
}
