package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/redact"
)

// oauthBase is the OAuth 2.0 half every redirect provider shares: the
// authorization URL with PKCE S256, the code exchange and the refresh
// grant, profile GETs, and the mapping of their failures to error codes.
type oauthBase struct {
	op       string
	cfg      oauth2.Config
	client   *http.Client // never follows redirects
	now      func() time.Time
	info     ProviderInfo
	required []string // scopes always requested
	authOpts []oauth2.AuthCodeOption
	// deviceOnly: a public client without a secret, for the device flow
	// only; the redirect flow's AuthCodeURL and exchange refuse.
	deviceOnly bool
}

func (b *oauthBase) deviceOnlyClient() bool { return b.deviceOnly }

// errZero is the error of a provider not made by its constructor (the
// zero GitHub, GitLab, Bitbucket or OIDC), instead of a nil dereference.
func (b *oauthBase) errZero() error {
	if b.client == nil {
		return errcode.New(errcode.InvalidArgument, "auth", "provider not initialised; make it with its constructor (auth.NewGitHub, NewGitLab, NewBitbucket, NewOIDC, ...)")
	}
	return nil
}

// errDeviceOnly refuses the redirect flow to a provider without a client
// secret.
func (b *oauthBase) errDeviceOnly() error {
	return errcode.New(errcode.InvalidArgument, b.op, "this provider has no client secret: it signs users in with the device flow only")
}

// maxBody caps every response body read from a provider.
const maxBody = 1 << 20

func newOAuthBase(op string, client *http.Client, now func() time.Time) oauthBase {
	if now == nil {
		now = time.Now
	}
	return oauthBase{op: op, client: providerClient(client, now, 0), now: now}
}

// providerClient returns a copy of client (nil: http.DefaultClient) that
// never follows redirects, under scmkit's one retry and rate-limit policy
// with retries retries after a 5xx or a network error (0: the policy's
// default). A profile GET is retried after a 5xx or a network error, any
// request after a 429 or a rate-limit 403; a POST to the token endpoint is
// never repeated after the provider may have acted on it (a code is
// single-use, a rotated refresh token is spent). Above it, every body read
// from a provider is capped at maxBody, including those read by
// golang.org/x/oauth2 and github.com/coreos/go-oidc (the discovery
// document, the key set and userinfo, which they read whole), so that a
// provider, or something posing as one, cannot make the handler hold an
// endless answer in memory.
func providerClient(client *http.Client, now func() time.Time, retries int) *http.Client {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	retrying := httpx.NewTransport(&httpx.Options{Base: c.Transport, Now: now, MaxRateLimitWait: maxRateLimitWait, MaxRetries: retries})
	c.Transport = httpx.CapBodies(retrying, httpx.BodyCaps{JSON: maxBody, Error: maxBody, Other: maxBody})
	return &c
}

// maxRateLimitWait is the longest a provider's rate limit is waited out
// during a sign-in, which a person is waiting for; a longer one fails at
// once as RateLimited with the time it ends.
const maxRateLimitWait = 10 * time.Second

// answerError is the error of a provider's non-2xx answer to what: a rate
// limit (a 429, or a 403 that says so) is RateLimited with the time it
// ends, a 5xx Unavailable, anything else the refusal code.
func (b *oauthBase) answerError(resp *http.Response, what string, refused errcode.Code, msg string) *errcode.Error {
	e := &errcode.Error{Code: refused, Op: b.op, Host: b.info.Host, Status: resp.StatusCode, Msg: msg}
	switch cl := httpx.Classify(resp, b.now()); {
	case cl.Code == errcode.RateLimited:
		e.Code, e.RetryAt, e.Msg = errcode.RateLimited, cl.RetryAt, "the provider rate-limited "+what
	case resp.StatusCode >= 500:
		e.Code, e.Msg = errcode.Unavailable, fmt.Sprintf("the provider failed %s (HTTP %d)", what, resp.StatusCode)
	}
	return e
}

// transportError is the error of a request to the provider that got no
// answer: the context's end, a rate limit too long to wait out (from the
// retry policy), or a network failure, described without its URL.
func (b *oauthBase) transportError(ctx context.Context, what string, err error) *errcode.Error {
	if c := ctxCode(ctx, err); c != errcode.OK {
		return &errcode.Error{Code: c, Op: b.op, Host: b.info.Host, Msg: "the provider did not answer " + what + " in time"}
	}
	var ee *errcode.Error
	if errors.As(err, &ee) && ee.Code == errcode.RateLimited {
		return &errcode.Error{Code: errcode.RateLimited, Op: b.op, Host: b.info.Host, Status: ee.Status, RetryAt: ee.RetryAt,
			Msg: "the provider rate-limited " + what}
	}
	return &errcode.Error{Code: errcode.Unavailable, Op: b.op, Host: b.info.Host, Msg: "the provider could not be reached for " + what + ": " + netReason(err)}
}

