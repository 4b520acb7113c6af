package httpx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/redact"
)

// MaxErrorBody is how much of an error answer's body (status 400 or more)
// [Sanitize] keeps: the rest is dropped, so that no caller can hold more
// than this of an error page in memory or in a message.
const MaxErrorBody = 64 << 10

// Redacted replaces every credential value that [Secrets.Scrub] finds.
const Redacted = "[REDACTED]"

// minSecretLen is the length below which a value (or an encoding of it) is
// not scrubbed: replacing every "ab" of a message would garble it, and a
// credential that short protects nothing.
const minSecretLen = 4

// Secrets is the set of credential values that the requests of one
// operation sent: the values of their Authorization headers (a Bearer
// token; for Basic, the encoded value, the decoded "user:password" and the
// password), GitLab's Private-Token and Job-Token, cookies, a password in
// the URL (or its user name when it has no password: a token as the user
// name) and query parameters that carry a secret. [Sanitize] adds to it
// as the requests go out, so that a credential refreshed in the middle of
// an operation is known too.
//
// Scrub replaces each value, and the forms a server may echo it in (URL-,
// JSON-, HTML- and base64-encoded), with [Redacted]. It is safe for
// concurrent use; the zero value is an empty set.
type Secrets struct {
	mu    sync.Mutex
	vals  map[string]bool
	forms []string          // every form of every value, longest first; nil when stale
	rep   *strings.Replacer // built from forms when first needed; nil when stale
}

// String describes the set without its values.
func (s *Secrets) String() string { return "httpx.Secrets(" + strconv.Itoa(s.Len()) + " values)" }

// Format prints String for every verb, so that no verb shows a value.
func (s *Secrets) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), "&"+s.String()) }

// LogValue describes the set without its values.
func (s *Secrets) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON describes the set without its values.
func (s *Secrets) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Add adds credential values to the set; empty values are ignored.
func (s *Secrets) Add(vals ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		if v == "" || s.vals[v] {
			continue
		}
		if s.vals == nil {
			s.vals = map[string]bool{}
		}
		s.vals[v] = true
		s.forms, s.rep = nil, nil
	}
}

// Len returns how many values the set holds.
func (s *Secrets) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.vals)
}

// formsLocked returns every form of every value, longest first, computing
// them once per change of the set. s.mu must be held.
func (s *Secrets) formsLocked() []string {
	if s.forms == nil && len(s.vals) > 0 {
		seen := map[string]bool{}
		for v := range s.vals {
			for _, f := range secretForms(v) {
				if !seen[f] {
					seen[f] = true
					s.forms = append(s.forms, f)
				}
			}
		}
		// Longest first, so that a form containing another is replaced
		// whole (strings.Replacer tries the old strings in argument order
		// at each position).
		slices.SortFunc(s.forms, func(a, b string) int { return len(b) - len(a) })
	}
	return s.forms
}

// shows reports whether text holds a form of a value: the fast path, with
// no replacer built.
func (s *Secrets) shows(text string) bool {
	if s == nil || text == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.formsLocked() {
		if strings.Contains(text, f) {
			return true
		}
	}
	return false
}

// replacer returns the replacer of every form of every value, or nil for
// an empty set.
func (s *Secrets) replacer() *strings.Replacer {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	forms := s.formsLocked()
	if len(forms) == 0 {
		return nil
	}
	if s.rep == nil {
		args := make([]string, 0, 2*len(forms))
		for _, f := range forms {
			args = append(args, f, Redacted)
		}
		s.rep = strings.NewReplacer(args...)
	}
	return s.rep
}

