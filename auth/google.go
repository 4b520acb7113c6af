package auth

import (
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/integrations"
)

// GoogleOptions configures [NewGoogle].
type GoogleOptions struct {
	// ClientID and ClientSecret are the OAuth client's, from the Google
	// Cloud console.
	ClientID     string
	ClientSecret integrations.Secret
	// Scopes are requested on top of "openid profile email".
	Scopes []string
	// IssuerURL overrides https://accounts.google.com (scmkit's
	// extension, for tests against another OpenID Provider).
	IssuerURL string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// googleIssuer is Google's issuer; its ID tokens may name it without the
// scheme, which go-oidc accepts.
const googleIssuer = "https://accounts.google.com"

// NewGoogle returns a provider for Google sign-in: OpenID Connect with
// Google's discovery document, verified as [NewOIDC] verifies any
// provider. As Backstage does, it asks for offline access with
// access_type=offline and prompt=consent, since Google sends a refresh
// token only at a consent; sign-out revokes the refresh token. The
// identity's issuer is always https://accounts.google.com, also for an
// ID token that names it without the scheme. Its e-mail counts as
// verified only where Google vouches for it, as Google's guide says: a
// Gmail address, or an address of a Google Workspace account (the hd
// claim); a consumer account registered with another address does not
// prove the address is still hers. E-mail sign-in resolvers match the
// google.com/email annotation.
func NewGoogle(o GoogleOptions) (*OIDC, error) {
	issuer := o.IssuerURL
	if issuer == "" {
		issuer = googleIssuer
	}
	p, err := NewOIDC(OIDCOptions{ClientID: o.ClientID, ClientSecret: o.ClientSecret, MetadataURL: issuer, Scopes: o.Scopes,
		HTTPClient: o.HTTPClient, Now: o.Now, typ: "google", authParams: []oauth2.AuthCodeOption{
			oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("prompt", "consent"),
		}})
	if err != nil {
		return nil, err
	}
	p.op = "auth.Google"
	return p, nil
}
