// Package bbapi holds what the Bitbucket Cloud and Bitbucket Server
// adapters do alike, so that each rule is written once: sending a REST
// request through the portable client's *http.Client, reading and
// classifying an error answer, decoding a JSON answer under a size cap,
// checking the API base URL, and deriving a slug from a name.
//
// The adapters keep what differs: their URLs, their error bodies (each
// has its own exported APIError) and their refinements of [Code].
package bbapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

// Caps on the answers the adapters read.
const (
	// MaxErrorBody caps how much of an error answer is read.
	MaxErrorBody = 64 << 10
	// MaxJSONBody caps a JSON answer (a page of repositories or pull
	// requests, say).
	MaxJSONBody = 32 << 20
)

// Request is one request to a Bitbucket API or web host.
type Request struct {
	Method string
	// URL is absolute, query included.
	URL string
	// Path names the request in errors (escaped, without the query);
	// "" means the URL's path.
	Path        string
	Body        []byte
	ContentType string
	// Header is added to the request after "Accept: application/json",
	// which it may replace.
	Header http.Header
}

// name is the path that names r in errors.
func (r *Request) name() string {
	if r.Path != "" {
		return r.Path
	}
	return PathOf(r.URL)
}

// PathOf returns the escaped path of a raw URL, for an error message.
func PathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.EscapedPath()
}

// Answer is an error answer (status 300 or more), read and closed.
type Answer struct {
	Method string
	Path   string // as Request.Path names it
	Status int
	// RateLimited and RetryAt are httpx.Classify's verdict on the whole
	// answer: whether it is a rate limit, and when that ends (zero when
	// the answer does not say).
	RateLimited bool
	RetryAt     time.Time
	// Hint is httpx.Classify's word on what the answer asks of the
	// caller (a 401 with X-GitHub-OTP), or "".
	Hint string
	// Body is at most MaxErrorBody bytes of the answer; nil for a 304 or
	// when reading it failed.
	Body []byte
	// User is Bitbucket Data Center's X-AUSERNAME: the user it
	// authenticated the request as, "" when anonymous.
	User string
}

// Client sends the requests of one adapter's driver. Its fields are set
// once, when the driver is made.
type Client struct {
	// Now is the clock that turns a relative Retry-After into
	// Answer.RetryAt; nil means time.Now.
	Now func() time.Time
	// Error turns an error answer into the adapter's error.
	Error func(*Answer) error
}

