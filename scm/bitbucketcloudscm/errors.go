package bitbucketcloudscm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	bitbucket "github.com/ktrysmt/go-bitbucket"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

// APIError is an error answer of Bitbucket Cloud.
type APIError struct {
	Method string
	// Path is the request's path, without query.
	Path    string
	Status  int
	Message string
	Detail  string
	// RateLimited reports that the answer is a rate limit (any 429, or a
	// 403 that announces one: Retry-After, an exhausted limit in its
	// rate-limit headers).
	RateLimited bool
	// RetryAt is when a rate limit ends, where the answer says.
	RetryAt time.Time
	// hint is httpx.Classify's word on what the answer asks of the
	// caller (a 401 with X-GitHub-OTP), or "".
	hint string
}

// Error describes the answer.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Detail != "" && e.Detail != e.Message {
		s += " (" + e.Detail + ")"
	}
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

func (e *APIError) says(sub string) bool {
	return strings.Contains(strings.ToLower(e.Message+" "+e.Detail), strings.ToLower(sub))
}

// dirError reports a file path that names a directory.
type dirError struct{ path string }

func (e *dirError) Error() string { return fmt.Sprintf("%q is a directory, not a file", e.path) }

// checkError reports a change whose file does (not) exist.
type checkError struct {
	code errcode.Code
	msg  string
}

func (e *checkError) Error() string { return e.msg }

// searchDisabledError reports a workspace without code search.
type searchDisabledError struct{ err *APIError }

func (e *searchDisabledError) Error() string {
	return "code search is not enabled for this workspace (turn it on at https://bitbucket.org/search); " +
		"discover files per repository instead: " + e.err.Error()
}

func (e *searchDisabledError) Unwrap() error { return e.err }

// ErrorInfo classifies an error returned by this driver's methods. It is
// the one place where Bitbucket Cloud errors map to codes.
func (d *Driver) ErrorInfo(err error) driver.ErrorInfo {
	var (
		se *searchDisabledError
		ae *APIError
		ce *errcode.Error
		de *dirError
		ke *checkError
	)
	switch {
	case err == nil:
		return driver.ErrorInfo{Code: errcode.OK}
	case errors.As(err, &se):
		return driver.ErrorInfo{Code: errcode.Unimplemented, Status: se.err.Status}
	case errors.As(err, &ke):
		return driver.ErrorInfo{Code: ke.code}
	case errors.As(err, &ae):
		return driver.ErrorInfo{Code: statusCode(ae), Status: ae.Status, RetryAt: ae.RetryAt}
	case errors.As(err, &ce):
		return driver.ErrorInfo{Code: ce.Code, Status: ce.Status, RetryAt: ce.RetryAt}
	case errors.As(err, &de):
		return driver.ErrorInfo{Code: errcode.InvalidArgument}
	}
	// The context's end, a broken connection or an answer cut short
	// (go-bitbucket's own reads fail with io.ErrUnexpectedEOF).
	return driver.FailureInfo(err)
}

// statusCode is bbapi.Code, refined by Bitbucket Cloud's conventions: a
// 400 saying "already an open pull request" or "already exists" is
// AlreadyExists and one saying "no changes to be pulled" is Conflict.
func statusCode(e *APIError) errcode.Code {
	if !e.RateLimited && e.Status == http.StatusBadRequest {
		switch {
		case e.says("already an open pull request") || e.says("already exists"):
			return errcode.AlreadyExists
		case e.says("no changes to be pulled"):
			return errcode.Conflict
		}
	}
	return bbapi.Code(e.Status, e.RateLimited)
}

// classifyAnswer is httpx.Classify's verdict on an error answer at time
// now, as ctxTransport keeps it. It may peek at the first 8 KiB of a 403
// or 429 body and leaves the body readable in full.
func classifyAnswer(resp *http.Response, now time.Time) answerInfo {
	cl := httpx.Classify(resp, now)
	return answerInfo{status: resp.StatusCode, limited: cl.Code == errcode.RateLimited, retryAt: cl.RetryAt, hint: cl.Hint}
}

// newAPIError makes an *APIError of an error answer, with the message and
// detail of its body.
func newAPIError(a *bbapi.Answer) error {
	e := &APIError{Method: a.Method, Path: a.Path, Status: a.Status, RateLimited: a.RateLimited, RetryAt: a.RetryAt, hint: a.Hint}
	if a.Body != nil {
		e.Message, e.Detail = errorBody(a.Body)
	}
	return e
}

// now is Options.Now, or time.Now.
func (d *Driver) now() time.Time {
	if d.opts.Now != nil {
		return d.opts.Now()
	}
	return time.Now()
}

// errorBody extracts Bitbucket's error message and detail.
func errorBody(b []byte) (msg, detail string) {
	var body struct {
		Error struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil {
		return body.Error.Message, body.Error.Detail
	}
	return "", ""
}

// error turns a go-bitbucket error into the driver's: *APIError for an
// HTTP answer (go-bitbucket keeps the status and body, not the headers:
// whether it was a rate limit, and until when, comes from the transport),
// the transport's own error otherwise.
func (c *bbClient) error(ctx context.Context, method, path string, err error) error {
	var ue *bitbucket.UnexpectedResponseStatusError
	if errors.As(err, &ue) {
		e := &APIError{Method: method, Path: path, Status: ue.StatusCode}
		e.Message, e.Detail = errorBody(ue.Body)
		if last := c.tr.lastAnswer(); last.status == ue.StatusCode {
			e.RateLimited, e.RetryAt, e.hint = last.limited, last.retryAt, last.hint
		}
		return e
	}
	var ce *errcode.Error
	if errors.As(err, &ce) {
		return ce
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}
