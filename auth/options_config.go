package auth

import (
	"net/url"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// Decoder reads a section of the configuration into a Go value;
// *[github.com/scmkit/scmkit/config.Config] is one.
type Decoder interface {
	Decode(path string, out any) error
}

// OptionsFromConfig returns base (nil: zero Options) with the URLs that
// Backstage's auth backend takes from app-config, where base leaves them
// empty:
//
//   - BaseURL: backend.baseUrl followed by "/api/auth", the auth backend's
//     external base URL (Backstage's discovery of the auth plugin), as
//     identity.IssuerOptionsFromConfig sets the Issuer's iss, so that the
//     two agree;
//   - AppURL: app.baseUrl.
//
// cfg is *config.Config or anything with its Decode method. The error is
// InvalidArgument naming the key when a URL is not an http(s) URL, or when
// BaseURL stays empty (no backend.baseUrl).
func OptionsFromConfig(cfg Decoder, base *Options) (*Options, error) {
	const op = "auth.OptionsFromConfig"
	var o Options
	if base != nil {
		o = *base
	}
	read := func(key string) (string, error) {
		var s string
		if err := cfg.Decode(key, &s); err != nil {
			return "", err
		}
		s = strings.TrimRight(strings.TrimSpace(s), "/")
		if s == "" {
			return "", nil
		}
		u, err := url.Parse(s)
		if err != nil || (!strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http")) || u.Host == "" ||
			u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return "", errcode.New(errcode.InvalidArgument, op, key+": must be an http(s) base URL without user information, query or fragment, e.g. https://portal.example.com")
		}
		u.Scheme = strings.ToLower(u.Scheme)
		return u.String(), nil
	}
	backend, err := read("backend.baseUrl")
	if err != nil {
		return nil, err
	}
	app, err := read("app.baseUrl")
	if err != nil {
		return nil, err
	}
	if o.BaseURL == "" {
		if backend == "" {
			return nil, errcode.New(errcode.InvalidArgument, op, "backend.baseUrl: is empty: the auth backend's URL is backend.baseUrl/api/auth")
		}
		o.BaseURL = backend + "/api/auth"
	}
	if o.AppURL == "" {
		o.AppURL = app
	}
	return &o, nil
}
