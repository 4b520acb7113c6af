package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/scm"
)

// DeviceProvider is implemented by providers that sign users in with the
// OAuth 2.0 Device Authorization Grant (RFC 8628), for programs without a
// browser or a callback URL, such as a command-line tool: the program
// shows a short user code, the user enters it at the provider's
// verification page in any browser and approves, and the program gets her
// tokens. No Handler, cookie or session is involved; [UserCredentials]
// turns the result into credentials for the SCM client.
//
// [GitHub] (the app's "Enable Device Flow" setting must be on), [GitLab]
// (17.1 and later) and [OIDC] (Microsoft Entra ID, Okta, Google and any
// provider whose discovery document names a
// device_authorization_endpoint) implement it. A program that cannot keep a
// client secret builds them without one, as a public client: GitHub and
// GitLab providers then serve the device flow only, and renew its tokens
// without a secret. [UserCredentials] gives SCM credentials for GitHub
// and GitLab sign-ins; an OpenID Connect provider has no SCM host.
type DeviceProvider interface {
	Provider
	// DeviceAuth asks the provider for a device code, with scopes on top
	// of the provider's required and configured ones. Show the user
	// UserCode and VerificationURI, then call DeviceSignIn.
	DeviceAuth(ctx context.Context, scopes []string) (*DeviceCode, error)
	// DeviceSignIn polls the provider, at the interval it asks for, until
	// the user approves, refuses (PermissionDenied) or the code expires
	// (DeadlineExceeded; 30 minutes at most), or ctx ends; then it reads
	// her profile as a redirect sign-in does. It costs one request per
	// poll and the profile's requests. Any other answer than "pending"
	// or "slow down" (a 5xx included) ends it with an error: start again
	// with DeviceAuth.
	DeviceSignIn(ctx context.Context, dc *DeviceCode) (*SignIn, error)
}

// DeviceCode is a device authorization in progress: what the user needs
// to approve it, and the device code (a secret that never prints) that
// DeviceSignIn polls with.
type DeviceCode struct {
	// UserCode is what the user enters at VerificationURI.
	UserCode string
	// VerificationURI is the provider's page where she enters it: https
	// (http on loopback only), in printable ASCII, and for GitHub and
	// GitLab on the provider's own host (Entra's is
	// microsoft.com/devicelogin).
	VerificationURI string
	// VerificationURIComplete, when the provider gives one, is the page
	// with the code already filled in (for a QR code, say).
	VerificationURIComplete string
	// Expiry is when the codes expire.
	Expiry time.Time
	// Interval is how long DeviceSignIn waits between polls: the
	// provider's (5 s when it names none), in whole seconds, at least 1.
	// It grows by 5 s each time the provider answers slow_down.
	Interval time.Duration

	resp   *oauth2.DeviceAuthResponse
	scopes []string
	issuer string // the provider's and its client's, so that a code is polled by its own client only
	client string
}

// String shows the user code and where to enter it, never the device
// code.
func (d *DeviceCode) String() string {
	if d == nil {
		return "auth.DeviceCode(nil)"
	}
	return "enter " + d.UserCode + " at " + d.VerificationURI
}

// Format prints String for every verb.
func (d *DeviceCode) Format(f fmt.State, verb rune) { redact.Format(f, verb, d.String(), d.String()) }

// LogValue shows the user code and the page, never the device code.
func (d *DeviceCode) LogValue() slog.Value {
	if d == nil {
		return slog.StringValue("auth.DeviceCode(nil)")
	}
	return slog.GroupValue(slog.String("user_code", d.UserCode), slog.String("verification_uri", d.VerificationURI),
		slog.Time("expiry", d.Expiry))
}

// MarshalJSON writes what the user needs, never the device code.
func (d *DeviceCode) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		UserCode                string    `json:"userCode"`
		VerificationURI         string    `json:"verificationUri"`
		VerificationURIComplete string    `json:"verificationUriComplete,omitempty"`
		Expiry                  time.Time `json:"expiry"`
	}{d.UserCode, d.VerificationURI, d.VerificationURIComplete, d.Expiry})
}

// DeviceAuth asks GitHub for a device code (POST /login/device/code).
func (g *GitHub) DeviceAuth(ctx context.Context, scopes []string) (*DeviceCode, error) {
	return g.deviceAuth(ctx, scopes, g.info.Issuer+"/login/device/code", true, noAuthn)
}

