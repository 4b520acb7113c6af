package auth_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// With an https backend, a provider's callbackUrl on plain http (not
// loopback) is refused at startup, as an http app.baseUrl is: the
// provider would send the authorization code and state over the network
// in clear, and the flow cookie (Secure) never reaches such a callback.
func TestPlainHTTPCallbackURLRefusedUnderHTTPS(t *testing.T) {
	cfg := func(cb string) []byte {
		return []byte("auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    github:\n      development:\n" +
			"        clientId: id\n        clientSecret: s\n        callbackUrl: " + cb + "\n")
	}
	_, ac := loadAuth(t, cfg("http://portal.example.com/api/auth/github/handler/frame"))
	_, _, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth", Environment: "development"})
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "auth.providers.github.development.callbackUrl") {
		t.Fatalf("http callbackUrl under an https backend: %v", err)
	}
	for _, ok := range []struct{ base, cb string }{
		{"https://portal.example.com/api/auth", "https://portal.example.com/api/auth/github/handler/frame"},
		{"https://portal.example.com/api/auth", "http://localhost:7007/api/auth/github/handler/frame"},
		{"http://localhost:7007/api/auth", "http://localhost:7007/api/auth/github/handler/frame"},
	} {
		_, ac := loadAuth(t, cfg(ok.cb))
		if _, _, err := ac.NewHandler(&auth.Options{BaseURL: ok.base, Environment: "development"}); err != nil {
			t.Errorf("BaseURL %s, callbackUrl %s: %v", ok.base, ok.cb, err)
		}
	}
}
