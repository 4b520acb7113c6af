// Package credentials decides who scmkit is on each call: the signed-in
// user's OAuth token, an app's credentials (a GitHub App installation token,
// a Bitbucket Cloud OAuth consumer token), an owner-scoped or host-wide
// token from configuration, or nobody.
//
// A [Source] is oauth2.TokenSource with a context. A [Resolver] picks a
// credential per host and owner, in a fixed and documented order, and when
// nothing fits says why for every candidate. A [Transport] attaches the
// resolved credential to HTTP requests, only for the integration's own hosts.
//
// No type in this package shows a secret when formatted, logged or
// marshalled.
package credentials

import (
	"context"
	"time"
)

// Kind says what sort of identity a credential is.
type Kind string

const (
	// KindUser is the signed-in user's OAuth token, acting on their behalf.
	KindUser Kind = "user"
	// KindApp is an app's credential: a GitHub App installation token or
	// app JWT, or a Bitbucket Cloud OAuth consumer (client credentials)
	// token.
	KindApp Kind = "app"
	// KindToken is a token from configuration: a personal, project, group,
	// workspace or repository access token, an API token, or a password.
	KindToken Kind = "token"
	// KindAnonymous is no credential at all.
	KindAnonymous Kind = "anonymous"
)

// Credential is one identity to present to a host.
//
// Its String, GoString, LogValue and MarshalJSON never show Token.
type Credential struct {
	Kind Kind
	// Token is the secret: an OAuth or installation token, a PAT, an API
	// token or a password. Empty for KindAnonymous.
	Token string
	// Username, when set, makes the credential HTTP Basic (Username:Token):
	// a Bitbucket Cloud API token or app password, a Bitbucket Server
	// password. Bearer otherwise.
	Username string
	// Expiry is when Token stops working; zero means it does not expire.
	Expiry time.Time
	// Source says where the credential came from, e.g.
	// "integrations.github[0].apps[1] installation 42", never the secret.
	Source string
}

// Source supplies credentials; it is oauth2.TokenSource with a context.
//
// Credential must be safe for concurrent use, must pass ctx to any request
// it makes, and its callers must not modify the returned value.
type Source interface {
	Credential(ctx context.Context) (*Credential, error)
}

// SourceFunc adapts a function to a [Source].
type SourceFunc func(ctx context.Context) (*Credential, error)

// Credential calls f(ctx).
func (f SourceFunc) Credential(ctx context.Context) (*Credential, error) { return f(ctx) }
