// Package auth signs users in with OAuth 2.0 and OpenID Connect (GitHub,
// GitLab, Bitbucket Cloud, Microsoft Entra ID, any OIDC provider) or with a
// password provider (LDAP), behind Backstage's routes, and keeps their
// sessions.
//
// A [Handler] serves /<provider>/start, /<provider>/handler/frame (the
// callback), /<provider>/refresh, /<provider>/logout and, for password
// providers, /<provider>/login, with Backstage's per-environment
// configuration and response shape, and closes Backstage's gaps:
//
//   - PKCE S256 on every redirect flow, never plain;
//   - the state parameter sealed (AES-GCM) and bound to the browser by a
//     sealed, one-time flow cookie; an OIDC nonce checked against the ID
//     token, and RFC 9207's iss where the provider advertises it;
//   - post-sign-in redirect targets and origins checked against the
//     allowed origins (app.baseUrl and Options.AllowedOrigins);
//   - /refresh, /logout and /login refuse cross-site requests;
//   - the browser holds only an opaque, signed session id, in a
//     __Host-scmkit-session cookie (HttpOnly, Secure, SameSite=Lax) over
//     https; tokens stay on the server, sealed in a [SessionStore] under a
//     key derived from auth.session.secret, so the store only sees
//     ciphertext;
//   - provider tokens are refreshed before they expire, once per session
//     across the process and across replicas sharing the store (a lease
//     with a fencing token), and a rotated refresh token is stored before
//     anyone uses the new access token, which keeps GitHub's strict
//     rotation safe.
//   - sessions whose provider token never expires (LDAP, GitHub OAuth
//     Apps) are checked with the provider again ([Rechecker]) on the first
//     refresh after Options.RecheckInterval: a disabled or deleted account
//     or a revoked grant ends the session then, not after SessionDuration.
//     A session the provider has not confirmed for too long (no re-check,
//     or no successful refresh of expiring tokens, for Options.RecheckGrace
//     past its due time) is refused by [Handler.Session].
//
// Plain http is accepted only on a loopback BaseURL, for development: the
// cookies are then named scmkit-session and scmkit-flow-<provider>, without
// the __Host- prefix and without Secure.
//
// The signed-in user's provider token reaches the SCM client through
// [Session.UserCredentials], keyed by the provider's integration host only:
// pass it to scm.Client.ForUser in the request's handler (see the example
// ExampleSession_UserCredentials).
package auth