// Info describes the provider.
func (b *oauthBase) Info() ProviderInfo { return b.info }

// String names the provider and its instance, never its client secret:
// its op and issuer. Each provider type documents its own form.
func (b oauthBase) String() string { return b.op + "(" + b.info.Issuer + ")" }

// Format prints String under every verb, so that no verb reaches the
// client secret the provider holds.
func (b oauthBase) Format(f fmt.State, verb rune) { redact.Format(f, verb, b.String(), b.String()) }

// LogValue shows the provider in log/slog output without its client
// secret.
func (b oauthBase) LogValue() slog.Value { return slog.StringValue(b.String()) }

// scopes returns required, then configured, then requested scopes, each
// once.
func (b *oauthBase) scopes(requested []string) []string {
	out := slices.Clone(b.required)
	for _, s := range append(slices.Clone(b.cfg.Scopes), requested...) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// AuthCodeURL builds the authorization URL with PKCE S256.
func (b *oauthBase) AuthCodeURL(_ context.Context, req AuthRequest) (string, error) {
	if err := b.errZero(); err != nil {
		return "", err
	}
	if b.deviceOnly {
		return "", b.errDeviceOnly()
	}
	if req.CodeChallenge == "" {
		return "", errcode.New(errcode.InvalidArgument, b.op, "a PKCE challenge is required")
	}
	cfg := b.cfg
	cfg.RedirectURL = req.RedirectURI
	cfg.Scopes = b.scopes(req.Scopes)
	opts := append([]oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("code_challenge", req.CodeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	}, b.authOpts...)
	return cfg.AuthCodeURL(req.State, opts...), nil
}

func (b *oauthBase) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, b.client)
}

// exchange redeems cb's code with its PKCE verifier.
func (b *oauthBase) exchange(ctx context.Context, cb Callback) (*oauth2.Token, error) {
	if err := b.errZero(); err != nil {
		return nil, err
	}
	if b.deviceOnly {
		return nil, b.errDeviceOnly()
	}
	cfg := b.cfg
	cfg.RedirectURL = cb.RedirectURI
	tok, err := cfg.Exchange(b.ctx(ctx), cb.Code, oauth2.VerifierOption(cb.CodeVerifier))
	if err != nil {
		return nil, b.tokenError(ctx, "redeeming the authorization code", err, cb.Code, cb.CodeVerifier)
	}
	return tok, nil
}

// refresh redeems a refresh token.
func (b *oauthBase) refresh(ctx context.Context, rt string) (*oauth2.Token, error) {
	if err := b.errZero(); err != nil {
		return nil, err
	}
	if rt == "" {
		return nil, errcode.New(errcode.Unauthorized, b.op, "there is no refresh token")
	}
	tok, err := b.cfg.TokenSource(b.ctx(ctx), &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		terr := b.tokenError(ctx, "refreshing the token", err, rt)
		var re *oauth2.RetrieveError
		var e *errcode.Error
		if errors.As(terr, &e) && (e.Code == errcode.Unauthorized || e.Code == errcode.PermissionDenied) &&
			!errors.Is(e, errClientRefused) && !(errors.As(err, &re) && grantRefused(re.ErrorCode)) {
			// Not a refusal of the refresh token (a malformed request,
			// temporarily_unavailable, a proxy's 401 page): the session
			// stays, and a later refresh may succeed (RedirectProvider:
			// Unauthorized only when the refresh token is refused).
			e.Code = errcode.Unavailable
			e.Msg = strings.Replace(e.Msg, "the provider refused refreshing", "the provider did not complete refreshing", 1)
		}
		return nil, terr
	}
	return tok, nil
}

// grantRefused reports whether an OAuth error code says the refresh token
// is refused: RFC 6749's invalid_grant ("invalid, expired, revoked"), and
// GitHub's bad_refresh_token.
func grantRefused(code string) bool {
	switch code {
	case "", "temporarily_unavailable", "server_error", "invalid_request", "unsupported_grant_type", "slow_down":
		// No OAuth answer, the provider failing, or a request the
		// portal got wrong: not the user's grant.
		return false
	}
	// invalid_grant, bad_refresh_token, and the refusals of a grant that
	// needs the user again: interaction_required, login_required,
	// consent_required (Entra), access_denied (Okta's policies)...
	return true
}

// tokens converts tok, computing the expiry on the injected clock.
func (b *oauthBase) tokens(tok *oauth2.Token) Tokens {
	t := Tokens{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	if s, ok := tok.Extra("scope").(string); ok {
		t.Scope = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }), " ")
	}
	if id, ok := tok.Extra("id_token").(string); ok {
		t.IDToken = id
	}
	var secs int64
	switch {
	case tok.ExpiresIn > 0:
		secs = tok.ExpiresIn
	default:
		switch v := tok.Extra("expires_in").(type) {
		case string:
			secs, _ = strconv.ParseInt(v, 10, 64)
		case int64:
			secs = v
		case float64:
			secs = int64(v)
		}
	}
	if secs > 0 {
		t.Expiry = b.now().Add(time.Duration(secs) * time.Second)
	}
	return t
}

