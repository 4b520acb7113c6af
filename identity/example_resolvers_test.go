package identity_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/permission"
	"github.com/scmkit/scmkit/permission/rbac"
)

// The sign-in resolvers of the environment a backend serves
// (auth.environment), keyed by provider id and environment: a sign-in
// through another environment finds none and is refused.
func ExampleResolvers() {
	yaml := []byte(`
auth:
  environment: production
  providers:
    oidc:
      production:
        signIn:
          resolvers:
            - resolver: emailLocalPartMatchingUserEntityName
              allowedDomains: [example.com]
      development:
        signIn:
          resolvers:
            - resolver: emailLocalPartMatchingUserEntityName
              dangerouslyAllowAnyEmailDomain: true
`)
	cfg, err := config.LoadBytes(context.Background(), nil, yaml)
	if err != nil {
		log.Fatal(err)
	}
	var env string
	if err := cfg.Decode("auth.environment", &env); err != nil {
		log.Fatal(err)
	}
	snap := &org.Snapshot{Users: []org.User{{Metadata: org.Metadata{Name: "alice"}}}}
	rs, err := identity.ResolversFromConfig(cfg, env, nil, identity.NewSnapshotCatalog(snap), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rs.For("oidc", "production") != nil, rs.For("oidc", "development") != nil)
	res, err := rs.For("oidc", "production").Resolve(context.Background(), identity.SignInInfo{Email: "alice@example.com", EmailVerified: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Identity.EntityRef)
	_, err = rs.For("oidc", "production").Resolve(context.Background(), identity.SignInInfo{Email: "alice@attacker.example", EmailVerified: true})
	fmt.Println(err)
	// Output:
	// true false
	// user:default/alice
	// identity.Resolve: emailLocalPartMatchingUserEntityName: sign-in from the e-mail domain attacker.example is not allowed (PermissionDenied)
}

// A server-rendered portal gets a session (auth.Handler.Session) on each
// request, not a Backstage token: its caller is the session's Identity,
// resolved by the resolvers of the provider and environment she signed in
// through (Session.Identity.Provider, Session.Env) into the Principal that
// permission checks take ([Resolvers.Principal]). Here two sign-ins of one environment, GitHub (the
// node id in the catalog's github.com/user-id annotation) and LDAP (the
// login as the user's name), resolve to catalog users, and the RBAC policy
// lets members of platform-team register components.
func ExampleResolvers_Principal() {
	ctx := context.Background()
	yaml := []byte(`
auth:
  environment: production
  providers:
    github:
      production:
        signIn:
          resolvers:
            - resolver: userIdMatchingUserEntityAnnotation
    ldap:
      production:
        signIn:
          resolvers:
            - resolver: usernameMatchingUserEntityName
`)
	cfg, err := config.LoadBytes(ctx, nil, yaml)
	if err != nil {
		log.Fatal(err)
	}
	snap, err := org.ParseYAML([]byte(`
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
  annotations:
    github.com/user-id: U_kgDOalice
spec:
  memberOf: [platform-team]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: bob
spec:
  memberOf: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: platform-team
spec:
  type: team
  children: []
`))
	if err != nil {
		log.Fatal(err)
	}
	resolvers, err := identity.ResolversFromConfig(cfg, "production", nil, identity.NewSnapshotCatalog(snap), nil)
	if err != nil {
		log.Fatal(err)
	}
	csv, err := rbac.ParseCSV("rbac-policy.csv", strings.NewReader(
		"p, role:default/catalog-writer, catalog.entity.create, create, allow\n"+
			"g, group:default/platform-team, role:default/catalog-writer\n"))
	if err != nil {
		log.Fatal(err)
	}
	policy, err := rbac.New([]*rbac.File{csv}, rbac.FromSnapshot(snap), nil)
	if err != nil {
		log.Fatal(err)
	}
	authz := permission.NewAuthorizer(policy, nil)

	for _, id := range []auth.Identity{
		{Provider: "github", Subject: "U_kgDOalice", Login: "alice"},
		{Provider: "ldap", Subject: "uid=bob,ou=people,dc=example,dc=org", Login: "bob"},
		{Provider: "ldap", Subject: "uid=eve,ou=people,dc=example,dc=org", Login: "eve"},
	} {
		// A request handler has its session from handler.Session(r).
		s := &auth.Session{Identity: id, Env: "production"}
		who, err := resolvers.Principal(ctx, s)
		if err != nil {
			fmt.Println(id, "→", errcode.CodeOf(err))
			continue
		}
		ok, _, err := authz.Allowed(ctx, who, permission.MustKnown(permission.CatalogEntityCreate), "")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(id, "→", who.User.EntityRef, "may register components:", ok)
	}
	// Output:
	// github:alice → user:default/alice may register components: true
	// ldap:bob → user:default/bob may register components: false
	// ldap:eve → NotFound
}