// DeviceSignIn polls GitHub until the user approves, then reads her
// profile as Exchange does.
func (g *GitHub) DeviceSignIn(ctx context.Context, dc *DeviceCode) (*SignIn, error) {
	tok, err := g.deviceToken(ctx, dc)
	if err != nil {
		return nil, err
	}
	return g.signIn(ctx, tok)
}

// DeviceAuth asks GitLab for a device code (POST /oauth/authorize_device,
// GitLab 17.1 and later). A confidential application (one with a client
// secret) authenticates there, as GitLab requires.
func (g *GitLab) DeviceAuth(ctx context.Context, scopes []string) (*DeviceCode, error) {
	return g.deviceAuth(ctx, scopes, g.info.Issuer+"/oauth/authorize_device", true, formAuthn)
}

// DeviceSignIn polls GitLab until the user approves, then reads her
// profile as Exchange does.
func (g *GitLab) DeviceSignIn(ctx context.Context, dc *DeviceCode) (*SignIn, error) {
	tok, err := g.deviceToken(ctx, dc)
	if err != nil {
		return nil, err
	}
	return g.signIn(ctx, tok)
}

// DeviceAuth asks the provider for a device code at the
// device_authorization_endpoint of its discovery document (Entra ID,
// Okta, Google, Keycloak...); a provider without one is Unimplemented.
// Its verification page may be on another host than the issuer (Entra's
// is microsoft.com/devicelogin), but must be https.
func (p *OIDC) DeviceAuth(ctx context.Context, scopes []string) (*DeviceCode, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	if d.device == "" {
		return nil, errcode.New(errcode.Unimplemented, p.op, "the provider's discovery document names no device_authorization_endpoint: it offers no device flow")
	}
	if u, err := url.Parse(d.device); err != nil || !(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil, errcode.New(errcode.Unavailable, p.op, "the provider's device_authorization_endpoint is not an https URL")
	}
	return d.b.deviceAuth(ctx, scopes, d.device, false, tokenAuthn)
}

// DeviceSignIn polls the provider until the user approves, then verifies
// the ID token (there is no nonce in this flow) as a redirect sign-in
// does, and reads userinfo where the ID token lacks the e-mail or name.
func (p *OIDC) DeviceSignIn(ctx context.Context, dc *DeviceCode) (*SignIn, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := d.b.deviceToken(ctx, dc)
	if err != nil {
		return nil, err
	}
	return p.signIn(ctx, d, d.b.tokens(tok), "", false)
}

// deviceAuthn is how a client with a secret authenticates at the device
// authorization endpoint (RFC 8628 3.1: a confidential client does;
// x/oauth2 sends only client_id).
type deviceAuthn int

const (
	noAuthn    deviceAuthn = iota // GitHub takes the client id alone
	formAuthn                     // client_secret in the form (GitLab: Doorkeeper refuses a confidential client without it)
	tokenAuthn                    // as at the token endpoint, when the device endpoint is on its host (OpenID Connect)
)