// tokenError classifies a token endpoint failure without quoting the
// response body (which a careless server may fill with what it received).
// The error code and description it does quote are scrubbed of the client
// secret and of sent (the code, verifier or refresh token the request
// carried), in every form a server may echo them, before they are clipped.
func (b *oauthBase) tokenError(ctx context.Context, what string, err error, sent ...string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return b.transportError(ctx, what, err)
	}
	var secrets httpx.Secrets
	secrets.Add(sent...)
	if cs := b.cfg.ClientSecret; cs != "" {
		secrets.Add(cs, url.QueryEscape(b.cfg.ClientID)+":"+url.QueryEscape(cs))
	}
	msg := "the provider refused " + what
	if re.ErrorCode != "" {
		msg += ": " + oneLine(secrets.Scrub(re.ErrorCode))
		if re.ErrorDescription != "" {
			msg += " (" + oneLine(secrets.Scrub(re.ErrorDescription)) + ")"
		}
	}
	e := b.answerError(re.Response, what, errcode.Unauthorized, msg)
	switch re.ErrorCode {
	case "invalid_client", "unauthorized_client", "incorrect_client_credentials":
		// The portal's client is refused (a wrong secret in its
		// configuration), not the user's grant: a refresh failing so
		// must not end the user's session.
		e.Err = errClientRefused
	}
	if s := re.Response.StatusCode; e.Code == errcode.Unauthorized && re.ErrorCode == "" && s != 400 && s != 401 {
		// Not an OAuth error answer: something else failed the request.
		e.Code, e.Msg = errcode.Unavailable, fmt.Sprintf("the provider failed %s (HTTP %d)", what, s)
	}
	return e
}

// errClientRefused marks a token endpoint's refusal of the client's own
// credentials (invalid_client, unauthorized_client, GitHub's
// incorrect_client_credentials).
var errClientRefused = errors.New("the provider refused the client credentials")

// ctxCode reports DeadlineExceeded or Canceled when err is due to ctx.
func ctxCode(ctx context.Context, err error) errcode.Code {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errcode.DeadlineExceeded
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return errcode.Canceled
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errcode.DeadlineExceeded
	}
	return errcode.OK
}

// netReason describes a transport failure without its URL.
func netReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Op + " failed"
	}
	return "transport error"
}

// getJSON GETs u with the access token and decodes the JSON answer.
func (b *oauthBase) getJSON(ctx context.Context, u, token string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return errcode.New(errcode.InvalidArgument, b.op, "bad profile URL")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return b.transportError(ctx, "the profile request", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Op: b.op, Host: b.info.Host, Msg: "reading the profile failed"}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return b.answerError(resp, "the profile request", errcode.Unauthorized, "the provider refused the new token when reading the profile")
	case resp.StatusCode != http.StatusOK:
		return b.answerError(resp, "the profile request", errcode.Unavailable, "the provider failed the profile request")
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Op: b.op, Host: b.info.Host, Msg: "the provider's profile is not the expected JSON"}
	}
	return nil
}

// revokeAt revokes the refresh token (or, without one, the access token)
// at endpoint (RFC 7009), authenticating the client as the token endpoint
// does; "" revokes nothing.
func (b *oauthBase) revokeAt(ctx context.Context, endpoint string, t Tokens) error {
	tok, hint := t.RefreshToken, "refresh_token"
	if tok == "" {
		tok, hint = t.AccessToken, "access_token"
	}
	if endpoint == "" || tok == "" {
		return nil
	}
	form := url.Values{"token": {tok}, "token_type_hint": {hint}}
	if b.cfg.Endpoint.AuthStyle == oauth2.AuthStyleInParams {
		form.Set("client_id", b.cfg.ClientID)
		if b.cfg.ClientSecret != "" {
			form.Set("client_secret", b.cfg.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return errcode.New(errcode.InvalidArgument, b.op, "bad revocation endpoint")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.cfg.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		req.SetBasicAuth(url.QueryEscape(b.cfg.ClientID), url.QueryEscape(b.cfg.ClientSecret))
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return b.transportError(ctx, "the revocation", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		return b.answerError(resp, "the revocation", errcode.Unavailable, "the provider refused the revocation")
	}
	return nil
}

// hostOf returns the integration host of base URL u: host[:port], the
// default port dropped, lower-case.
func hostOf(u *url.URL) string {
	h := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		h = strings.ToLower(u.Hostname())
	}
	return h
}

// parseBase parses an absolute http(s) base URL, trailing slash removed.
func parseBase(op, name, s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s must be an absolute http(s) URL, e.g. https://host.example.com", name)
	}
	return u, nil
}
