// Package githubapp mints GitHub App credentials: the app's own JWT, and
// installation access tokens for the owner (organisation or user) a request
// is about.
//
// An [App] is one GitHub App on one GitHub host (github.com or a GitHub
// Enterprise Server). [App.Token] finds the app's installation for an owner
// and returns an installation token for it; [App.JWT] returns the app's
// JWT (RS256, issued-at back-dated 60s for clock skew, expiring within
// GitHub's 10-minute limit, iss = the app id). Everything is cached: the
// owner's installation, each installation's token (renewed a margin before
// it expires), the JWT, and, for installations limited to selected
// repositories, the list of those repositories.
//
// # Request cost
//
// For an owner seen for the first time, with the repository known (as
// [App.Token] has it when given one): one call to find the installation,
// GET /repos/{owner}/{repo}/installation, which answers for organisations
// and users alike, then one call to mint the token (POST
// /app/installations/{id}/access_tokens): 2 requests. With only the owner
// known ([App.Installation], or Token without a repository): GET
// /orgs/{owner}/installation, and when that answers 404, GET
// /users/{owner}/installation, then the mint: 2 requests for an
// organisation, 3 for a user. Which of the two owner endpoints answered is
// remembered per owner, so a later lookup of that owner (when its cached
// installation expires) costs one request. When the repository endpoint
// answers 404 or a redirect (a repository that does not exist, was renamed
// or is outside a selected-repositories installation), the owner endpoints
// decide, so an owner the app is not installed for costs up to 3 requests
// once per [Options.NotInstalledTTL].
//
// Several owners seen for the first time together (a lookup for one while
// another owner's runs, or less than 10 seconds after it) are found with
// one listing instead: GET /app/installations, 100 installations a page,
// which names the account of each; every owner it lists (that
// allowedInstallationOwners allows) is remembered as if looked up when the
// listing started, and an owner it does not list is remembered as not
// installed until [Options.NotInstalledTTL] after that, no longer than the
// listing itself is used (an installation can be added at any time). So 50
// cold owners cost about 2 lookups and one listing instead of 50 to 150
// lookups, then one mint each. A single cold owner is still looked up
// alone, one call. An app whose first page shows more than 10 pages of
// installations (GitHub's Link rel="last") is not listed further and for
// an hour is looked up owner by owner. A listing does not show which
// repositories a selected-repositories installation covers: a repository
// is then checked as below. [App.Installations] lists every installation
// for a caller (org/githuborg reads the organisations an app is installed
// on with it), with the same pages and ETags, and remembers them as a
// burst's listing does; [App.SeedInstallations] takes installations a
// caller listed itself.
//
// However many goroutines ask at once, concurrent callers for one owner
// share one lookup and concurrent callers for one installation share one
// mint (golang.org/x/sync/singleflight, run outside any lock). A mint runs
// to its end even when the caller that started it gives up (bounded by
// the time its retries may take), and its token goes to every caller
// still waiting: the POST is never sent twice for that. After that,
// nothing until the token is due for renewal (one mint), the installation
// entry expires ([Options.InstallationTTL], one lookup) or the token is
// rejected ([App.Invalidate]).
//
// No request follows a redirect: GitHub's app endpoints never redirect a
// correct request, and Go's client would re-send the JWT or token to
// another port or a subdomain of the same host. A 3xx answer is an
// Unavailable error naming where it pointed.
//
// For an installation limited to selected repositories, a repository
// through which the installation was looked up (GET
// /repos/{owner}/{repo}/installation answered with it) is known to be
// selected: its first token costs the lookup and the mint, 2 requests.
// The first request that names another repository lists the
// installation's repositories (GET /installation/repositories, 100 per
// page, so one call per 100 repositories), cached for
// [Options.RepositoriesTTL]; a repository that is not in the list causes a
// fresh listing at most once per [Options.RepositoriesRefresh], so that a
// repository just added to the selection is seen. Installations on all
// repositories never list them.
//
// Listings (the installations, an installation's repositories) are sent
// again with the ETag of their last answer (If-None-Match), so an
// unchanged page costs a 304 Not Modified, which GitHub does not count
// against the rate limit. The last page of the installations is sent so
// too when it has room left (fewer than 100 installations): any change of
// the listing changes its body, so re-listing an unchanged app with up to
// 99 installations costs one 304, no counted request. A full last page is
// the exception: it is read in full, because the listing is a bare JSON
// array: a new installation that starts a new page leaves that page's
// body and ETag as they were, and only its Link header, which a 304 need
// not send, would show the new page. An installation's repositories are
// listed with their total_count on every page, which such a new page
// changes, so their last page is sent conditionally whatever its size.
// GitHub's answers vary with the credential (Vary: Authorization), so a
// page read with one installation token may be sent in full again to the
// next one.
//
// An owner the app is not installed for, and an installation that is
// suspended (seen at lookup or when GitHub refuses a mint), are remembered
// for [Options.NotInstalledTTL], so asking again costs nothing until then,
// and an installation unsuspended by its owner is used again once it
// lapses.
//
// Requests go through scmkit's one HTTP retry and rate-limit policy, the
// same as every other call of the library, tuned by the same option names
// ([Options.MaxRetries], MinWait, MaxWait, MaxRateLimitWait): lookups,
// listings and mints (safe to repeat: another short-lived token is issued)
// that fail with a network error, an attempt timeout
// ([Options.AttemptTimeout]) or a 5xx are retried with exponential backoff
// and jitter, never past the caller's context. A rate limit is waited out
// when GitHub names a time within MaxRateLimitWait (Retry-After;
// X-RateLimit-Reset when X-RateLimit-Remaining is 0; one minute for a
// secondary limit that names none, as GitHub documents), and otherwise
// returned at once as RateLimited with RetryAt; until that time (5
// minutes at most), the App's calls authenticated as the app (lookups,
// listings, mints) fail the same way without a request: the limit is the app's, and GitHub would
// refuse them too.
//
// [Token] never shows its secret when formatted with any fmt verb, logged
// with log/slog or marshalled to JSON, as long as fmt can call its methods:
// a Token in an unexported struct field is printed field by field by fmt,
// so keep tokens out of structs you print, or in exported fields.
//
// # Errors
//
// Every error is an *errcode.Error (classify it with errcode.CodeOf) whose message says what to
// fix and never contains a token or the private key. The conditions a
// caller must tell apart also match a sentinel with errors.Is:
//
//   - [ErrNotInstalled] (code NotFound): the app has no installation for the
//     owner. [Fallback] reports true: try another credential.
//   - [ErrOwnerNotAllowed] (code PermissionDenied): the owner is not in
//     allowedInstallationOwners. [Fallback] reports true.
//   - [ErrSuspended] (code PermissionDenied): the installation is suspended.
//   - [ErrRepositoryNotSelected] (code PermissionDenied): the installation
//     is limited to selected repositories and the repository is not one of
//     them.
//
// Other failures carry only a code: InvalidArgument for a private key that
// does not parse or a malformed owner name; Unauthorized when GitHub
// rejects the JWT (wrong app id or key, or a clock far off), with a note
// that a one-time password is required when GitHub sends X-GitHub-OTP;
// InvalidArgument for a 400; PermissionDenied
// for a 403, or a 422 when the installation does not grant a permission the
// token asks for ([Options.Permissions]); RateLimited with a retry time;
// Unavailable when GitHub cannot be reached, keeps answering 5xx, or answers
// something that is not the JSON it documents (often a wrong apiBaseUrl);
// Canceled or DeadlineExceeded when the caller's context ends first.
package githubapp
