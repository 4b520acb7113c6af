package auth

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// allowedAlgs are the ID token signature algorithms accepted: asymmetric
// only (never none, never HS*, whose key would be the client secret).
var allowedAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// OIDCOptions configures [NewOIDC].
type OIDCOptions struct {
	// ClientID and ClientSecret are the client's at the provider.
	ClientID     string
	ClientSecret integrations.Secret
	// MetadataURL is the provider's issuer URL or the URL of its
	// discovery document (issuer + "/.well-known/openid-configuration").
	MetadataURL string
	// Scopes are requested on top of "openid profile email".
	Scopes []string
	// Prompt is the prompt parameter ("login", "consent",
	// "select_account", "none"); "" or "auto" sends none. (Backstage's
	// default is "none", which fails for a user without a session at the
	// provider; set it explicitly to keep that behaviour.)
	Prompt string
	// TokenEndpointAuthMethod is "client_secret_basic" (default) or
	// "client_secret_post".
	TokenEndpointAuthMethod string
	// TokenSignedResponseAlg pins the ID token's signature algorithm
	// (e.g. "RS256"). Default: the algorithms the provider advertises
	// that are asymmetric. "none" and HS* are never accepted.
	TokenSignedResponseAlg string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock for ID token expiry and for the back-off after a
	// failed discovery; nil means time.Now.
	Now func() time.Time
	// Timeout bounds each fetch of the provider's discovery document and
	// key set (as Backstage's oidc timeout), which are made in the
	// background, without a sign-in's context, once for all the callers
	// waiting for them; 0 means DefaultProviderTimeout. The other requests
	// are bounded by the Handler's ProviderTimeout.
	Timeout time.Duration

	typ        string
	authParams []oauth2.AuthCodeOption
	anyTenant  string          // microsoft multi-tenant: issuer prefix to check by hand
	tenantOf   string          // microsoft single tenant: the authority, whose <authority>/<GUID>/v2.0 issuer a tenant's domain name stands for
	tenantID   string          // microsoft single tenant: tenantId as configured (a GUID or a domain name)
	tenants    map[string]bool // microsoft: the tenants allowed (lower case); nil: any
	subject    func(c *claims) string
	// domainVerified takes Entra's xms_edov (the e-mail's domain is
	// verified by the user's tenant) for email_verified when the ID
	// token has no email_verified.
	domainVerified bool
}

// OIDC signs users in with any OpenID Connect provider found through
// discovery (Keycloak, Okta, Google, Entra ID, Dex, ZITADEL...), with PKCE
// S256, a nonce checked against the ID token, the ID token verified by
// github.com/coreos/go-oidc (signature with a cached key set, issuer,
// audience, expiry, an asymmetric algorithm), and RFC 9207's iss
// parameter required when the provider advertises it. A sign-in costs one
// request (token) once the discovery document and keys are cached, two
// when the ID token lacks the e-mail or name and the userinfo endpoint
// must be asked.
//
// The discovery document is fetched on first use, once for all the
// callers waiting for it, each of which stops waiting when its own
// context ends; once read, it is kept. After a discovery that failed, none
// is tried for 1 s, doubled after every further failure up to 30 s:
// meanwhile every call that needs the document is Unavailable with
// RetryAt, without a request to the provider.
//
// An OIDC is safe for concurrent use (a [Handler] calls it from every
// request). The zero OIDC is not usable: its calls fail with
// InvalidArgument; make one with [NewOIDC], [NewGoogle], [NewMicrosoft]
// or [NewOkta].
type OIDC struct {
	oauthBase
	o       OIDCOptions
	issuer  string
	dclient *http.Client // for the discovery document: one retry, failures are remembered instead
	flight  singleflight.Group
	mu      sync.Mutex
	disc    *discovery     // nil until a discovery succeeds
	fails   int            // consecutive failed discoveries
	retryAt time.Time      // no discovery before, after a failure
	lastErr *errcode.Error // the last failed discovery's
}

