package auth_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// Backstage's oidc provider refuses the legacy scope key ("no longer
// supports the scope configuration option"): scmkit refuses it too,
// naming its path, instead of ignoring the scopes it asks for.
func TestOIDCLegacyScopeKeyRefused(t *testing.T) {
	_, ac := loadAuth(t, []byte("auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    oidc:\n      development:\n        clientId: x\n        clientSecret: y\n"+
		"        metadataUrl: https://idp.example.com\n        scope: openid profile email groups\n"))
	_, _, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"})
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "auth.providers.oidc.development.scope") || !strings.Contains(err.Error(), "additionalScopes") {
		t.Fatalf("err = %v; want InvalidArgument naming auth.providers.oidc.development.scope and additionalScopes", err)
	}
	_, ac = loadAuth(t, []byte("auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    oidc:\n      development:\n        clientId: x\n        clientSecret: y\n"+
		"        metadataUrl: https://idp.example.com\n        additionalScopes: groups\n"))
	if _, _, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"}); err != nil {
		t.Fatalf("additionalScopes: %v", err)
	}
}
