package config

import (
	"slices"
	"strings"
	"testing"
)

// receiver records what Decode tells it.
type receiver struct {
	Environment string `json:"environment"`
	unset       func(string) []string
}

func (r *receiver) SetUnsetVariables(f func(string) []string) { r.unset = f }

func TestUnsetVariables(t *testing.T) {
	doc := []byte(`
auth:
  environment: production
  session:
    secret: ${AUTH_SESSION_SECRET}
  providers:
    github:
      production:
        clientId: ${GH_ID:-}
        clientSecret: {$env: GH_SECRET}
backend:
  cache:
    store: redis
    connection: redis://:${REDIS_PASSWORD}@redis.internal:6379/${REDIS_DB}
    encryptionKey: ${CACHE_KEY}
catalog:
  providers:
    githubOrg:
      id: production
      orgs: [acme]
`)
	lookup := map[string]string{"CACHE_KEY": "set-value-must-not-show"}
	cfg, err := LoadBytes(t.Context(), &Options{Lookup: lookupMap(lookup)}, doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"auth.session.secret", []string{"AUTH_SESSION_SECRET"}},
		{"auth.session", []string{"AUTH_SESSION_SECRET"}},
		{"auth", []string{"AUTH_SESSION_SECRET", "GH_ID", "GH_SECRET"}},
		{"auth.providers.github.production", []string{"GH_ID", "GH_SECRET"}},
		{"auth.providers.github.production.clientSecret", []string{"GH_SECRET"}},
		{"backend.cache.connection", []string{"REDIS_DB", "REDIS_PASSWORD"}},
		{"backend.cache", []string{"REDIS_DB", "REDIS_PASSWORD"}},
		{"backend.cache.encryptionKey", nil},
		{"catalog.providers.githubOrg", nil},
		{"permission", nil},
	} {
		if got := cfg.UnsetVariables(tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("UnsetVariables(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	var nilCfg *Config
	if got := nilCfg.UnsetVariables("auth"); got != nil {
		t.Errorf("nil Config: %q", got)
	}

	// Decode tells a receiver, limited to the block it decoded.
	var r receiver
	if err := cfg.Decode("auth", &r); err != nil {
		t.Fatal(err)
	}
	if r.unset == nil {
		t.Fatal("Decode did not call SetUnsetVariables")
	}
	if got := r.unset("auth.session.secret"); !slices.Equal(got, []string{"AUTH_SESSION_SECRET"}) {
		t.Errorf("receiver: %q", got)
	}
	if got := r.unset("backend.cache"); got != nil {
		t.Errorf("receiver of auth knows backend.cache: %q", got)
	}
}

// A block whose every value is an unset variable is absent, and its
// receiver is still told.
func TestUnsetVariablesAbsentBlock(t *testing.T) {
	cfg, err := LoadBytes(t.Context(), &Options{Lookup: lookupMap(nil)}, []byte("auth:\n  session:\n    secret: ${AUTH_SESSION_SECRET}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var r receiver
	if err := cfg.Decode("auth", &r); err != nil {
		t.Fatal(err)
	}
	if r.unset == nil || !slices.Equal(r.unset("auth.session.secret"), []string{"AUTH_SESSION_SECRET"}) {
		t.Fatalf("receiver not told of AUTH_SESSION_SECRET")
	}
	if ws := cfg.SectionWarnings("auth"); len(ws) != 1 || !strings.Contains(ws[0], `"AUTH_SESSION_SECRET"`) {
		t.Errorf("SectionWarnings = %q", ws)
	}
}

// TestUnsetVariablesSetLater: a value an unset variable left empty in one
// file but that a later file or the APP_CONFIG_ overlay sets is not
// reported (Backstage's usual layering: ${VAR} in app-config.yaml, a
// literal in app-config.production.yaml; an array a later file replaces
// whole); one nothing sets still is, array elements included.
func TestUnsetVariablesSetLater(t *testing.T) {
	base := []byte("catalog:\n  providers:\n    githubOrg:\n      id: production\n      githubUrl: ${GHE_URL}\n      orgs:\n        - \"${ORG}\"\n        - \"${ORG2}\"\n" +
		"auth:\n  session:\n    secret: ${AUTH_SESSION_SECRET}\n")
	prod := []byte("catalog:\n  providers:\n    githubOrg:\n      githubUrl: https://ghe.example.com\n      orgs: [acme]\n")
	for _, tc := range []struct {
		name    string
		opts    *Options
		docs    [][]byte
		path    string
		want    []string
		wantNot string
	}{
		{"later file", &Options{Lookup: lookupMap(nil)}, [][]byte{base, prod}, "catalog.providers.githubOrg", nil, "GHE_URL"}, // orgs replaced whole
		{"overlay", &Options{Lookup: lookupMap(nil), Environ: []string{"APP_CONFIG_auth_session_secret=s3cr3t-value-long-enough-0123456789"}},
			[][]byte{base}, "auth", nil, "AUTH_SESSION_SECRET"},
		{"nothing sets it", &Options{Lookup: lookupMap(nil)}, [][]byte{base}, "catalog.providers.githubOrg", []string{"GHE_URL", "ORG", "ORG2"}, ""},
		{"a key with a dot", &Options{Lookup: lookupMap(nil)}, [][]byte{
			[]byte("catalog:\n  providers:\n    githubOrg:\n      ghe.acme.com:\n        githubUrl: ${GHE_URL}\n"),
			[]byte("catalog:\n  providers:\n    githubOrg:\n      ghe.acme.com:\n        githubUrl: https://ghe.acme.com\n")},
			"catalog.providers.githubOrg", nil, "GHE_URL"},
		{"a later sibling only", &Options{Lookup: lookupMap(nil)}, [][]byte{base,
			[]byte("catalog:\n  providers:\n    githubOrg:\n      id: other\n")}, "catalog.providers.githubOrg", []string{"GHE_URL", "ORG", "ORG2"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadBytes(t.Context(), tc.opts, tc.docs...)
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.UnsetVariables(tc.path)
			if !slices.Equal(got, tc.want) {
				t.Errorf("UnsetVariables(%q) = %v, want %v", tc.path, got, tc.want)
			}
			if tc.wantNot != "" && slices.Contains(got, tc.wantNot) {
				t.Errorf("%s is reported though a later value sets it", tc.wantNot)
			}
		})
	}
}
