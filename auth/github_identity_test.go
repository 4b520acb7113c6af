package auth_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/orgtest"
)

// TestGitHubSignInResolvesByUserIDAnnotation: a GitHub sign-in against the
// fake world carries the user's node id, which is what org/githuborg writes
// in github.com/user-id, so userIdMatchingUserEntityAnnotation finds her
// User entity (and only hers).
func TestGitHubSignInResolvesByUserIDAnnotation(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, false, p.clk.Now)
	if err := orgtest.SeedGitHub(fg, "acme"); err != nil {
		t.Fatal(err)
	}
	registerGitHub(t, p, fg)

	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: fg.Host(), APIBaseURL: fg.APIBaseURL(), Token: integrations.NewSecret("portal-pat")}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := githuborg.New(githuborg.Config{GitHubURL: "http://" + fg.Host(), Orgs: []string{"acme"}}, &githuborg.Options{Registry: reg, Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := rd.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var sc identity.SignInConfig
	if err := json.Unmarshal([]byte(`{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation"}]}`), &sc); err != nil {
		t.Fatal(err)
	}
	sr, err := identity.NewSignInResolver("github", sc, identity.NewSnapshotCatalog(snap), nil)
	if err != nil {
		t.Fatal(err)
	}

	c, _, _ := p.signIn(t, "github")
	s := p.sessionOf(t, c)
	if !strings.HasPrefix(s.Identity.Subject, "U_") {
		t.Errorf("Subject = %q; want the GitHub node id", s.Identity.Subject)
	}
	alice := snap.User(org.UserRef("", "alice"))
	if alice == nil {
		t.Fatal("no alice in the organisation")
	}
	if got := alice.Metadata.Annotations["github.com/user-id"]; got != s.Identity.Subject {
		t.Errorf("catalog github.com/user-id %q != sign-in subject %q", got, s.Identity.Subject)
	}
	r, err := sr.Resolve(context.Background(), identity.FromAuth(s.Identity, "github"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Identity.EntityRef; got != "user:default/alice" {
		t.Errorf("resolved to %q; want user:default/alice", got)
	}
	// The numeric id, as the provider used to report, matches nobody.
	info := identity.FromAuth(s.Identity, "github")
	info.UserID = "1"
	if _, err := sr.Resolve(context.Background(), info); err == nil {
		t.Error("a numeric id resolved; want a refusal")
	}
}