// secretForms returns v and the encodings in which a server, a proxy or an
// error page may echo it.
func secretForms(v string) []string {
	if len(v) < minSecretLen {
		return nil
	}
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v), html.EscapeString(v),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
	if b, err := json.Marshal(v); err == nil && len(b) >= 2 {
		j := string(b[1 : len(b)-1])
		forms = append(forms, j, strings.ReplaceAll(j, "/", `\/`))
	}
	if q := strconv.Quote(v); len(q) >= 2 {
		forms = append(forms, q[1:len(q)-1])
	}
	out := forms[:0]
	for _, f := range forms {
		if len(f) >= minSecretLen && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Scrub returns text with every form of every value of the set replaced
// by [Redacted]. A nil or empty set returns text unchanged.
func (s *Secrets) Scrub(text string) string {
	if !s.shows(text) {
		return text
	}
	return s.replacer().Replace(text)
}

// Shows reports whether text holds a form of a value of the set.
func (s *Secrets) Shows(text string) bool { return s.shows(text) }

// ScrubError returns err unchanged when its message, under %v, %+v and
// %#v, shows no value of the set. Otherwise it returns an *errcode.Error
// with err's code, operation, provider, host, status and retry time whose
// message is err's message scrubbed; the wrapped chain, which shows the
// secret, is dropped (the code's sentinel still matches errors.Is).
func (s *Secrets) ScrubError(err error) error {
	if err == nil || s.Len() == 0 {
		return err
	}
	if !s.Shows(err.Error()) {
		return err
	}
	out := &errcode.Error{Code: errcode.CodeOf(err)}
	var ce *errcode.Error
	if errors.As(err, &ce) {
		out.Op, out.Provider, out.Host, out.Status, out.RetryAt = ce.Op, ce.Provider, ce.Host, ce.Status, ce.RetryAt
		out.Msg = s.Scrub(ce.Msg)
		if ce.Err != nil {
			out.Err = scrubbedError(s.Scrub(ce.Err.Error()))
		}
		return out
	}
	out.Err = scrubbedError(s.Scrub(err.Error()))
	return out
}

// scrubbedError is the text of an error whose credential values were
// scrubbed.
type scrubbedError string

func (e scrubbedError) Error() string { return string(e) }

// RequestSecrets returns the credential values req carries: see [Secrets].
func RequestSecrets(req *http.Request) []string {
	if req == nil {
		return nil
	}
	var out []string
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		for _, v := range req.Header.Values(name) {
			out = append(out, authSecrets(v)...)
		}
	}
	for name, vals := range req.Header {
		if sensitiveHeader(name) {
			for _, v := range vals {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	for _, c := range req.Cookies() {
		out = append(out, c.Value)
	}
	if req.URL != nil {
		if p, ok := req.URL.User.Password(); ok && p != "" {
			out = append(out, p)
		}
		if u := req.URL.User.Username(); len(u) >= minSecretLen {
			// A token as the user name (https://TOKEN@host,
			// https://TOKEN:x-oauth-basic@host, https://TOKEN:@host), which
			// *url.Error does not hide as it hides a password.
			out = append(out, u)
		}
		for k, vs := range req.URL.Query() {
			if SensitiveParam(k) {
				out = append(out, vs...)
			}
		}
	}
	return out
}

// authSecrets returns the secrets of an Authorization header value: the
// credentials after the scheme and, for Basic, the decoded "user:password"
// and the password.
func authSecrets(v string) []string {
	v = strings.TrimSpace(v)
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		return []string{v}
	}
	cred = strings.TrimSpace(cred)
	out := []string{cred}
	if strings.EqualFold(scheme, "basic") {
		if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
			out = append(out, string(dec))
			if _, pw, ok := strings.Cut(string(dec), ":"); ok {
				out = append(out, pw)
			}
		}
	}
	return out
}

// sensitiveHeader reports whether a request header other than
// Authorization carries a credential.
func sensitiveHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Private-Token", "Job-Token", "Deploy-Token", "X-Api-Key", "X-Auth-Token", "X-Gitlab-Token", "X-Hub-Signature", "X-Hub-Signature-256":
		return true
	}
	return false
}

// SensitiveParam reports whether a query parameter may carry a secret
// (token, secret, key, signature, password, code, jwt, auth).
func SensitiveParam(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"token", "secret", "key", "sig", "password", "code", "jwt", "auth"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Sanitize returns a RoundTripper that sends requests through base (nil
// means http.DefaultTransport) and makes sure that no credential a request
// carried comes back in its answer: it is the one place where error
// answers are capped and scrubbed, below every adapter, so that whatever a
// server or a proxy echoes (some echo the Authorization header in a 400 or
// 502 page) never reaches an error message, a log or a trace.
//
// For each request it adds the credential values the request carries (see
// [RequestSecrets]) to set (nil means a set of its own per request); then
//
//   - the answer's header values are scrubbed of every value of set;
//   - the body of an answer with a status of 400 or more is read, at most
//     [MaxErrorBody] bytes (the rest is dropped), scrubbed and replaced; a
//     failure while reading it is returned by the new body after the part
//     that was read;
//   - other bodies (file contents, archives) are streamed untouched.
//
// Sanitize must sit below the transport that attaches credentials, so
// that it sees them. Below a cache layer, it also tells the [Transport]
// above (through the request's context) when the server answered a
// conditional request 304, which the cache may turn into a 200: see
// [GitHubLimits].
func Sanitize(base http.RoundTripper, set *Secrets) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &sanitizer{base: base, set: set}
}

type sanitizer struct {
	base http.RoundTripper
	set  *Secrets
}

func (t *sanitizer) RoundTrip(req *http.Request) (*http.Response, error) {
	set := t.set
	if set == nil {
		set = &Secrets{}
	}
	set.Add(RequestSecrets(req)...)
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	if st := stateOf(req.Context()); st != nil && resp.StatusCode == http.StatusNotModified && conditional(req) {
		st.notModified.Store(true)
	}
	if set.Len() > 0 {
		for k, vs := range resp.Header {
			for i, v := range vs {
				if set.Shows(v) {
					vs[i] = set.Scrub(v)
				}
			}
			resp.Header[k] = vs
		}
	}
	if resp.StatusCode < 400 || resp.Body == nil || resp.Body == http.NoBody {
		return resp, nil
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	DrainClose(resp)
	if set.Len() > 0 {
		b = []byte(set.Scrub(string(b)))
	}
	var body io.Reader = bytes.NewReader(b)
	if rerr != nil {
		body = io.MultiReader(body, errReader{rerr})
	} else {
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	}
	resp.Body = io.NopCloser(body)
	return resp, nil
}
