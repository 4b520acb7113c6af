package credentials

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/scmkit/scmkit/errcode"
)

// Transport is an http.RoundTripper that resolves a credential for each
// request and attaches it, with the scheme the credential calls for (Basic
// when it has a Username, Bearer otherwise: GitHub, GitLab, Bitbucket
// access tokens and OAuth tokens are Bearer; Bitbucket Cloud API tokens and
// Bitbucket Server passwords are Basic).
//
// It is a plain struct, cheap to build per operation:
//
//	client := &http.Client{Transport: &credentials.Transport{
//		Resolver: resolver,
//		Request:  credentials.Request{Host: "github.com", Owner: "acme", Repo: "widgets", User: user},
//	}}
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
// itself uses an http:// URL for that host), and never to a request that a
// redirect took to a host of another integration or of none: GitHub's
// redirect of an archive download to codeload.github.com goes out without
// Authorization. A request that already has an Authorization header is
// sent as it is.
//
// When the server answers 401 to an app or user credential, Transport
// drops that credential from its cache ([Resolver.Invalidate]) and retries
// once with a fresh one, if the request body can be sent again (no body,
// or GetBody set, as http.NewRequest does for in-memory bodies). Otherwise
// the 401 is returned as it is.
//
// If Resolve fails, RoundTrip returns its error (an *errcode.Error, inside
// the *url.Error that http.Client adds) and sends nothing.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Resolver picks the credentials. A nil Resolver attaches nothing.
	Resolver *Resolver
	// Request is the template passed to Resolve: owner, repository,
	// write, user and policy.
	Request Request
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
	if t.Resolver == nil || req.Header.Get("Authorization") != "" {
		return base.RoundTrip(req)
	}
	h := t.Resolver.sendable(req.URL.Scheme, req.URL.Host)
	if h == nil || t.redirectedAway(req, h) || (t.Request.Host != "" && t.Resolver.state(t.Request.Host) != h) {
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
	// early. Drop it and try once more with a fresh one.
	if !t.Resolver.Invalidate(rr, cred) {
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

// redirectedAway reports whether req was produced by a redirect from a
// host that h does not own.
func (t *Transport) redirectedAway(req *http.Request, h *hostState) bool {
	if req.Response == nil {
		return false
	}
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return t.Resolver.state(first.URL.Host) != h
}

func withCredential(req *http.Request, cred *Credential, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.Body = body
	if cred.Username != "" {
		r.SetBasicAuth(cred.Username, cred.Token)
	} else {
		r.Header.Set("Authorization", "Bearer "+cred.Token)
	}
	return r
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
	formatRedacted(f, verb, t.String(), "&"+t.String())
}

// LogValue describes the transport without any secret.
func (t *Transport) LogValue() slog.Value { return slog.StringValue(t.String()) }
