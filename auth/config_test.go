package auth_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

var configSecrets = map[string]string{
	"AUTH_SESSION_SECRET": "a-session-secret-of-32-characters",
	"AZURE_TENANT_ID":     "11111111-2222-3333-4444-555555555555",
}

func loadAuth(t *testing.T, doc []byte) (*config.Config, auth.Config) {
	t.Helper()
	cfg, err := config.LoadBytes(t.Context(), &config.Options{Lookup: func(name string) (string, bool) {
		if v, ok := configSecrets[name]; ok {
			return v, true
		}
		return "value-of-" + name, true
	}}, doc)
	if err != nil {
		t.Fatal(err)
	}
	var ac auth.Config
	if err := cfg.Decode("auth", &ac); err != nil {
		t.Fatal(err)
	}
	return cfg, ac
}

func TestBackstageAuthSectionLoadsUnchanged(t *testing.T) {
	doc, err := os.ReadFile("../testdata/auth/app-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, ac := loadAuth(t, doc)
	var appBase string
	if err := cfg.Decode("app.baseUrl", &appBase); err != nil || appBase != "https://portal.example.com" {
		t.Fatalf("app.baseUrl = %q, %v", appBase, err)
	}
	if ac.Environment != "development" || ac.Session.Secret.Reveal() != configSecrets["AUTH_SESSION_SECRET"] {
		t.Fatalf("environment/secret not decoded: %+v", ac)
	}
	gh, ok, err := ac.Provider("github", "production")
	if !ok || err != nil || gh.EnterpriseInstanceURL != "https://ghe.example.com" || gh.ClientSecret.Reveal() != "value-of-AUTH_GITHUB_CLIENT_SECRET" {
		t.Fatalf("github.production = %+v, %v, %v", gh, ok, err)
	}
	dev, _, _ := ac.Provider("github", "development")
	if !slices.Equal(dev.AdditionalScopes, auth.Scopes{"user:email", "read:org"}) || dev.SignIn.Resolvers[0]["resolver"] != "usernameMatchingUserEntityName" {
		t.Fatalf("github.development = %+v", dev)
	}
	if gl, _, _ := ac.Provider("gitlab", "development"); !slices.Equal(gl.AdditionalScopes, auth.Scopes{"read_api"}) || gl.Audience != "https://gitlab.example.com" {
		t.Fatalf("gitlab.development = %+v", gl)
	}
	h, warnings, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth", AppURL: appBase})
	if err != nil {
		t.Fatal(err)
	}
	// Only auth.environment (development) is served, as in Backstage:
	// production's github is skipped, with a warning naming it; guest is
	// not a provider scmkit builds; okta is.
	if h == nil || len(warnings) != 2 || !strings.Contains(warnings[0], "auth.providers.github.production: not served") ||
		!strings.Contains(warnings[1], "auth.providers.guest") {
		t.Fatalf("warnings = %q", warnings)
	}
	if s := h.String(); !strings.Contains(s, "github.development") || !strings.Contains(s, "okta.development") || strings.Contains(s, "production") {
		t.Fatalf("handler = %s", s)
	}
	h, warnings, err = ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth", AppURL: appBase, ServeAllEnvironments: true})
	if err != nil || len(warnings) != 1 || !strings.Contains(h.String(), "github.production") {
		t.Fatalf("ServeAllEnvironments: %v, %q, %v", h, warnings, err)
	}
	// Nothing in the handler or its errors shows a secret.
	for _, v := range []string{ac.Session.Secret.String(), gh.ClientSecret.String()} {
		if strings.Contains(v, "value-of") || strings.Contains(v, "32-characters") {
			t.Fatalf("a secret shows: %s", v)
		}
	}
}

func TestConfigProblems(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"NoSecret", "auth:\n  providers:\n    github:\n      development:\n        clientId: x\n        clientSecret: y\n", "auth.session.secret: is required to sign users in (it is empty: if it is a ${VAR}, the variable is unset or config.Options has no Lookup)"},
		{"ShortSecret", "auth:\n  session:\n    secret: short\n", "at least 16"},
		{"GitHubWithoutClientSecret", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    github:\n      development:\n        clientId: x\n", "auth.providers.github.development: clientId and clientSecret are required"},
		{"OIDCWithoutMetadata", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    oidc:\n      development:\n        clientId: x\n        clientSecret: y\n", "metadataUrl is required"},
		{"MicrosoftWithoutTenant", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    microsoft:\n      development:\n        clientId: x\n        clientSecret: y\n", "tenantId is required"},
		{"MicrosoftBadAllowedTenant", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    microsoft:\n      development:\n        clientId: x\n        clientSecret: y\n        tenantId: organizations\n        allowedTenants: ['../t1']\n", "allowedTenants must hold tenant ids"},
		{"MicrosoftTenantDomain", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    microsoft:\n      development:\n        clientId: x\n        clientSecret: y\n        tenantId: organizations\n        allowedTenants: [contoso.onmicrosoft.com]\n", "not domain names"},
		{"AllowedTenantsOnOIDC", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    oidc:\n      development:\n        clientId: x\n        clientSecret: y\n        metadataUrl: https://idp.example.com\n        allowedTenants: [72f988bf-86f1-41af-91ab-2d7cd011db47]\n", "microsoft provider only"},
		{"OIDCWithHS256", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    oidc:\n      development:\n        clientId: x\n        clientSecret: y\n        metadataUrl: https://idp.example.com\n        tokenSignedResponseAlg: HS256\n", "not allowed"},
		{"GoogleWithoutClientSecret", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    google:\n      development:\n        clientId: x\n", "auth.providers.google.development: clientId and clientSecret are required"},
		{"OIDCWithoutClientSecret", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    oidc:\n      development:\n        clientId: x\n        metadataUrl: https://idp.example.com\n", "clientId and clientSecret are required"},
		{"BadScopes", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    github:\n      development:\n        clientId: x\n        clientSecret: y\n        additionalScopes: {a: 1}\n", "auth.providers.github.development"},
		{"BadSessionDuration", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    github:\n      development:\n        clientId: x\n        clientSecret: y\n        sessionDuration: forever\n", "sessionDuration"},
		{"OktaWithoutAudience", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    okta:\n      development:\n        clientId: x\n        clientSecret: y\n", "auth.providers.okta.development: audience (the Okta organisation's URL"},
		{"OktaAudienceWithPath", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    okta:\n      development:\n        clientId: x\n        clientSecret: y\n        audience: https://example.okta.com/oauth2/default\n", "without a path"},
		{"OktaAudienceDoubleSlash", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    okta:\n      development:\n        clientId: x\n        clientSecret: y\n        audience: https://example.okta.com//\n", "without a path"},
		{"OktaAudienceFragment", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    okta:\n      development:\n        clientId: x\n        clientSecret: y\n        audience: https://example.okta.com#\n", "without a path"},
		{"OktaBadAuthServerID", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    okta:\n      development:\n        clientId: x\n        clientSecret: y\n        audience: https://example.okta.com\n        authServerId: ../../evil\n", "authServerId must be"},
		{"OktaPlainHTTP", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    okta:\n      development:\n        clientId: x\n        clientSecret: y\n        audience: http://example.okta.com\n", "must be https"},
		{"GoogleWithoutClientID", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    google:\n      development:\n        clientSecret: y\n", "auth.providers.google.development: clientId and clientSecret are required"},
		{"BadOrigin", "auth:\n  session:\n    secret: 0123456789abcdef0123\n  experimentalExtraAllowedOrigins: ['https://**.example.com']\n", "'**'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ac := loadAuth(t, []byte(tc.yaml))
			_, _, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"})
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want InvalidArgument containing %q", err, tc.want)
			}
			var fe *integrations.FieldError
			_ = errors.As(err, &fe)
		})
	}
}

func TestNewRefusesInsecureSetups(t *testing.T) {
	secret := integrations.NewSecret(testSecret)
	for _, tc := range []struct {
		name string
		o    auth.Options
	}{
		{"PlainHTTPOffLoopback", auth.Options{BaseURL: "http://portal.example.com/api/auth", Secret: secret}},
		{"RelativeBase", auth.Options{BaseURL: "/api/auth", Secret: secret}},
		{"NoSecret", auth.Options{BaseURL: "https://portal.example.com/api/auth"}},
		{"BadAppURL", auth.Options{BaseURL: "https://portal.example.com/api/auth", AppURL: "portal", Secret: secret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := auth.New(&tc.o); errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("New = %v, want InvalidArgument", err)
			}
		})
	}
	if _, err := auth.New(&auth.Options{BaseURL: "http://localhost:7007/api/auth", Secret: secret}); err != nil {
		t.Fatalf("plain http on localhost (development): %v", err)
	}
}

func TestParseHumanDuration(t *testing.T) {
	for in, want := range map[string]string{`"12h"`: "12h0m0s", `"7d"`: "168h0m0s", `{"days": 1, "hours": 2}`: "26h0m0s", `"90m"`: "1h30m0s", `"2w"`: "336h0m0s"} {
		d, err := auth.ParseHumanDuration([]byte(in))
		if err != nil || d.String() != want {
			t.Errorf("ParseHumanDuration(%s) = %v, %v; want %s", in, d, err, want)
		}
	}
	for _, in := range []string{`"forever"`, `"-1h"`, `{"eons": 1}`, `{"days": -1}`, `true`, `"0d"`} {
		if _, err := auth.ParseHumanDuration([]byte(in)); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("ParseHumanDuration(%s) = %v; want InvalidArgument", in, err)
		}
	}
}
