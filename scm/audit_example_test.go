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

// ExampleOptions_audit records who acted for every operation: here the
// portal's app token, reading for alice and opening a pull request on her
// behalf, so one line names both.
func ExampleOptions_audit() {
	w := memscm.New()
	if err := w.AddRepo("acme", "service", "main", memscm.Files(map[string]string{"README.md": "# service\n"})); err != nil {
		log.Fatal(err)
	}
	app := credentials.Static(credentials.Credential{Kind: credentials.KindApp, Token: "ghs_secret", Source: "github app 1 installation 2"})
	res := scm.Resolver(resolverFunc(func(ctx context.Context, _ credentials.Request) (*credentials.Credential, error) {
		return app.Credential(ctx)
	}))
	c, err := scm.NewClient(nil, res, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: w.Opener(nil)},
		Audit:   func(_ context.Context, e scm.AuditEvent) { fmt.Println(e) },
	})
	if err != nil {
		log.Fatal(err)
	}
	alice := c.ForUser(nil, &scm.UserOptions{User: "user:default/alice", UserDisplay: "oidc alice"})
	ctx := context.Background()
	if _, err := alice.ReadFile(ctx, "https://github.com/acme/service/blob/main/README.md", nil); err != nil {
		log.Fatal(err)
	}
	_, err = alice.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: "https://github.com/acme/service", Branch: "docs", Title: "Docs",
		Changes: []scm.Change{{Path: "docs/index.md", Content: []byte("# Docs\n")}}})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// scm.ReadFile https://github.com/acme/service/blob/main/README.md OK by service (app github app 1 installation 2) on behalf of user:default/alice
	// scm.OpenPullRequest https://github.com/acme/service OK by service (app github app 1 installation 2) on behalf of user:default/alice
}

// resolverFunc adapts a function to scm.Resolver.
type resolverFunc func(ctx context.Context, req credentials.Request) (*credentials.Credential, error)

func (f resolverFunc) Resolve(ctx context.Context, req credentials.Request) (*credentials.Credential, error) {
	return f(ctx, req)
}
