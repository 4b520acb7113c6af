package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// world is the fake world the portal runs against by default: a fake
// GitHub serving sign-in and the API (acme/service has a
// catalog-info.yaml; alice is approved at once), and a real OpenID
// Provider in process (alice again, without a token for GitHub).
type world struct {
	github *fakegithub.Server
	op     *authtest.OP
	ldap   *ldapDir // LDAP sign-in (ldap.go)
}

const catalogInfo = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: service
  description: The service of the fake world
spec:
  type: service
  lifecycle: production
  owner: team-a
`

func newWorld(portalURL string) (*world, error) {
	w := &world{github: fakegithub.New(&fakegithub.Options{Tokens: []string{"portal-token"}})}
	w.github.AddOAuthApp(fakegithub.OAuthApp{ClientID: "portal", ClientSecret: "portal-github-secret", Expiring: true})
	w.github.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice Liddell", Email: "alice@example.com"})
	if _, err := w.github.AddRepo(fakegithub.Repo{Owner: "acme", Name: "service", Private: true,
		Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte(catalogInfo)}, {Path: "README.md", Content: []byte("# service\n")}}}); err != nil {
		w.github.Close()
		return nil, err
	}
	// The demo organisation acme: alice and bob in platform-team, frank
	// in no team (org/orgtest).
	if err := orgtest.SeedGitHub(w.github, "acme"); err != nil {
		w.github.Close()
		return nil, err
	}
	op, err := authtest.StartOP(authtest.OPOptions{ClientID: "portal", ClientSecret: "portal-oidc-secret", ProfileInIDToken: true,
		RedirectURIs: []string{portalURL + "/api/auth/oidc/handler/frame"},
		User:         authtest.User{Subject: "alice-oidc", Username: "alice", Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell"}})
	if err != nil {
		w.github.Close()
		return nil, err
	}
	w.op = op
	if w.ldap, err = startLDAP(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops the fake servers.
func (w *world) Close() {
	w.github.Close()
	w.op.Close()
	if w.ldap != nil {
		w.ldap.close()
	}
}

// deps builds the portal's sign-in handler and SCM client for the world,
// through the same configuration a real deployment uses.
//
// extra is appended to the app-config's catalog.providers.githubOrg list
// (a test adds a second organisation's entry).
func (w *world) deps(portalURL, extra string) (*deps, error) {
	doc := fmt.Sprintf(`app:
  baseUrl: %[1]s
backend:
  baseUrl: %[1]s
integrations:
  github:
    - host: %[2]s
      apiBaseUrl: %[3]s
      token: portal-token
catalog:
  providers:
    githubOrg:
      - id: fake-github
        githubUrl: %[4]s
        orgs: [acme]
%[6]sauth:
  environment: development
  session:
    secret: fake-world-session-secret-not-for-production
  providers:
    github:
      development:
        clientId: portal
        clientSecret: portal-github-secret
        enterpriseInstanceUrl: %[4]s
        signIn:
          resolvers:
            - resolver: userIdMatchingUserEntityAnnotation
            - resolver: usernameMatchingUserEntityName
    oidc:
      development:
        clientId: portal
        clientSecret: portal-oidc-secret
        metadataUrl: %[5]s/.well-known/openid-configuration
        signIn:
          resolvers:
            # allowedDomains: without it, any verified alice@elsewhere
            # would sign in as user:default/alice.
            - resolver: emailLocalPartMatchingUserEntityName
              allowedDomains: [example.com]
permission:
  enabled: true
  rbac:
    policies-csv-file: rbac-policy.csv
`, portalURL, w.github.Host(), w.github.APIBaseURL(), w.github.URL(), w.op.Issuer, extra)
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(doc))
	if err != nil {
		return nil, err
	}
	x, warnings, err := newAccess(context.Background(), cfg, portalURL+"/api/auth", worldPolicy)
	if err != nil {
		return nil, err
	}
	d, err := depsFromConfig(cfg, portalURL, x)
	if err != nil {
		return nil, err
	}
	d.warnings = append(d.warnings, warnings...)
	d.repo = w.github.URL() + "/acme/service"
	a, err := w.ldap.addLDAP(d, "development")
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, a)
	// The world's directory is registered in code (its CA is made at
	// start), so its sign-in resolver is too; a deployment sets
	// auth.providers.ldap.<env>.signIn like the other providers'.
	r, err := identity.NewSignInResolver("ldap", identity.SignInConfig{Resolvers: []identity.ResolverConfig{{Resolver: "usernameMatchingUserEntityName"}}}, x.catalog, nil)
	if err != nil {
		a.Close()
		return nil, err
	}
	x.resolvers.Set("ldap", "development", r)
	return d, nil
}

// deps are what the app needs.
type deps struct {
	auth      *auth.Handler
	access    *access // nil: no permission policy, registration refused
	audit     *auditLog
	scm       *scm.Client
	repo      string   // repository URL
	providers []string // provider ids, in sign-in button order
	// closers are closed with the portal: the LDAP provider's
	// connection pools.
	closers []io.Closer
	// warnings are the configuration's: config.Load's (unset variables,
	// integrations) and auth.Config.NewHandler's (providers and
	// environments it skipped). start logs them once.
	warnings []string
}

// depsFromConfig builds the sign-in handler and the SCM client from a
// loaded app-config, with x's sign-in resolvers and policy (nil: none).
func depsFromConfig(cfg *config.Config, baseURL string, x *access) (*deps, error) {
	var ac auth.Config
	if err := cfg.Decode("auth", &ac); err != nil {
		return nil, err
	}
	var appURL string
	if err := cfg.Decode("app.baseUrl", &appURL); err != nil {
		return nil, err
	}
	ao := &auth.Options{BaseURL: baseURL + "/api/auth", AppURL: appURL}
	if x != nil {
		ao.BackstageIdentity = x.backstageIdentity()
	}
	h, authWarnings, err := ac.NewHandler(ao)
	if err != nil {
		return nil, err
	}
	res, err := credentials.NewResolver(cfg.Registry, nil)
	if err != nil {
		return nil, err
	}
	// Every SCM call is audited: who acted, as whom.
	audit := newAuditLog(slog.Default())
	client, err := scm.NewClient(cfg.Registry, res, &scm.Options{Drivers: adapters.All(nil), Audit: audit.record})
	if err != nil {
		return nil, err
	}
	d := &deps{auth: h, scm: client, access: x, audit: audit}
	for _, id := range auth.SupportedProviders() {
		if _, ok := ac.Providers[id][ac.Environment]; ok {
			d.providers = append(d.providers, id)
		}
	}
	ldap, err := ldapFromConfig(cfg, d, ac.Environment)
	if err != nil {
		return nil, err
	}
	if ldap != nil {
		d.closers = append(d.closers, ldap)
	}
	d.warnings = append(d.warnings, cfg.Warnings...)
	for _, w := range authWarnings {
		// NewHandler skips the providers of other packages: LDAP's,
		// registered just above, is no news.
		if ldap != nil && strings.HasPrefix(w, "auth.providers.ldap:") {
			continue
		}
		d.warnings = append(d.warnings, w)
	}
	return d, nil
}
