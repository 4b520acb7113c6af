package githubscm

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// GraphQLError is a GraphQL answer that carried errors (GitHub answers
// them with HTTP 200).
type GraphQLError struct {
	// Status is the HTTP status of the answer.
	Status int
	// RateLimitReset is X-RateLimit-Reset of the answer, when it said
	// the limit was exhausted.
	RateLimitReset time.Time
	Errors         []GraphQLErrorItem
}

// GraphQLErrorItem is one entry of a GraphQL "errors" list.
type GraphQLErrorItem struct {
	Type    string `json:"type"` // e.g. NOT_FOUND, FORBIDDEN, RATE_LIMITED
	Message string `json:"message"`
	Path    []any  `json:"path"`
}

// Error lists the errors with their types.
func (e *GraphQLError) Error() string {
	var b strings.Builder
	b.WriteString("github graphql: ")
	for i, x := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		if x.Type != "" {
			b.WriteString(x.Type + ": ")
		}
		b.WriteString(x.Message)
	}
	return b.String()
}

// code classifies the errors of a GraphQL answer by their type.
func (e *GraphQLError) code() errcode.Code {
	for _, x := range e.Errors {
		switch x.Type {
		case "RATE_LIMITED":
			return errcode.RateLimited
		case "NOT_FOUND":
			return errcode.NotFound
		case "FORBIDDEN":
			return errcode.PermissionDenied
		case "EXCESSIVE_PAGINATION", "MISSING_PAGINATION_BOUNDARIES":
			return errcode.InvalidArgument
		}
	}
	return errcode.Unknown
}

// ErrorInfo implements driver.Driver: it is the one place where GitHub's
// answers become codes (see the package documentation for the table). An
// *errcode.Error (from the HTTP layer, the credentials or this driver)
// keeps its code; an HTTP answer is classified by its status as every
// HTTP client of scmkit classifies it (400 or 422 InvalidArgument, 401
// Unauthorized, 403 PermissionDenied, 404 or 410 NotFound, 409 Conflict,
// a 429 or a 403 that announces a rate limit RateLimited with RetryAt,
// 5xx Unavailable), with GitHub's refinements.
func (d *Driver) ErrorInfo(err error) driver.ErrorInfo {
	if info, ok := driver.CommonErrorInfo(err); ok {
		return info
	}
	var (
		acc *github.AcceptedError
		gql *GraphQLError
	)
	switch {
	case errors.As(err, &acc):
		// 202: GitHub is computing the answer; a later retry succeeds.
		return driver.ErrorInfo{Code: errcode.Unavailable, Status: http.StatusAccepted}
	case errors.As(err, &gql):
		info := driver.ErrorInfo{Code: gql.code(), Status: gql.Status}
		if info.Code == errcode.RateLimited {
			info.RetryAt = gql.RateLimitReset
		}
		return info
	}
	if resp := answerOf(err); resp != nil {
		return d.statusInfo(err, resp)
	}
	var rle *github.RateLimitError
	if errors.As(err, &rle) {
		// A rate limit without an answer to classify.
		return driver.ErrorInfo{Code: errcode.RateLimited, RetryAt: rle.Rate.Reset.Time}
	}
	return driver.FailureInfo(err)
}

// answerOf returns the HTTP answer of a go-github error, whichever of its
// error types carries it, or nil.
func answerOf(err error) *http.Response {
	var (
		er    *github.ErrorResponse
		tfa   *github.TwoFactorAuthError
		rle   *github.RateLimitError
		abuse *github.AbuseRateLimitError
	)
	switch {
	case errors.As(err, &er):
		return er.Response
	case errors.As(err, &tfa):
		return tfa.Response
	case errors.As(err, &rle):
		return rle.Response
	case errors.As(err, &abuse):
		return abuse.Response
	}
	return nil
}

