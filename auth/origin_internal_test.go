package auth

import "testing"

// TestOriginPatternWildcards pins what a "*" in an allowed origin stands
// for: characters of one host label or of the port, never a dot, a colon
// or a slash, so a pattern cannot be stretched to other hosts or ports.
func TestOriginPatternWildcards(t *testing.T) {
	for _, tc := range []struct {
		pattern, origin string
		want            bool
	}{
		{"https://*.example.com", "https://a.example.com", true},
		{"https://*.example.com", "https://A.Example.COM", false}, // originAllowed lowers the origin; the pattern alone matches lower case
		{"https://*.example.com", "https://a.b.example.com", false},
		{"https://*.example.com", "https://example.com", false},
		{"https://*.example.com", "https://.example.com", true}, // no origin has an empty label; harmless
		{"https://*.example.com", "https://a.example.com:8443", false},
		{"https://*.example.com", "https://a.example.com.evil.test", false},
		{"https://*.example.com", "http://a.example.com", false},
		{"https://*.example.com:*", "https://a.example.com:8443", true},
		{"https://app-*.example.com", "https://app-pr-1.example.com", true},
		{"https://app-*.example.com", "https://app-x.evil.test/.example.com", false},
		{"https://*", "https://evil.test", false},
		{"https://*", "https://localhost", true},
		{"HTTPS://Portal.Example.com/", "https://portal.example.com", true},
	} {
		re, err := originPattern(tc.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		if got := re.MatchString(tc.origin); got != tc.want {
			t.Errorf("%s matches %s: %v, want %v", tc.pattern, tc.origin, got, tc.want)
		}
	}
	for _, bad := range []string{"https://**.example.com", "example.com", "*://example.com", "ftp://example.com"} {
		if _, err := originPattern(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	h := &Handler{}
	re, _ := originPattern("https://*.example.com")
	h.allowed = append(h.allowed, re)
	if !h.originAllowed("https://A.Example.COM") {
		t.Error("originAllowed is case-sensitive")
	}
}
