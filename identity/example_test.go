package identity_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org"
)

// Resolve a GitHub sign-in to a catalog user, issue her Backstage token
// and verify it.
func Example() {
	ctx := context.Background()
	snap := &org.Snapshot{
		Users: []org.User{{Metadata: org.Metadata{Name: "alice", Annotations: map[string]string{"github.com/user-id": "MDQ6VXNlcjE="}},
			Spec: org.UserSpec{MemberOf: []string{"platform-team"}}}},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "platform-team"}, Spec: org.GroupSpec{Type: "team"}}},
	}
	resolver, err := identity.NewSignInResolver("github", identity.SignInConfig{Resolvers: []identity.ResolverConfig{
		{Resolver: identity.UserIDMatchingUserEntityAnnotation},
		{Resolver: identity.EmailMatchingUserEntityProfileEmail, AllowedDomains: []string{"example.com"}},
	}}, identity.NewSnapshotCatalog(snap), nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := resolver.Resolve(ctx, identity.SignInInfo{ProviderType: "github", UserID: "MDQ6VXNlcjE=", Username: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Identity.EntityRef, res.Identity.OwnershipEntityRefs)

	issuer, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: "https://portal.example.com/api/auth"})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := issuer.Issue(ctx, identity.IssueRequest{Subject: res.Identity.EntityRef, Ent: res.Identity.OwnershipEntityRefs})
	if err != nil {
		log.Fatal(err)
	}
	jwks, err := issuer.JWKS(ctx)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := identity.NewVerifier(&identity.VerifierOptions{Keys: &jwks})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := verifier.Verify(ctx, tok.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.Ent)
	// Output:
	// user:default/alice [user:default/alice group:default/platform-team]
	// user:default/alice [user:default/alice group:default/platform-team]
}

// A provider's signIn block of app-config.yaml, decoded with the config
// package.
func ExampleSignInConfig() {
	yaml := []byte(`
auth:
  providers:
    github:
      development:
        clientId: abc
        clientSecret: def
        signIn:
          resolvers:
            - resolver: usernameMatchingUserEntityName
            - resolver: emailMatchingUserEntityProfileEmail
              allowedDomains: [example.com]
`)
	cfg, err := config.LoadBytes(context.Background(), nil, yaml)
	if err != nil {
		log.Fatal(err)
	}
	var sc identity.SignInConfig
	if err := cfg.Decode("auth.providers.github.development.signIn", &sc); err != nil {
		log.Fatal(err)
	}
	for _, r := range sc.Resolvers {
		fmt.Println(r.Resolver, r.AllowedDomains)
	}
	// Output:
	// usernameMatchingUserEntityName []
	// emailMatchingUserEntityProfileEmail [example.com]
}
