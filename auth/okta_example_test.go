package auth_test

import (
	"fmt"
	"log"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
)

// Register Okta (a custom authorization server) and Google sign-in, as
// Config.NewHandler does for auth.providers.okta and
// auth.providers.google. Nothing is fetched until the first sign-in.
func ExampleNewOkta() {
	h, err := auth.New(&auth.Options{
		BaseURL:     "https://portal.example.com/api/auth",
		Secret:      integrations.NewSecret("a long random session secret"),
		Environment: "production",
	})
	if err != nil {
		log.Fatal(err)
	}
	okta, err := auth.NewOkta(auth.OktaOptions{
		ClientID:     "0oa1portal",
		ClientSecret: integrations.NewSecret("from-your-secret-store"),
		Audience:     "https://Example.okta.com:443/", // Okta's issuer is https://example.okta.com
		AuthServerID: "default",
	})
	if err != nil {
		log.Fatal(err)
	}
	google, err := auth.NewGoogle(auth.GoogleOptions{
		ClientID:     "1234-portal.apps.googleusercontent.com",
		ClientSecret: integrations.NewSecret("from-your-secret-store"),
	})
	if err != nil {
		log.Fatal(err)
	}
	for id, p := range map[string]auth.Provider{"okta": okta, "google": google} {
		if err := h.Register(id, "production", p); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(okta.Info().Issuer)
	fmt.Println(google.Info().Issuer)
	fmt.Println(h.CallbackURL("okta"))
	// Output:
	// https://example.okta.com/oauth2/default
	// https://accounts.google.com
	// https://portal.example.com/api/auth/okta/handler/frame
}
