package main

import (
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// The portal resolves a session only with the resolvers of the
// environment it signed in through (auth.environment, development, in the
// fake world): a session of another environment is not alice, even with
// alice's GitHub login.
func TestPortalResolvesOnlyItsEnvironment(t *testing.T) {
	p := startPortal(t)
	alice := auth.Identity{Provider: "github", Subject: "MDQ6VXNlcjk5OTk=", Login: "alice"}
	got, err := p.app.access.principal(t.Context(), &auth.Session{Env: "development", Identity: alice})
	if err != nil || got.User == nil || got.User.EntityRef != "user:default/alice" {
		t.Fatalf("development: %+v, %v", got, err)
	}
	if got, err := p.app.access.principal(t.Context(), &auth.Session{Env: "production", Identity: alice}); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Fatalf("a production session is resolved by development's resolvers: %+v, %v", got, err)
	}
	// The OIDC resolver takes only the organisation's domain.
	mallory := auth.Identity{Provider: "oidc", Subject: "m", Email: "alice@attacker.example", EmailVerified: true}
	if got, err := p.app.access.principal(t.Context(), &auth.Session{Env: "development", Identity: mallory}); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Fatalf("alice@attacker.example: %+v, %v", got, err)
	}
}
