package githubapp

import (
	"errors"
	"strconv"

	"github.com/scmkit/scmkit/errcode"
)

// Sentinels for the conditions a caller must tell apart; each is wrapped in
// an *errcode.Error, so test with errors.Is.
var (
	// ErrNotInstalled: the app has no installation for the owner, or the
	// installation was removed. Code NotFound. A fallback case (see
	// [Fallback]).
	ErrNotInstalled = errors.New("githubapp: not installed")
	// ErrOwnerNotAllowed: the owner is not in the app's
	// allowedInstallationOwners. Code PermissionDenied. A fallback case.
	ErrOwnerNotAllowed = errors.New("githubapp: owner not allowed")
	// ErrSuspended: the app's installation for the owner is suspended.
	// Code PermissionDenied.
	ErrSuspended = errors.New("githubapp: installation suspended")
	// ErrRepositoryNotSelected: the installation is limited to selected
	// repositories and the requested one is not among them. Code
	// PermissionDenied.
	ErrRepositoryNotSelected = errors.New("githubapp: repository not selected")
)

// errInstallationGone: minting a token answered 404 for an installation we
// had looked up. It matches ErrNotInstalled too.
var errInstallationGone = &goneError{}

type goneError struct{}

func (*goneError) Error() string        { return "githubapp: installation no longer exists" }
func (*goneError) Is(target error) bool { return target == ErrNotInstalled }

func (a *App) notInstalled(owner string, status int) error {
	return &errcode.Error{Code: errcode.NotFound, Op: "githubapp.Installation", Provider: provider, Host: a.host, Status: status,
		Msg: a.label + " is not installed for owner " + owner + "; install it on " + owner + ", or configure another credential for it",
		Err: ErrNotInstalled}
}

func (a *App) notAllowed(owner string) error {
	return &errcode.Error{Code: errcode.PermissionDenied, Op: "githubapp.Installation", Provider: provider, Host: a.host,
		Msg: a.label + " may not be used for owner " + owner + ": it is not in allowedInstallationOwners",
		Err: ErrOwnerNotAllowed}
}

func (a *App) suspended(id int64, owner string, status int) error {
	return &errcode.Error{Code: errcode.PermissionDenied, Op: "githubapp.Token", Provider: provider, Host: a.host, Status: status,
		Msg: a.label + "'s installation " + strconv.FormatInt(id, 10) + " for " + owner +
			" is suspended; an owner of " + owner + " must unsuspend it in the installation's settings",
		Err: ErrSuspended}
}
