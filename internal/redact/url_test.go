package redact_test

import (
	"testing"

	"github.com/scmkit/scmkit/internal/redact"
)

func TestURL(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{"https://github.com/acme", "https://github.com/acme"},
		{"git+https://x-access-token:ghp_s3cr3t@github.com", "git+https://github.com"},
		{"https://gitlab.example/api/v4?private_token=glpat-s3cr3t#frag", "https://gitlab.example/api/v4"},
		{"https://svc:hunter2@graph.example.com/v1.0", "https://graph.example.com/v1.0"},
		{"ldaps://cn=admin:s3cr3t@ldap.example:636/dc=example?uid", "ldaps://ldap.example:636/dc=example"},
		{"https://user:s3cr3t@exa mple.com", "(unparsable URL)"},
		// A slash short, or none: a browser still reads user information.
		{"https:/x-access-token:ghp_s3cr3t@github.com/acme", "(URL without a host)"},
		{"https:ghp_s3cr3t@github.com", "(URL without a host)"},
		{"/login?code=abc#x", "/login"},
		// A path that String writes as "//user@host...".
		{"%2F%2Fghp_s3cr3t@github.com/x ", "(URL without a host)"},
	} {
		if got := redact.URL(tt.raw); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}
