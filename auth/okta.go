package auth

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// OktaOptions configures [NewOkta], with Backstage's okta provider keys.
type OktaOptions struct {
	// ClientID and ClientSecret are the Okta application's.
	ClientID     string
	ClientSecret integrations.Secret
	// Audience is the Okta organisation's URL, e.g.
	// "https://dev-123456.okta.com" (config audience). Required: the
	// default Backstage documents, https://okta.com, is no organisation.
	Audience string
	// AuthServerID names a custom authorization server, e.g. "default"
	// (config authServerId): the issuer is then Audience/oauth2/<id>.
	// Empty uses the organisation authorization server, whose issuer is
	// Audience.
	AuthServerID string
	// IDP is sent as the idp parameter, sending the user straight to
	// that identity provider (config idp), e.g. a social or SAML IdP's
	// id.
	IDP string
	// Scopes are requested on top of "openid profile email
	// offline_access".
	Scopes []string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewOkta returns a provider for Okta: OpenID Connect against the
// organisation's authorization server, or a custom one, found through
// discovery and verified as [NewOIDC] verifies any provider.
// offline_access is always requested, as Backstage does, so that the
// session can be refreshed (the application must allow the Refresh Token
// grant). Unlike Backstage, it sends no prompt=consent: Okta issues the
// refresh token for offline_access alone, and the prompt would show the
// consent dialog at every sign-in where consent is configured. E-mail
// sign-in resolvers match the okta.com/email annotation.
func NewOkta(o OktaOptions) (*OIDC, error) {
	const op = "auth.NewOkta"
	if o.Audience == "" {
		return nil, errcode.New(errcode.InvalidArgument, op, "audience (the Okta organisation's URL, e.g. https://dev-123456.okta.com) is required")
	}
	u, err := url.Parse(o.Audience)
	if err != nil || u.Host == "" || u.User != nil || strings.ContainsAny(o.Audience, "?#") || (u.Path != "" && u.Path != "/") {
		return nil, errcode.New(errcode.InvalidArgument, op, "audience must be the Okta organisation's URL, e.g. https://dev-123456.okta.com, without a path")
	}
	if o.AuthServerID != "" && !validOktaID(o.AuthServerID) {
		return nil, errcode.New(errcode.InvalidArgument, op, "authServerId must be an authorization server's id, e.g. default or aus1a2b3c4d5e6f7g8h9")
	}
	// Okta's issuer is the organisation's URL as Okta writes it: lower
	// case, without a default port or a trailing slash.
	issuer := strings.ToLower(u.Scheme) + "://" + hostOf(u)
	if o.AuthServerID != "" {
		issuer += "/oauth2/" + o.AuthServerID
	}
	oo := OIDCOptions{ClientID: o.ClientID, ClientSecret: o.ClientSecret, MetadataURL: issuer,
		Scopes: append([]string{"offline_access"}, o.Scopes...), HTTPClient: o.HTTPClient, Now: o.Now, typ: "okta"}
	if o.IDP != "" {
		oo.authParams = append(oo.authParams, oauth2.SetAuthURLParam("idp", o.IDP))
	}
	p, err := NewOIDC(oo)
	if err != nil {
		return nil, err
	}
	p.op = "auth.Okta"
	return p, nil
}

// validOktaID reports whether s can be an Okta authorization server id:
// letters, digits, '-' and '_', so that it stays one path segment.
func validOktaID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
