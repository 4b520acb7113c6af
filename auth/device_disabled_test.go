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

// Auth0 answers a device authorization that carries a secret with 403
// unauthorized_client; the retry without it meets a passing outage (503)
// or rate limit (429) or a bad request. The error is the retry's, not
// "the provider does not offer the device flow" (Unimplemented).
func TestDeviceRetryFailureIsTheRetrys(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   errcode.Code
	}{
		{http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`, errcode.Unavailable},
		{http.StatusTooManyRequests, `{"error":"too_many_requests"}`, errcode.RateLimited},
		{http.StatusBadRequest, `{"error":"invalid_scope","error_description":"Service not found: https://api.example"}`, errcode.Unauthorized}, // a refusal, as at the token endpoint
	} {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch r.URL.Path {
			case "/.well-known/openid-configuration":
				fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/authorize","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys","device_authorization_endpoint":"%[1]s/device"}`, srv.URL)
			case "/device":
				if _, _, ok := r.BasicAuth(); ok {
					w.WriteHeader(http.StatusForbidden)
					fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"Unauthorized or unknown client"}`)
					return
				}
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			default:
				http.NotFound(w, r)
			}
		}))
		p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("s3cret"), MetadataURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err = p.DeviceAuth(t.Context(), nil); errcode.CodeOf(err) != tc.want {
			t.Errorf("retry answered %d: %v, want %v", tc.status, err, tc.want)
		}
		srv.Close()
	}
}
