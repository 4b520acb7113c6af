package bitbucketserverscm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

// ErrorMessage is one entry of Bitbucket's error body.
type ErrorMessage struct {
	Context       string `json:"context"`
	Message       string `json:"message"`
	ExceptionName string `json:"exceptionName"`
}

// APIError is an error answer of the Bitbucket Server REST API.
type APIError struct {
	Method string
	// Path is the request's path below the API base URL, without query.
	Path   string
	Status int
	Errors []ErrorMessage
	// RateLimited reports that the answer is a rate limit (any 429, or a
	// 403 that announces one: Retry-After, an exhausted limit in its
	// rate-limit headers).
	RateLimited bool
	// RetryAt is when a rate limit ends, where the answer says.
	RetryAt time.Time
	// existing is the existingPullRequest of a
	// DuplicatePullRequestException, raw.
	existing json.RawMessage
	// hint is httpx.Classify's word on what the answer asks of the
	// caller (a 401 with X-GitHub-OTP), or "".
	hint string
	// User is the X-AUSERNAME the answer named: whom Bitbucket
	// authenticated, "" when anonymous.
	User string
}

// Error describes the answer: method, path, status and Bitbucket's
// messages.
func (e *APIError) Error() string {
	var msgs []string
	for _, m := range e.Errors {
		if m.Message != "" {
			if m.Context != "" {
				msgs = append(msgs, m.Context+": "+m.Message)
			} else {
				msgs = append(msgs, m.Message)
			}
		}
	}
	s := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if len(msgs) > 0 {
		s += ": " + strings.Join(msgs, "; ")
	}
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

// says reports whether one of the answer's messages contains sub, in any
// case.
func (e *APIError) says(sub string) bool {
	return slices.ContainsFunc(e.Errors, func(m ErrorMessage) bool {
		return strings.Contains(strings.ToLower(m.Message), strings.ToLower(sub))
	})
}

// Exception reports whether the answer holds an error whose exceptionName
// ends with name (e.g. "NoSuchPathException").
func (e *APIError) Exception(name string) bool {
	return slices.ContainsFunc(e.Errors, func(m ErrorMessage) bool { return strings.HasSuffix(m.ExceptionName, name) })
}

// dirError reports a file path that names a directory.
type dirError struct{ path string }

func (e *dirError) Error() string { return fmt.Sprintf("%q is a directory, not a file", e.path) }

// unsupportedError reports a change the REST API cannot make.
type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string { return e.msg }

// existsError reports a Create change whose file exists with other content.
type existsError struct {
	path string
	err  error
}

func (e *existsError) Error() string {
	return fmt.Sprintf("file %q already exists with other content (the change is Create): %v", e.path, e.err)
}

func (e *existsError) Unwrap() error { return e.err }

// missingError reports an Update or a base branch that names nothing.
type missingError struct{ msg string }

func (e *missingError) Error() string { return e.msg }

// PartialCommitError reports an OpenPullRequest that failed after it had
// committed some of the changes: the branch holds the first Committed
// changes, one commit each. OpenPullRequest returns it inside an
// *errcode.Error that carries its cause's code; errors.As finds it.
type PartialCommitError struct {
	Branch    string
	Committed int    // changes committed (or already present) on Branch
	Total     int    // changes requested
	Failed    string // the path whose commit failed, "" if the pull request failed
	Head      string // the branch's last known commit, "" if unknown
	Err       error
}

// Error says what was written where, and how to finish.
func (e *PartialCommitError) Error() string {
	var b strings.Builder
	if e.Failed != "" {
		fmt.Fprintf(&b, "branch %q: %d of %d files committed before file %d (%s) failed", e.Branch, e.Committed, e.Total, e.Committed+1, e.Failed)
	} else {
		fmt.Fprintf(&b, "branch %q: all %d files committed but the pull request was not opened", e.Branch, e.Total)
	}
	if e.Head != "" {
		fmt.Fprintf(&b, " (branch head %s)", e.Head)
	}
	b.WriteString("; Bitbucket Server commits one file per request, so the branch holds a partial change until " +
		"OpenPullRequest is run again with the same changes (files already on the branch are skipped): ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *PartialCommitError) Unwrap() error { return e.Err }

// partial returns pe inside an *errcode.Error classified as its cause, so
// that the portable client keeps pe (and its message) even when the cause
// is itself an *errcode.Error, as the client's transport returns for a
// rate limit it will not wait for or a network failure.
func (d *Driver) partial(pe *PartialCommitError) error {
	return d.ErrorInfo(pe.Err).Wrap("", pe)
}

// ErrorInfo classifies an error returned by this driver's methods. It is
// the one place where Bitbucket Server errors map to codes.
func (d *Driver) ErrorInfo(err error) driver.ErrorInfo {
	var (
		ae *APIError
		ce *errcode.Error
		de *dirError
		ue *unsupportedError
		ee *existsError
		me *missingError
	)
	switch {
	case err == nil:
		return driver.ErrorInfo{Code: errcode.OK}
	case errors.As(err, &ee):
		info := d.ErrorInfo(ee.err)
		info.Code = errcode.AlreadyExists
		return info
	case errors.As(err, &ae):
		return driver.ErrorInfo{Code: statusCode(ae), Status: ae.Status, RetryAt: ae.RetryAt}
	case errors.As(err, &ce):
		return driver.ErrorInfo{Code: ce.Code, Status: ce.Status, RetryAt: ce.RetryAt}
	case errors.As(err, &de):
		return driver.ErrorInfo{Code: errcode.InvalidArgument}
	case errors.As(err, &ue):
		return driver.ErrorInfo{Code: errcode.Unimplemented}
	case errors.As(err, &me):
		return driver.ErrorInfo{Code: errcode.NotFound}
	}
	// The context's end, a broken connection or an answer cut short
	// (go-bitbucket's own reads fail with io.ErrUnexpectedEOF).
	return driver.FailureInfo(err)
}

// statusCode is bbapi.Code, refined by Bitbucket Server's conventions: a
// 409 with a DuplicatePullRequestException, DuplicateRefException or
// AlreadyExistsException is AlreadyExists; a 401 with an
// AuthorisationException is PermissionDenied: Bitbucket answers 401, not
// 403, when "the currently authenticated user has insufficient
// permissions" (its REST description of the 401s), while a credential it
// refuses gets an AuthenticationException (IncorrectPassword...). An
// anonymous request (no credential, or one an instance with anonymous
// access took for none) gets the same AuthorisationException: only an
// answer naming the user (X-AUSERNAME) is PermissionDenied.
func statusCode(e *APIError) errcode.Code {
	if !e.RateLimited && e.Status == http.StatusConflict && (e.Exception("DuplicatePullRequestException") ||
		e.Exception("DuplicateRefException") || e.Exception("AlreadyExistsException")) {
		return errcode.AlreadyExists
	}
	if !e.RateLimited && e.Status == http.StatusUnauthorized && e.Exception("AuthorisationException") && e.User != "" {
		return errcode.PermissionDenied
	}
	return bbapi.Code(e.Status, e.RateLimited)
}

// newAPIError makes an *APIError of an error answer, with the messages
// of its body ({"errors":[...]}).
func newAPIError(a *bbapi.Answer) error {
	e := &APIError{Method: a.Method, Path: a.Path, Status: a.Status, RateLimited: a.RateLimited, RetryAt: a.RetryAt, hint: a.Hint, User: a.User}
	var body struct {
		Errors []struct {
			ErrorMessage
			ExistingPullRequest json.RawMessage `json:"existingPullRequest"`
		} `json:"errors"`
	}
	if a.Body != nil && json.Unmarshal(a.Body, &body) == nil {
		for _, m := range body.Errors {
			e.Errors = append(e.Errors, m.ErrorMessage)
			if len(m.ExistingPullRequest) > 0 && string(m.ExistingPullRequest) != "null" {
				e.existing = m.ExistingPullRequest
			}
		}
	}
	return e
}
