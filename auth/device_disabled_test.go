package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// A confidential client whose device grant is disabled (Keycloak, Okta,
// Entra answer unauthorized_client) is tried again without its secret;
// when that fails too (invalid_client), the first answer is reported:
// Unimplemented, "enable the device flow".
func TestDeviceDisabledNotMaskedByRetry(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/authorize","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys","device_authorization_endpoint":"%[1]s/device"}`, srv.URL)
		case "/device":
			if _, _, ok := r.BasicAuth(); !ok {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`)
				return
			}
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client."}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("s3cret"), MetadataURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = p.DeviceAuth(t.Context(), nil); errcode.CodeOf(err) != errcode.Unimplemented {
		t.Errorf("device flow disabled for the client: %v, want Unimplemented", err)
	}
}