// deviceAuth requests a device code at endpoint. With sameHost, the
// verification page must be on the provider's own host.
func (b *oauthBase) deviceAuth(ctx context.Context, scopes []string, endpoint string, sameHost bool, authn deviceAuthn) (*DeviceCode, error) {
	if err := b.errZero(); err != nil {
		return nil, err
	}
	cfg := b.cfg
	cfg.Endpoint.DeviceAuthURL = endpoint
	cfg.Scopes = b.scopes(scopes)
	actx, authenticated, sent := b.deviceCredentials(ctx, &cfg, endpoint, authn)
	resp, err := cfg.DeviceAuth(actx, authenticated...)
	var re *oauth2.RetrieveError
	if err != nil && authn == tokenAuthn && sent && errors.As(err, &re) && (re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client") {
		// Some providers (Auth0) refuse a secret at this endpoint: once
		// more without it. If that fails too, the first answer (the one
		// to the authenticated request) is the one to report.
		resp2, err2 := cfg.DeviceAuth(b.ctx(ctx))
		var re2 *oauth2.RetrieveError
		if err2 == nil || !errors.As(err2, &re2) || (re2.ErrorCode != "invalid_client" && re2.ErrorCode != "unauthorized_client") {
			// Only a second client refusal keeps the first answer: an
			// outage, a rate limit or another refusal is the retry's.
			resp, err = resp2, err2
		}
	}
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && (re.Response.StatusCode == 404 ||
			re.ErrorCode == "device_flow_disabled" || re.ErrorCode == "unauthorized_client" || re.ErrorCode == "unsupported_grant_type") {
			return nil, &errcode.Error{Code: errcode.Unimplemented, Op: b.op, Host: b.info.Host, Status: re.Response.StatusCode,
				Msg: "the provider does not offer the device flow to this client (enable it in the app's settings; GitLab needs 17.1 or later)"}
		}
		return nil, b.tokenError(ctx, "the device authorization", err)
	}
	if resp.DeviceCode == "" || resp.UserCode == "" || resp.VerificationURI == "" {
		return nil, errcode.New(errcode.Unavailable, b.op, "the provider's device authorization answer lacks the device code, the user code or the verification page")
	}
	if len(resp.UserCode) > 64 || strings.ContainsFunc(resp.UserCode, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		// It is shown to the user, in a terminal too: no escape sequence.
		return nil, errcode.New(errcode.Unavailable, b.op, "the provider's user code is not a short printable code")
	}
	for _, u := range []string{resp.VerificationURI, resp.VerificationURIComplete} {
		if u != "" && !b.ownPage(u, sameHost) {
			return nil, errcode.New(errcode.Unavailable, b.op, "the provider's verification page is not an https page of the provider: not shown to the user")
		}
	}
	interval := time.Duration(resp.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second // RFC 8628 3.2
	}
	// expires_in is required; without it, or with a longer one, polling
	// ends after maxDeviceLifetime all the same.
	if limit := time.Now().Add(maxDeviceLifetime); resp.Expiry.IsZero() || resp.Expiry.After(limit) {
		resp.Expiry = limit
	}
	return &DeviceCode{UserCode: resp.UserCode, VerificationURI: resp.VerificationURI, VerificationURIComplete: resp.VerificationURIComplete,
		Expiry: resp.Expiry, Interval: interval, resp: resp, scopes: cfg.Scopes, issuer: b.info.Issuer, client: cfg.ClientID}, nil
}

// maxDeviceLifetime bounds how long a device sign-in polls.
const maxDeviceLifetime = 30 * time.Minute

// deviceCredentials returns the context and options that authenticate a
// client with a secret at the device endpoint as authn says, and whether
// they send the secret.
func (b *oauthBase) deviceCredentials(ctx context.Context, cfg *oauth2.Config, endpoint string, authn deviceAuthn) (context.Context, []oauth2.AuthCodeOption, bool) {
	plain := b.ctx(ctx)
	if cfg.ClientSecret == "" || authn == noAuthn {
		return plain, nil, false
	}
	if authn == formAuthn {
		return plain, []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("client_secret", cfg.ClientSecret)}, true
	}
	du, err1 := url.Parse(endpoint)
	tu, err2 := url.Parse(cfg.Endpoint.TokenURL)
	if err1 != nil || err2 != nil || !strings.EqualFold(du.Scheme, tu.Scheme) || !strings.EqualFold(hostOf(du), hostOf(tu)) {
		return plain, nil, false // the secret goes to the token endpoint's host only
	}
	if cfg.Endpoint.AuthStyle == oauth2.AuthStyleInParams {
		return plain, []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("client_secret", cfg.ClientSecret)}, true
	}
	c := *b.client
	c.Transport = basicAuth{base: b.client.Transport, id: cfg.ClientID, secret: cfg.ClientSecret}
	return context.WithValue(ctx, oauth2.HTTPClient, &c), nil, true
}

// basicAuth authenticates a client with HTTP Basic, its id and secret
// form-encoded (RFC 6749 2.3.1), as x/oauth2 does at a token endpoint.
type basicAuth struct {
	base       http.RoundTripper
	id, secret string
}

