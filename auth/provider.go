package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/scmkit/scmkit/internal/redact"
)

// Provider is a way to sign in, registered with a [Handler] under an id
// and an environment. It is a [RedirectProvider] (OAuth 2.0 and OpenID
// Connect: GitHub, GitLab, Bitbucket, Microsoft, any OIDC provider) or a
// [PasswordProvider] (a directory such as LDAP: the user posts a username
// and a password, there is no redirect).
type Provider interface {
	// Info describes the provider.
	Info() ProviderInfo
}

// ProviderInfo describes a [Provider].
type ProviderInfo struct {
	// Type is the kind of provider: "github", "gitlab", "bitbucket",
	// "microsoft", "google", "okta", "oidc", "ldap".
	Type string
	// Host is the integration host whose API accepts the access tokens
	// the provider issues, e.g. "github.com" or "ghe.example.com" (as in
	// integrations' host, with a port if not the default); "" when the
	// tokens are for no integration (OIDC, Microsoft, LDAP). A session's
	// token is offered to this host only, see [Session.UserCredentials].
	Host string
	// Issuer identifies the provider instance, as [Identity.Issuer].
	Issuer string
}

// RedirectProvider signs users in with the OAuth 2.0 authorization code
// flow (RFC 6749), always with PKCE S256 (RFC 7636). The [Handler] owns
// state, PKCE verifier, nonce, cookies and redirects; the provider builds
// the authorization URL and redeems codes and refresh tokens.
type RedirectProvider interface {
	Provider
	// AuthCodeURL returns the provider's authorization URL for req. An
	// OIDC provider fetches its discovery document the first time, within
	// ctx.
	AuthCodeURL(ctx context.Context, req AuthRequest) (string, error)
	// Exchange redeems the code of a callback and returns who signed in
	// with their tokens. It verifies what the provider sends back (the
	// ID token and its nonce, the RFC 9207 iss parameter where the
	// provider advertises it). Errors are *errcode.Error: Unauthorized
	// for a code or ID token the provider or the checks refuse,
	// Unavailable when the provider cannot be reached or answers garbage.
	Exchange(ctx context.Context, cb Callback) (*SignIn, error)
	// Refresh renews t with its refresh token and returns the new
	// tokens, with the identity re-read where that costs nothing more
	// (an OIDC ID token). A zero Identity in the result keeps the
	// session's. Errors: Unauthorized when the provider refuses the
	// refresh token (the user must sign in again: the Handler ends the
	// session), Unimplemented when the provider has no refresh,
	// Unavailable otherwise.
	Refresh(ctx context.Context, t Tokens) (*SignIn, error)
}

// issuerChecker is implemented by redirect providers that check a
// callback's RFC 9207 iss parameter ([OIDC]): the Handler asks it for
// error answers, which reach no Exchange.
type issuerChecker interface {
	checkIssuer(ctx context.Context, iss string) error
}

// AuthRequest is what a [RedirectProvider] puts in its authorization URL.
type AuthRequest struct {
	// State is the opaque state value, sealed by the Handler.
	State string
	// RedirectURI is the callback URL, .../<provider>/handler/frame.
	RedirectURI string
	// CodeChallenge is the PKCE S256 challenge; the method is always S256.
	CodeChallenge string
	// Nonce is the OIDC nonce to send (providers without ID tokens ignore
	// it).
	Nonce string
	// Scopes are extra scopes the frontend asked for, on top of the
	// provider's required and configured ones.
	Scopes []string
}

// Callback is what came back to the callback, with the secrets the Handler
// kept for the flow.
type Callback struct {
	// Code is the authorization code.
	Code string
	// Issuer is the RFC 9207 "iss" parameter of the callback, "" if absent.
	Issuer string
	// RedirectURI is the callback URL sent in the authorization request.
	RedirectURI string
	// CodeVerifier is the PKCE verifier.
	CodeVerifier string
	// Nonce is the nonce sent in the authorization request.
	Nonce string
}

// String describes the callback without its code, verifier and nonce.
func (cb Callback) String() string {
	return "auth.Callback{code:" + redact.Of(cb.Code) + " verifier:" + redact.Of(cb.CodeVerifier) + " nonce:" + redact.Of(cb.Nonce) +
		" iss:" + cb.Issuer + " redirect:" + cb.RedirectURI + "}"
}

// Format prints String under every verb: the code and the PKCE verifier
// together redeem the user's tokens.
func (cb Callback) Format(f fmt.State, verb rune) { redact.Format(f, verb, cb.String(), cb.String()) }

// LogValue shows the callback without its code, verifier and nonce.
func (cb Callback) LogValue() slog.Value {
	return slog.GroupValue(slog.String("code", redact.Of(cb.Code)), slog.String("codeVerifier", redact.Of(cb.CodeVerifier)),
		slog.String("nonce", redact.Of(cb.Nonce)), slog.String("issuer", cb.Issuer), slog.String("redirectUri", cb.RedirectURI))
}

