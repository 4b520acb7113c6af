package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

func TestDecodeSections(t *testing.T) {
	doc := []byte(`
app:
  baseUrl: https://portal.example.com
  title: ignored
auth:
  environment: development
  session:
    secret: ${SESSION_SECRET}
  providers:
    github:
      development:
        clientId: abc
        clientSecret: ${GITHUB_CLIENT_SECRET}
    gitlab:
      development:
        clientId: 12
        clientSecret: {$file: missing-secret.txt}
catalog:
  locations: [{type: url, target: "${NOT_READ}"}]
  providers:
    githubOrg:
      id: production
      orgs: [acme]
techdocs:
  builder: ${NOT_READ_EITHER}
`)
	lookup := map[string]string{"SESSION_SECRET": "s3cr3t-session", "GITHUB_CLIENT_SECRET": "s3cr3t-client"}
	cfg, err := LoadBytes(t.Context(), &Options{Lookup: lookupMap(lookup), ReadFile: mapFS(nil)}, doc)
	if err != nil {
		t.Fatalf("Load: %v (a problem in a kept section must not refuse the file)", err)
	}
	for _, w := range cfg.Warnings {
		if strings.Contains(w, "NOT_READ") {
			t.Errorf("warning about a section scmkit does not read: %s", w)
		}
	}

	var app struct {
		BaseURL string `json:"baseUrl"`
		Title   string `json:"title"`
	}
	if err := cfg.Decode("app", &app); err != nil {
		t.Fatal(err)
	}
	if app.BaseURL != "https://portal.example.com" || app.Title != "" {
		t.Errorf("app = %+v, want only baseUrl kept", app)
	}

	type provider struct {
		ClientID     string              `json:"clientId"`
		ClientSecret integrations.Secret `json:"clientSecret"`
	}
	var gh map[string]provider
	if err := cfg.Decode("auth.providers.github", &gh); err != nil {
		t.Fatal(err)
	}
	if got := gh["development"]; got.ClientID != "abc" || got.ClientSecret.Reveal() != "s3cr3t-client" {
		t.Errorf("github provider = %v / %q", got.ClientID, got.ClientSecret.Reveal())
	}
	if s := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg); strings.Contains(s, "s3cr3t") {
		t.Errorf("printing the Config shows a secret: %s", s)
	}

	// The gitlab block has a failed $file: decoding it (or anything
	// containing it) reports the problem; its sibling decodes.
	var gl map[string]provider
	err = cfg.Decode("auth.providers.gitlab", &gl)
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "auth.providers.gitlab.development.clientSecret") {
		t.Errorf("Decode(gitlab) = %v, want InvalidArgument naming the path", err)
	}
	if err := cfg.Decode("auth", new(map[string]any)); err == nil {
		t.Error("Decode(auth) succeeded despite a problem inside it")
	}

	// A value of the wrong type names the full path and not the value.
	var wrong struct {
		Providers map[string]map[string]struct {
			ClientID int `json:"clientId"`
		} `json:"providers"`
	}
	cfg2, err := LoadBytes(t.Context(), nil, []byte("auth:\n  providers:\n    github:\n      development:\n        clientId: s3cr3t-in-the-wrong-key\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg2.Decode("auth", &wrong)
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "auth.providers.github.development.clientId") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("Decode with a wrong type = %v", err)
	}

	var orgs struct {
		Orgs []string `json:"orgs"`
	}
	if err := cfg.Decode("catalog.providers.githubOrg", &orgs); err != nil || len(orgs.Orgs) != 1 {
		t.Errorf("catalog.providers.githubOrg = %v, %v", orgs, err)
	}
	if cfg.Has("catalog.locations") || !cfg.Has("auth.providers.github") || cfg.Has("auth.providers.microsoft") {
		t.Error("Has reports sections wrongly")
	}
	if err := cfg.Decode("auth.providers.microsoft", &gh); err != nil {
		t.Errorf("Decode of an absent path = %v, want nil", err)
	}
	if ws := cfg.SectionWarnings("auth"); len(ws) != 0 {
		t.Errorf("SectionWarnings(auth) = %q, want none", ws)
	}
	cfg3, err := LoadBytes(t.Context(), nil, []byte("auth:\n  session:\n    secret: ${UNSET_SESSION}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ws := cfg3.SectionWarnings("auth.session"); len(ws) != 1 || !strings.Contains(ws[0], "UNSET_SESSION") {
		t.Errorf("SectionWarnings = %q", ws)
	}
	if len(cfg3.Warnings) != 0 {
		t.Errorf("Warnings = %q, want the section's warnings kept apart", cfg3.Warnings)
	}
}