// discovery is what the discovery document says, fixed once read.
type discovery struct {
	b        oauthBase // with the provider's endpoints
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	issuer   string // as the document names it (the template for multi-tenant Entra ID: then the configured one)
	issParam bool
	revoke   string // revocation endpoint, "" if none
	device   string // device_authorization_endpoint, "" if none
}

// Discovery's remembered failures: a discovery that failed is not tried
// again before discoveryRetryMin, doubled for every further failure up to
// discoveryRetryMax.
const (
	discoveryRetryMin = time.Second
	discoveryRetryMax = 30 * time.Second
)

// String names the provider and its issuer, never its client secret,
// e.g. "auth.OIDC(https://idp.example.com/realms/acme)"; a provider made
// by NewGoogle, NewMicrosoft or NewOkta names itself so, e.g.
// "auth.Microsoft(https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0)".
func (p *OIDC) String() string { return p.oauthBase.String() }

// NewOIDC returns an OIDC provider. The discovery document is fetched on
// first use, not here.
func NewOIDC(o OIDCOptions) (*OIDC, error) {
	const op = "auth.NewOIDC"
	if o.ClientID == "" {
		return nil, errcode.New(errcode.InvalidArgument, op, "clientId is required")
	}
	issuer := strings.TrimSuffix(strings.TrimSuffix(o.MetadataURL, "/.well-known/openid-configuration"), "/")
	iu, err := parseBase(op, "metadataUrl", issuer)
	if err != nil {
		return nil, err
	}
	if iu.Scheme == "http" && !isLoopback(iu.Hostname()) {
		return nil, errcode.New(errcode.InvalidArgument, op, "metadataUrl must be https (http only on localhost)")
	}
	switch o.TokenEndpointAuthMethod {
	case "", "client_secret_basic", "client_secret_post":
	default:
		return nil, errcode.Newf(errcode.InvalidArgument, op, "tokenEndpointAuthMethod %q is not supported (client_secret_basic or client_secret_post)", o.TokenEndpointAuthMethod)
	}
	if o.TokenSignedResponseAlg != "" && !slices.Contains(allowedAlgs, o.TokenSignedResponseAlg) {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "tokenSignedResponseAlg %q is not allowed: use an asymmetric algorithm such as RS256 or ES256", o.TokenSignedResponseAlg)
	}
	if o.typ == "" {
		o.typ = "oidc"
	}
	p := &OIDC{oauthBase: newOAuthBase("auth.OIDC", o.HTTPClient, o.Now), o: o, issuer: issuer}
	// The discovery document's GET is retried once (a passing failure),
	// not three times: a failed discovery is remembered and retried after
	// discoveryRetryMin, so that a provider down does not cost every
	// sign-in start four requests and seconds of waiting.
	p.dclient = providerClient(o.HTTPClient, p.now, 1)
	p.info = ProviderInfo{Type: o.typ, Issuer: issuer}
	p.required = []string{oidc.ScopeOpenID, "profile", "email"}
	p.cfg = oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret.Reveal(), Scopes: o.Scopes}
	if o.Prompt != "" && o.Prompt != "auto" {
		p.authOpts = append(p.authOpts, oauth2.SetAuthURLParam("prompt", o.Prompt))
	}
	p.authOpts = append(p.authOpts, o.authParams...)
	return p, nil
}

