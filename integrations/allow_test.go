package integrations

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAllowsAnonymous(t *testing.T) {
	r, err := NewRegistry(Config{ReadingAllow: []ReadingAllow{
		{Host: "example.com"},
		{Host: "*.docs.example.org"},
		{Host: "files.example.net", Paths: []string{"/public/", "/shared/team"}},
		{Host: "ports.example.com:8080"},
		{Host: "range.example.com:8000-8100"},
		{Host: "tls.example.com:443"},
		{Host: "[2001:db8::1]:8443"},
		{Host: "10.1.2.3"},
		{Host: "root.example.com", Paths: []string{"/"}},
		{Host: "dirs.example.com", Paths: []string{"/a/b/", "/c//d/"}},
	}})
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://example.com/anything", true},
		{"http://example.com/", true},
		{"https://EXAMPLE.com/x", true},
		{"https://example.com:443/x", true},
		{"http://example.com:80/x", true},
		{"https://example.com:8443/x", false}, // no port configured: default port only
		{"http://example.com:443/x", false},   // 443 is not http's default
		{"https://sub.example.com/x", false},  // no wildcard
		{"https://example.com.evil.net/x", false},
		{"https://a.docs.example.org/x", true},   // wildcard: sub-domain
		{"https://a.b.docs.example.org/x", true}, // any depth
		{"https://docs.example.org/x", false},    // not the apex
		{"https://xdocs.example.org/x", false},   // label boundary
		// "/public/" ends in a slash: what lies below the directory, not
		// the directory URL itself (Backstage's rule).
		{"https://files.example.net/public", false},
		{"https://files.example.net/public/", true},
		{"https://files.example.net/public/a/b.txt", true},
		{"https://files.example.net/public//a", true},
		{"https://files.example.net/publicity", false},
		// "/shared/team" has no trailing slash: itself and what lies
		// below, at segment boundaries.
		{"https://files.example.net/shared/team", true},
		{"https://files.example.net/shared/team/", true},
		{"https://files.example.net/shared/team/x", true},
		{"https://files.example.net/shared/team/x/", true},
		{"https://files.example.net/shared/teams", false},
		{"https://files.example.net/shared", false},
		{"https://files.example.net/private", false},
		{"https://files.example.net/public/../private/x", false},
		{"https://files.example.net/public/%2e%2e/private/x", false},
		{"https://files.example.net/public/%252e%252e/private/x", false},
		{"https://files.example.net/public/./a", false},
		{"https://files.example.net/public%2f..%2fprivate", false},
		{"https://ports.example.com:8080/x", true},
		{"https://ports.example.com/x", false},
		{"https://ports.example.com:8081/x", false},
		{"https://range.example.com:8000/x", true},
		{"https://range.example.com:8100/x", true},
		{"https://range.example.com:8101/x", false},
		{"https://tls.example.com/x", true}, // default port 443 is in the configured "range"
		{"http://tls.example.com/x", false}, // default port 80 is not
		{"https://[2001:db8::1]:8443/x", true},
		{"https://[2001:db8::1]/x", false},
		{"https://10.1.2.3/x", true},
		{"https://root.example.com/any/path", true},
		{"https://root.example.com/", true},
		{"https://root.example.com", true},
		{"https://dirs.example.com/a/b/c", true},
		{"https://dirs.example.com/a/b/", true},
		{"https://dirs.example.com/a/b", false},
		{"https://dirs.example.com/a/bc", false},
		{"https://dirs.example.com/a", false},
		{"https://dirs.example.com/c/d/e", true}, // the configured path is normalised too
		{"https://dirs.example.com/c/d", false},
		{"ftp://example.com/x", false},
		{"https://user:pw@example.com/x", false},
		{"example.com/x", false},
		{"https://exa mple.com/", false},
		{"https://example.com/a%00b", false},
		{"https://unlisted.example/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := r.AllowsAnonymous(tt.url); got != tt.want {
				t.Errorf("AllowsAnonymous(%q) = %v; want %v", tt.url, got, tt.want)
			}
		})
	}
	want := []ReadingAllow{
		{Host: "example.com"}, {Host: "*.docs.example.org"},
		{Host: "files.example.net", Paths: []string{"/public/", "/shared/team"}},
		{Host: "ports.example.com:8080"}, {Host: "range.example.com:8000-8100"}, {Host: "tls.example.com:443"},
		{Host: "[2001:db8::1]:8443"}, {Host: "10.1.2.3"}, {Host: "root.example.com", Paths: []string{"/"}},
		{Host: "dirs.example.com", Paths: []string{"/a/b/", "/c/d/"}},
	}
	if diff := cmp.Diff(want, r.ReadingAllow()); diff != "" {
		t.Errorf("ReadingAllow() mismatch (-want +got):\n%s", diff)
	}
}

func TestAllowsAnonymousEmpty(t *testing.T) {
	var zero Registry
	r, _ := NewRegistry(Config{})
	for _, reg := range []*Registry{&zero, r, nil} {
		if reg.AllowsAnonymous("https://example.com/x") {
			t.Errorf("AllowsAnonymous() = true with an empty allow-list; want false")
		}
		if reg.AllowsAnonymous("https://github.com/acme/api") {
			t.Errorf("AllowsAnonymous(github.com) = true; integration hosts are not in the allow-list")
		}
	}
}
