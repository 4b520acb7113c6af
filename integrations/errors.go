package integrations

import (
	"errors"
	"net"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// FieldError is one problem in the configuration, at Path, e.g.
// "integrations.github[1].apps[0].privateKey". [NewRegistry] returns every
// FieldError it finds, joined, inside an *errcode.Error with code
// InvalidArgument. Msg never contains a secret.
type FieldError struct {
	Path string // config path of the offending key
	Msg  string // what is wrong and how to fix it
}

// Error returns "path: msg".
func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// FieldErrors returns every *FieldError in err's tree, in order. It returns
// nil for a nil error or one that holds no FieldError.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// invalid returns an InvalidArgument error for op about in's host.
func invalid(op string, in *Integration, msg string) error {
	e := &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: msg}
	if in != nil {
		e.Provider, e.Host = string(in.Kind), in.Host
	}
	return e
}

// errNoIntegration is the error for a URL whose host has no integration.
// When an entry of a section scmkit does not serve names the host, the
// message says so.
func (r *Registry) errNoIntegration(op, host string) error {
	if u, ok := r.Unsupported(host); ok {
		return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Host: host, Msg: UnsupportedMessage(host, u)}
	}
	// "github.com." is github.com to DNS, but hosts are matched as
	// written (nothing is sent to it with a credential): say so, rather
	// than advise configuring a host that validation refuses.
	name, port := host, ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		name, port = h, p
	}
	if trimmed := strings.TrimSuffix(name, "."); trimmed != name && trimmed != "" {
		if port != "" {
			trimmed = net.JoinHostPort(trimmed, port)
		}
		if in, ok := r.Owning(trimmed); ok {
			return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Host: host,
				Msg: "host " + quote(host) + " has a trailing dot, which no integration's host has; write " +
					quote(NormalizeHost(trimmed)) + " (" + in.ConfigPath + ")"}
		}
	}
	return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Host: host,
		Msg: "no integration is configured for host " + quote(host) +
			"; add an entry with host: " + quote(host) + " under integrations.github, integrations.gitlab," +
			" integrations.bitbucketCloud or integrations.bitbucketServer"}
}

var _ error = (*FieldError)(nil)

func joinFieldErrors(errs []*FieldError) error {
	es := make([]error, len(errs))
	for i, e := range errs {
		es[i] = e
	}
	return errors.Join(es...)
}

// UnsupportedMessage says that host is served in Backstage by the entry u
// of a section scmkit does not support, and what to do.
func UnsupportedMessage(host string, u UnsupportedEntry) string {
	if u.Section == "bitbucket" {
		return "host " + quote(host) + " is configured at " + u.Path + ", in the integrations.bitbucket section that Backstage removed;" +
			" move the entry to integrations.bitbucketCloud (bitbucket.org) or integrations.bitbucketServer"
	}
	return "host " + quote(host) + " is configured at " + u.Path + ", an integrations." + u.Section +
		" entry, which scmkit does not support; only integrations.github, integrations.gitlab," +
		" integrations.bitbucketCloud and integrations.bitbucketServer are served"
}
