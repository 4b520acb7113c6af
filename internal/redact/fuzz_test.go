package redact_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/internal/redact"
)

// FuzzURL: URL is what goes into an error or a log line for a URL from
// configuration or a server, often one that is wrong. Whatever the text:
//
//   - what it keeps parses, without user information, query or fragment;
//   - it is exactly the input's scheme, host and path;
//   - an http(s) URL's output read leniently, as a browser or Backstage
//     does ("https:/user:token@host" is https://user:token@host), has no
//     user information either.
func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/acme",
		"git+https://x-access-token:ghp_s3cr3t@github.com",
		"https://gitlab.example/api/v4?private_token=glpat-s3cr3t#frag",
		"https://svc:hunter2@graph.example.com/v1.0",
		"ldaps://cn=admin:s3cr3t@ldap.example:636/dc=example?uid",
		"https:/x-access-token:ghp_s3cr3t@github.com/acme",
		"https:ghp_s3cr3t@github.com",
		`https:\\svc:hunter2@graph.example.com`,
		"/login?code=abc#x",
		"//u:p@h/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := redact.URL(raw)
		u, err := url.Parse(raw)
		if err != nil {
			if out != "(unparsable URL)" {
				t.Fatalf("URL(%q) = %q for text that does not parse", raw, out)
			}
			return
		}
		if strings.HasPrefix(out, "(") {
			return // a marker, nothing of raw
		}
		v, err := url.Parse(out)
		if err != nil || v.User != nil || v.RawQuery != "" || v.ForceQuery || v.Fragment != "" {
			t.Fatalf("URL(%q) = %q, which parses to %#v (%v)", raw, out, v, err)
		}
		// Exactly the scheme, host and path: nothing of the user
		// information, query or fragment.
		want := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
		if out != want {
			t.Fatalf("URL(%q) = %q; want %q", raw, out, want)
		}
		if scheme, rest, ok := strings.Cut(out, ":"); ok && (strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https")) {
			w, err := url.Parse(scheme + "://" + strings.TrimLeft(rest, `/\`))
			if err == nil && w.User != nil {
				t.Fatalf("URL(%q) = %q, which a browser reads with user information %q", raw, out, w.User)
			}
		}
	})
}
