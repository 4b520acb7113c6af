package identity

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
)

func TestResolversFromConfigEnvironment(t *testing.T) {
	const twoEnvs = `
auth:
  environment: ${AUTH_ENV}
  providers:
    github:
      development:
        signIn: {resolvers: [{resolver: usernameMatchingUserEntityName}]}
      production:
        signIn: {resolvers: [{resolver: usernameMatchingUserEntityName}]}
    oidc:
      production:
        clientId: x
`
	tests := []struct {
		name, yaml, env string
		want            []string // in the error; none: no error
		resolvers       int
	}{
		{"served", twoEnvs, "production", nil, 1},
		{"a provider without signIn is not an error", "auth:\n  providers:\n    oidc:\n      production:\n        clientId: x\n", "production", nil, 0},
		{"no providers", "auth:\n  environment: production\n", "production", nil, 0},
		{"no auth at all", "app:\n  title: x\n", "production", nil, 0},
		{"misspelt", twoEnvs, "prodution", []string{`environment "prodution"`, `environments "development", "production"`}, 0},
		{"empty env from an unset variable", twoEnvs, "", []string{`environment ""`, "auth.environment is empty (the environment does not set AUTH_ENV)"}, 0},
		{"providers with no environment", "auth:\n  providers:\n    guest: {}\n", "production", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.LoadBytes(t.Context(), &config.Options{Lookup: func(string) (string, bool) { return "", false }}, []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			rs, err := ResolversFromConfig(cfg, tt.env, nil, NewSnapshotCatalog(snapshot()), nil)
			if len(tt.want) == 0 {
				if err != nil || len(rs) != tt.resolvers {
					t.Fatalf("= %v, %v; want %d resolvers", rs, err, tt.resolvers)
				}
				return
			}
			if errcode.CodeOf(err) != errcode.InvalidArgument || rs != nil {
				t.Fatalf("= %v, %v; want InvalidArgument", rs, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// A signIn block made invalid by an unset variable names it.
func TestResolversFromConfigNamesUnsetVariables(t *testing.T) {
	cfg, err := config.LoadBytes(t.Context(), &config.Options{Lookup: func(n string) (string, bool) { return "", false }}, []byte(`
auth:
  providers:
    github:
      production:
        signIn:
          resolvers:
            - resolver: emailLocalPartMatchingUserEntityName
              allowedDomains: ["${CORP_EMAIL_DOMAIN}"]
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ResolversFromConfig(cfg, "production", nil, NewSnapshotCatalog(snapshot()), nil)
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "auth.providers.github.production.signIn (the environment does not set CORP_EMAIL_DOMAIN)") {
		t.Fatalf("err = %v", err)
	}
}
