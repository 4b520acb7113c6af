package integrations

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// NormalizeHost lower-cases host and drops a default port (":443", ":80").
// It does not validate host; it is how every host in a URL is compared
// with an integration's host.
func NormalizeHost(host string) string {
	host = strings.ToLower(host)
	if h, p, err := net.SplitHostPort(host); err == nil && (p == "443" || p == "80") {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}

// urlHost is the host of a URL as a WHATWG URL parser (Backstage's
// new URL(url).host) writes it: [asciiHost], then normalised as by
// [NormalizeHost]. A URL's integration is the one whose host is urlHost of
// the URL's host (ByHost normalises, so callers pass it asciiHost). It
// decides which integration a URL is parsed for, never where a credential
// is sent: a request's host is still compared as written.
func urlHost(host string) string { return NormalizeHost(asciiHost(host)) }

// asciiHost returns host with an internationalised name in its xn--
// (punycode) form, mapped with the IDNA lookup profile that net/http dials
// with ("ｇｉｔｈｕｂ.com" is github.com), any port kept. An ASCII host, or
// one that does not convert, is returned as it is.
func asciiHost(host string) string {
	ascii := true
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return host
	}
	name, port := host, ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		name, port = h, p
	}
	a, err := idna.Lookup.ToASCII(name)
	if err != nil || a == "" {
		return host
	}
	if port != "" {
		a = net.JoinHostPort(a, port)
	}
	return a
}

// hostProblem reports why host is not a valid integration host, or "" if
// it is. The rules are those of Backstage's isValidHost (a host that
// survives a round trip through a WHATWG URL unchanged), made a little
// stricter: lower-case ASCII labels of letters, digits, '-' and '_', an
// IPv4 address, or a bracketed canonical IPv6 address, optionally followed
// by ":port" with port 1-65535.
func hostProblem(host string) string {
	switch {
	case host == "":
		return "it is empty"
	case strings.Contains(host, "://"):
		return "it must not include a scheme; write the host name alone, e.g. ghe.example.com"
	case strings.ContainsAny(host, "/?#"):
		return "it must not include a path, query or fragment; write the host name alone, e.g. ghe.example.com"
	case strings.Contains(host, "@"):
		return "it must not include a user name"
	}
	for _, r := range host {
		switch {
		case r >= 'A' && r <= 'Z':
			return "it must be lower-case"
		case r > 0x7e:
			return "it must be ASCII; write an internationalised name in its xn-- (punycode) form"
		case r < 0x21:
			return "it must not contain spaces or control characters"
		}
	}
	name, port := host, ""
	if strings.HasPrefix(host, "[") {
		end := strings.Index(host, "]")
		if end < 0 {
			return "an IPv6 address needs a closing ']'"
		}
		name, port = host[:end+1], host[end+1:]
		if port != "" {
			if port[0] != ':' {
				return "unexpected text after the IPv6 address"
			}
			port = port[1:]
			if p := portProblem(port); p != "" {
				return p
			}
		}
		return ipv6Problem(name[1 : len(name)-1])
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name, port = host[:i], host[i+1:]
		if strings.Contains(name, ":") {
			return "an IPv6 address must be written in brackets, e.g. [2001:db8::1]"
		}
		if p := portProblem(port); p != "" {
			return p
		}
	}
	return hostnameProblem(name)
}

// portProblem checks a decimal port 1-65535 without leading zeros.
func portProblem(port string) string {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "port " + strconv.Quote(port) + " is not a number between 1 and 65535"
	}
	return ""
}

func ipv6Problem(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" || a.Is4In6() {
		return strconv.Quote(s) + " is not a valid IPv6 address"
	}
	if c := a.String(); c != s {
		return "write the IPv6 address in its canonical form [" + c + "]"
	}
	return ""
}

// hostnameProblem checks a host name or IPv4 address without a port.
func hostnameProblem(name string) string {
	if name == "" {
		return "the host name is empty"
	}
	if len(name) > 253 {
		return "the host name is longer than 253 characters"
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" {
			return "it has an empty label (a leading, trailing or double dot)"
		}
		if len(l) > 63 {
			return "a label is longer than 63 characters"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "it contains " + strconv.QuoteRune(rune(c)) + ", which is not allowed in a host name"
			}
		}
	}
	last := labels[len(labels)-1]
	if allDigits(last) || strings.HasPrefix(last, "0x") {
		// A WHATWG URL parser reads such a name as an IPv4 address.
		if !validIPv4(labels) {
			return strconv.Quote(name) + " is not a valid IPv4 address"
		}
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func validIPv4(labels []string) bool {
	if len(labels) != 4 {
		return false
	}
	for _, l := range labels {
		n, err := strconv.Atoi(l)
		if err != nil || n > 255 || strconv.Itoa(n) != l {
			return false
		}
	}
	return true
}
