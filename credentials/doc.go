// Package credentials decides who scmkit is on each call: the signed-in
// user's OAuth token, an app's credentials (a GitHub App installation token,
// a Bitbucket Cloud OAuth consumer token), an owner-scoped or host-wide
// token from configuration, or nobody.
//
// A [Source] is oauth2.TokenSource with a context. [Static], [Cached],
// [UserSource] and [FromOAuth2] make Sources; a [CachedSource] renews its
// credential a margin before it expires, with one refresh for all
// concurrent callers, made outside any lock, on an injectable clock.
//
// A [Resolver] picks a credential per host, owner and repository in a
// fixed, documented order (see [Resolver.Resolve]) and, when nothing fits,
// says why for every candidate; [Resolver.Explain] returns that reasoning,
// candidate by candidate, also when it succeeds. The signed-in user's credential is passed
// explicitly in each [Request], never through a context value, and is only
// ever used for that Request's host's integration. A [Transport] attaches
// the resolved credential to HTTP requests, only for the hosts of the
// integration its Request is for, and retries once on a 401 with a renewed
// credential.
//
// GitHub App tokens come from package [githubapp]: the installation for an
// owner is found with one request (through the repository when the Request
// names one, so organisations and users cost the same) and cached, and its
// token is minted once and renewed before it expires, so a cached owner
// costs no request. A Bitbucket Cloud OAuth consumer (clientId and
// clientSecret) gets its token with the client-credentials grant, one
// request for all concurrent callers. None of these token requests follows
// a redirect, so the app's JWT, the client secret and a user's refresh
// token reach their configured endpoint only.
//
// No type in this package shows a secret when formatted with any fmt verb,
// logged with log/slog or marshalled to JSON, and no error contains one.
//
// # Errors
//
// Every error is an *errcode.Error (package errcode; classify it with
// errcode.CodeOf or errors.Is). Resolve returns:
//
//   - Unauthorized when no credential applies (the message lists each
//     candidate and why it was skipped: "app 123 (integrations.github[0].apps[0])
//     is not installed for owner acme …; integrations.github[0].token: not
//     configured; anonymous: not for writes"), when the RequireUser policy
//     finds no user token, and when the user's token cannot be refreshed
//     (the user must sign in again);
//   - PermissionDenied for a host that no integration owns and that
//     anonymous reading does not allow, and for an app whose installation
//     is suspended or does not include the repository (errors.Is with
//     githubapp.ErrSuspended, githubapp.ErrRepositoryNotSelected);
//   - the app's own code when a GitHub App or OAuth consumer fails for a
//     reason other than "not installed for this owner": Unauthorized when
//     GitHub rejects the app's JWT or the token endpoint rejects the client
//     id and secret, RateLimited with a retry time, Unavailable when the
//     endpoint is down, keeps failing or answers garbage;
//   - InvalidArgument for a request with no host, a contradictory policy,
//     or a URL on another integration than its Host;
//   - Canceled or DeadlineExceeded when the context ends first.
//
// NewResolver returns InvalidArgument when a GitHub App's private key does
// not parse, naming the config entry.
package credentials
