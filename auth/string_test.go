package auth_test

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
)

// TestProviderStrings: each provider type prints as its String doc says,
// its own name and issuer, never the client secret.
func TestProviderStrings(t *testing.T) {
	s := integrations.NewSecret("client-secret-value")
	must := func(p fmt.Stringer, err error) fmt.Stringer {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for want, p := range map[string]fmt.Stringer{
		"auth.GitHub(https://github.com)":       must(auth.NewGitHub(auth.GitHubOptions{ClientID: "id", ClientSecret: s})),
		"auth.GitLab(https://gitlab.com)":       must(auth.NewGitLab(auth.GitLabOptions{ClientID: "id", ClientSecret: s})),
		"auth.Bitbucket(https://bitbucket.org)": must(auth.NewBitbucket(auth.BitbucketOptions{ClientID: "id", ClientSecret: s})),
		"auth.OIDC(https://idp.example.com/realms/acme)": must(auth.NewOIDC(auth.OIDCOptions{ClientID: "id", ClientSecret: s,
			MetadataURL: "https://idp.example.com/realms/acme/.well-known/openid-configuration"})),
		"auth.Microsoft(https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0)": must(auth.NewMicrosoft(auth.MicrosoftOptions{ClientID: "id", ClientSecret: s, TenantID: "contoso.onmicrosoft.com"})),
	} {
		for _, got := range []string{p.String(), fmt.Sprintf("%v", p), fmt.Sprintf("%+v", p)} {
			if got != want {
				t.Errorf("got %q; want %q", got, want)
			}
		}
	}
}
