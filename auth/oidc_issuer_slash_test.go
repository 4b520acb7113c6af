package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
)

// Some providers' issuer ends in a slash (Auth0's is
// "https://<tenant>.auth0.com/"). NewOIDC trims the slash from
// metadataUrl, and go-oidc compares the issuer exactly, so such a
// provider could not be used at all. The issuer the discovery document
// names is taken when it differs only by that slash (and is then the one
// ID tokens must carry); any other difference is still refused.
func TestOIDCIssuerWithTrailingSlash(t *testing.T) {
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "authorization_endpoint": "http://" + r.Host + "/authorize",
			"token_endpoint": "http://" + r.Host + "/oauth/token", "jwks_uri": "http://" + r.Host + "/.well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"code"}})
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		issuer, metadataURL string
		ok                  bool
	}{
		{srv.URL + "/", srv.URL + "/.well-known/openid-configuration", true},
		{srv.URL + "/", srv.URL + "/", true},
		{srv.URL + "/", srv.URL, true},
		{srv.URL + "//", srv.URL, false},
		{srv.URL + "/other", srv.URL, false},
		{"https://evil.example/", srv.URL, false},
	} {
		issuer = tc.issuer
		p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("s"), MetadataURL: tc.metadataURL})
		if err != nil {
			t.Fatal(err)
		}
		u, err := p.AuthCodeURL(t.Context(), auth.AuthRequest{State: "st", RedirectURI: "http://localhost/cb", CodeChallenge: "ch", Nonce: "n"})
		if tc.ok && (err != nil || !strings.HasPrefix(u, srv.URL+"/authorize?")) {
			t.Errorf("issuer %q, metadataUrl %q: %q, %v", tc.issuer, tc.metadataURL, u, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("issuer %q, metadataUrl %q: accepted", tc.issuer, tc.metadataURL)
		}
	}
}
