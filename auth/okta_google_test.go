package auth_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/integrations"
)

// authorizeQuery returns the query of the authorization URL p sends users
// to.
func authorizeQuery(t *testing.T, p auth.RedirectProvider) url.Values {
	t.Helper()
	u, err := p.AuthCodeURL(t.Context(), auth.AuthRequest{State: "st", RedirectURI: "https://portal.example.com/cb", CodeChallenge: "ch", Nonce: "nonce"})
	if err != nil {
		t.Fatal(err)
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return pu.Query()
}

// Okta: a custom authorization server (issuer <audience>/oauth2/<id>) or
// the organisation's (issuer <audience>), offline_access always asked
// for, idp passed on; the sign-in completes against a real OpenID
// Provider shaped so.
func TestOktaSignInWithRealOP(t *testing.T) {
	for _, tc := range []struct {
		name, authServerID, issuerPath, idp string
	}{
		{"CustomAuthorizationServer", "default", "/oauth2/default", "0oa1social"},
		{"OrganisationAuthorizationServer", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPortal(t, auth.Options{})
			op := startOP(t, p, "okta", authtest.OPOptions{IssuerPath: tc.issuerPath, ProfileInIDToken: true,
				User: authtest.User{Subject: "00u1alice", Username: "alice@example.com", Email: "alice@example.com"}})
			okta, err := auth.NewOkta(auth.OktaOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"),
				Audience: op.URL, AuthServerID: tc.authServerID, IDP: tc.idp, Scopes: []string{"groups"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.h.Register("okta", "development", okta); err != nil {
				t.Fatal(err)
			}
			if got := okta.Info(); got.Type != "okta" || got.Issuer != op.Issuer {
				t.Errorf("Info = %+v; want type okta, issuer %s", got, op.Issuer)
			}
			q := authorizeQuery(t, okta)
			scopes := strings.Fields(q.Get("scope"))
			for _, want := range []string{"openid", "profile", "email", "offline_access", "groups"} {
				if !slices.Contains(scopes, want) {
					t.Errorf("scope %q lacks %s", q.Get("scope"), want)
				}
			}
			if q.Has("prompt") || q.Has("access_type") {
				t.Errorf("authorization query %v; want no prompt and no access_type", q)
			}
			if q.Get("idp") != tc.idp || (tc.idp == "" && q.Has("idp")) {
				t.Errorf("idp = %q (sent %v); want %q", q.Get("idp"), q.Has("idp"), tc.idp)
			}
			if !strings.HasPrefix(okta.Info().Issuer, op.URL) {
				t.Errorf("issuer %s is not under the audience %s", okta.Info().Issuer, op.URL)
			}
			_, resp, body := p.signIn(t, "okta")
			if resp.StatusCode != 200 || body != "hello alice@example.com <alice@example.com> 00u1alice" {
				t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
			}
		})
	}
}

// Google: offline access asked for as Google wants it (access_type and a
// consent prompt, not the offline_access scope, which Google refuses),
// and the sign-in completes against a real OpenID Provider.
func TestGoogleSignInWithRealOP(t *testing.T) {
	p := newPortal(t, auth.Options{})
	op := startOP(t, p, "google", authtest.OPOptions{ProfileInIDToken: true,
		User: authtest.User{Subject: "1098765", Username: "alice@example.com", Email: "alice@example.com"}})
	g, err := auth.NewGoogle(auth.GoogleOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"), IssuerURL: op.Issuer})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("google", "development", g); err != nil {
		t.Fatal(err)
	}
	q := authorizeQuery(t, g)
	if q.Get("access_type") != "offline" || q.Get("prompt") != "consent" || strings.Contains(q.Get("scope"), "offline_access") {
		t.Errorf("authorization query %v; want access_type=offline, prompt=consent, no offline_access scope", q)
	}
	if got := g.Info(); got.Type != "google" {
		t.Errorf("Info = %+v; want type google", got)
	}
	_, resp, body := p.signIn(t, "google")
	if resp.StatusCode != 200 || body != "hello alice@example.com <alice@example.com> 1098765" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
}
