package scm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// ExampleUserOptions_requireUser: a backend plugin reached with a Backstage
// token has no session cookie, so no credential of the user's. Naming her
// in UserOptions.User alone would read with the portal's token, with the
// portal's access; with RequireUser the read is hers or nothing.
func ExampleUserOptions_requireUser() {
	w := memscm.New()
	if err := w.AddRepo("acme", "private", "main", memscm.Files(map[string]string{"README.md": "# private\n"})); err != nil {
		log.Fatal(err)
	}
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: "github.com", Token: integrations.NewSecret("ghp_portal")}}})
	if err != nil {
		log.Fatal(err)
	}
	resolver, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	c, err := scm.NewClient(reg, resolver, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: w.Opener(nil)},
		Audit:   func(_ context.Context, e scm.AuditEvent) { fmt.Println("  audit:", e.Actor()) },
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	const u = "https://github.com/acme/private/blob/main/README.md"

	fmt.Println("User only:")
	_, err = c.ForUser(nil, &scm.UserOptions{User: "user:default/alice"}).ReadFile(ctx, u, nil)
	fmt.Println("  read:", err == nil)

	fmt.Println("User and RequireUser, no credential of hers:")
	_, err = c.ForUser(nil, &scm.UserOptions{User: "user:default/alice", RequireUser: true}).ReadFile(ctx, u, nil)
	fmt.Println("  read:", scm.Code(err))

	fmt.Println("User and RequireUser, with her credential (from her session):")
	hers := scm.UserCredentials{"github.com": credentials.Static(credentials.Credential{Kind: credentials.KindUser,
		Token: "gho_alice", Source: "user github alice"})}
	_, err = c.ForUser(hers, &scm.UserOptions{User: "user:default/alice", RequireUser: true}).ReadFile(ctx, u, nil)
	fmt.Println("  read:", err == nil)
	// Output:
	// User only:
	//   audit: service (token integrations.github[0].token) on behalf of user:default/alice
	//   read: true
	// User and RequireUser, no credential of hers:
	//   audit: user:default/alice (no credential resolved)
	//   read: Unauthorized
	// User and RequireUser, with her credential (from her session):
	//   audit: user:default/alice with her own credential (user github alice)
	//   read: true
}
