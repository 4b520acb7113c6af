package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scmkit/scmkit/auth"
)

// A public OIDC client sends its client_id alone, at the revocation
// endpoint too: no empty client_secret.
func TestPublicClientRevokeSendsNoSecret(t *testing.T) {
	var srv *httptest.Server
	var form map[string][]string
	var hasSecret bool
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/authorize","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys","revocation_endpoint":"%[1]s/revoke"}`, srv.URL)
		case "/revoke":
			r.ParseForm()
			form = r.PostForm
			_, hasSecret = r.PostForm["client_secret"]
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", MetadataURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Revoke(t.Context(), auth.Tokens{RefreshToken: "rt"}); err != nil {
		t.Fatal(err)
	}
	if hasSecret {
		t.Errorf("public client's revocation carries client_secret=%q (form keys %v)", form["client_secret"], len(form))
	}
}
