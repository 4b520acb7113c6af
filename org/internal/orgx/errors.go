package orgx

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

// Errs builds one reader's errors, each with the reader's Op, Provider
// and Host, so that every reader words a failure the same way.
type Errs struct {
	Op, Provider, Host string
	// Subject, when set, starts every message: what was being read
	// ("organisation acme").
	Subject string
}

// Fail returns an error of code with the reader's fields; msg may be
// empty.
func (e Errs) Fail(code errcode.Code, status int, msg string, err error) *errcode.Error {
	m := e.Subject
	if m != "" && msg != "" {
		m += ": "
	}
	m += msg
	return &errcode.Error{Code: code, Op: e.Op, Provider: e.Provider, Host: e.Host, Status: status, Msg: m, Err: err}
}

// Transport is the error of a request that got no answer (the error of
// http.Client.Do): the context's code when ctx ended; the code, RetryAt and
// text of an *errcode.Error (httpx's verdict on retries and rate limits, a
// credential that could not be had); Unavailable for anything else.
func (e Errs) Transport(ctx context.Context, err error) error {
	if c := errcode.FromContext(ctx, e.Op); c != nil {
		return c
	}
	var ce *errcode.Error
	if errors.As(err, &ce) {
		f := e.Fail(ce.Code, ce.Status, "", ce) // not err: http.Client's *url.Error adds only the URL

		f.RetryAt = ce.RetryAt
		return f
	}
	return e.Fail(errcode.Unavailable, 0, "", err)
}

// Wording is what a reader says, per code, of an error answer: the
// message before the cause. Unknown is said of every code without a field
// (Conflict, say) and in place of an empty field.
type Wording struct {
	Unauthorized, PermissionDenied, RateLimited, NotFound string
	InvalidArgument, Unavailable, Unknown                 string
	// GaveUp is said of a 502 or 504; empty means Unavailable's words.
	GaveUp string
}

// Answer is the error of an answer with status 300 or more, classified as
// every package of the library classifies one ([httpx.Classify]): a 403 or
// 429 that is a rate limit is RateLimited with its retry time, a 5xx is
// Unavailable (a 502 or 504 worded as GaveUp). cause tells what the body
// (read up to 64 KiB, then closed) says, in the provider's words.
func (e Errs) Answer(resp *http.Response, now time.Time, w Wording, cause func(body []byte) string) *errcode.Error {
	st := resp.StatusCode
	cl := httpx.Classify(resp, now) // before the body is read: it may peek at it
	b, _ := httpx.ReadBody(resp, 64<<10)
	msg := map[errcode.Code]string{
		errcode.Unauthorized: w.Unauthorized, errcode.PermissionDenied: w.PermissionDenied,
		errcode.RateLimited: w.RateLimited, errcode.NotFound: w.NotFound, errcode.InvalidArgument: w.InvalidArgument,
		errcode.Unavailable: w.Unavailable,
	}[cl.Code]
	if st == http.StatusBadGateway || st == http.StatusGatewayTimeout {
		msg = cmp.Or(w.GaveUp, msg)
	}
	f := e.Fail(cl.Code, st, cmp.Or(msg, w.Unknown), errors.New(cmp.Or(cause(b), http.StatusText(st))))
	f.RetryAt = cl.RetryAt
	return f
}

// RepeatedCursor is the error of a listing whose server gave a page cursor
// it had given before (or none where one was due), or a page with nothing
// not listed before and more pages promised: Unavailable, as the answer
// cannot be complete.
func RepeatedCursor(op, provider, host, what string) error {
	return &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: host,
		Msg: what + ": the server repeated a page cursor or a page (or sent no cursor with more pages to come); following it would never end"}
}

// Repeated is [RepeatedCursor] for this reader's listing of what.
func (e Errs) Repeated(what string) error {
	if e.Subject != "" {
		what = e.Subject + ": " + what
	}
	return RepeatedCursor(e.Op, e.Provider, e.Host, what)
}

// shrink marks an error that smaller pages may avoid.
type shrink struct{ error }

func (s shrink) Unwrap() error { return s.error }

// Shrink marks err as one that the same query with smaller pages may
// avoid (a timeout, a query too large); [Pages.Do] halves the page sizes
// and tries again.
func Shrink(err error) error { return shrink{err} }

// Shrinkable reports whether err was marked by [Shrink].
func Shrinkable(err error) bool {
	var s shrink
	return errors.As(err, &s)
}
