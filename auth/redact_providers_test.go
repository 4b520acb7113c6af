package auth_test

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact/redacttest"
)

// The providers hold their OAuth client secret, the auth section of the
// configuration holds every provider's, and a Callback holds the
// authorization code and the PKCE verifier: none shows under any fmt
// verb, JSON or slog, so that an embedder logging a provider, the
// configuration or a callback (a custom provider's Exchange) leaks none.
func TestProvidersConfigAndCallbacksNeverShowSecrets(t *testing.T) {
	const secret = "CLIENT-SECRET-4f1e"
	sec := integrations.NewSecret(secret)
	gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "id", ClientSecret: sec})
	if err != nil {
		t.Fatal(err)
	}
	gl, err := auth.NewGitLab(auth.GitLabOptions{ClientID: "id", ClientSecret: sec})
	if err != nil {
		t.Fatal(err)
	}
	bb, err := auth.NewBitbucket(auth.BitbucketOptions{ClientID: "id", ClientSecret: sec})
	if err != nil {
		t.Fatal(err)
	}
	oi, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "id", ClientSecret: sec, MetadataURL: "https://idp.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := auth.NewMicrosoft(auth.MicrosoftOptions{ClientID: "id", ClientSecret: sec, TenantID: "common"})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"github": gh, "gitlab": gl, "bitbucket": bb, "oidc": oi, "microsoft": ms,
		"github value": *gh, "gitlab value": *gl, "bitbucket value": *bb} {
		redacttest.Hidden(t, name, v, secret)
	}
	if got := fmt.Sprint(gh); got != "auth.GitHub(https://github.com)" {
		t.Errorf("fmt.Sprint(GitHub) = %q", got)
	}

	_, ac := loadAuth(t, []byte("auth:\n  session:\n    secret: 0123456789abcdef0123\n  providers:\n    github:\n      development:\n"+
		"        clientId: id\n        clientSecret: "+secret+"\n"))
	redacttest.Hidden(t, "auth.Config", ac, secret, "0123456789abcdef0123")
	redacttest.Hidden(t, "*auth.Config", &ac, secret, "0123456789abcdef0123")
	if pc, ok, err := ac.Provider("github", "development"); err != nil || !ok || pc.ClientSecret.Reveal() != secret {
		t.Fatalf("Provider(github, development) = %v, %v, %v: the configuration must still read", pc.ClientID, ok, err)
	}

	cb := auth.Callback{Code: "CODE-9b2c", CodeVerifier: "VERIFIER-77d0", Nonce: "NONCE-1a2b", Issuer: "https://idp.example.com", RedirectURI: "https://portal.example.com/api/auth/oidc/handler/frame"}
	redacttest.Hidden(t, "auth.Callback", cb, "CODE-9b2c", "VERIFIER-77d0", "NONCE-1a2b")
	redacttest.Hidden(t, "*auth.Callback", &cb, "CODE-9b2c", "VERIFIER-77d0", "NONCE-1a2b")
}
