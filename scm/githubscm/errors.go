package githubscm

import (
	"context"
	"errors"
	"io"
	"net"
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
// keeps its code.
func (d *Driver) ErrorInfo(err error) driver.ErrorInfo {
	var (
		ce    *errcode.Error
		rle   *github.RateLimitError
		abuse *github.AbuseRateLimitError
		acc   *github.AcceptedError
		gql   *GraphQLError
		er    *github.ErrorResponse
	)
	switch {
	case err == nil:
		return driver.ErrorInfo{Code: errcode.OK}
	case errors.As(err, &ce):
		return driver.ErrorInfo{Code: ce.Code, Status: ce.Status, RetryAt: ce.RetryAt}
	case errors.Is(err, context.Canceled):
		return driver.ErrorInfo{Code: errcode.Canceled}
	case errors.Is(err, context.DeadlineExceeded):
		return driver.ErrorInfo{Code: errcode.DeadlineExceeded}
	case errors.As(err, &rle):
		info := driver.ErrorInfo{Code: errcode.RateLimited, RetryAt: rle.Rate.Reset.Time}
		if rle.Response != nil {
			info.Status = rle.Response.StatusCode
		}
		return info
	case errors.As(err, &abuse):
		info := driver.ErrorInfo{Code: errcode.RateLimited}
		if abuse.Response != nil {
			info.Status = abuse.Response.StatusCode
			info.RetryAt, _ = httpx.RateLimitInfo(abuse.Response, d.now())
		}
		if info.RetryAt.IsZero() && abuse.RetryAfter != nil {
			info.RetryAt = d.now().Add(*abuse.RetryAfter)
		}
		return info
	case errors.As(err, &acc):
		// 202: GitHub is computing the answer; a later retry succeeds.
		return driver.ErrorInfo{Code: errcode.Unavailable, Status: http.StatusAccepted}
	case errors.As(err, &gql):
		info := driver.ErrorInfo{Code: gql.code(), Status: gql.Status}
		if info.Code == errcode.RateLimited {
			info.RetryAt = gql.RateLimitReset
		}
		return info
	case errors.As(err, &er):
		return d.statusInfo(er)
	}
	var ne net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.As(err, &ne):
		return driver.ErrorInfo{Code: errcode.Unavailable}
	}
	return driver.ErrorInfo{Code: errcode.Unknown}
}

// statusInfo classifies a REST error answer by status and message.
func (d *Driver) statusInfo(er *github.ErrorResponse) driver.ErrorInfo {
	if er.Response == nil {
		return driver.ErrorInfo{Code: errcode.Unknown}
	}
	st := er.Response.StatusCode
	info := driver.ErrorInfo{Status: st}
	switch {
	case st == http.StatusNotModified:
		info.Code = errcode.NotModified
	case st == http.StatusUnauthorized:
		info.Code = errcode.Unauthorized
	case st == http.StatusForbidden || st == http.StatusTooManyRequests:
		if at, limited := httpx.RateLimitInfo(er.Response, d.now()); limited || st == http.StatusTooManyRequests {
			info.Code, info.RetryAt = errcode.RateLimited, at
		} else {
			info.Code = errcode.PermissionDenied
		}
	case st == http.StatusNotFound || st == http.StatusGone:
		info.Code = errcode.NotFound
	case st == http.StatusConflict:
		info.Code = errcode.Conflict
	case st == http.StatusUnprocessableEntity:
		switch {
		case mentions(er, "already exists"):
			info.Code = errcode.AlreadyExists
		case mentions(er, "not a fast forward"):
			info.Code = errcode.Conflict
		default:
			info.Code = errcode.InvalidArgument
		}
	case st == http.StatusBadRequest:
		info.Code = errcode.InvalidArgument
	case st >= 500:
		info.Code = errcode.Unavailable
	default:
		info.Code = errcode.Unknown
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

// statusOf returns the HTTP status of a go-github error answer, or 0.
func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// sensitiveParam reports whether a query parameter may carry a secret.
func sensitiveParam(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"token", "secret", "key", "sig", "password", "code", "jwt", "auth"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// redactURL removes the values of query parameters that may carry a
// secret (the archive link's token, say).
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
		if sensitiveParam(k) {
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
// wrapping has formatted their message.
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
