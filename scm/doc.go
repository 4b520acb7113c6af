// Package scm is scmkit's portable API to source-control hosts: read a file,
// read a directory tree as an io/fs.FS, search a repository with a glob,
// list an owner's repositories, find a file across an owner, and open a
// pull request, the same way on GitHub, GitLab, Bitbucket Cloud and
// Bitbucket Server.
//
// A [Client] is built with [NewClient] from an integrations.Registry (which
// hosts exist and what their URLs mean), a credentials resolver (who we are
// on each call) and the drivers of the adapters in use (scm/githubscm and
// its siblings, scm/adapters for all four, or scm/memscm in tests); the
// package's Example builds one and reads a file, checking every error.
//
// Every operation takes web URLs as users paste them, routes each to the
// driver of its host's integration (looking the URL up once, with
// integrations.Registry.Lookup), validates its input before any
// request, resolves the credential once up front (so that a missing one
// fails fast with a clear error), retries per scmkit's policy, enforces
// size limits, and wraps errors once. A per-user view ([Client.ForUser])
// acts with the signed-in user's OAuth credential where it has one.
//
// URLs on hosts without integration are refused, except that ReadFile reads
// hosts allowed by backend.reading.allow anonymously.
//
// [Client.ReadTree] returns an in-memory snapshot; write it to disk with
// [WriteTree], which never leaves the destination directory, rather than
// os.CopyFS, which follows symbolic links already present there.
//
// # Errors
//
// Every error returned by this package is an [*Error] with a portable
// [ErrorCode]; classify it with [Code], or with errors.Is and the Err*
// sentinels (NotFound is also fs.ErrNotExist), and for RateLimited ask
// [RetryAt] when to try again, as the package's Example (errors) does.
//
// The *Error also names the operation (Op, e.g. "scm.ReadFile"), the
// provider and host, and the HTTP status, and wraps the provider's own
// error, reachable with errors.As. Messages never contain a secret: every
// credential value a call sent (a token, a Basic header's encoded and
// decoded user:password) is scrubbed, in every encoding a server may echo
// it in, from the answers' headers and error bodies (capped at 64 KiB)
// before any driver reads them, and from the error itself.
//
// NotFound may also mean that the credential cannot see the resource:
// GitHub, like other hosts, answers 404 rather than 403 for a private
// repository the caller has no access to, so a wrong or missing credential
// often shows as NotFound, not PermissionDenied.
//
// A rate limit whose reset lies beyond the retry cap
// (RetryOptions.MaxRateLimitWait) is not slept: the operation fails at once
// with RateLimited, and RetryAt says when to try again. A cancelled context
// gives Canceled, a passed deadline DeadlineExceeded.
package scm
