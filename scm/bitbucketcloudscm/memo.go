package bitbucketcloudscm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

// Defaults of [Options].
const (
	DefaultMainBranchTTL     = time.Minute
	DefaultArchiveRefusalTTL = time.Hour
	// maxMemo caps the entries of one memo: past it, expired entries go,
	// and if none has expired, all of them.
	maxMemo = 10_000
)

// repoKey names a repository in the main-branch memo.
func repoKey(owner, name string) string {
	return strings.ToLower(bbapi.Slug(owner)) + "/" + strings.ToLower(bbapi.Slug(name))
}

// rememberMainBranch notes a repository's main branch, as an answer the
// caller could read gave it (a repository, a listing, a search result).
func (d *Driver) rememberMainBranch(owner, name, branch string) {
	if owner == "" || name == "" || branch == "" {
		return
	}
	d.branches.Put(repoKey(owner, name), branch, d.now(), d.opts.MainBranchTTL)
}

// withRef calls do with ref or, when ref is "", with the repository's
// main branch: remembered (Options.MainBranchTTL) or looked up.
//
// The main branch is the same for every caller, but a remembered one was
// not read with this caller's credential: it only names the ref of a
// request that the caller's credential must pass on its own. When that
// request is refused or finds nothing (NotFound, PermissionDenied,
// Unauthorized), the main branch is looked up again with the caller's
// credential, so that a caller who may not read the repository gets that
// lookup's refusal (which names no branch) and never an error that names
// a branch she could not have learnt; do runs again when the branch
// turns out to have changed (renamed or deleted). A rate limit, an outage
// or a cancelled or expired context is returned with its code and retry
// time but without its text (which may quote the branch), without a
// second call into an API that just failed: such an answer says nothing
// of the caller's access. Anything else (a 304, a directory where a file
// was asked for, a limit) was answered to the caller's credential and is
// returned as it is.
func (d *Driver) withRef(ctx context.Context, hc *http.Client, repo driver.Repo, ref string, do func(ref string) error) error {
	if ref != "" {
		return do(ref)
	}
	if b, ok := d.branches.Get(repoKey(repo.Owner, repo.Name), d.now(), d.opts.MainBranchTTL); ok {
		err := do(b)
		switch info := d.ErrorInfo(err); info.Code {
		case errcode.NotFound, errcode.PermissionDenied, errcode.Unauthorized:
		case errcode.RateLimited, errcode.Unavailable, errcode.Canceled, errcode.DeadlineExceeded:
			// Answered before the caller's credential was checked (or
			// not at all): returned with its code and retry time, but
			// not with its text, which may quote the request (and so the
			// remembered branch) to a caller who may not read the
			// repository.
			return &errcode.Error{Code: info.Code, Status: info.Status, RetryAt: info.RetryAt,
				Msg: "reading at the repository's main branch failed", Err: ctxErr(err)}
		default:
			return err // nil, a 304, or an answer the caller's credential was given (a directory, a limit)
		}
		fresh, ferr := d.mainBranch(ctx, hc, repo)
		if ferr != nil {
			return ferr
		}
		if fresh == b {
			return err
		}
		return do(fresh)
	}
	b, err := d.mainBranch(ctx, hc, repo)
	if err != nil {
		return err
	}
	return do(b)
}

// archiveRefused reports whether the archive download refused the
// credential named by key (driver.TreeRequest.CredentialKey) lately.
func (d *Driver) archiveRefused(key string) bool {
	if key == "" {
		return false
	}
	_, ok := d.refusals.Get(key, d.now(), d.opts.ArchiveRefusalTTL)
	return ok
}

// ctxErr is the context error err wraps, if any, so that errors.Is still
// finds context.Canceled or DeadlineExceeded in a sanitised error.
func ctxErr(err error) error {
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}