// discover returns the discovery document, fetching it if no discovery
// succeeded yet and none failed moments ago. One fetch at a time serves
// every caller; it runs on its own context, bounded by the provider's
// Timeout, so that a caller leaving (its context ended) neither cuts it
// short for the others nor waits for it.
func (p *OIDC) discover(ctx context.Context) (*discovery, error) {
	if p.dclient == nil {
		// A zero OIDC: fail here, not in the fetch below, whose panic
		// would end the process (it runs in singleflight's goroutine).
		return nil, errcode.New(errcode.InvalidArgument, "auth.OIDC", "auth.OIDC not initialised; use NewOIDC (or NewGoogle, NewMicrosoft, NewOkta)")
	}
	if d, err := p.discovered(); d != nil || err != nil {
		return d, err
	}
	ch := p.flight.DoChan("discover", func() (any, error) {
		// A discovery that ended since the check above answers.
		if d, err := p.discovered(); d != nil || err != nil {
			return d, err
		}
		dctx, cancel := context.WithTimeout(context.Background(), p.timeout())
		defer cancel()
		d, err := p.fetchDiscovery(dctx)
		return d, p.remember(d, err)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*discovery), nil
	case <-ctx.Done():
		return nil, &errcode.Error{Code: ctxCode(ctx, ctx.Err()), Op: p.op, Msg: "the provider's discovery document did not arrive in time"}
	}
}

// oauthConfig is the client's configuration with the endpoints of the
// discovery document, once read.
func (p *OIDC) oauthConfig() oauth2.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc.b.cfg
	}
	return p.cfg
}

// timeout is the bound of a fetch made in the background (the discovery
// document, the key set).
func (p *OIDC) timeout() time.Duration {
	if p.o.Timeout > 0 {
		return p.o.Timeout
	}
	return DefaultProviderTimeout
}

// discovered returns the discovery document once read, or, while a
// failed discovery is remembered, its error with RetryAt; neither when a
// discovery is to be made.
func (p *OIDC) discovered() (*discovery, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc, nil
	}
	if p.lastErr != nil && p.now().Before(p.retryAt) {
		return nil, p.backingOff()
	}
	return nil, nil
}

// backingOff is the error of a call made while a failed discovery is
// remembered: Unavailable, with the failure's reason and RetryAt. p.mu is
// held.
func (p *OIDC) backingOff() error {
	return &errcode.Error{Code: errcode.Unavailable, Op: p.op, RetryAt: p.retryAt, Err: p.lastErr,
		Msg: p.lastErr.Msg + " (not asked again before " + p.retryAt.UTC().Format(time.RFC3339) + ")"}
}

// remember records a discovery's outcome: a success for good, a failure
// until the back-off ends. It returns the error for the discovery's
// callers, with RetryAt.
func (p *OIDC) remember(d *discovery, err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.disc, p.fails, p.retryAt, p.lastErr = d, 0, time.Time{}, nil
		return nil
	}
	p.fails++
	wait := discoveryRetryMin
	for i := 1; i < p.fails && wait < discoveryRetryMax; i++ {
		wait *= 2
	}
	p.retryAt = p.now().Add(min(wait, discoveryRetryMax))
	e := &errcode.Error{Code: errcode.Unavailable, Op: p.op, Msg: "the provider's discovery document cannot be read"}
	errors.As(err, &e)
	p.lastErr = e
	out := *e
	out.RetryAt = p.retryAt
	return &out
}

