package integrations

import (
	"net/url"
	"strconv"
	"strings"
)

func (r *Registry) integrations() []*Integration {
	if r == nil || r.list == nil {
		return defaultIntegrations()
	}
	return r.list
}

// List returns every integration: configured entries in config order per
// provider (github, gitlab, bitbucketCloud, bitbucketServer), each followed
// by the implicit default for its public host if that host was not
// configured. The slice is a copy; the integrations must not be modified.
func (r *Registry) List() []*Integration {
	l := r.integrations()
	return append([]*Integration(nil), l...)
}

// ByHost returns the integration whose web host is host (compared
// case-insensitively, default ports ignored).
func (r *Registry) ByHost(host string) (*Integration, bool) {
	host = NormalizeHost(host)
	for _, in := range r.integrations() {
		if in.Host == host {
			return in, true
		}
	}
	return nil, false
}

// ByURL returns the integration whose web host is the host of rawURL,
// compared as Backstage compares it: case-insensitively, default ports
// ignored, and an internationalised host in its xn-- form. To also parse
// what rawURL points at, use [Registry.Lookup], which parses it once for
// both.
func (r *Registry) ByURL(rawURL string) (*Integration, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, false
	}
	return r.ByHost(asciiHost(u.Host))
}

// Owning returns the integration that host belongs to: its web host, the
// host of its APIBaseURL, or the host of its RawBaseURL. Credentials are
// only ever sent to a host for which Owning reports true.
func (r *Registry) Owning(host string) (*Integration, bool) {
	host = NormalizeHost(host)
	if in, ok := r.ByHost(host); ok {
		return in, true
	}
	for _, in := range r.integrations() {
		if in.owns(host) {
			return in, true
		}
	}
	return nil, false
}

// Owns reports whether host (as in a request URL) belongs to the
// integration: its web host or the host of its API or raw base URL.
func (in *Integration) Owns(host string) bool { return in.owns(NormalizeHost(host)) }

func (in *Integration) owns(host string) bool {
	if in.Host == host {
		return true
	}
	for _, b := range []string{in.APIBaseURL, in.RawBaseURL} {
		if b == "" {
			continue
		}
		if u, err := url.Parse(b); err == nil && NormalizeHost(u.Host) == host {
			return true
		}
	}
	return false
}

// PlainHTTP reports whether the integration's own configuration gives host
// (as in a request URL) an http:// URL: its web, API or raw base URL, as
// for a test server or an internal instance. A credential goes to one of
// the integration's hosts over plain HTTP only then, and never over a
// redirect from https to http.
func (in *Integration) PlainHTTP(host string) bool {
	host = NormalizeHost(host)
	for _, base := range []string{in.BaseURL, in.APIBaseURL, in.RawBaseURL} {
		if u, err := url.Parse(base); err == nil && u.Scheme == "http" && NormalizeHost(u.Host) == host {
			return true
		}
	}
	return false
}

// Token returns the entry's host-wide token (for Bitbucket Cloud: the API
// or access token; for Bitbucket Server: the token, or the password when
// only username and password are set) and the username for Basic auth.
func (in *Integration) Token() (username string, token Secret) {
	switch in.Kind {
	case GitHub:
		return "", in.GitHub.Token
	case GitLab:
		return "", in.GitLab.Token
	case BitbucketCloud:
		c := in.BitbucketCloud
		switch {
		case c.Username != "" && !c.Token.IsZero():
			return c.Username, c.Token
		case c.Username != "" && !c.AppPassword.IsZero():
			return c.Username, c.AppPassword
		case c.Username == "":
			return "", c.Token
		}
	case BitbucketServer:
		c := in.BitbucketServer
		if !c.Token.IsZero() {
			return "", c.Token
		}
		if c.Username != "" {
			return c.Username, c.Password
		}
	}
	return "", Secret{}
}

// Scoped returns the entry's scoped credentials, or nil.
func (in *Integration) Scoped() []ScopedCredential {
	switch in.Kind {
	case GitHub:
		return in.GitHub.Credentials
	case GitLab:
		return in.GitLab.Credentials
	case BitbucketCloud:
		return in.BitbucketCloud.Credentials
	case BitbucketServer:
		return in.BitbucketServer.Credentials
	}
	return nil
}

// CredentialFor returns the owner-scoped credential that applies to owner,
// and its config path ("integrations.gitlab[0].credentials[2]"). The most
// specific match wins: an exact owner (case-insensitive), else, for GitLab,
// the credential of the longest parent group ("acme" covers "acme/platform").
func (in *Integration) CredentialFor(owner string) (cred ScopedCredential, path string, ok bool) {
	owner = strings.ToLower(strings.Trim(owner, "/"))
	if owner == "" {
		return ScopedCredential{}, "", false
	}
	best, bestLen := -1, -1
	for i, c := range in.Scoped() {
		for _, o := range c.Owners {
			o = strings.ToLower(strings.Trim(o, "/"))
			match := o == owner
			if !match && in.Kind == GitLab {
				match = strings.HasPrefix(owner, o+"/")
			}
			if match && len(o) > bestLen {
				best, bestLen = i, len(o)
			}
		}
	}
	if best < 0 {
		return ScopedCredential{}, "", false
	}
	return in.Scoped()[best], in.ConfigPath + ".credentials[" + strconv.Itoa(best) + "]", true
}
