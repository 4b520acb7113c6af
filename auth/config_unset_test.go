package auth_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
)

// loadUnset loads doc with only the variables in env set, and decodes
// its auth section as the README does.
func loadUnset(t *testing.T, doc string, env map[string]string) auth.Config {
	t.Helper()
	cfg, err := config.LoadBytes(t.Context(), &config.Options{Lookup: func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}}, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var ac auth.Config
	if err := cfg.Decode("auth", &ac); err != nil {
		t.Fatal(err)
	}
	return ac
}

// An empty required key names the unset variable behind it, never a
// value, and the unset variables of the section are warnings.
func TestNewHandlerNamesUnsetVariables(t *testing.T) {
	const doc = `
auth:
  environment: production
  session:
    secret: ${AUTH_SESSION_SECRET}
  providers:
    github:
      production:
        clientId: ${AUTH_GITHUB_CLIENT_ID}
        clientSecret: ${AUTH_GITHUB_CLIENT_SECRET}
`
	const secretValue = "a-session-secret-of-32-characters"
	for _, tc := range []struct {
		name     string
		env      map[string]string
		wantErr  []string
		notInErr []string
	}{
		{"secret unset", map[string]string{"AUTH_GITHUB_CLIENT_ID": "id", "AUTH_GITHUB_CLIENT_SECRET": "cs-value"},
			[]string{"auth.session.secret", "the environment does not set AUTH_SESSION_SECRET)"}, []string{"cs-value", "AUTH_GITHUB"}},
		{"client secret unset", map[string]string{"AUTH_SESSION_SECRET": secretValue, "AUTH_GITHUB_CLIENT_ID": "id"},
			[]string{"auth.providers.github.production", "clientId and clientSecret are required", "(the environment does not set AUTH_GITHUB_CLIENT_SECRET)"},
			[]string{secretValue, "AUTH_SESSION_SECRET"}},
		{"both client keys unset", map[string]string{"AUTH_SESSION_SECRET": secretValue},
			[]string{"(the environment does not set AUTH_GITHUB_CLIENT_ID, AUTH_GITHUB_CLIENT_SECRET)"}, []string{secretValue}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ac := loadUnset(t, doc, tc.env)
			_, _, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"})
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
			msg := fmt.Sprintf("%v %+v", err, err)
			for _, w := range tc.wantErr {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, w := range tc.notInErr {
				if strings.Contains(msg, w) {
					t.Errorf("error %q shows %q", err, w)
				}
			}
		})
	}

	// Set up so that NewHandler succeeds: the unset variables of a
	// provider it does not serve are warnings.
	const doc2 = doc + `    gitlab:
      production:
        clientId: gl
        clientSecret: gl-secret
        audience: ${GITLAB_URL:-https://gitlab.com}
      development:
        clientId: ${DEV_ID}
`
	ac := loadUnset(t, doc2, map[string]string{"AUTH_SESSION_SECRET": secretValue, "AUTH_GITHUB_CLIENT_ID": "id", "AUTH_GITHUB_CLIENT_SECRET": "cs"})
	_, warnings, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, w := range warnings {
		if strings.Contains(w, "the environment does not set DEV_ID") {
			found = true
		}
		if strings.Contains(w, "GITLAB_URL") {
			t.Errorf("warning about a variable with a fallback: %q", w)
		}
	}
	if !found {
		t.Errorf("warnings %q do not name DEV_ID", warnings)
	}
}

// A Config decoded by another decoder (json, a test) keeps the old
// message.
func TestNewHandlerSecretRequiredWithoutDecoder(t *testing.T) {
	var ac auth.Config
	_, _, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"})
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "auth.session.secret: is required") {
		t.Fatalf("err = %v", err)
	}
}
