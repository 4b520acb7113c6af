package gitlabscm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// GraphQLError is a GraphQL answer that carried errors (GitLab answers
// them with HTTP 200).
type GraphQLError struct {
	// Status is the HTTP status of the answer.
	Status int
	Errors []GraphQLErrorItem
}

// GraphQLErrorItem is one entry of a GraphQL "errors" list.
type GraphQLErrorItem struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Error lists the GraphQL errors' messages.
func (e *GraphQLError) Error() string {
	var b strings.Builder
	b.WriteString("gitlab graphql: ")
	for i, x := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x.Message)
	}
	return b.String()
}

// complexity reports whether GitLab refused the query as too complex
// ("Query has complexity of 300, which exceeds max complexity of 250").
func (e *GraphQLError) complexity() bool { return e.mentions("complexity") }

func (e *GraphQLError) mentions(s string) bool {
	for _, x := range e.Errors {
		if strings.Contains(strings.ToLower(x.Message), s) {
			return true
		}
	}
	return false
}

// code classifies the errors of a GraphQL answer by their messages.
func (e *GraphQLError) code() errcode.Code {
	switch {
	case e.mentions("invalid token"), e.mentions("unauthorized"), e.mentions("authentication"):
		return errcode.Unauthorized
	case e.mentions("does not exist or you don't have permission"):
		return errcode.NotFound
	case e.mentions("too many requests"), e.mentions("rate limit"):
		return errcode.RateLimited
	case e.mentions("complexity"), e.mentions("doesn't exist on type"), e.mentions("doesn't accept argument"),
		e.mentions("missing required argument"), e.mentions("parse error"), e.mentions("invalid value"):
		return errcode.InvalidArgument
	case e.mentions("timeout"), e.mentions("timed out"), e.mentions("internal server error"):
		return errcode.Unavailable
	}
	return errcode.Unknown
}

// ErrorInfo implements driver.Driver: it is the one place where GitLab's
// answers become codes (see the package documentation for the table). An
// *errcode.Error (from the HTTP layer, the credentials or this driver)
// keeps its code.
func (d *Driver) ErrorInfo(err error) driver.ErrorInfo {
	if info, ok := driver.CommonErrorInfo(err); ok {
		return info
	}
	var (
		gql *GraphQLError
		er  *gitlab.ErrorResponse
		se  *json.SyntaxError
	)
	switch {
	case errors.Is(err, gitlab.ErrNotFound):
		// client-go answers every 404 with this sentinel, body dropped.
		return driver.ErrorInfo{Code: errcode.NotFound, Status: http.StatusNotFound}
	case errors.As(err, &gql):
		return driver.ErrorInfo{Code: gql.code(), Status: gql.Status}
	case errors.As(err, &er):
		return d.statusInfo(er)
	case errors.As(err, &se):
		// A truncated JSON body.
		return driver.ErrorInfo{Code: errcode.Unavailable}
	}
	return driver.FailureInfo(err)
}

// statusInfo classifies a REST error answer with httpx.Classify, as every
// HTTP client of scmkit classifies it (on the body client-go or
// responseError kept, since the answer's own was read), then by GitLab's
// conventions: 409 is AlreadyExists (GitLab's "already exists" answer),
// 412 is Conflict (a stale last_commit_id), a 400 or 422 saying "already
// exists" is AlreadyExists and "has changed since" is Conflict, and 405,
// 406 and 413 are InvalidArgument. A 403 that is not a rate limit (an
// archived project, say) stays PermissionDenied.
func (d *Driver) statusInfo(er *gitlab.ErrorResponse) driver.ErrorInfo {
	if er.Response == nil {
		return driver.ErrorInfo{Code: errcode.Unknown}
	}
	resp := *er.Response
	resp.Body = io.NopCloser(bytes.NewReader(er.Body))
	cl := httpx.Classify(&resp, d.now())
	st := resp.StatusCode
	msg := strings.ToLower(er.Message)
	info := driver.ErrorInfo{Code: cl.Code, Status: st, RetryAt: cl.RetryAt}
	switch {
	case st == http.StatusConflict:
		info.Code = errcode.AlreadyExists
	case st == http.StatusPreconditionFailed:
		info.Code = errcode.Conflict
	case (st == http.StatusBadRequest || st == http.StatusUnprocessableEntity) && strings.Contains(msg, "already exists"):
		info.Code = errcode.AlreadyExists
	case (st == http.StatusBadRequest || st == http.StatusUnprocessableEntity) && strings.Contains(msg, "has changed since"):
		info.Code = errcode.Conflict
	case st == http.StatusMethodNotAllowed || st == http.StatusNotAcceptable || st == http.StatusRequestEntityTooLarge:
		info.Code = errcode.InvalidArgument
	}
	return info
}

// responseError reads the (error) body of resp, at most maxErrorBytes,
// closes it and returns client-go's *gitlab.ErrorResponse with GitLab's
// message, the 404 body included (client-go drops it). An answer that asks
// something of the caller ([asksCaller]) comes inside an *errcode.Error
// that says so in httpx.Classify's words.
func responseError(resp *http.Response) error {
	if hint := asksCaller(resp); hint != "" {
		return &errcode.Error{Code: errcode.Unauthorized, Status: resp.StatusCode, Msg: hint, Err: plainResponseError(resp)}
	}
	return plainResponseError(resp)
}

// asksCaller returns httpx.Classify's hint for a 401 that asks the caller
// for something (X-GitHub-OTP: a one-time password), or "". It reads
// neither the body nor the clock.
func asksCaller(resp *http.Response) string {
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		return ""
	}
	return httpx.Classify(resp, time.Time{}).Hint
}

// plainResponseError is responseError without the hint.
func plainResponseError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	resp.Body.Close()
	er := &gitlab.ErrorResponse{Response: resp, Body: body}
	if s := strings.TrimSpace(string(body)); s != "" {
		var raw any
		if json.Unmarshal(body, &raw) == nil {
			er.Message = errorMessage(raw)
		} else {
			er.Message = firstLine(s)
		}
	}
	return er
}

// errorMessage flattens GitLab's error bodies: {"message": "..."},
// {"message": {"field": ["..."]}}, {"message": ["..."]}, {"error": "..."}.
func errorMessage(raw any) string {
	switch v := raw.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			parts = append(parts, errorMessage(x))
		}
		return strings.Join(parts, "; ")
	case map[string]any:
		if m, ok := v["message"]; ok {
			return errorMessage(m)
		}
		if e, ok := v["error"]; ok {
			msg := errorMessage(e)
			if desc, ok := v["error_description"].(string); ok {
				msg += ": " + desc
			}
			return msg
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if k == "base" || k == "error" {
				parts = append(parts, errorMessage(v[k]))
			} else {
				parts = append(parts, k+" "+errorMessage(v[k]))
			}
		}
		return strings.Join(parts, "; ")
	case nil:
		return ""
	}
	return fmt.Sprint(raw)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// fileNotFound reports whether err is GitLab's 404 File Not Found (as
// opposed to 404 Project Not Found or 404 Commit Not Found).
func fileNotFound(err error) bool {
	var er *gitlab.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound &&
		strings.Contains(er.Message, "File Not Found")
}
