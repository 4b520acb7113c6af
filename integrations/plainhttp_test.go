package integrations

import "testing"

// TestPlainHTTPIsPerHost: an integration whose web base is plain HTTP
// (a test server, a lab) allows plain HTTP only on that host: its HTTPS
// API host and any other host still need TLS before a token is sent.
func TestPlainHTTPIsPerHost(t *testing.T) {
	in := &Integration{Kind: GitHub, Host: "git.lab.example", BaseURL: "http://git.lab.example",
		APIBaseURL: "https://api.git.lab.example/api/v3", RawBaseURL: "https://raw.git.lab.example"}
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"git.lab.example", true},
		{"GIT.lab.example:80", true},
		{"api.git.lab.example", false},
		{"raw.git.lab.example", false},
		{"evil.example", false},
	} {
		if got := in.PlainHTTP(tc.host); got != tc.want {
			t.Errorf("PlainHTTP(%q) = %v; want %v", tc.host, got, tc.want)
		}
	}
}
