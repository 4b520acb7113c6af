package scm

import (
	"net/http"
	"net/url"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
)

// attachTransport attaches one credential, resolved up front by a
// [Resolver] that is not a *credentials.Resolver, to the requests of one
// operation. It follows credentials.Transport's safety rules: the credential
// goes only to hosts the operation's integration owns, only over https (or
// over plain http to a host that the integration's own configuration gives
// an http:// URL), and never to a request that a redirect brought from, or
// took to, another host. A redirect from https to http on the integration's
// host therefore goes out without the credential. It does not refresh the
// credential after a 401.
type attachTransport struct {
	base http.RoundTripper
	in   *integrations.Integration
	reg  *integrations.Registry
	cred *credentials.Credential
}

func (t *attachTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" || !t.sendable(req.URL) || !t.owns(req) {
		return t.base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	if t.cred.Username != "" {
		r.SetBasicAuth(t.cred.Username, t.cred.Token)
	} else {
		r.Header.Set("Authorization", "Bearer "+t.cred.Token)
	}
	return t.base.RoundTrip(r)
}

// owns reports whether req and every request of its redirect chain went to
// a host of the integration.
func (t *attachTransport) owns(req *http.Request) bool {
	for r := req; r != nil; {
		if o, ok := t.reg.Owning(r.URL.Host); !ok || o.Host != t.in.Host {
			return false
		}
		if r.Response == nil {
			break
		}
		r = r.Response.Request
	}
	return true
}

// sendable reports whether the credential may travel over u's scheme: https
// always; plain http only to a host for which the integration's own
// configuration (its web, API or raw base URL) uses http. Hosts are
// compared normalised, so https://h and http://h are the same host, and
// the scheme is what tells a downgrade apart.
func (t *attachTransport) sendable(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return true
	case "http":
	default:
		return false
	}
	host := integrations.NormalizeHost(u.Host)
	for _, base := range []string{t.in.BaseURL, t.in.APIBaseURL, t.in.RawBaseURL} {
		b, err := url.Parse(base)
		if err == nil && b.Scheme == "http" && integrations.NormalizeHost(b.Host) == host {
			return true
		}
	}
	return false
}
