package auth_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/integrations"
)

// A portal calls another service (here "kubernetes") as the signed-in
// user, with a token the identity provider made for that service from the
// user's sign-in token.
func ExampleTokenExchange() {
	mux := http.NewServeMux()
	portal := httptest.NewServer(mux)
	defer portal.Close()
	h, err := auth.New(&auth.Options{
		BaseURL:     portal.URL + "/api/auth", // http only on localhost; use https in production
		Secret:      integrations.NewSecret("a long random session secret"),
		Environment: "development",
	})
	if err != nil {
		log.Fatal(err)
	}
	// An OpenID Provider that lets the portal exchange alice's tokens.
	op, err := authtest.StartOP(authtest.OPOptions{RedirectURIs: []string{h.CallbackURL("oidc")},
		User: authtest.User{Subject: "alice-id", MayExchange: true}})
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()
	oidc, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"), MetadataURL: op.Issuer})
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Register("oidc", "development", oidc); err != nil {
		log.Fatal(err)
	}
	toKubernetes, err := auth.NewTokenExchange(auth.TokenExchangeOptions{
		Issuer:   op.Issuer,                  // only this provider's sessions are exchanged
		TokenURL: op.Issuer + "/oauth/token", // the discovery document's token_endpoint
		ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"),
		Audience: []string{"kubernetes"},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/api/auth/", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := h.Session(r)
		if err != nil {
			http.Error(w, "please sign in", http.StatusUnauthorized)
			return
		}
		cred, err := toKubernetes.Source(s).Credential(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		// Send cred.Token to the service as a bearer token.
		fmt.Fprintf(w, "a %s token for kubernetes, not the sign-in token: %v", cred.Kind, cred.Token != s.Tokens.AccessToken)
	})

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(portal.URL + "/api/auth/oidc/start?flow=redirect&redirectUrl=/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	fmt.Println(string(page))
	// Output:
	// a user token for kubernetes, not the sign-in token: true
}