// Send makes the request with hc and returns a 2xx response. A round trip
// that fails gives httpx.CallError's error; any other answer (a 304
// included) is read, closed and given to c.Error.
func (c *Client) Send(ctx context.Context, hc *http.Client, r *Request) (*http.Response, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, errcode.Newf(errcode.InvalidArgument, "", "building %s %s: %v", r.Method, r.name(), err)
	}
	if err := CheckPath(req.URL); err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range r.Header {
		req.Header[k] = v
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, httpx.CallError(r.Method, r.name(), err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	return nil, c.Error(c.read(r, resp))
}

// CheckPath refuses (InvalidArgument) a request URL whose path has a "."
// or ".." segment, even percent-encoded: dot-segment normalisation, which
// proxies and servers do, would send it, with its credential, to another
// resource of the host than the one the caller named. The adapters escape
// every name they put in a path, but a name that is not a slug becomes
// one ("!.." gives "..", "!!!" gives ""), and no slug, ref or path the
// adapters send is a dot segment or empty otherwise. An empty segment
// (other than a trailing slash) is refused too: merged slashes would
// name another resource.
func CheckPath(u *url.URL) error {
	if segs := strings.Split(u.EscapedPath(), "/"); len(segs) > 2 && slices.Contains(segs[1:len(segs)-1], "") {
		// An empty name ("!!!" has an empty slug): merged slashes would
		// name another resource too. (The leading slash, and one trailing
		// slash, make the only empty segments a path may have.)
		return errcode.Newf(errcode.InvalidArgument, "", "refusing to send a request for %s: a path segment is empty", u.EscapedPath())
	}
	for seg := range strings.SplitSeq(u.EscapedPath(), "/") {
		if dec, err := url.PathUnescape(seg); err == nil && (dec == "." || dec == "..") || seg == "." || seg == ".." {
			return errcode.Newf(errcode.InvalidArgument, "", "refusing to send a request for %s: a path segment is %q", u.EscapedPath(), seg)
		}
	}
	return nil
}

// read reads and closes an error answer.
func (c *Client) read(r *Request, resp *http.Response) *Answer {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	cl := httpx.Classify(resp, now())
	a := &Answer{Method: r.Method, Path: r.name(), Status: resp.StatusCode, Hint: cl.Hint, User: resp.Header.Get("X-AUSERNAME")}
	if cl.Code == errcode.RateLimited {
		a.RateLimited, a.RetryAt = true, cl.RetryAt
	}
	if resp.StatusCode == http.StatusNotModified {
		httpx.DrainClose(resp)
		return a
	}
	b, err := httpx.ReadBody(resp, MaxErrorBody)
	if err != nil {
		httpx.DrainClose(resp)
		return a
	}
	a.Body = b
	return a
}

// JSON makes the request and decodes its answer, at most MaxJSONBody
// bytes, into v; a nil v reads the answer and drops it. An answer that is
// not JSON gives a *DecodeError.
func (c *Client) JSON(ctx context.Context, hc *http.Client, r *Request, v any) error {
	resp, err := c.Send(ctx, hc, r)
	if err != nil {
		return err
	}
	b, err := httpx.ReadBody(resp, MaxJSONBody)
	if err != nil || v == nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &DecodeError{Method: r.Method, Path: r.name(), Err: err}
	}
	return nil
}

// SameContent reports whether the body of resp, a file's raw content,
// equals content, and closes it. It reads at most len(content)+1 bytes:
// a longer body differs.
func SameContent(resp *http.Response, content []byte) (bool, error) {
	b, err := httpx.ReadBody(resp, int64(len(content))+1)
	if err != nil {
		var ce *errcode.Error
		if errors.As(err, &ce) && ce.Code == errcode.InvalidArgument {
			return false, nil // longer than content
		}
		return false, err
	}
	return bytes.Equal(b, content), nil
}

// DecodeError is a 2xx answer that is not the JSON the adapter expects.
type DecodeError struct {
	Method string
	Path   string
	Err    error
}

// Error names the request.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s %s: decoding the answer: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Code classifies an error answer as both Bitbucket products answer:
// RateLimited when rateLimited (httpx.Classify's verdict on the whole
// answer), otherwise httpx.Classify's code for the status, with 412
// Conflict, 501 Unimplemented and any other 4xx InvalidArgument. Each
// adapter refines it by its product's conventions (a duplicate pull
// request, say).
func Code(status int, rateLimited bool) errcode.Code {
	if rateLimited {
		return errcode.RateLimited
	}
	code := httpx.Classify(&http.Response{StatusCode: status, Header: http.Header{}}, time.Time{}).Code
	switch {
	case status == http.StatusPreconditionFailed:
		return errcode.Conflict
	case status == http.StatusNotImplemented:
		return errcode.Unimplemented
	case code == errcode.Unknown && status >= 400 && status < 500:
		return errcode.InvalidArgument
	}
	return code
}

// ParseBaseURL parses an integration's API base URL, refusing one that
// is not an absolute http(s) URL: an InvalidArgument error of op that
// names configPath (the integration's place in the configuration).
func ParseBaseURL(op, configPath, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s: apiBaseUrl %q is not an absolute http(s) URL", configPath, raw)
	}
	return u, nil
}

// Slug returns the slug of a workspace or repository name as Bitbucket
// derives it: the name, lower-cased, when it is already a slug; otherwise
// each run of characters other than ASCII letters, digits, ".", "_" and
// "-" becomes one "-", and leading and trailing "-" are dropped ("My
// Service" gives "my-service").
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = true
	}
	return strings.Trim(b.String(), "-")
}