func (t basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.SetBasicAuth(url.QueryEscape(t.id), url.QueryEscape(t.secret))
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// ownPage reports whether u may be shown to the user as the provider's
// verification page: https (http on loopback only), without user
// information, and, with sameHost, on the provider's host; in printable
// ASCII, as a URI is (RFC 3986: anything else percent-encoded), since it
// is shown as it is, in a terminal too: no C1 control (U+009B starts an
// escape sequence in some terminals) and no bidirectional override
// (U+202E shows the rest of the address reversed).
func (b *oauthBase) ownPage(u string, sameHost bool) bool {
	if strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return false
	}
	pu, err := url.Parse(u)
	if err != nil || pu.User != nil || pu.Host == "" || !(pu.Scheme == "https" || pu.Scheme == "http" && isLoopback(pu.Hostname())) {
		return false
	}
	return !sameHost || strings.EqualFold(hostOf(pu), b.info.Host)
}

// deviceToken polls the token endpoint with dc's device code until the
// user answers or the code expires.
func (b *oauthBase) deviceToken(ctx context.Context, dc *DeviceCode) (*oauth2.Token, error) {
	if dc == nil || dc.resp == nil {
		return nil, errcode.New(errcode.InvalidArgument, b.op, "no device code: call DeviceAuth first")
	}
	if dc.issuer != b.info.Issuer || dc.client != b.cfg.ClientID {
		return nil, errcode.New(errcode.InvalidArgument, b.op, "the device code is another provider's or another client's")
	}
	cfg := b.cfg
	cfg.Scopes = dc.scopes
	resp := *dc.resp
	resp.Interval = max(int64(dc.Interval/time.Second), 1)
	tok, err := cfg.DeviceAccessToken(b.ctx(ctx), &resp)
	if err == nil {
		return tok, nil
	}
	if ctx.Err() != nil {
		return nil, errcode.FromContext(ctx, b.op)
	}
	var re *oauth2.RetrieveError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		// DeviceAccessToken's own deadline: the code's expiry.
		return nil, errcode.New(errcode.DeadlineExceeded, b.op, "the user did not approve the device before its code expired; start again")
	case errors.As(err, &re) && re.ErrorCode == "expired_token":
		return nil, errcode.New(errcode.DeadlineExceeded, b.op, "the device code expired before the user approved it; start again")
	case errors.As(err, &re) && (re.ErrorCode == "access_denied" || re.ErrorCode == "authorization_declined"): // Entra says the latter
		return nil, errcode.New(errcode.PermissionDenied, b.op, "the user refused the device")
	case errors.As(err, &re) && (re.ErrorCode == "device_flow_disabled" || re.ErrorCode == "unauthorized_client" || re.ErrorCode == "unsupported_grant_type"):
		return nil, errcode.New(errcode.Unimplemented, b.op, "the provider does not offer the device flow to this client (enable it in the app's settings; GitLab needs 17.1 or later)")
	}
	return nil, b.tokenError(ctx, "the device's token", err, dc.resp.DeviceCode)
}

// oauthConfig is implemented by the providers built on oauthBase.
type oauthConfig interface {
	oauthConfig() oauth2.Config
}

func (b *oauthBase) oauthConfig() oauth2.Config { return b.cfg }

// UserCredentials returns the tokens of s, a sign-in by p made without a
// Handler (a command-line tool's [DeviceProvider.DeviceSignIn]), as the
// signed-in user's credentials for p's integration host, to pass to
// scm.Client.ForUser. They are renewed through p's token endpoint with
// the refresh token when due (see credentials.UserSource, whose options
// opts are: set OnRotate to keep a rotated refresh token, which GitHub
// Apps and GitLab invalidate on use). Without a refresh token, the access
// token is served until it expires. A provider without an integration
// host (a generic OpenID Connect provider) gives none.
func UserCredentials(p Provider, s *SignIn, opts *credentials.UserOptions) scm.UserCredentials {
	if p == nil || s == nil || s.Tokens.AccessToken == "" || p.Info().Host == "" {
		return scm.UserCredentials{}
	}
	var o credentials.UserOptions
	if opts != nil {
		o = *opts
	}
	if o.Source == "" {
		o.Source = "user " + s.Identity.String()
	}
	var cfg *oauth2.Config
	if oc, ok := p.(oauthConfig); ok {
		c := oc.oauthConfig()
		cfg = &c
	}
	tok := &oauth2.Token{AccessToken: s.Tokens.AccessToken, TokenType: s.Tokens.TokenType, RefreshToken: s.Tokens.RefreshToken, Expiry: s.Tokens.Expiry}
	return scm.UserCredentials{p.Info().Host: credentials.UserSource(cfg, tok, &o)}
}