// fetchDiscovery reads the discovery document within ctx.
func (p *OIDC) fetchDiscovery(ctx context.Context) (*discovery, error) {
	dctx := oidc.ClientContext(ctx, p.dclient)
	if p.o.anyTenant != "" {
		// Multi-tenant Entra ID: the document's issuer is a template; the
		// tenant is checked per token instead.
		dctx = oidc.InsecureIssuerURLContext(dctx, p.issuer)
	}
	issuer := p.issuer
	prov, err := oidc.NewProvider(dctx, issuer)
	var mismatch *oidc.IssuerMismatchError
	if errors.As(err, &mismatch) && p.o.anyTenant == "" && mismatch.Discovered == issuer+"/" {
		// The issuer ends in a slash (Auth0's does), which metadataUrl
		// lost: take it exactly, as ID tokens will carry it.
		issuer = mismatch.Discovered
		prov, err = oidc.NewProvider(dctx, issuer)
	} else if errors.As(err, &mismatch) && p.o.tenantOf != "" && entraTenantIssuer(mismatch.Discovered, p.o.tenantOf, p.o.tenantID) {
		// Entra ID serves a tenant's document under each of its domain
		// names (contoso.onmicrosoft.com), and under its id in any case,
		// but names the tenant by its id in the issuer, as in every
		// token's iss: take that issuer, whose own document is then
		// read (and must name it).
		issuer = mismatch.Discovered
		prov, err = oidc.NewProvider(dctx, issuer)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, errcode.Newf(errcode.Unavailable, p.op, "the provider's discovery document did not arrive within %v", p.timeout())
		}
		return nil, errcode.New(errcode.Unavailable, p.op, "the provider's discovery document cannot be read: "+oneLine(err.Error()))
	}
	var meta struct {
		Issuer   string   `json:"issuer"`
		JWKS     string   `json:"jwks_uri"`
		Revoke   string   `json:"revocation_endpoint"`
		Device   string   `json:"device_authorization_endpoint"`
		Algs     []string `json:"id_token_signing_alg_values_supported"`
		IssParam bool     `json:"authorization_response_iss_parameter_supported"`
		PKCE     []string `json:"code_challenge_methods_supported"`
	}
	_ = prov.Claims(&meta)
	if len(meta.PKCE) > 0 && !slices.Contains(meta.PKCE, "S256") {
		return nil, errcode.New(errcode.Unimplemented, p.op, "the provider does not support PKCE S256, and plain is never used")
	}
	algs := []string{}
	if p.o.TokenSignedResponseAlg != "" {
		algs = []string{p.o.TokenSignedResponseAlg}
	} else {
		for _, a := range meta.Algs {
			if slices.Contains(allowedAlgs, a) {
				algs = append(algs, a)
			}
		}
		if len(algs) == 0 {
			algs = []string{oidc.RS256}
		}
	}
	if meta.JWKS == "" {
		return nil, errcode.New(errcode.Unavailable, p.op, "the provider's discovery document names no jwks_uri")
	}
	// The key set is fetched in the background under the context given
	// here, not the sign-in's: without a bound of its own, one fetch
	// that hangs would make every later verification wait for it.
	kc := *p.client
	kc.Timeout = p.timeout()
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), &kc), meta.JWKS)
	d := &discovery{b: p.oauthBase, provider: prov, issuer: p.issuer, issParam: meta.IssParam, revoke: meta.Revoke, device: meta.Device}
	d.verifier = oidc.NewVerifier(issuer, keys, &oidc.Config{ClientID: p.o.ClientID, SupportedSigningAlgs: algs, Now: p.now, SkipIssuerCheck: p.o.anyTenant != ""})
	if p.o.anyTenant == "" && meta.Issuer != "" {
		d.issuer = meta.Issuer
	}
	ep := prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if p.o.TokenEndpointAuthMethod == "client_secret_post" || p.cfg.ClientSecret == "" {
		// A public client (no secret) sends its client_id alone, never
		// a Basic header with an empty password, which Entra refuses
		// from a public client (AADSTS700025).
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	d.b.cfg.Endpoint = ep
	return d, nil
}

// AuthCodeURL discovers the provider if needed and builds the URL, with
// the nonce.
func (p *OIDC) AuthCodeURL(ctx context.Context, req AuthRequest) (string, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	if req.Nonce == "" {
		return "", errcode.New(errcode.InvalidArgument, p.op, "a nonce is required")
	}
	b := d.b
	b.authOpts = append(slices.Clone(b.authOpts), oidc.Nonce(req.Nonce))
	return b.AuthCodeURL(ctx, req)
}

type claims struct {
	Subject       string `json:"sub"`
	Issuer        string `json:"iss"`
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"` // bool, or "true" from some providers
	Name          string `json:"name"`
	Picture       string `json:"picture"`
	Preferred     string `json:"preferred_username"`
	OID           string `json:"oid"`
	EDOV          any    `json:"xms_edov"` // Entra: bool, or "1"/"true"
	TID           string `json:"tid"`
	AZP           string `json:"azp"`
	HD            string `json:"hd"` // Google: the Workspace domain of the account
}

