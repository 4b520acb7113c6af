package scm

import (
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// Error is the error type of every scmkit operation. See the package
// documentation, section Errors.
type Error = errcode.Error

// ErrorCode is a portable classification of an error. The numbers are
// stable and never reused. Use [Code] to classify an error.
type ErrorCode = errcode.Code

// The error codes.
const (
	// OK is the code of a nil error.
	OK = errcode.OK
	// Unknown is the code of an error that could not be classified.
	Unknown = errcode.Unknown
	// NotFound: the repository, ref, file or directory does not exist.
	// NotFound may also mean that the credential cannot see the resource:
	// GitHub (and other hosts) answer 404, not 403, for a private
	// repository the caller has no access to.
	NotFound = errcode.NotFound
	// AlreadyExists: the thing to create exists already.
	AlreadyExists = errcode.AlreadyExists
	// Conflict: the change conflicts with the current state (a branch
	// moved, a file changed underneath).
	Conflict = errcode.Conflict
	// InvalidArgument: the request is malformed (a bad URL, path, branch
	// name or pull-request spec), a path names a directory where a file
	// is expected, or a size or file-count limit was exceeded.
	InvalidArgument = errcode.InvalidArgument
	// Unauthorized: the credential is missing, invalid or expired, or no
	// credential fits the request.
	Unauthorized = errcode.Unauthorized
	// PermissionDenied: the credential is valid but may not do this, or a
	// URL's host is neither an integration nor allowed by
	// backend.reading.allow.
	PermissionDenied = errcode.PermissionDenied
	// RateLimited: the host's rate limit was hit and waiting for it would
	// exceed the retry cap; [RetryAt] says when to try again.
	RateLimited = errcode.RateLimited
	// NotModified: a conditional read found the content unchanged.
	NotModified = errcode.NotModified
	// Unimplemented: the provider, or its driver, cannot do this.
	Unimplemented = errcode.Unimplemented
	// Unavailable: the host failed (5xx, a broken connection) even after
	// retries.
	Unavailable = errcode.Unavailable
	// Canceled: the context was cancelled.
	Canceled = errcode.Canceled
	// DeadlineExceeded: the context's deadline passed.
	DeadlineExceeded = errcode.DeadlineExceeded
)

// Sentinel errors, one per code: errors.Is(err, scm.ErrNotFound) holds for
// every error whose code is NotFound. ErrNotFound also matches
// fs.ErrNotExist, ErrPermissionDenied fs.ErrPermission, ErrAlreadyExists
// fs.ErrExist, ErrCanceled context.Canceled and ErrDeadlineExceeded
// context.DeadlineExceeded.
var (
	ErrNotFound         = errcode.ErrNotFound
	ErrAlreadyExists    = errcode.ErrAlreadyExists
	ErrConflict         = errcode.ErrConflict
	ErrInvalidArgument  = errcode.ErrInvalidArgument
	ErrUnauthorized     = errcode.ErrUnauthorized
	ErrPermissionDenied = errcode.ErrPermissionDenied
	ErrRateLimited      = errcode.ErrRateLimited
	ErrNotModified      = errcode.ErrNotModified
	ErrUnimplemented    = errcode.ErrUnimplemented
	ErrUnavailable      = errcode.ErrUnavailable
	ErrCanceled         = errcode.ErrCanceled
	ErrDeadlineExceeded = errcode.ErrDeadlineExceeded
	ErrUnknown          = errcode.ErrUnknown
)

// Code classifies err: OK for nil, the Code of an [*Error] in its chain,
// Canceled and DeadlineExceeded for the context errors, Unknown otherwise.
func Code(err error) ErrorCode { return errcode.CodeOf(err) }

// RetryAt reports when a rate-limited operation may be retried; ok is
// false when err carries no such time.
func RetryAt(err error) (t time.Time, ok bool) { return errcode.RetryAt(err) }
