package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// Class is what [Classify] makes of an error answer.
type Class struct {
	// Code is the answer's error code.
	Code errcode.Code
	// RetryAt is when a RateLimited answer may succeed; zero when the
	// server named no time (or for other codes).
	RetryAt time.Time
	// Hint, when not empty, says in a few words what the answer asks of
	// the caller, for an error message (GitHub's X-GitHub-OTP, say).
	Hint string
}

// otpHint is the [Class.Hint] of a 401 carrying X-GitHub-OTP.
const otpHint = "GitHub requires a one-time password (two-factor code, X-GitHub-OTP) for this account; use a token instead of a password"

// Classify is the one mapping of an HTTP error answer (status 300 or
// more) to an error code, shared by every package that reads answers
// itself:
//
//	status                                      Code
//	304                                         NotModified
//	400                                         InvalidArgument
//	401                                         Unauthorized (Hint with X-GitHub-OTP)
//	403 or 429 that is a rate limit             RateLimited, RetryAt from [RateLimitInfo]
//	403 otherwise                               PermissionDenied
//	404, 410                                    NotFound
//	409                                         Conflict
//	422                                         InvalidArgument
//	451 (GitHub: repository access blocked)     PermissionDenied
//	5xx                                         Unavailable
//	anything else                               Unknown
//
// Every 429 is a rate limit; a 403 is one when [RateLimitInfo] says so
// (Retry-After, an exhausted primary limit, GitHub's secondary limit or
// its older "abuse detection" wording). GitHub documents a 401 with
// "X-GitHub-OTP: required; :2fa-type" for a password login that needs a
// two-factor code (docs.github.com, "Other authentication methods",
// "Working with two-factor authentication"). now turns relative headers
// into RetryAt. Like RateLimitInfo, Classify may peek at the first 8 KiB
// of a 403 or 429 body and leaves it readable in full.
func Classify(resp *http.Response, now time.Time) Class {
	if resp == nil {
		return Class{Code: errcode.Unknown}
	}
	switch s := resp.StatusCode; {
	case s == http.StatusNotModified:
		return Class{Code: errcode.NotModified}
	case s == http.StatusBadRequest, s == http.StatusUnprocessableEntity:
		return Class{Code: errcode.InvalidArgument}
	case s == http.StatusUnauthorized:
		c := Class{Code: errcode.Unauthorized}
		if strings.TrimSpace(resp.Header.Get("X-GitHub-OTP")) != "" {
			c.Hint = otpHint
		}
		return c
	case s == http.StatusForbidden, s == http.StatusTooManyRequests:
		if at, limited := RateLimitInfo(resp, now); limited {
			return Class{Code: errcode.RateLimited, RetryAt: at}
		}
		return Class{Code: errcode.PermissionDenied}
	case s == http.StatusUnavailableForLegalReasons:
		// GitHub's "Repository access blocked" (a takedown): it exists,
		// and no credential may read it.
		return Class{Code: errcode.PermissionDenied}
	case s == http.StatusNotFound, s == http.StatusGone:
		return Class{Code: errcode.NotFound}
	case s == http.StatusConflict:
		return Class{Code: errcode.Conflict}
	case s >= 500 && s <= 599:
		return Class{Code: errcode.Unavailable}
	}
	return Class{Code: errcode.Unknown}
}

// ClassifyFailure is the code of a call that failed without an answer to
// classify: the context's end (Canceled, DeadlineExceeded), or a broken
// connection, a timeout or an answer cut short (Unavailable, as on every
// adapter). ok is false for any other error, which the caller classifies
// itself.
func ClassifyFailure(err error) (code errcode.Code, ok bool) {
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.Canceled):
		return errcode.Canceled, true
	case errors.Is(err, context.DeadlineExceeded):
		return errcode.DeadlineExceeded, true
	case errors.As(err, &timeout), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errcode.Unavailable, true
	}
	return errcode.Unknown, false
}
