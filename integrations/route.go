package integrations

import "net/url"

const opLookup = "integrations.Lookup"

// Route is where a URL leads, as [Registry.Lookup] found it from a single
// parse of the URL: its integration, what it points at, and whether
// backend.reading.allow lets it be read anonymously.
type Route struct {
	// URL is the URL parsed, or nil when it is not a URL at all. It is
	// shared: do not modify it.
	URL *url.URL
	// Integration is the integration of the URL's host, whatever the
	// URL's scheme or path, or nil when the host has none.
	Integration *Integration
	// Location is what the URL points at, as [Registry.Parse] returns it;
	// the zero Location when Lookup fails.
	Location Location
	// Anonymous reports whether backend.reading.allow lets the URL be read
	// without credentials ([Registry.AllowsAnonymous]). It is only
	// computed for a host without integration, and is false otherwise:
	// integration hosts are read with their own credentials.
	Anonymous bool
}

// Lookup parses rawURL once and says where it leads: its integration and
// Location, as [Registry.ByURL] and [Registry.Parse] would, and, for a host
// without integration, whether it may be read anonymously. It is what a
// client that routes every call by URL uses instead of calling those in
// turn, each parsing the URL again.
//
// Its error is the one Parse returns for rawURL, except that its Op is
// "integrations.Lookup". The Route is filled as far as the URL allowed
// even then: URL is nil only when rawURL does not parse; Integration is
// set when the host has one, also when the path is refused, so that the
// caller can name it; for a host without integration Anonymous is set and
// the error is InvalidArgument with Integration nil.
func (r *Registry) Lookup(rawURL string) (Route, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Route{}, urlError(opLookup, err)
	}
	rt := Route{URL: u, Integration: r.hostOf(u)}
	if rt.Integration == nil {
		rt.Anonymous = r.allowsAnonymous(u)
	}
	p, err := r.parseIn(opLookup, u, rt.Integration)
	if err != nil {
		return rt, err
	}
	rt.Location = p.loc
	return rt, nil
}
