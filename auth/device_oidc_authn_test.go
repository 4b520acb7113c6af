package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/auth"
)

// oidcDeviceRecorder is an OP that records how the client authenticates at
// the device authorization and token endpoints, and answers with a
// device code then access_denied; with refuseSecret, it refuses a secret
// at the device endpoint, as Auth0 does.
func oidcDeviceRecorder(t *testing.T, refuseSecret bool) (*httptest.Server, func() map[string]string) {
	var mu sync.Mutex
	seen := map[string]string{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/authorize","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys","device_authorization_endpoint":"%[1]s/device"}`, srv.URL)
		case "/device":
			r.ParseForm()
			_, pw, basic := r.BasicAuth()
			mu.Lock()
			seen["device.basic"] = fmt.Sprint(basic, ":", pw)
			seen["device.client_secret"] = r.PostForm.Get("client_secret")
			seen["device.requests"] += "."
			mu.Unlock()
			if refuseSecret && basic {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"no secret here"}`)
				return
			}
			fmt.Fprintf(w, `{"device_code":"dc","user_code":"UC","verification_uri":"%s/devicelogin","expires_in":60,"interval":1}`, srv.URL)
		case "/token":
			r.ParseForm()
			_, pw, basic := r.BasicAuth()
			mu.Lock()
			seen["token.basic"] = fmt.Sprint(basic, ":", pw)
			seen["token.client_secret"] = r.PostForm.Get("client_secret")
			mu.Unlock()
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"access_denied"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() map[string]string { mu.Lock(); defer mu.Unlock(); return seen }
}

// A confidential OIDC client (with a secret) must authenticate at the
// device authorization endpoint (RFC 8628 3.1; Keycloak refuses one that
// does not), as it does at the token endpoint.
func TestOIDCDeviceAuthConfidentialAuthenticates(t *testing.T) {
	srv, seen := oidcDeviceRecorder(t, false)
	p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("s3cret"), MetadataURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := p.DeviceAuth(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.DeviceSignIn(t.Context(), dc)
	s := seen()
	if s["device.basic"] != "true:s3cret" && s["device.client_secret"] != "s3cret" {
		t.Errorf("device authorization request carried no client authentication (token request: basic %s)", s["token.basic"])
	}
}

// A public OIDC client (no secret) must not present an (empty) client
// secret: Entra answers AADSTS700025 to a public client presenting one.
func TestOIDCDevicePublicClientSendsNoBasic(t *testing.T) {
	srv, seen := oidcDeviceRecorder(t, false)
	p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", MetadataURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := p.DeviceAuth(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.DeviceSignIn(t.Context(), dc)
	s := seen()
	if s["token.basic"] != "false:" {
		t.Errorf("public client's device token request sent Authorization: Basic with an empty password (%s)", s["token.basic"])
	}
}

// A provider that refuses a secret at the device endpoint (Auth0) is
// asked once more without it.
func TestOIDCDeviceAuthRetriesWithoutSecret(t *testing.T) {
	srv, seen := oidcDeviceRecorder(t, true)
	p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("s3cret"), MetadataURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeviceAuth(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if s := seen(); s["device.requests"] != ".." || s["device.basic"] != "false:" {
		t.Errorf("device requests %q, last Basic %q; want two, the second without the secret", s["device.requests"], s["device.basic"])
	}
}
