package identity_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org"
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