func (c *claims) verified() bool { return truthy(c.EmailVerified) }

// google reports whether the provider is Google's: the google provider,
// or a generic one configured with Google's issuer.
func (p *OIDC) google() bool { return p.o.typ == "google" || p.issuer == googleIssuer }

// googleVouches reports whether Google is authoritative for the e-mail of
// an account: a Gmail address, or one of an account of a Google Workspace
// (hd), whose domain the organisation verified. A consumer account
// registered with another address keeps email_verified true after the
// address changes hands, so Google's guide says to trust it only so.
func googleVouches(email, hd string) bool {
	return hd != "" || strings.HasSuffix(strings.ToLower(email), "@gmail.com")
}

// truthy reads a boolean claim that some providers send as a string.
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true" || v == "1"
	}
	return false
}

// Exchange redeems the code and verifies the ID token: signature,
// issuer, audience, expiry, algorithm, and nonce; and the callback's iss.
func (p *OIDC) Exchange(ctx context.Context, cb Callback) (*SignIn, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.issuerIs(d, cb.Issuer); err != nil {
		return nil, err
	}
	tok, err := d.b.exchange(ctx, cb)
	if err != nil {
		return nil, err
	}
	return p.signIn(ctx, d, d.b.tokens(tok), cb.Nonce, true)
}

// signIn verifies the ID token of t (and its nonce, with checkNonce) and
// completes the identity from the userinfo endpoint when the ID token
// lacks the e-mail or the name.
func (p *OIDC) signIn(ctx context.Context, d *discovery, t Tokens, nonce string, checkNonce bool) (*SignIn, error) {
	if t.IDToken == "" {
		return nil, errcode.New(errcode.Unauthorized, p.op, "the provider returned no ID token")
	}
	c, err := p.verify(ctx, d, t.IDToken, t.AccessToken, nonce, checkNonce)
	if err != nil {
		return nil, err
	}
	id := p.identity(c)
	if id.Subject == "" {
		// OpenID Connect Core 2: sub is required. A sign-in that names
		// nobody would be everybody's to a caller keying users by it
		// (DeviceSignIn has no Handler to refuse it).
		return nil, errcode.New(errcode.Unauthorized, p.op, "the ID token names no user (no sub claim)")
	}
	if (id.Email == "" || id.DisplayName == "") && d.provider.UserInfoEndpoint() != "" {
		ui, err := d.provider.UserInfo(oidc.ClientContext(ctx, p.client), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: t.AccessToken, TokenType: "Bearer"}))
		if err == nil && ui.Subject == c.Subject {
			var uc claims
			if ui.Claims(&uc) == nil {
				if id.Email == "" {
					id.Email, id.EmailVerified = uc.Email, uc.verified()
					if p.google() {
						id.EmailVerified = id.EmailVerified && googleVouches(uc.Email, cmp.Or(uc.HD, c.HD))
					}
				}
				if id.DisplayName == "" {
					id.DisplayName = strings.TrimSpace(uc.Name)
				}
				if id.Picture == "" {
					id.Picture = uc.Picture
				}
				if id.Login == "" {
					id.Login = uc.Preferred
				}
			}
		} else if err != nil {
			if code := ctxCode(ctx, err); code != errcode.OK {
				return nil, &errcode.Error{Code: code, Op: p.op, Msg: "the userinfo endpoint did not answer in time"}
			}
		}
	}
	return &SignIn{Identity: id, Tokens: t}, nil
}

