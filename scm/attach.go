package scm

import (
	"net/http"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
)

// attachTransport attaches one credential, resolved up front by a
// [Resolver] that is not a *credentials.Resolver, to the requests of one
// operation. It follows credentials.Transport's safety rule: the credential
// goes only to hosts the operation's integration owns, and never to a
// request that a redirect brought from, or took to, another host. It does
// not refresh the credential after a 401.
type attachTransport struct {
	base http.RoundTripper
	in   *integrations.Integration
	reg  *integrations.Registry
	cred *credentials.Credential
}

func (t *attachTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" || !t.owns(req) {
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
