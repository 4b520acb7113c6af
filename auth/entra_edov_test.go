package auth_test

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/integrations"
)

// Entra ID sends no email_verified: its e-mail counts as verified only with
// the optional claim xms_edov true (the domain is verified by the user's
// tenant), and only from the Microsoft provider; a generic OIDC provider
// does not take xms_edov, and an email_verified wins over it.
func TestEntraEmailVerifiedFromXmsEdov(t *testing.T) {
	for _, tc := range []struct {
		name       string
		microsoft  bool
		noVerified bool
		claims     map[string]any
		want       bool
	}{
		{"Entra without xms_edov", true, true, nil, false},
		{"Entra with xms_edov true", true, true, map[string]any{"xms_edov": true}, true},
		{"Entra with xms_edov \"1\"", true, true, map[string]any{"xms_edov": "1"}, true},
		{"Entra with xms_edov false", true, true, map[string]any{"xms_edov": false}, false},
		{"another OIDC provider with xms_edov true", false, true, map[string]any{"xms_edov": true}, false},
		{"email_verified wins", true, false, map[string]any{"xms_edov": false}, true},
		{"a personal Microsoft account's xms_edov", true, true, map[string]any{"xms_edov": true, "tid": "9188040d-6c67-4c5b-b112-36a304b66dad"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPortal(t, auth.Options{})
			provider, issuerPath := "oidc", ""
			if tc.microsoft {
				provider, issuerPath = "microsoft", "/tenant-1/v2.0"
			}
			op := startOP(t, p, provider, authtest.OPOptions{IssuerPath: issuerPath, ProfileInIDToken: true,
				User: authtest.User{Subject: "oid-1", Username: "alice@contoso.example", Email: "alice@contoso.example",
					NoEmailVerified: tc.noVerified, Claims: tc.claims}})
			if tc.microsoft {
				ms, err := auth.NewMicrosoft(auth.MicrosoftOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"),
					TenantID: "tenant-1", AuthorityURL: op.URL})
				if err != nil {
					t.Fatal(err)
				}
				if err := p.h.Register("microsoft", "development", ms); err != nil {
					t.Fatal(err)
				}
			} else {
				registerOIDC(t, p, op)
			}
			c, resp, body := p.signIn(t, provider)
			if resp.StatusCode != 200 {
				t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
			}
			req := httptest.NewRequest("GET", p.srv.URL+"/", nil)
			u, _ := url.Parse(p.srv.URL)
			for _, ck := range c.Jar.Cookies(u) {
				req.AddCookie(ck)
			}
			s, err := p.h.Session(req)
			if err != nil {
				t.Fatal(err)
			}
			if s.Identity.Email != "alice@contoso.example" || s.Identity.EmailVerified != tc.want {
				t.Errorf("e-mail %q verified=%v; want alice@contoso.example verified=%v", s.Identity.Email, s.Identity.EmailVerified, tc.want)
			}
		})
	}
}
