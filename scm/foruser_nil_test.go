package scm_test

import (
	"context"
	"testing"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// A user's source for a host that is nil (a session lookup that lost it)
// or a typed nil pointer makes her calls there fail Unauthorized: before,
// the nil entry was dropped and the call read with the portal's token
// (the audit named the service), and a typed nil panicked in the request
// path. Found by an adversarial review.
func TestForUserNilSourceFails(t *testing.T) {
	w := memscm.New()
	if err := w.AddRepo("acme", "private", "main", memscm.Files(map[string]string{"README.md": "# private\n"})); err != nil {
		t.Fatal(err)
	}
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: "github.com", Token: integrations.NewSecret("ghp_portal")}}})
	if err != nil {
		t.Fatal(err)
	}
	resolver, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var actors []string
	c, err := scm.NewClient(reg, resolver, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: w.Opener(nil)},
		Audit:   func(_ context.Context, e scm.AuditEvent) { actors = append(actors, e.Actor()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	const u = "https://github.com/acme/private/blob/main/README.md"
	var typedNil *credentials.CachedSource
	var nilFunc credentials.SourceFunc
	for name, src := range map[string]credentials.Source{"nil": nil, "typed nil pointer": typedNil, "nil SourceFunc": nilFunc} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			_, err := c.ForUser(scm.UserCredentials{"GitHub.com": src}, nil).ReadFile(t.Context(), u, nil)
			if scm.Code(err) != scm.Unauthorized {
				t.Errorf("%s: err = %v (actors %q); want Unauthorized: her source is missing, the portal's token must not stand in", name, err, actors)
			}
		}()
	}
	// The portal's own view still reads.
	if _, err := c.ReadFile(t.Context(), u, nil); err != nil {
		t.Errorf("the portal's view: %v", err)
	}
}