// MarshalJSON writes the callback with its code, verifier and nonce
// redacted.
func (cb Callback) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Code         string `json:"code,omitempty"`
		Issuer       string `json:"issuer,omitempty"`
		RedirectURI  string `json:"redirectUri,omitempty"`
		CodeVerifier string `json:"codeVerifier,omitempty"`
		Nonce        string `json:"nonce,omitempty"`
	}{redact.Of(cb.Code), cb.Issuer, cb.RedirectURI, redact.Of(cb.CodeVerifier), redact.Of(cb.Nonce)})
}

// SignIn is the result of a successful sign-in or refresh.
type SignIn struct {
	// Identity is who signed in. The Handler sets Identity.Provider to
	// the id the provider is registered under.
	Identity Identity
	// Tokens are the user's provider tokens; empty for a password
	// provider that issues none.
	Tokens Tokens
}

// PasswordProvider signs users in with a username and a password, checked
// by the provider (an LDAP bind). The Handler serves it at
// POST <prefix>/<provider>/login with the form or JSON fields "username"
// and "password", behind the same anti-CSRF checks as /refresh. A
// PasswordProvider should also be a [Rechecker]: its sessions have no
// token that expires, so without one they end after
// [Options.RecheckInterval].
type PasswordProvider interface {
	Provider
	// Authenticate checks the password and returns who signed in. A wrong
	// username or password is an *errcode.Error with code Unauthorized
	// and the same message for both; a directory that cannot be reached
	// is Unavailable.
	Authenticate(ctx context.Context, username, password string) (*SignIn, error)
}

// Device is a browser from which a username signed in with a
// [PasswordProvider] before. At every successful password sign-in the
// [Handler] gives the browser a sealed cookie naming the username and a
// new random ID (kept 180 days; HttpOnly, sent to the whole origin but
// opened only by this Handler, for this provider id and environment), and
// puts it in the context of the next sign-in attempts from that browser
// with that provider and environment, where [DeviceFrom] finds it. A provider's back-off can then count the
// failures of the user's own browser apart from everyone else's, so that
// a guesser slowing down a username does not lock its owner out (OWASP's
// "device cookies"). The Handler has checked the seal; comparing Username
// with the username tried, as the directory compares usernames, is the
// provider's.
type Device struct {
	// Username is the username that signed in, as it was typed.
	Username string
	// ID is random and new at each sign-in.
	ID string
}

type deviceKey struct{}

// ContextWithDevice returns ctx carrying d, as the Handler's password
// sign-in route does for a browser with a valid device cookie.
func ContextWithDevice(ctx context.Context, d Device) context.Context {
	return context.WithValue(ctx, deviceKey{}, d)
}

// DeviceFrom returns the device ctx carries, if any.
func DeviceFrom(ctx context.Context) (Device, bool) {
	d, ok := ctx.Value(deviceKey{}).(Device)
	return d, ok && d.ID != ""
}

// Revoker is implemented by redirect providers that can revoke a token
// (RFC 7009). The Handler calls it on logout, with the session's tokens,
// after it deleted the session and not under the request's context; a
// failure is logged, not shown to the user, who is signed out either way.
// It calls it too for a session ended because its browser signed in
// again, as another user or with another provider; for the same user
// with the same provider only with GitHub and GitLab, whose revocation
// ends the one token: others may revoke the whole grant, which the new
// session shares.
type Revoker interface {
	Revoke(ctx context.Context, t Tokens) error
}

// Rechecker is implemented by providers that can tell, without the user,
// whether a signed-in user is still theirs: a directory re-reads the
// account ([ldapauth.Authenticator] runs its Verify), an OAuth provider
// reads the user's profile with the session's access token. Provider
// tokens that expire are checked by their refresh; for tokens that do not
// (an LDAP sign-in has none; GitHub OAuth App tokens never expire) the
// [Handler] calls Recheck on the first refresh after
// [Options.RecheckInterval]. A session of a provider without Recheck
// whose tokens do not expire ends at that point: implement Recheck for a
// custom [PasswordProvider] whose users should stay signed in longer.
//
// [ldapauth.Authenticator]: https://pkg.go.dev/github.com/scmkit/scmkit/auth/ldapauth#Authenticator
type Rechecker interface {
	// Recheck checks the session of id, holding t, with the provider and
	// returns the user's current identity (a zero Identity keeps the
	// session's; another Subject ends the session) and, if the provider
	// issued new ones, tokens (zero Tokens keep the session's). Errors
	// are *errcode.Error: Unauthorized or PermissionDenied when the
	// provider no longer accepts the user or the token (a deleted or
	// disabled account, a revoked grant: the session ends), Unimplemented
	// when this session cannot be re-checked (it ends too), Unavailable,
	// DeadlineExceeded or RateLimited when the provider cannot answer
	// now (the session is kept for [Options.RecheckGrace]).
	Recheck(ctx context.Context, id Identity, t Tokens) (*SignIn, error)
}
