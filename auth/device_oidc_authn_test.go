package auth_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// oidcWithDevice is an OpenID Provider whose discovery document names its
// device_authorization_endpoint, /device, answered by device (srv is the
// provider's URL), and its token endpoint, /token, answered by token
// (nil: 404).
func oidcWithDevice(t *testing.T, device, token func(w http.ResponseWriter, r *http.Request, srv string)) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/authorize","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys","device_authorization_endpoint":"%[1]s/device"}`, srv.URL)
		case r.URL.Path == "/device":
			device(w, r, srv.URL)
		case r.URL.Path == "/token" && token != nil:
			token(w, r, srv.URL)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// oidcDeviceRecorder is an OP that records how the client authenticates at
// the device authorization and token endpoints, and answers with a
// device code then access_denied; with refuseSecret, it refuses a secret
// at the device endpoint, as Auth0 does.
func oidcDeviceRecorder(t *testing.T, refuseSecret bool) (*httptest.Server, func() map[string]string) {
	var mu sync.Mutex
	seen := map[string]string{}
	note := func(r *http.Request, at string) bool {
		r.ParseForm()
		_, pw, basic := r.BasicAuth()
		mu.Lock()
		defer mu.Unlock()
		seen[at+".basic"] = fmt.Sprint(basic, ":", pw)
		seen[at+".client_secret"] = r.PostForm.Get("client_secret")
		seen[at+".requests"] += "."
		return basic
	}
	srv := oidcWithDevice(t, func(w http.ResponseWriter, r *http.Request, srv string) {
		if note(r, "device") && refuseSecret {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"no secret here"}`)
			return
		}
		fmt.Fprintf(w, `{"device_code":"dc","user_code":"UC","verification_uri":"%s/devicelogin","expires_in":60,"interval":1}`, srv)
	}, func(w http.ResponseWriter, r *http.Request, _ string) {
		note(r, "token")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"access_denied"}`)
	})
	return srv, func() map[string]string { mu.Lock(); defer mu.Unlock(); return maps.Clone(seen) }
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

// A confidential client whose device grant is disabled (Keycloak, Okta,
// Entra answer unauthorized_client) is tried again without its secret;
// when that fails too (invalid_client), the first answer is reported:
// Unimplemented, "enable the device flow".
func TestDeviceDisabledNotMaskedByRetry(t *testing.T) {
	srv := oidcWithDevice(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		if _, _, ok := r.BasicAuth(); !ok {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client."}`)
	}, nil)
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
		srv := oidcWithDevice(t, func(w http.ResponseWriter, r *http.Request, _ string) {
			if _, _, ok := r.BasicAuth(); ok {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"Unauthorized or unknown client"}`)
				return
			}
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
		}, nil)
		p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("s3cret"), MetadataURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err = p.DeviceAuth(t.Context(), nil); errcode.CodeOf(err) != tc.want {
			t.Errorf("retry answered %d: %v, want %v", tc.status, err, tc.want)
		}
	}
}
