package integrations

import (
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// allowRule is a validated backend.reading.allow entry.
type allowRule struct {
	host   string // host name without port; for a wildcard, the suffix ".example.com"
	wild   bool
	lo, hi int      // allowed port range; 0, 0 means the scheme's default port only
	paths  []string // cleaned path prefixes; empty means every path
}

func (v *validator) readingAllow(entries []ReadingAllow) ([]ReadingAllow, []allowRule) {
	var allow []ReadingAllow
	var rules []allowRule
	for i, a := range entries {
		p := fmt.Sprintf("backend.reading.allow[%d]", i)
		rule, ok := v.allowHost(p+".host", a.Host)
		var paths []string
		for j, ap := range a.Paths {
			switch {
			case !strings.HasPrefix(ap, "/"):
				v.add(fmt.Sprintf("%s.paths[%d]", p, j), "path %s must start with /", quote(ap))
				ok = false
			default:
				paths = append(paths, cleanKeepSlash(ap))
			}
		}
		if !ok {
			continue
		}
		rule.paths = paths
		rules = append(rules, rule)
		allow = append(allow, ReadingAllow{Host: a.Host, Paths: paths})
	}
	return allow, rules
}

// allowHost parses "host", "host:port", "host:lo-hi", "[v6]:port" or
// "*.example.com[:port]".
func (v *validator) allowHost(p, h string) (allowRule, bool) {
	var r allowRule
	if strings.Contains(h, "@") {
		// Refused before the port is parsed: "user:token@host" would
		// otherwise be quoted as a port.
		v.add(p, "%s is not a valid host: %s", quoteHost(h), hostProblem(h))
		return r, false
	}
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		if end := strings.Index(h, "]"); end >= 0 && strings.HasPrefix(h[end+1:], ":") {
			name, port = h[:end+1], h[end+2:]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
	}
	if port != "" || strings.HasSuffix(h, ":") {
		lo, hi, msg := portRange(port)
		if msg != "" {
			v.add(p, "%s: %s", quoteHost(h), msg)
			return r, false
		}
		r.lo, r.hi = lo, hi
	}
	check := name
	if strings.HasPrefix(name, "*.") {
		r.wild = true
		check = name[2:]
	}
	if msg := hostProblem(check); msg != "" || strings.Contains(check, ":") && !strings.HasPrefix(check, "[") {
		if msg == "" {
			msg = "write the port once, after the host"
		}
		v.add(p, "%s is not a valid host: %s; write a host name, *.example.com for its sub-domains, and an optional :port or :low-high port range", quoteHost(h), msg)
		return r, false
	}
	if r.wild {
		if strings.HasPrefix(check, "[") || validIPv4(strings.Split(check, ".")) {
			v.add(p, "%s: a wildcard needs a domain name, not an IP address", quoteHost(h))
			return r, false
		}
		r.host = name[1:]
	} else {
		r.host = strings.Trim(name, "[]")
	}
	return r, true
}

func portRange(s string) (lo, hi int, msg string) {
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		b = a
	}
	if portProblem(a) != "" || portProblem(b) != "" {
		return 0, 0, "port " + quote(s) + " is not a port (1-65535) or a range low-high"
	}
	lo, _ = strconv.Atoi(a)
	hi, _ = strconv.Atoi(b)
	if lo > hi {
		return 0, 0, "port range " + quote(s) + " is empty: its low end is above its high end"
	}
	return lo, hi, ""
}

// AllowsAnonymous reports whether backend.reading.allow lets rawURL be read
// without credentials, with Backstage's semantics:
//
//   - the scheme must be http or https, and the URL must carry no user info;
//   - "*.example.com" matches any sub-domain at any depth, never the apex;
//   - an entry without a port matches only the scheme's default port; a
//     port or "low-high" range matches an explicit port in it, or the
//     default port if that is in it;
//   - paths, when set, are compared with the normalised URL path (a
//     trailing slash kept): a path without a trailing slash matches
//     itself or as a segment prefix ("/docs" matches "/docs" and
//     "/docs/a", not "/docsx"); a path ending in "/" matches what lies
//     below that directory ("/docs/" matches "/docs/" and "/docs/a", not
//     "/docs");
//   - a path with "." or ".." segments, literally or percent-encoded at any
//     depth, is never allowed (it could mean different things to different
//     servers);
//   - an empty allow-list allows nothing.
//
// Configured integration hosts are not in the allow-list; they are read
// with their own credentials.
func (r *Registry) AllowsAnonymous(rawURL string) bool {
	if r == nil || len(r.rules) == 0 {
		return false
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	return r.allowsAnonymous(u)
}

// allowsAnonymous is AllowsAnonymous for a parsed URL.
func (r *Registry) allowsAnonymous(u *url.URL) bool {
	if r == nil || len(r.rules) == 0 || u.User != nil || u.Opaque != "" || u.Hostname() == "" {
		return false
	}
	var port int
	switch u.Scheme {
	case "https":
		port = 443
	case "http":
		port = 80
	default:
		return false
	}
	def := port
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return false
		}
		port = n
	}
	if hasDotSegment(u.EscapedPath()) || hasControl(fullyDecode(u.EscapedPath())) {
		return false
	}
	clean := cleanKeepSlash("/" + u.Path)
	host := strings.ToLower(u.Hostname())
	for _, rule := range r.rules {
		if rule.wild {
			if len(host) <= len(rule.host) || !strings.HasSuffix(host, rule.host) {
				continue
			}
		} else if host != rule.host {
			continue
		}
		if rule.lo == 0 && port != def || rule.lo != 0 && (port < rule.lo || port > rule.hi) {
			continue
		}
		if len(rule.paths) == 0 {
			return true
		}
		for _, ap := range rule.paths {
			if pathAllowed(clean, ap) {
				return true
			}
		}
	}
	return false
}

// cleanKeepSlash cleans p as path.Clean does but keeps a trailing slash,
// as Node's path.posix.normalize (which Backstage uses) does.
func cleanKeepSlash(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// pathAllowed reports whether the normalised URL path target is allowed
// by the allow-list path ap (both from cleanKeepSlash), as in Backstage.
func pathAllowed(target, ap string) bool {
	if strings.HasSuffix(ap, "/") {
		// A directory: what lies below it.
		return strings.HasPrefix(target, ap)
	}
	t := strings.TrimSuffix(target, "/")
	return t == ap || strings.HasPrefix(t, ap+"/")
}
