package integrations

import (
	"strings"
	"testing"
)

func TestHostProblem(t *testing.T) {
	tests := []struct {
		name, host string
		wantErr    string // substring; "" means valid
	}{
		{name: "plain", host: "github.com"},
		{name: "sub-domain", host: "ghe.corp.example.com"},
		{name: "single label", host: "localhost"},
		{name: "port", host: "ghe.example.com:8443"},
		{name: "port 1", host: "h:1"},
		{name: "port 65535", host: "h:65535"},
		{name: "default port kept valid", host: "h:443"},
		{name: "ipv4", host: "10.0.0.1"},
		{name: "ipv4 port", host: "10.0.0.1:8080"},
		{name: "ipv6", host: "[::1]"},
		{name: "ipv6 port", host: "[2001:db8::1]:8443"},
		{name: "underscore", host: "my_host.example.com"},
		{name: "empty", host: "", wantErr: "empty"},
		{name: "upper", host: "GitHub.com", wantErr: "lower-case"},
		{name: "all upper", host: "FOO", wantErr: "lower-case"},
		{name: "scheme", host: "https://example.com", wantErr: "scheme"},
		{name: "path", host: "foo/bar", wantErr: "path"},
		{name: "query", host: "foo?x", wantErr: "path"},
		{name: "idn", host: "höst.example.com", wantErr: "punycode"},
		{name: "space", host: "foo bar", wantErr: "spaces"},
		{name: "port too big", host: "foo:100000", wantErr: "between 1 and 65535"},
		{name: "port zero", host: "foo:0", wantErr: "between 1 and 65535"},
		{name: "port leading zero", host: "foo:080", wantErr: "between 1 and 65535"},
		{name: "port empty", host: "foo:", wantErr: "between 1 and 65535"},
		{name: "port not number", host: "foo:abc", wantErr: "between 1 and 65535"},
		{name: "userinfo", host: "user@foo", wantErr: "user name"},
		{name: "bad char", host: "foo!bar", wantErr: "'!'"},
		{name: "double dot", host: "a..b", wantErr: "empty label"},
		{name: "trailing dot", host: "a.b.", wantErr: "empty label"},
		{name: "bad ipv4", host: "1.2.3", wantErr: "IPv4"},
		{name: "ipv4 out of range", host: "1.2.3.256", wantErr: "IPv4"},
		{name: "numeric last label", host: "foo.123", wantErr: "IPv4"},
		{name: "hex last label", host: "foo.0x1", wantErr: "IPv4"},
		{name: "bare ipv6", host: "::1", wantErr: "brackets"},
		{name: "ipv6 unclosed", host: "[::1", wantErr: "closing"},
		{name: "ipv6 non-canonical", host: "[0:0::1]", wantErr: "canonical form [::1]"},
		{name: "ipv6 upper", host: "[2001:DB8::1]", wantErr: "lower-case"},
		{name: "ipv6 garbage after", host: "[::1]x", wantErr: "after the IPv6"},
		{name: "ipv6 bad port", host: "[::1]:99999", wantErr: "between 1 and 65535"},
		{name: "not ipv6", host: "[foo]", wantErr: "not a valid IPv6"},
		{name: "long label", host: strings.Repeat("a", 64) + ".com", wantErr: "63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hostProblem(tt.host)
			if tt.wantErr == "" && got != "" {
				t.Fatalf("hostProblem(%q) = %q; want valid", tt.host, got)
			}
			if tt.wantErr != "" && !strings.Contains(got, tt.wantErr) {
				t.Fatalf("hostProblem(%q) = %q; want it to contain %q", tt.host, got, tt.wantErr)
			}
		})
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GitHub.COM", "github.com"},
		{"github.com:443", "github.com"},
		{"github.com:80", "github.com"},
		{"github.com:8443", "github.com:8443"},
		{"[::1]:443", "[::1]"},
		{"[::1]:8080", "[::1]:8080"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NormalizeHost(tt.in); got != tt.want {
				t.Errorf("NormalizeHost(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}
