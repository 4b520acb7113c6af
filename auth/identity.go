package auth

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/scmkit/scmkit/internal/redact"
)

// Identity is who signed in, as the identity provider (or directory) told
// it. It holds no secret.
type Identity struct {
	// Provider is the provider id the user signed in with, as registered
	// with the [Handler] ("github", "oidc", "ldap").
	Provider string `json:"provider"`
	// Issuer says which instance of the provider vouched for the user:
	// the OIDC issuer, or the base URL of a GitHub, GitLab or Bitbucket
	// instance ("https://github.com", "https://ghe.example.com"), or the
	// LDAP server's URL. Subject is unique within it.
	Issuer string `json:"issuer,omitempty"`
	// Subject is the user's stable id at the provider: GitHub's GraphQL
	// node id ("U_kgDO…", as the catalog's github.com/user-id annotation
	// holds it; the numeric id when GitHub answers none), GitLab's user id, Bitbucket's account uuid, the OIDC "sub"
	// claim, or the LDAP entry's DN.
	Subject string `json:"subject"`
	// Login is the user name at the provider (GitHub and GitLab login,
	// Bitbucket nickname, OIDC preferred_username, LDAP uid or
	// sAMAccountName).
	Login string `json:"login,omitempty"`
	// Email is the user's e-mail address, "" if unknown.
	Email string `json:"email,omitempty"`
	// EmailVerified reports whether the provider says it verified Email.
	EmailVerified bool `json:"emailVerified,omitempty"`
	// DisplayName is the user's full name, "" if unknown.
	DisplayName string `json:"displayName,omitempty"`
	// Picture is the URL of the user's avatar, "" if unknown.
	Picture string `json:"picture,omitempty"`
	// DN is the distinguished name of the user's LDAP entry, for
	// directory sign-ins; "" otherwise.
	DN string `json:"dn,omitempty"`
}

// String is "provider:login" (or "provider:subject" when there is no
// login), e.g. "github:alice".
func (id Identity) String() string {
	name := id.Login
	if name == "" {
		name = id.Subject
	}
	return id.Provider + ":" + name
}

// Tokens are the provider tokens of a sign-in. Every method that prints
// them (String, GoString, Format under every verb, LogValue, MarshalJSON)
// shows only which tokens are present, never their values.
type Tokens struct {
	// AccessToken is the user's provider access token.
	AccessToken string
	// TokenType is the access token's type, normally "Bearer".
	TokenType string
	// RefreshToken renews the access token; "" when the provider gave
	// none (a GitHub OAuth App token never expires).
	RefreshToken string
	// IDToken is the OIDC ID token, "" for plain OAuth providers.
	IDToken string
	// Scope is the space-separated scope the provider granted.
	Scope string
	// Expiry is when AccessToken stops working; zero means never.
	Expiry time.Time
}

// String lists which tokens are present, never their values.
func (t Tokens) String() string {
	s := "auth.Tokens{"
	sep := ""
	for _, p := range []struct{ n, v string }{{"access", t.AccessToken}, {"refresh", t.RefreshToken}, {"id", t.IDToken}} {
		if p.v != "" {
			s += sep + p.n
			sep = " "
		}
	}
	if t.Scope != "" {
		s += sep + "scope=" + strconv.Quote(t.Scope)
		sep = " "
	}
	if !t.Expiry.IsZero() {
		s += sep + "expires=" + t.Expiry.UTC().Format(time.RFC3339)
	}
	return s + "}"
}

// GoString is like String.
func (t Tokens) GoString() string { return t.String() }

// Format prints String under every verb.
func (t Tokens) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.String(), t.String()) }

// LogValue shows which tokens are present, never their values.
func (t Tokens) LogValue() slog.Value {
	attrs := []slog.Attr{}
	if t.AccessToken != "" {
		attrs = append(attrs, slog.String("accessToken", redact.Mark))
	}
	if t.RefreshToken != "" {
		attrs = append(attrs, slog.String("refreshToken", redact.Mark))
	}
	if t.IDToken != "" {
		attrs = append(attrs, slog.String("idToken", redact.Mark))
	}
	if t.Scope != "" {
		attrs = append(attrs, slog.String("scope", t.Scope))
	}
	if !t.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", t.Expiry))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the tokens redacted.
func (t Tokens) MarshalJSON() ([]byte, error) {
	var exp *time.Time
	if !t.Expiry.IsZero() {
		exp = &t.Expiry
	}
	return json.Marshal(struct {
		AccessToken  string     `json:"accessToken,omitempty"`
		RefreshToken string     `json:"refreshToken,omitempty"`
		IDToken      string     `json:"idToken,omitempty"`
		Scope        string     `json:"scope,omitempty"`
		Expiry       *time.Time `json:"expiry,omitempty"`
	}{redact.Of(t.AccessToken), redact.Of(t.RefreshToken), redact.Of(t.IDToken), t.Scope, exp})
}
