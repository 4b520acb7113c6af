package credentials

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact"
)

// Transport is an http.RoundTripper that resolves a credential for each
// request and attaches it, with the scheme the credential calls for (Basic
// when it has a Username, Bearer otherwise: GitHub, GitLab, Bitbucket
// access tokens and OAuth tokens are Bearer; Bitbucket Cloud API tokens and
// Bitbucket Server passwords are Basic). A request whose context comes
// from [WithBasicUsername] gets a credential without a Username as Basic
// with that user name (git over HTTPS).
//
// It is a plain struct, cheap to build per operation, as the example
// shows.
//
// Request is the template for every request. Its Host, if set, is the
// host the template (and in particular its User, the signed-in user's
// credential for that host) belongs to: a request to a host of another
// integration goes out with no credential at all, neither the user's token
// nor the other integration's own, because a driver that builds a request
// from a response (following a Location itself, say) must not carry one
// integration's identity to another. A request to another host of the same
// integration (the API host of a web host) is resolved as usual. If Host
// is empty, each request is resolved for its own URL's host. A template
// with a User and no Host is refused: every request through it fails with
// an InvalidArgument *errcode.Error and nothing is sent, because a user's
// token belongs to one host and such a template would offer it to every
// configured host. The template's URL is ignored.
//
// A credential is attached only to a host that an integration owns (its
// web, API or raw host), over https (or plain http where the configuration
// itself uses an http:// URL for that host, so that a redirect from https
// to http on the same host goes out without it), never to the other
// scheme's default port written out (https://host:80, http://host:443:
// another service on that host), and never to a request
// whose redirect chain passed through a host of another integration or of
// none: GitHub's redirect of an archive download to codeload.github.com
// goes out without Authorization. A request that already has an
// Authorization header is sent as it is. This rule is scmkit's only one
// for where a credential goes: it holds in both of Transport's modes.
//
// The second mode attaches one credential picked up front by a resolver
// of the embedder's own (scm.Resolver): set Credential, Registry and
// Request.Host instead of Resolver. The credential then goes, under the
// rule above, to the hosts of Request.Host's integration in Registry only;
// it is not refreshed after a 401, and a template without Host is refused
// as one with a User is.
//
// When the server answers 401 to an app or user credential, Transport
// drops that credential from its cache ([Resolver.Invalidate]) and retries
// once with a fresh one, if the request body can be sent again (no body,
// or GetBody set, as http.NewRequest does for in-memory bodies). Otherwise
// the 401 is returned as it is.
//
// If Resolve fails, RoundTrip returns its error (an *errcode.Error, inside
// the *url.Error that http.Client adds) and sends nothing.
//
// A Transport is safe for concurrent use, as an http.RoundTripper must
// be; do not change its fields once it is in use.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Resolver picks the credentials. A nil Resolver attaches nothing.
	Resolver *Resolver
	// Request is the template passed to Resolve: owner, repository,
	// write, user and policy.
	Request Request

	// Credential, when not nil, is attached (under the rule above) instead
	// of one resolved per request; Resolver is then not used.
	Credential *Credential
	// Registry, used with Credential only, says which hosts belong to
	// the integration of Request.Host (nil: the public hosts only).
	Registry *integrations.Registry
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper. It does not modify req; it
// closes req's body on every path, as the http.RoundTripper contract
// requires.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if t.Resolver != nil && t.Request.User != nil && t.Request.Host == "" {
		closeBody(req)
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: "credentials.Transport", Host: req.URL.Host,
			Msg: "the request template has a User but no Host: set Request.Host to the host the user's credential belongs to " +
				"(a user's token must never be offered to other hosts); nothing was sent"}
	}
	if t.Credential != nil {
		return t.attachFixed(base, req)
	}
	if t.Resolver == nil || req.Header.Get("Authorization") != "" {
		return base.RoundTrip(req)
	}
	if !attachable(req, resolverHosts{t.Resolver}, t.Request.Host) {
		return base.RoundTrip(req)
	}
	rr := t.Request
	if rr.Host == "" {
		rr.Host, rr.URL = req.URL.Host, ""
	} else {
		// Resolve checks again that the URL's host is the template host's
		// integration before it hands out anything, the user's token
		// included.
		rr.URL = req.URL.Scheme + "://" + req.URL.Host + "/"
	}
	cred, err := t.Resolver.Resolve(req.Context(), rr)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if cred.Token == "" {
		return base.RoundTrip(req) // anonymous
	}
	resp, err := base.RoundTrip(withCredential(req, cred, req.Body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized ||
		(cred.Kind != KindApp && cred.Kind != KindUser) || !replayable(req) {
		return resp, err
	}
	// 401: the cached credential may have been revoked or have expired
	// early. Drop it and try once more with a fresh one; unless the
	// server says the credential is good but not permitted (Bitbucket Data
	// Center's 401 with an AuthorisationException): a fresh one would be
	// refused the same, and a user's refresh token rotated for nothing.
	if notPermitted(resp) || !t.Resolver.Invalidate(rr, cred) {
		return resp, nil
	}
	fresh, err := t.Resolver.Resolve(req.Context(), rr)
	if err != nil || fresh.Token == "" || fresh.Token == cred.Token {
		return resp, nil
	}
	body := req.Body
	if body != nil && body != http.NoBody {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // draining for connection reuse
	resp.Body.Close()
	return base.RoundTrip(withCredential(req, fresh, body))
}

// notPermitted reports whether a 401 answer says the credential was
// accepted but lacks the permission, as Bitbucket Data Center words it
// ({"errors":[{"exceptionName":"com.atlassian.bitbucket.AuthorisationException"}]}).
// It reads up to 64 KiB of the body and leaves resp.Body whole.
func notPermitted(resp *http.Response) bool {
	// Bitbucket names the user it authenticated; an anonymous request (a
	// revoked token, on an instance with anonymous access) gets the same
	// exception without one, and the credential is then to be renewed.
	if resp.Header.Get("X-AUSERNAME") == "" || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	var e struct {
		Errors []struct {
			ExceptionName string `json:"exceptionName"`
		} `json:"errors"`
	}
	if json.Unmarshal(head, &e) != nil {
		return false
	}
	for _, x := range e.Errors {
		if strings.HasSuffix(x.ExceptionName, ".AuthorisationException") {
			return true
		}
	}
	return false
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

// Close closes the original body.
func (r readCloser) Close() error { return r.c.Close() }

// attachFixed is RoundTrip with a Credential resolved up front.
func (t *Transport) attachFixed(base http.RoundTripper, req *http.Request) (*http.Response, error) {
	if t.Request.Host == "" {
		closeBody(req)
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: "credentials.Transport", Host: req.URL.Host,
			Msg: "the transport has a Credential but its request template has no Host: set Request.Host to the host " +
				"the credential belongs to; nothing was sent"}
	}
	if t.Credential.Token == "" || req.Header.Get("Authorization") != "" ||
		!attachable(req, registryHosts{t.Registry}, t.Request.Host) {
		return base.RoundTrip(req)
	}
	return base.RoundTrip(withCredential(req, t.Credential, req.Body))
}

// hostTable says which integration owns a host (nil: none; values compare
// with ==) and whether a credential may go there over plain http.
type hostTable interface {
	owner(host string) any
	plainHTTP(host string) bool
}

// attachable is the rule of where a credential goes, the only copy of it:
// req's host and the host of every request of its redirect chain belong to
// one integration (that of the template host, when one is given), and req
// and every request of its chain go over https, or over http to a host that
// integration's own configuration gives an http:// URL.
func attachable(req *http.Request, hosts hostTable, template string) bool {
	o := hosts.owner(req.URL.Host)
	if o == nil || template != "" && hosts.owner(template) != o || otherDefaultPort(req.URL) {
		return false
	}
	switch req.URL.Scheme {
	case "https":
	case "http":
		if !hosts.plainHTTP(req.URL.Host) {
			return false
		}
	default:
		return false
	}
	for r := req; r.Response != nil && r.Response.Request != nil; {
		r = r.Response.Request
		if hosts.owner(r.URL.Host) != o {
			return false
		}
		// A hop the credential could not go over (plain http that the
		// configuration does not allow) was answerable by anyone on the
		// path, so whoever answered it chose where the chain went next.
		if r.URL.Scheme != "https" && !(r.URL.Scheme == "http" && hosts.plainHTTP(r.URL.Host)) || otherDefaultPort(r.URL) {
			return false
		}
	}
	return true
}

// otherDefaultPort reports whether u names the default port of the other
// scheme (https://host:80, http://host:443): a service on the host other
// than the one the configuration names, although host comparisons
// (integrations.NormalizeHost) drop both ports.
func otherDefaultPort(u *url.URL) bool {
	switch u.Port() {
	case "80":
		return u.Scheme == "https"
	case "443":
		return u.Scheme == "http"
	}
	return false
}

// resolverHosts are the hosts of a Resolver's integrations.
type resolverHosts struct{ r *Resolver }

func (h resolverHosts) owner(host string) any {
	if s := h.r.state(host); s != nil {
		return s
	}
	return nil
}

func (h resolverHosts) plainHTTP(host string) bool { return h.r.sendable("http", host) != nil }

// registryHosts are the hosts of a Registry's integrations.
type registryHosts struct{ reg *integrations.Registry }

func (h registryHosts) owner(host string) any {
	if in, ok := h.reg.Owning(host); ok {
		return in.Host // not in: a zero Registry's entries are fresh on every call
	}
	return nil
}

func (h registryHosts) plainHTTP(host string) bool {
	in, ok := h.reg.Owning(host)
	return ok && in.PlainHTTP(host)
}

func withCredential(req *http.Request, cred *Credential, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.Body = body
	switch user, _ := req.Context().Value(basicUsernameKey{}).(string); {
	case cred.Username != "":
		r.SetBasicAuth(cred.Username, cred.Token)
	case user != "":
		r.SetBasicAuth(user, cred.Token)
	default:
		r.Header.Set("Authorization", "Bearer "+cred.Token)
	}
	return r
}

// basicUsernameKey is the context key of WithBasicUsername.
type basicUsernameKey struct{}

// WithBasicUsername returns a context that asks a [Transport] to attach a
// credential that has no Username as HTTP Basic, with username as the user
// name and the token as the password, instead of Bearer. A credential with
// its own Username keeps it. It changes only how the credential is
// written, never where it goes: the rule of [Transport] (the
// integration's own hosts only) holds as for every request.
//
// Git over HTTPS needs it: GitHub's smart HTTP endpoints
// (/OWNER/REPO.git/info/refs, git-receive-pack) refuse Bearer and take a
// token as the password of Basic with the user name "x-access-token", so a
// driver that pushes sends its requests with
// WithBasicUsername(ctx, "x-access-token") and never sees the token.
// An empty username, or one holding ':' or a control character (which
// Basic cannot carry), leaves ctx as it is.
func WithBasicUsername(ctx context.Context, username string) context.Context {
	if username == "" || strings.ContainsFunc(username, func(r rune) bool { return r == ':' || r < 0x20 || r == 0x7f }) {
		return ctx
	}
	return context.WithValue(ctx, basicUsernameKey{}, username)
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// String describes the transport without any secret.
func (t *Transport) String() string { return "credentials.Transport(" + t.Request.String() + ")" }

// Format prints String for every verb, so no verb shows a secret.
func (t *Transport) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, t.String(), "&"+t.String())
}

// LogValue describes the transport without any secret.
func (t *Transport) LogValue() slog.Value { return slog.StringValue(t.String()) }
