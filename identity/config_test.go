package identity

import (
	"context"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
)

const appConfig = `
auth:
  environment: development
  providers:
    github:
      development:
        clientId: abc
        clientSecret: def
        signIn:
          resolvers:
            - resolver: userIdMatchingUserEntityAnnotation
            - resolver: emailMatchingUserEntityProfileEmail
              allowedDomains: [example.com]
    microsoft:
      development:
        signIn:
          resolvers:
            - resolver: emailMatchingUserEntityAnnotation
              allowedDomain: example.com
`

func TestSignInConfigFromAppConfig(t *testing.T) {
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(appConfig))
	if err != nil {
		t.Fatal(err)
	}
	var sc SignInConfig
	if err := cfg.Decode("auth.providers.github.development.signIn", &sc); err != nil {
		t.Fatal(err)
	}
	r, err := NewSignInResolver("github", sc, NewSnapshotCatalog(snapshot()), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Resolve(context.Background(), SignInInfo{ProviderType: "github", UserID: "unknown", Email: "bob@example.com", EmailVerified: true})
	if err != nil || res.Identity.EntityRef != "user:default/bob" {
		t.Fatalf("%+v, %v", res, err)
	}
	// A misspelt option is refused at startup, as Backstage's schema does.
	var ms SignInConfig
	if err := cfg.Decode("auth.providers.microsoft.development.signIn", &ms); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSignInResolver("microsoft", ms, NewSnapshotCatalog(snapshot()), nil); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("allowedDomain (typo) accepted: %v", err)
	}
}

func TestResolversFromConfig(t *testing.T) {
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(appConfig))
	if err != nil {
		t.Fatal(err)
	}
	// The microsoft entry has a misspelt option: refused, naming it.
	if _, err := ResolversFromConfig(cfg, "development", nil, NewSnapshotCatalog(snapshot()), nil); errcode.CodeOf(err) != errcode.InvalidArgument ||
		!strings.Contains(err.Error(), "auth.providers.microsoft.development.signIn") {
		t.Fatalf("err = %v", err)
	}
	good := strings.Replace(appConfig, "allowedDomain:", "allowedDomains:", 1)
	good = strings.Replace(good, "allowedDomains: example.com", "allowedDomains: [example.com]", 1)
	cfg, err = config.LoadBytes(context.Background(), nil, []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ResolversFromConfig(cfg, "development", nil, NewSnapshotCatalog(snapshot()), nil)
	if err != nil || len(rs) != 2 || rs.For("github", "development") == nil || rs.For("microsoft", "development") == nil || rs.For("github", "production") != nil {
		t.Fatalf("%v, %v", rs, err)
	}
	// No provider is configured for production: refused at construction
	// (TestResolversFromConfigEnvironment), not at every sign-in.
	if rs, err := ResolversFromConfig(cfg, "production", nil, NewSnapshotCatalog(snapshot()), nil); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("production: %v, %v", rs, err)
	}
}
