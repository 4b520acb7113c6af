package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
)

// RFC 9207 §2.4: the iss parameter is checked on error responses too. An
// error answer naming another provider (a mix-up: another identity
// provider's answer sent to this callback) is refused as such, not shown
// as this provider's refusal; the provider's own error answer (with its
// iss, or without one where it advertises none) is shown.
func TestOIDCErrorAnswerIssChecked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		issParam bool
		iss      string // "self" for the provider's own
		want     string
		status   int
	}{
		{"other provider's iss", true, "https://other-idp.example", "iss parameter does not name this provider", http.StatusUnauthorized},
		{"no iss where advertised", true, "", "iss parameter does not name this provider", http.StatusUnauthorized},
		{"own iss", true, "self", "did not sign you in: access_denied", http.StatusForbidden},
		{"not advertised, none sent", false, "", "did not sign you in: access_denied", http.StatusForbidden},
		{"not advertised, another sent", false, "https://other-idp.example", "iss parameter does not name this provider", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPortal(t, auth.Options{})
			e := newEvilOP(t)
			e.mode, e.issParam = "good", tc.issParam
			prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"), MetadataURL: e.srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.h.Register("oidc", "development", prov); err != nil {
				t.Fatal(err)
			}
			c := noFollow()
			authURL := start(t, c, p, "oidc", "")
			q := url.Values{"state": {authURL.Query().Get("state")}, "error": {"access_denied"}, "error_description": {"The user said no"}}
			switch tc.iss {
			case "self":
				q.Set("iss", e.srv.URL)
			case "":
			default:
				q.Set("iss", tc.iss)
			}
			resp, body := do(t, c, http.MethodGet, p.h.CallbackURL("oidc")+"?"+q.Encode(), nil)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %.300s; want %d containing %q", resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}
}
