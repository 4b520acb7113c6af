package auth

import (
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// MicrosoftOptions configures [NewMicrosoft].
type MicrosoftOptions struct {
	// ClientID and ClientSecret are the app registration's.
	ClientID     string
	ClientSecret integrations.Secret
	// TenantID is the directory (tenant) id, or one of the tenant's
	// domain names ("contoso.onmicrosoft.com", whose discovery document
	// Entra ID answers with the tenant id's issuer, which ID tokens are
	// then checked to carry), or "common", "organizations" or
	// "consumers" for multi-tenant apps (whose ID tokens are then checked
	// to come from a Microsoft tenant issuer).
	TenantID string
	// AllowedTenants, when not empty, are the only tenants (directory
	// ids: GUIDs, compared case-insensitively) whose users may sign in: a
	// multi-tenant app ("common", "organizations") otherwise signs in the
	// users of every Entra tenant, and "common" personal Microsoft
	// accounts too (tenant 9188040d-6c67-4c5b-b112-36a304b66dad). An ID
	// token from another tenant is refused (PermissionDenied), at sign-in
	// and at every refresh. scmkit's extension (config allowedTenants).
	AllowedTenants []string
	// DomainHint is sent as domain_hint, skipping the account picker.
	DomainHint string
	// AuthorityURL is the identity platform, default
	// "https://login.microsoftonline.com"; the issuer is
	// AuthorityURL/<tenant>/v2.0.
	AuthorityURL string
	// Scopes are requested on top of "openid profile email
	// offline_access".
	Scopes []string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewMicrosoft returns a provider for the Microsoft identity platform v2
// (Entra ID): OpenID Connect with the tenant's issuer. The user's subject
// is her object id (oid), stable across applications of the tenant, when
// the ID token carries one.
//
// Entra ID sends no email_verified, and its email claim is whatever the
// account says, so the e-mail counts as verified (and e-mail sign-in
// resolvers match it) only when the ID token carries the optional claim
// xms_edov true: the address's domain is verified by the user's own
// tenant. Add xms_edov and email as optional ID token claims in the app
// registration (Token configuration) to sign users in by e-mail; an
// email_verified, when a token has one, wins. Personal Microsoft accounts
// (the consumers tenant) never have a verified e-mail.
func NewMicrosoft(o MicrosoftOptions) (*OIDC, error) {
	const op = "auth.NewMicrosoft"
	if o.TenantID == "" {
		return nil, errcode.New(errcode.InvalidArgument, op, "tenantId is required")
	}
	if strings.ContainsAny(o.TenantID, "/?#") {
		return nil, errcode.New(errcode.InvalidArgument, op, "tenantId must be a tenant id or common, organizations, consumers")
	}
	var tenants map[string]bool
	for _, t := range o.AllowedTenants {
		if t = strings.ToLower(strings.TrimSpace(t)); !isGUID(t) {
			// An ID token's tid is always the directory's GUID: a domain
			// (contoso.onmicrosoft.com) would refuse every user.
			return nil, errcode.New(errcode.InvalidArgument, op, "allowedTenants must hold tenant ids (directory GUIDs such as 72f988bf-86f1-41af-91ab-2d7cd011db47), not domain names")
		}
		if tenants == nil {
			tenants = map[string]bool{}
		}
		tenants[t] = true
	}
	if o.AuthorityURL == "" {
		o.AuthorityURL = "https://login.microsoftonline.com"
	}
	authority := strings.TrimSuffix(o.AuthorityURL, "/")
	oo := OIDCOptions{ClientID: o.ClientID, ClientSecret: o.ClientSecret, MetadataURL: authority + "/" + o.TenantID + "/v2.0",
		Scopes: append([]string{"offline_access"}, o.Scopes...), HTTPClient: o.HTTPClient, Now: o.Now, typ: "microsoft", domainVerified: true, tenants: tenants,
		subject: func(c *claims) string {
			if c.OID != "" {
				return c.OID
			}
			return c.Subject
		}}
	switch strings.ToLower(o.TenantID) {
	case "common", "organizations", "consumers":
		oo.anyTenant = authority
	default:
		oo.tenantOf, oo.tenantID = authority, o.TenantID
	}
	if o.DomainHint != "" {
		oo.authParams = append(oo.authParams, oauth2.SetAuthURLParam("domain_hint", o.DomainHint))
	}
	p, err := NewOIDC(oo)
	if err != nil {
		return nil, err
	}
	p.op = "auth.Microsoft"
	return p, nil
}

// isGUID reports whether s is a GUID in its usual form,
// 8-4-4-4-12 hexadecimal digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return false
		}
	}
	return true
}
