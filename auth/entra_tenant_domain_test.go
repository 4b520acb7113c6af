package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/integrations"
)

// Entra ID takes a tenant's domain name where its id goes
// (login.microsoftonline.com/contoso.onmicrosoft.com/v2.0), and answers
// the discovery document there with the tenant id's issuer
// (.../<GUID>/v2.0), which every ID token carries: a tenantId given as a
// domain name signs users in, their tokens checked against that issuer.
// A document naming another tenant's id, for a tenantId that is an id,
// is refused.
func TestMicrosoftTenantIDAsDomainName(t *testing.T) {
	const guid = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"
	for _, tc := range []struct {
		name, tenantID string
		ok             bool
	}{
		{"domain name", "contoso.onmicrosoft.com", true},
		{"tenant id", guid, true},
		{"tenant id in capitals", strings.ToUpper(guid), true},
		{"another tenant's id", "72f988bf-86f1-41af-91ab-2d7cd011db47", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPortal(t, auth.Options{})
			op := startOP(t, p, "microsoft", authtest.OPOptions{IssuerPath: "/" + guid + "/v2.0",
				IssuerAliases:    []string{"/contoso.onmicrosoft.com/v2.0", "/" + strings.ToUpper(guid) + "/v2.0", "/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
				ProfileInIDToken: true, User: authtest.User{Subject: "oid-1", Claims: map[string]any{"tid": guid}}})
			ms, err := auth.NewMicrosoft(auth.MicrosoftOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"),
				TenantID: tc.tenantID, AuthorityURL: op.URL})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.h.Register("microsoft", "development", ms); err != nil {
				t.Fatal(err)
			}
			c, resp, body := p.signIn(t, "microsoft")
			if !tc.ok {
				if resp.StatusCode == http.StatusOK {
					t.Fatalf("tenantId %s signed a user in through tenant %s's document", tc.tenantID, guid)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("sign-in with tenantId %s: %d %q", tc.tenantID, resp.StatusCode, body)
			}
			if s := p.sessionOf(t, c); s.Identity.Issuer != op.Issuer {
				t.Fatalf("the session's issuer is %q, want the tenant id's %q", s.Identity.Issuer, op.Issuer)
			}
		})
	}
}
