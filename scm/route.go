package scm

import (
	"net/url"

	"github.com/scmkit/scmkit/integrations"
)

// target is the URL of one call, looked up in the registry once: every
// public operation parses its URL here, at its start, and hands the result
// on (to the audit event, the routing, the messages) instead of parsing
// it again.
type target struct {
	raw string
	integrations.Route
	err error // Lookup's error, reported by begin
}

// lookup looks raw up in the client's registry.
func (c *Client) lookup(raw string) *target {
	rt, err := c.s.reg.Lookup(raw)
	return &target{raw: raw, Route: rt, err: err}
}

// redacted is the target's URL without user information, query or
// fragment, for messages.
func (t *target) redacted() string { return redactedURL(t.URL) }

// redactURL drops the user information and query of a URL, either of
// which may carry a secret, for use in messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactedURL(nil)
	}
	return redactedURL(u)
}

// redactedURL is redactURL for a parsed URL (nil: one that did not parse).
func redactedURL(u *url.URL) string {
	if u == nil {
		return "(unparsable URL)"
	}
	r := *u
	r.User = nil
	if r.RawQuery != "" {
		r.RawQuery = ""
		r.ForceQuery = true
	}
	r.Fragment = ""
	return r.String()
}
