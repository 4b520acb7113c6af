package auth

import (
	"testing"

	"github.com/scmkit/scmkit/integrations"
)

// Every open-redirect spelling of the attack checklist is refused as a
// post-sign-in target; the app's own paths and allowed origins are not.
func TestRedirectTargetRefusesOpenRedirects(t *testing.T) {
	h, err := New(&Options{BaseURL: "https://portal.example.com/api/auth", AppURL: "https://portal.example.com/app",
		AllowedOrigins: []string{"https://*.apps.example.com", "https://docs.example.com"}, Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "https:evil.example", "https:/evil.example",
		"https://evil.example", "http://portal.example.com", "https://portal.example.com:8443/", "https://portal.example.com.evil.example/",
		"https://portal.example.com@evil.example/", "https://user:pw@portal.example.com/", "https://evil.example#@portal.example.com",
		"https://evil.example?@portal.example.com", "https://evil.example\\@portal.example.com", "javascript:alert(1)", "data:text/html,x",
		"//portal.example.com@evil.example", " //evil.example", "\t//evil.example", "/\t/evil.example", "/\r\n/evil.example",
		"https://a.b.apps.example.com.evil.example/", "https://x.apps.example.com:444/", "https://docs.example.com.evil.example/",
		"https://evil.example%2f.apps.example.com/", "https://evil.example%23.apps.example.com/", "ftp://docs.example.com/",
		"https://%65vil.example/", "https://evil。example/", "//evil%2eexample",
	} {
		if got, ok := h.redirectTarget(bad); ok {
			t.Errorf("redirectTarget(%q) = %q, allowed", bad, got)
		}
	}
	for in, want := range map[string]string{
		"":                                 "https://portal.example.com/app",
		"/catalog?kind=user#top":           "https://portal.example.com/catalog?kind=user#top",
		"/%2F%2Fevil.example":              "https://portal.example.com/%2F%2Fevil.example",
		"/%5Cevil.example":                 "https://portal.example.com/%5Cevil.example",
		"https://docs.example.com/x":       "https://docs.example.com/x",
		"https://team.apps.example.com/y":  "https://team.apps.example.com/y",
		"HTTPS://Docs.Example.com/x":       "https://Docs.Example.com/x",
		"https://portal.example.com/other": "https://portal.example.com/other",
	} {
		if got, ok := h.redirectTarget(in); !ok || got != want {
			t.Errorf("redirectTarget(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