// statusInfo classifies a REST error answer with httpx.Classify, then
// refines a 403 too_large (a file over the contents API's limit) to
// InvalidArgument and a 422 by its message ("already exists" is AlreadyExists, "not a
// fast forward" is Conflict). An answer go-github itself calls a rate
// limit stays one, with the time go-github read, when Classify finds none.
func (d *Driver) statusInfo(err error, resp *http.Response) driver.ErrorInfo {
	cl := httpx.Classify(resp, d.now())
	info := driver.ErrorInfo{Code: cl.Code, Status: resp.StatusCode, RetryAt: cl.RetryAt}
	var (
		er    *github.ErrorResponse
		rle   *github.RateLimitError
		abuse *github.AbuseRateLimitError
	)
	switch {
	case resp.StatusCode == http.StatusForbidden && errors.As(err, &er) && hasCode(er, "too_large"):
		// A file over the contents API's limit (100 MB raw): not a
		// permission, and no other credential will do better.
		info.Code = errcode.InvalidArgument
	case resp.StatusCode == http.StatusUnprocessableEntity && errors.As(err, &er):
		switch {
		case mentions(er, "already exists"):
			info.Code = errcode.AlreadyExists
		case mentions(er, "not a fast forward"):
			info.Code = errcode.Conflict
		}
	case info.Code == errcode.RateLimited:
		// Classify found the limit and its time.
	case errors.As(err, &rle):
		info.Code, info.RetryAt = errcode.RateLimited, rle.Rate.Reset.Time
	case errors.As(err, &abuse):
		info.Code = errcode.RateLimited
		if abuse.RetryAfter != nil {
			info.RetryAt = d.now().Add(*abuse.RetryAfter)
		}
	}
	return info
}

// mentions reports whether an error answer's message, or one of its
// errors, contains s (case-insensitively).
func mentions(er *github.ErrorResponse, s string) bool {
	if strings.Contains(strings.ToLower(er.Message), s) {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(strings.ToLower(e.Message), s) || (s == "already exists" && e.Code == "already_exists") {
			return true
		}
	}
	return false
}

// hasCode reports whether one of an error answer's errors has the code.
func hasCode(er *github.ErrorResponse, code string) bool {
	for _, e := range er.Errors {
		if e.Code == code {
			return true
		}
	}
	return false
}

// statusOf returns the HTTP status of a go-github error answer, or 0.
func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// redactURL removes the values of query parameters that may carry a
// secret (the archive link's token, say), as httpx.SensitiveParam names
// them.
func redactURL(u *url.URL) *url.URL {
	if u == nil || u.RawQuery == "" {
		return u
	}
	q, err := url.ParseQuery(u.RawQuery)
	c := *u
	if err != nil {
		c.RawQuery = "REDACTED"
		return &c
	}
	changed := false
	for k := range q {
		if httpx.SensitiveParam(k) {
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if !changed {
		return u
	}
	c.RawQuery = q.Encode()
	return &c
}

// redactResponse returns resp with its request's URL redacted, as a copy.
func redactResponse(resp *http.Response) *http.Response {
	if resp == nil || resp.Request == nil || resp.Request.URL == nil {
		return resp
	}
	u := redactURL(resp.Request.URL)
	if u == resp.Request.URL {
		return resp
	}
	req := *resp.Request
	req.URL = u
	r := *resp
	r.Request = &req
	return &r
}

// redact makes an error safe to show: the URLs it holds (in *url.Error and
// in go-github's error answers) lose the values of query parameters that
// may carry a secret. go-github itself redacts client_secret only. It is
// applied to errors as net/http and go-github return them, before any
// wrapping has formatted their message. An answer that asks something of
// the caller (a 401 with X-GitHub-OTP: a one-time password) comes back
// inside an *errcode.Error that says so, in httpx.Classify's words.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = redactURL(u).String()
		} else {
			ue.URL = "(unparseable URL)"
		}
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		er.Response = redactResponse(er.Response)
	}
	var rle *github.RateLimitError
	if errors.As(err, &rle) {
		rle.Response = redactResponse(rle.Response)
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		abuse.Response = redactResponse(abuse.Response)
	}
	var tfa *github.TwoFactorAuthError
	if errors.As(err, &tfa) {
		tfa.Response = redactResponse(tfa.Response)
		// Classify reads neither the clock nor the body of a 401.
		if cl := httpx.Classify(tfa.Response, time.Time{}); cl.Hint != "" {
			return &errcode.Error{Code: cl.Code, Status: tfa.Response.StatusCode, Msg: cl.Hint, Err: err}
		}
	}
	return err
}

// newGraphQLError builds the error of a GraphQL answer with errors.
func newGraphQLError(resp *http.Response, items []GraphQLErrorItem) *GraphQLError {
	e := &GraphQLError{Errors: items}
	if resp != nil {
		e.Status = resp.StatusCode
		if strings.TrimSpace(resp.Header.Get("X-RateLimit-Remaining")) == "0" {
			if s, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("X-RateLimit-Reset")), 10, 64); err == nil {
				e.RateLimitReset = time.Unix(s, 0)
			}
		}
	}
	return e
}
