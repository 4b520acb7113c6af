package redact

import "net/url"

// URL is raw for a message or a log: without its user information (a
// token as the user name or password), query (?private_token=, a signed
// URL's signature) and fragment, any of which may carry a secret; it is
// "(unparsable URL)" when raw does not parse, since the text of a URL that
// does not parse cannot be cut safely.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}