// checkIssuer checks a callback's RFC 9207 iss parameter, of an answer
// or an error answer: a provider that advertises the parameter must send
// it, and any iss sent must be this provider's (a mix-up attack sends
// another's).
func (p *OIDC) checkIssuer(ctx context.Context, iss string) error {
	d, err := p.discover(ctx)
	if err != nil {
		return err
	}
	return p.issuerIs(d, iss)
}

// issuerIs checks a callback's iss against the discovery document.
func (p *OIDC) issuerIs(d *discovery, iss string) error {
	if (d.issParam || iss != "") && iss != d.issuer {
		return errcode.New(errcode.Unauthorized, p.op, "the callback's iss parameter does not name this provider (RFC 9207)")
	}
	return nil
}

func (p *OIDC) verify(ctx context.Context, d *discovery, raw, access, nonce string, checkNonce bool) (*claims, error) {
	idt, err := d.verifier.Verify(oidc.ClientContext(ctx, p.client), raw)
	if err != nil {
		if code := ctxCode(ctx, err); code != errcode.OK {
			return nil, &errcode.Error{Code: code, Op: p.op, Msg: "the provider's keys did not arrive in time"}
		}
		return nil, errcode.New(errcode.Unauthorized, p.op, "the ID token is not valid: "+oneLine(err.Error()))
	}
	if checkNonce && (idt.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1) {
		return nil, errcode.New(errcode.Unauthorized, p.op, "the ID token's nonce does not match this sign-in")
	}
	if idt.AccessTokenHash != "" && access != "" {
		if err := idt.VerifyAccessToken(access); err != nil {
			return nil, errcode.New(errcode.Unauthorized, p.op, "the access token does not match the ID token's at_hash")
		}
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, errcode.New(errcode.Unauthorized, p.op, "the ID token's claims cannot be read")
	}
	// OIDC Core 3.1.3.7: an ID token naming an authorized party was
	// issued to that client; go-oidc checks only that the audience
	// includes ours, so a token another client obtained with us as a
	// further audience would pass.
	if c.AZP != "" && c.AZP != p.o.ClientID {
		return nil, errcode.New(errcode.Unauthorized, p.op, "the ID token was issued to another client (its authorized party, azp, is not this client)")
	}
	if p.o.anyTenant != "" {
		if c.TID == "" || c.Issuer != p.o.anyTenant+"/"+c.TID+"/v2.0" {
			return nil, errcode.New(errcode.Unauthorized, p.op, "the ID token's issuer is not a Microsoft tenant issuer")
		}
	}
	if p.o.tenants != nil && !p.o.tenants[strings.ToLower(c.TID)] {
		return nil, errcode.New(errcode.PermissionDenied, p.op, "the user's Microsoft tenant is not one of allowedTenants")
	}
	return &c, nil
}

func (p *OIDC) identity(c *claims) Identity {
	id := Identity{Issuer: c.Issuer, Subject: c.Subject, Login: c.Preferred, Email: c.Email, EmailVerified: c.verified(), DisplayName: strings.TrimSpace(c.Name), Picture: c.Picture}
	if p.google() {
		if c.Issuer == "accounts.google.com" {
			id.Issuer = googleIssuer // the same account, whichever form the token used
		}
		id.EmailVerified = id.EmailVerified && googleVouches(c.Email, c.HD)
	}
	if p.o.domainVerified && c.EmailVerified == nil && c.Email != "" && c.TID != msaTenant {
		id.EmailVerified = truthy(c.EDOV)
	}
	if p.o.subject != nil {
		id.Subject = p.o.subject(c)
	}
	return id
}

