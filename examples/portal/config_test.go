package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/permission"
)

// TestConfigDrivesAccess: with -config, the portal's organisation,
// sign-in resolvers and policy come from the app-config, as a Backstage
// backend's do: catalog.providers.githubOrg, auth.providers.github.<env>.signIn
// and permission (enabled, rbac.policies-csv-file read as Backstage reads
// it). Without permission.enabled there is no policy, and a warning says
// so.
func TestConfigDrivesAccess(t *testing.T) {
	w := startPortal(t).world
	dir := t.TempDir()
	policy := filepath.Join(dir, "rbac-policy.csv")
	if err := os.WriteFile(policy, []byte("p, role:default/writer, catalog.entity.create, create, allow\ng, group:default/platform-team, role:default/writer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := func(providers, permission string) string {
		return `app:
  baseUrl: http://127.0.0.1:3000
backend:
  baseUrl: http://127.0.0.1:7007
integrations:
  github:
    - host: ` + w.github.Host() + `
      apiBaseUrl: ` + w.github.APIBaseURL() + `
      token: portal-token
catalog:
  providers:
    githubOrg:
      id: acme
      githubUrl: ` + w.github.URL() + `
      orgs: [acme]
` + providers + `auth:
  environment: production
  session:
    secret: a-session-secret-of-the-test-portal-32b
  providers:
    github:
      production:
        clientId: portal
        clientSecret: portal-github-secret
        enterpriseInstanceUrl: ` + w.github.URL() + `
        signIn:
          resolvers:
            - resolver: usernameMatchingUserEntityName
` + permission
	}
	load := func(doc string) *deps {
		t.Helper()
		path := filepath.Join(dir, "app-config.yaml")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(t.Context(), path, w.github.URL()+"/acme/service")
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.deps(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeAll(d.closers) })
		return d
	}

	d := load(doc("    ldapOrg:\n      corp: {target: ldaps://ldap.example.com}\n",
		"permission:\n  enabled: true\n  rbac:\n    policies-csv-file: "+policy+"\n"))
	if !slices.Contains(d.warnings, "catalog.providers.ldapOrg: not read by the portal, which reads catalog.providers.githubOrg only") {
		t.Errorf("no warning that ldapOrg is not read: %q", d.warnings)
	}
	if d.access == nil {
		t.Fatal("permission.enabled: true built no policy")
	}
	may := func(login string) bool {
		t.Helper()
		who, err := d.access.principal(t.Context(), &auth.Session{Env: "production",
			Identity: auth.Identity{Provider: "github", Subject: "S-" + login, Login: login}})
		if err != nil {
			t.Fatalf("%s: %v", login, err)
		}
		ok, _, err := d.access.authz.Allowed(t.Context(), who, permission.MustKnown(permission.CatalogEntityCreate), "")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !may("alice") || may("frank") {
		t.Errorf("catalog.entity.create: alice %v, frank %v; want true, false", may("alice"), may("frank"))
	}
	if d.access.resolvers["github"]["production"] == nil {
		t.Errorf("no resolver from auth.providers.github.production.signIn: %v", d.access.resolvers)
	}

	// A key of the permission section the library does not read (a typo
	// for policies-csv-file loads an empty policy, which denies
	// everything) is said at startup.
	d = load(doc("", "permission:\n  enabled: true\n  rbac:\n    policies-csv-file: "+policy+"\n    policiesCsvFile: "+policy+"\n"))
	if !slices.ContainsFunc(d.warnings, func(s string) bool { return strings.Contains(s, "policiesCsvFile") }) {
		t.Errorf("no warning names permission.rbac.policiesCsvFile: %q", d.warnings)
	}

	d = load(doc("", ""))
	if d.access != nil {
		t.Error("a policy without permission.enabled")
	}
	if !slices.ContainsFunc(d.warnings, func(s string) bool { return strings.HasPrefix(s, "permission.enabled is not true") }) {
		t.Errorf("no warning says there is no policy: %q", d.warnings)
	}
}
