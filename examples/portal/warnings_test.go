package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/config"
)

// TestConfigWarningsAreKept: the warnings of auth.Config.NewHandler (an
// environment it does not serve, a provider it does not build) reach
// deps.warnings, which start logs, instead of being dropped.
func TestConfigWarningsAreKept(t *testing.T) {
	doc := `
app:
  baseUrl: http://127.0.0.1:3000
auth:
  environment: development
  session:
    secret: a-session-secret-of-the-test-portal-32b
  providers:
    github:
      development: {clientId: dev, clientSecret: dev-secret}
      production: {clientId: prod, clientSecret: prod-secret}
    saml:
      development: {entryPoint: https://idp.example.com/sso}
`
	cfg, err := config.LoadBytes(t.Context(), nil, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	d, err := depsFromConfig(cfg, "http://127.0.0.1:7007", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"auth.providers.github.production: not served", "auth.providers.saml:"} {
		if !slices.ContainsFunc(d.warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("no warning %q in %q", want, d.warnings)
		}
	}
	for _, w := range d.warnings {
		if strings.Contains(w, "prod-secret") || strings.Contains(w, "dev-secret") {
			t.Errorf("a warning shows a secret: %q", w)
		}
	}
}
