// Package errcode is the public home of the one error type that every
// scmkit package returns, as gocloud.dev's gcerrors is for the Go Cloud
// APIs: an [Error] carrying a portable [Code], the operation, the provider
// and host involved, the HTTP status and, for rate limits, when to retry.
//
// Classify any error from scmkit with [CodeOf] (or errors.As to *[Error] for
// the details), whichever package returned it: config, integrations,
// credentials, scm and its adapters, auth, org, identity, permission,
// redisstore and webhook all return these codes. The scm package keeps
// aliases of these names (scm.Error, scm.Code, scm.NotFound, ...) so that
// code written against scm alone reads naturally.
package errcode

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// Code is a portable classification of an error. The numbers are stable and
// are never reused.
type Code int

// The codes. OK is the code of a nil error.
const (
	OK               Code = 0
	Unknown          Code = 1
	NotFound         Code = 2
	AlreadyExists    Code = 3
	Conflict         Code = 4
	InvalidArgument  Code = 5
	Unauthorized     Code = 6
	PermissionDenied Code = 7
	RateLimited      Code = 8
	NotModified      Code = 9
	Unimplemented    Code = 10
	Unavailable      Code = 11
	Canceled         Code = 12
	DeadlineExceeded Code = 13
)

var codeNames = [...]string{
	OK:               "OK",
	Unknown:          "Unknown",
	NotFound:         "NotFound",
	AlreadyExists:    "AlreadyExists",
	Conflict:         "Conflict",
	InvalidArgument:  "InvalidArgument",
	Unauthorized:     "Unauthorized",
	PermissionDenied: "PermissionDenied",
	RateLimited:      "RateLimited",
	NotModified:      "NotModified",
	Unimplemented:    "Unimplemented",
	Unavailable:      "Unavailable",
	Canceled:         "Canceled",
	DeadlineExceeded: "DeadlineExceeded",
}

// String returns the code's name, e.g. "NotFound".
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("Code(%d)", int(c))
}

// Sentinel errors, one per code, for use with errors.Is.
var (
	ErrNotFound         = &sentinel{NotFound}
	ErrAlreadyExists    = &sentinel{AlreadyExists}
	ErrConflict         = &sentinel{Conflict}
	ErrInvalidArgument  = &sentinel{InvalidArgument}
	ErrUnauthorized     = &sentinel{Unauthorized}
	ErrPermissionDenied = &sentinel{PermissionDenied}
	ErrRateLimited      = &sentinel{RateLimited}
	ErrNotModified      = &sentinel{NotModified}
	ErrUnimplemented    = &sentinel{Unimplemented}
	ErrUnavailable      = &sentinel{Unavailable}
	ErrCanceled         = &sentinel{Canceled}
	ErrDeadlineExceeded = &sentinel{DeadlineExceeded}
	ErrUnknown          = &sentinel{Unknown}
)

type sentinel struct{ code Code }

func (s *sentinel) Error() string { return "scm: " + s.code.String() }

// Is lets a sentinel match the standard library's equivalents, so that
// errors.Is(scm.ErrNotFound, fs.ErrNotExist) holds as well.
func (s *sentinel) Is(target error) bool {
	switch s.code {
	case NotFound:
		return target == fs.ErrNotExist
	case PermissionDenied:
		return target == fs.ErrPermission
	case AlreadyExists:
		return target == fs.ErrExist
	case Canceled:
		return target == context.Canceled
	case DeadlineExceeded:
		return target == context.DeadlineExceeded
	}
	return false
}

func sentinelFor(c Code) error {
	switch c {
	case NotFound:
		return ErrNotFound
	case AlreadyExists:
		return ErrAlreadyExists
	case Conflict:
		return ErrConflict
	case InvalidArgument:
		return ErrInvalidArgument
	case Unauthorized:
		return ErrUnauthorized
	case PermissionDenied:
		return ErrPermissionDenied
	case RateLimited:
		return ErrRateLimited
	case NotModified:
		return ErrNotModified
	case Unimplemented:
		return ErrUnimplemented
	case Unavailable:
		return ErrUnavailable
	case Canceled:
		return ErrCanceled
	case DeadlineExceeded:
		return ErrDeadlineExceeded
	case Unknown:
		return ErrUnknown
	}
	return nil
}

// Error is the error type returned by every scmkit operation.
//
// Its message never contains a secret: adapters must not put tokens or
// credential-bearing URLs in Msg or in the wrapped Err.
type Error struct {
	Code     Code      // portable classification
	Op       string    // the operation, e.g. "scm.ReadFile"
	Provider string    // "github", "gitlab", "bitbucketCloud", "bitbucketServer", or ""
	Host     string    // the integration host, e.g. "github.com"
	Status   int       // HTTP status of the failed response, or 0
	RetryAt  time.Time // for RateLimited: when a retry may succeed; zero if unknown
	Msg      string    // a human-readable explanation, may be empty
	Err      error     // the underlying (provider) error, may be nil
}

// Error formats as "op provider host: msg: err (code)".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
	}
	if e.Provider != "" || e.Host != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		switch {
		case e.Provider != "" && e.Host != "":
			b.WriteString(e.Provider + " " + e.Host)
		default:
			b.WriteString(e.Provider + e.Host)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Msg != "" {
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.Msg == "" && e.Err == nil {
		b.WriteString(strings.ToLower(e.Code.String()))
	}
	if in, ok := e.Err.(*Error); ok && in.Code == e.Code && (e.Status == 0 || e.Status == in.Status) &&
		(e.RetryAt.IsZero() || e.RetryAt.Equal(in.RetryAt)) {
		return b.String() // the wrapped error's text already ends with the same code
	}
	fmt.Fprintf(&b, " (%s", e.Code)
	if e.Status != 0 {
		fmt.Fprintf(&b, ", HTTP %d", e.Status)
	}
	if !e.RetryAt.IsZero() {
		fmt.Fprintf(&b, ", retry at %s", e.RetryAt.UTC().Format(time.RFC3339))
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap returns the wrapped error and the sentinel of the code, so that
// errors.Is(err, ErrNotFound) and errors.As(err, &providerErr) both work.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if s := sentinelFor(e.Code); s != nil {
		errs = append(errs, s)
	}
	return errs
}

// New returns an *Error with the given code and message.
func New(code Code, op, msg string) *Error {
	return &Error{Code: code, Op: op, Msg: msg}
}

// Newf returns an *Error with the given code and a formatted message.
// The %w verb is not supported; wrap with [Wrap] instead.
func Newf(code Code, op, format string, args ...any) *Error {
	return &Error{Code: code, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given code wrapping err.
// If err is nil, Wrap returns nil.
func Wrap(code Code, op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Op: op, Err: err}
}

// CodeOf classifies err. A nil error is OK; an *Error anywhere in the chain
// gives its Code; context.Canceled and context.DeadlineExceeded map to
// Canceled and DeadlineExceeded; anything else is Unknown.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var s *sentinel
	if errors.As(err, &s) {
		return s.code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Unknown
}

// RetryAt reports when a rate-limited operation may be retried. ok is false
// when err carries no such time.
func RetryAt(err error) (t time.Time, ok bool) {
	var e *Error
	if errors.As(err, &e) && !e.RetryAt.IsZero() {
		return e.RetryAt, true
	}
	return time.Time{}, false
}

// FromContext returns a Canceled or DeadlineExceeded *Error for op when ctx
// is done, and nil otherwise.
func FromContext(ctx context.Context, op string) error {
	switch err := ctx.Err(); {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: DeadlineExceeded, Op: op, Err: err}
	default:
		return &Error{Code: Canceled, Op: op, Err: err}
	}
}