// Refresh renews the tokens; a new ID token is verified (without nonce,
// which refreshed ID tokens do not carry) and its subject must not change.
func (p *OIDC) Refresh(ctx context.Context, t Tokens) (*SignIn, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	b := d.b
	tok, err := b.refresh(ctx, t.RefreshToken)
	if err != nil {
		return nil, err
	}
	nt := b.tokens(tok)
	res := &SignIn{Tokens: nt}
	if nt.IDToken != "" {
		c, err := p.verify(ctx, d, nt.IDToken, nt.AccessToken, "", false)
		if err != nil {
			if code := errcode.CodeOf(err); (code == errcode.Unauthorized || code == errcode.PermissionDenied) && keysUnreachable(err) {
				// The refresh token was accepted, and the new ID token
				// cannot be checked because the key set cannot be
				// fetched (the provider failing): the grant is not
				// gone, so the session stays. An ID token that fails
				// its checks (signature, audience, issuer) stays
				// Unauthorized: the session ends.
				return nil, &errcode.Error{Code: errcode.Unavailable, Op: p.op, Msg: "the refreshed ID token could not be verified: the provider's key set cannot be fetched", Err: err}
			}
			return nil, err
		}
		res.Identity = p.identity(c)
	}
	return res, nil
}

// entraTenantIssuer reports whether iss is the issuer Entra ID gives the
// tenant tenantID (a domain name or a GUID in any case) of the identity
// platform authority: authority/<tenant GUID>/v2.0, with the tenant's own
// GUID when tenantID is one.
func entraTenantIssuer(iss, authority, tenantID string) bool {
	rest, ok := strings.CutPrefix(iss, authority+"/")
	if !ok {
		return false
	}
	guid, ok := strings.CutSuffix(rest, "/v2.0")
	if !ok || !isGUID(guid) {
		return false
	}
	return !isGUID(tenantID) || strings.EqualFold(guid, tenantID)
}

// msaTenant is the tenant of personal Microsoft accounts, whose xms_edov
// is not read: a personal account may hold an address of a domain it no
// longer belongs to.
const msaTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// keysUnreachable reports whether a verification error is go-oidc's
// failure to fetch the key set, which it reports in text only
// ("fetching keys ...", formatted with %v, so no error to match).
func keysUnreachable(err error) bool {
	return strings.Contains(err.Error(), "fetching keys")
}

// Revoke revokes the refresh token (or, without one, the access token) at
// the provider's revocation endpoint (RFC 7009), when it has one.
func (p *OIDC) Revoke(ctx context.Context, t Tokens) error {
	d, err := p.discover(ctx)
	if err != nil {
		return err
	}
	return d.b.revokeAt(ctx, d.revoke, t)
}

// Recheck implements [Rechecker] for a session whose access token does
// not expire (the provider sent no expires_in; tokens that expire are
// checked by their refresh): it reads the userinfo endpoint with the
// token (one request), whose subject must be the session's. A token the
// provider refuses is Unauthorized. Without a userinfo endpoint the
// session's refresh token, if any, is redeemed instead (the provider
// checks the user then); without either, Unimplemented (the Handler ends
// the session).
func (p *OIDC) Recheck(ctx context.Context, id Identity, t Tokens) (*SignIn, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	b, endpoint := d.b, d.provider.UserInfoEndpoint()
	if endpoint == "" || t.AccessToken == "" {
		if t.RefreshToken == "" {
			return nil, errcode.New(errcode.Unimplemented, p.op, "the provider has no userinfo endpoint and the session no refresh token: it cannot be re-checked")
		}
		return p.Refresh(ctx, t)
	}
	var ui struct {
		Subject string `json:"sub"`
	}
	if err := b.getJSON(ctx, endpoint, t.AccessToken, &ui); err != nil {
		if errcode.CodeOf(err) == errcode.Unauthorized {
			return nil, &errcode.Error{Code: errcode.Unauthorized, Op: p.op, Msg: "the provider no longer accepts the session's token at its userinfo endpoint", Err: err}
		}
		return nil, err
	}
	// The subject of the session may be derived from other claims
	// (Microsoft's object id); userinfo's sub is then not comparable.
	if p.o.subject == nil && ui.Subject != id.Subject {
		return nil, errcode.New(errcode.Unauthorized, p.op, "the userinfo endpoint names another user than the session's")
	}
	return &SignIn{}, nil
}
