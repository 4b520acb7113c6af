package redact

import (
	"net/url"
	"strings"
)

// URL is raw for a message or a log: without its user information (a
// token as the user name or password), query (?private_token=, a signed
// URL's signature) and fragment, any of which may carry a secret; it is
// "(unparsable URL)" when raw does not parse, since the text of a URL that
// does not parse cannot be cut safely, and "(URL without a host)" when
// raw has a scheme but no host: what follows the scheme may then be user
// information that a browser reads as such ("https:/user:token@host", a
// slash short, is https://user:token@host to a browser and to Backstage).
// A reference without a scheme ("/login?code=x") keeps its path, unless
// the path begins with "//" ("%2F%2Fuser:token@host "), which would read
// as a host with user information, or holds an "@" ("ghp_token@github.com/acme/repo",
// a clone URL pasted without its scheme).
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.Opaque != "" || (u.Host == "" && (u.Scheme != "" || strings.HasPrefix(u.Path, "//") || strings.Contains(u.Path, "@"))) {
		return "(URL without a host)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}
