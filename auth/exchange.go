package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact"
)

// Token types of OAuth 2.0 Token Exchange (RFC 8693 §3), for
// [TokenExchangeOptions].
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
)

// maxExchanged bounds the exchanged tokens a [TokenExchange] keeps (one
// per subject token in use).
const maxExchanged = 4096

// TokenExchangeOptions configures [NewTokenExchange]. Issuer, TokenURL,
// ClientID and one of Audience or Resource are required.
type TokenExchangeOptions struct {
	// Issuer is the identity provider's issuer, as its sessions'
	// Identity.Issuer holds it (a trailing slash aside): only tokens it
	// issued are sent to TokenURL. A session from any other provider (a
	// GitHub sign-in, another OpenID provider, a Microsoft tenant other
	// than the one named) is refused, PermissionDenied, without a
	// request. Required.
	Issuer string
	// TokenURL is the identity provider's token endpoint (its discovery
	// document's token_endpoint): https, or http on a loopback host.
	TokenURL string
	// ClientID and ClientSecret are the portal's client at the provider;
	// they authenticate each exchange (the provider decides which
	// clients may exchange which tokens).
	ClientID     string
	ClientSecret integrations.Secret
	// AuthMethod is how the client authenticates: "client_secret_basic"
	// (HTTP Basic, the default, which every token endpoint supports) or
	// "client_secret_post" (in the form), as OIDCOptions.
	// TokenEndpointAuthMethod.
	AuthMethod string
	// Audience and Resource name the service the new token is for (RFC
	// 8693 audience: its client id or logical name; resource: its URI).
	Audience []string
	Resource []string
	// Scopes are requested for the new token; none by default.
	Scopes []string
	// SubjectTokenType is which of the session's tokens is exchanged:
	// TokenTypeAccessToken (the default) or TokenTypeIDToken.
	SubjectTokenType string
	// RequestedTokenType is the kind of token asked for; default
	// TokenTypeAccessToken.
	RequestedTokenType string
	// HTTPClient sends the exchanges; it never follows a redirect. Nil
	// means scmkit's retry and rate-limit policy over
	// http.DefaultTransport.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Margin is how long before its expiry an exchanged token is
	// exchanged again; default credentials.DefaultMargin.
	Margin time.Duration
}

// TokenExchange turns a signed-in user's provider token into a token for
// another service, with OAuth 2.0 Token Exchange (RFC 8693) at the
// identity provider's token endpoint: the portal then calls that service
// as the user, with a token made for it, instead of forwarding the
// sign-in token (whose audience is the portal) or using a service
// account. Keycloak, Okta, ZITADEL, Auth0 and others implement it.
//
// An exchanged token is kept until [TokenExchangeOptions.Margin] before
// it expires, per subject token: one request for all the concurrent
// callers of one session (per replica), none while it is fresh; a new
// subject token (the session's tokens were refreshed) is exchanged anew.
// Its Credential's Expiry is never later than the subject token's (the
// session's access token's expiry, or the ID token's exp): a caller that
// keeps it does not outlive the user's own token with it. A refusal
// (PermissionDenied, Unauthorized) stands for 30 seconds per subject
// token, and a rate limit until its RetryAt (5 minutes at most): the
// calls meanwhile get the same error without a request.
// A TokenExchange is safe for concurrent use; it prints without its
// client secret.
type TokenExchange struct {
	o      TokenExchangeOptions
	host   string
	params url.Values // without subject_token

	mu      sync.Mutex
	sources map[[32]byte]*credentials.CachedSource
	order   [][32]byte           // insertion order, for eviction
	refused map[[32]byte]refusal // subject token → its exchange's last refusal, while it stands
}

// refusal is an exchange the provider refused, not asked again before
// until.
type refusal struct {
	until time.Time
	err   error
}

// refusalTTL is how long a refused exchange (PermissionDenied,
// Unauthorized) of one subject token stands before the provider is asked
// again: long enough that a page's many calls for a user the provider
// will not exchange for cost it one request, short enough that a grant
// made at the provider is seen within it.
const refusalTTL = 30 * time.Second

// maxRateLimitKept caps how long a rate limit the provider answered an
// exchange with is kept.
const maxRateLimitKept = 5 * time.Minute

// NewTokenExchange checks o and returns a TokenExchange. It makes no
// request. Errors are InvalidArgument.
func NewTokenExchange(o TokenExchangeOptions) (*TokenExchange, error) {
	const op = "auth.NewTokenExchange"
	u, err := url.Parse(o.TokenURL)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))):
		return nil, errcode.New(errcode.InvalidArgument, op, "tokenUrl must be an https URL (or http on a loopback host), without credentials")
	case o.ClientID == "":
		return nil, errcode.New(errcode.InvalidArgument, op, "clientId is required")
	case o.Issuer == "":
		return nil, errcode.New(errcode.InvalidArgument, op, "issuer is required: the provider whose sessions' tokens may be exchanged")
	case o.AuthMethod != "" && o.AuthMethod != "client_secret_basic" && o.AuthMethod != "client_secret_post":
		return nil, errcode.New(errcode.InvalidArgument, op, "authMethod must be client_secret_basic or client_secret_post")
	case len(o.Audience) == 0 && len(o.Resource) == 0:
		return nil, errcode.New(errcode.InvalidArgument, op, "an audience or a resource is required: the service the token is for")
	}
	if o.SubjectTokenType == "" {
		o.SubjectTokenType = TokenTypeAccessToken
	}
	if o.SubjectTokenType != TokenTypeAccessToken && o.SubjectTokenType != TokenTypeIDToken {
		return nil, errcode.New(errcode.InvalidArgument, op, "subjectTokenType must be "+TokenTypeAccessToken+" or "+TokenTypeIDToken)
	}
	if o.RequestedTokenType == "" {
		o.RequestedTokenType = TokenTypeAccessToken
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	params := url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token_type":   {o.SubjectTokenType},
		"requested_token_type": {o.RequestedTokenType},
	}
	if len(o.Audience) > 0 {
		params["audience"] = append([]string(nil), o.Audience...)
	}
	if len(o.Resource) > 0 {
		params["resource"] = append([]string(nil), o.Resource...)
	}
	return &TokenExchange{o: o, host: u.Host, params: params, sources: map[[32]byte]*credentials.CachedSource{}}, nil
}

// Source returns the credentials of the user of session s for the
// service x exchanges tokens for: each Credential reads the session's
// current tokens (refreshing them first when they are due, as
// [Session.UserCredentials] does) and returns the exchanged token
// (KindUser, Source naming the user and the audience). A session of
// another provider than Issuer is PermissionDenied, without a request; a
// session without the subject token (no ID token, say, or an expired one)
// is Unauthorized; the provider's refusal is PermissionDenied
// (invalid_request, invalid_target, access_denied: RFC 8693 §2.2.2) or
// Unauthorized (invalid_grant, invalid_client), with neither token nor the
// client secret in the error. The source implements
// [credentials.Invalidator]: drop a token the service refused.
func (x *TokenExchange) Source(s *Session) credentials.Source {
	label := "token exchange for " + x.target()
	if s == nil || s.h == nil {
		return &exchangeSource{x: x, label: label}
	}
	return &exchangeSource{x: x, h: s.h, key: s.key, label: label + " as user " + s.Identity.String()}
}

// source returns the cached source of subject's exchanged token.
func (x *TokenExchange) source(subject, label string) *credentials.CachedSource {
	k := sha256.Sum256([]byte(subject))
	x.mu.Lock()
	defer x.mu.Unlock()
	if cs, ok := x.sources[k]; ok {
		return cs
	}
	if len(x.order) >= maxExchanged {
		delete(x.sources, x.order[0])
		x.order = x.order[1:]
	}
	params := url.Values{"subject_token": {subject}}
	for k, v := range x.params {
		params[k] = v
	}
	// One authentication style, named: x/oauth2's detection would send a
	// refused exchange twice, and report the second answer (often
	// invalid_client) instead of the refusal.
	style := oauth2.AuthStyleInHeader
	if x.o.AuthMethod == "client_secret_post" {
		style = oauth2.AuthStyleInParams
	}
	cc := &clientcredentials.Config{ClientID: x.o.ClientID, ClientSecret: x.o.ClientSecret.Reveal(), TokenURL: x.o.TokenURL,
		Scopes: x.o.Scopes, EndpointParams: params, AuthStyle: style}
	cs := credentials.ClientCredentials(cc, &credentials.ClientCredentialsOptions{HTTPClient: x.o.HTTPClient, Now: x.o.Now,
		Margin: x.o.Margin, Source: label, What: "the token exchange (clientId " + x.o.ClientID + ")", Host: x.host, Lifetime: issuedLifetime})
	x.sources[k] = cs
	x.order = append(x.order, k)
	return cs
}

// issuedLifetime is when an exchanged token whose answer names no
// lifetime (expires_in is only recommended) expires: a JWT's exp, read
// without verifying it (it bounds the caching only), else a minute on.
func issuedLifetime(tok *oauth2.Token, now time.Time) time.Time {
	if exp, ok := jwtExpiry(tok.AccessToken); ok {
		return exp
	}
	return now.Add(time.Minute)
}

// jwtExpiry reads a JWT's exp without verifying it.
func jwtExpiry(token string) (time.Time, bool) {
	t, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		return time.Time{}, false
	}
	exp, err := t.Claims.GetExpirationTime()
	if err != nil || exp == nil {
		return time.Time{}, false
	}
	return exp.Time, true
}

// String names the token endpoint and the audience, never the secret.
func (x *TokenExchange) String() string {
	return "auth.TokenExchange(" + redact.URL(x.o.TokenURL) + " for " + x.target() + ")"
}

// Format prints String under every verb.
func (x *TokenExchange) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, x.String(), x.String())
}

// LogValue prints String.
func (x *TokenExchange) LogValue() slog.Value { return slog.StringValue(x.String()) }

// exchangeSource is the credentials.Source of [TokenExchange.Source].
type exchangeSource struct {
	x       *TokenExchange
	h       *Handler
	key     string
	label   string
	subject atomic.Pointer[string] // the subject token last exchanged
}

// Invalidate drops cred, an exchanged token the service refused, so that
// the next Credential exchanges the session's token again. It implements
// [credentials.Invalidator].
func (e *exchangeSource) Invalidate(cred *credentials.Credential) bool {
	subject := e.subject.Load()
	if subject == nil || cred == nil {
		return false
	}
	return e.x.source(*subject, e.label).Invalidate(&credentials.Credential{Kind: credentials.KindApp, Token: cred.Token, Expiry: cred.Expiry, Source: cred.Source})
}

// Credential returns the exchanged token of the session's current
// subject token.
func (e *exchangeSource) Credential(ctx context.Context) (*credentials.Credential, error) {
	const op = "auth.TokenExchange"
	if e.h == nil {
		return nil, errcode.New(errcode.Unauthorized, op, "no session")
	}
	s, err := e.h.current(ctx, e.key)
	if err != nil {
		return nil, err
	}
	if strings.TrimSuffix(s.Identity.Issuer, "/") != strings.TrimSuffix(e.x.o.Issuer, "/") {
		return nil, errcode.New(errcode.PermissionDenied, op, "the session is not from "+e.x.o.Issuer+": its tokens are not sent to that provider")
	}
	subject := s.Tokens.AccessToken
	if e.x.o.SubjectTokenType == TokenTypeIDToken {
		subject = s.Tokens.IDToken
		// A refresh may bring no new ID token: the one kept expires, and
		// no exchange of it can succeed until the user signs in again.
		if exp, ok := jwtExpiry(subject); ok && !e.x.o.Now().Before(exp) {
			return nil, errcode.New(errcode.Unauthorized, op, "the session's ID token expired; sign in again")
		}
	}
	if subject == "" {
		return nil, errcode.New(errcode.Unauthorized, op, "the session has no token of type "+e.x.o.SubjectTokenType+" to exchange")
	}
	e.subject.Store(&subject)
	if err := e.x.refusedBefore(subject); err != nil {
		return nil, err
	}
	cred, err := e.x.source(subject, e.label).Credential(ctx)
	if err != nil {
		err = e.x.exchangeError(err, subject)
		e.x.noteRefusal(subject, err)
		return nil, err
	}
	out := *cred
	out.Kind = credentials.KindUser
	// The exchanged token speaks for the user no longer than her own.
	subjectExpiry := s.Tokens.Expiry
	if e.x.o.SubjectTokenType == TokenTypeIDToken {
		subjectExpiry, _ = jwtExpiry(subject)
	}
	if !subjectExpiry.IsZero() && (out.Expiry.IsZero() || subjectExpiry.Before(out.Expiry)) {
		out.Expiry = subjectExpiry
	}
	return &out, nil
}

// refusedBefore returns the error of subject's last exchange while that
// refusal stands.
func (x *TokenExchange) refusedBefore(subject string) error {
	k := sha256.Sum256([]byte(subject))
	x.mu.Lock()
	defer x.mu.Unlock()
	r, ok := x.refused[k]
	if !ok {
		return nil
	}
	if !x.o.Now().Before(r.until) {
		delete(x.refused, k)
		return nil
	}
	return r.err
}

// noteRefusal remembers err, the error of exchanging subject, when it is
// a refusal (for refusalTTL) or a rate limit with a time to retry at.
func (x *TokenExchange) noteRefusal(subject string, err error) {
	now := x.o.Now()
	var until time.Time
	switch errcode.CodeOf(err) {
	case errcode.PermissionDenied, errcode.Unauthorized:
		until = now.Add(refusalTTL)
	case errcode.RateLimited:
		var e *errcode.Error
		if errors.As(err, &e) && e.RetryAt.After(now) {
			// Capped: a retry time a year away (or a misread one) must
			// not refuse this user's exchanges until her token rotates.
			until = e.RetryAt
			if limit := now.Add(maxRateLimitKept); until.After(limit) {
				until = limit
			}
		}
	}
	if until.IsZero() {
		return
	}
	k := sha256.Sum256([]byte(subject))
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.refused == nil {
		x.refused = map[[32]byte]refusal{}
	}
	if _, ok := x.refused[k]; !ok && len(x.refused) >= maxExchanged {
		for k, r := range x.refused {
			if !now.Before(r.until) {
				delete(x.refused, k)
			}
		}
		for k := range x.refused { // still full: evict an arbitrary entry
			if len(x.refused) < maxExchanged {
				break
			}
			delete(x.refused, k)
		}
	}
	x.refused[k] = refusal{until: until, err: err}
}

// cutToken replaces in text every run made of 16-character pieces of
// token, as it is and URL-encoded: the token itself, its start or end
// where a description that echoed it was clipped, and its halves where it
// was split.
func cutToken(text, token string) string {
	text = cutRuns(text, token)
	if q := url.QueryEscape(token); q != token {
		text = cutRuns(text, q)
	}
	return text
}

func cutRuns(text, token string) string {
	const w = 16
	if len(token) < w {
		return strings.ReplaceAll(text, token, "[REDACTED]")
	}
	if len(text) < w {
		return text
	}
	// covered[i]: text[i] is in a 16-byte piece that token holds too.
	// The pieces of the shorter side are indexed, so that a long token
	// and a short error text (or the reverse) cost their sum.
	covered := make([]bool, len(text))
	found := false
	cover := func(i int) {
		found = true
		for j := i; j < i+w; j++ {
			covered[j] = true
		}
	}
	if len(token) <= len(text) {
		pieces := make(map[string]bool, len(token)-w+1)
		for i := 0; i+w <= len(token); i++ {
			pieces[token[i:i+w]] = true
		}
		for i := 0; i+w <= len(text); i++ {
			if pieces[text[i:i+w]] {
				cover(i)
			}
		}
	} else {
		at := make(map[string][]int, len(text)-w+1)
		for i := 0; i+w <= len(text); i++ {
			at[text[i:i+w]] = append(at[text[i:i+w]], i)
		}
		for i := 0; i+w <= len(token); i++ {
			for _, j := range at[token[i:i+w]] {
				if !covered[j] || !covered[j+w-1] {
					cover(j)
				}
			}
			delete(at, token[i:i+w])
		}
	}
	if !found {
		return text
	}
	// Runs are cut whole characters wide: a token with non-ASCII bytes
	// must not leave half a character behind.
	for i := range covered {
		if covered[i] && (i == 0 || !covered[i-1]) {
			for j := i; j > 0 && !utf8.RuneStart(text[j]); j-- {
				covered[j-1] = true
			}
		}
	}
	for i := len(covered) - 1; i >= 0; i-- {
		if covered[i] && (i == len(covered)-1 || !covered[i+1]) {
			for j := i + 1; j < len(text) && !utf8.RuneStart(text[j]); j++ {
				covered[j] = true
			}
		}
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		if !covered[i] {
			b.WriteByte(text[i])
			i++
			continue
		}
		for i < len(text) && covered[i] {
			i++
		}
		b.WriteString("[REDACTED]")
	}
	return b.String()
}

// exchangeError is err, from exchanging subject, as the TokenExchange's
// error: the same code and retry time, under this operation, with the
// subject token cut out of its text (a token endpoint may echo it in its
// error_description).
func (x *TokenExchange) exchangeError(err error, subject string) error {
	if c := errcode.CodeOf(err); c == errcode.Canceled || c == errcode.DeadlineExceeded {
		return err
	}
	code := errcode.CodeOf(err)
	var e *errcode.Error
	errors.As(err, &e)
	switch {
	case code == errcode.InvalidArgument:
		// RFC 8693 §2.2.2: invalid_request (and invalid_target) is how a
		// provider refuses a subject token it will not exchange.
		code = errcode.PermissionDenied
	case code == errcode.Unauthorized && e != nil && e.Status == http.StatusForbidden:
		// A 403 (Keycloak's access_denied: the client may not exchange):
		// signing in again would change nothing.
		code = errcode.PermissionDenied
	}
	out := &errcode.Error{Code: code, Op: "auth.TokenExchange", Host: x.host,
		Msg: "the identity provider did not exchange the user's token for " + x.target(), Err: errors.New(cutToken(err.Error(), subject))}
	if e != nil {
		out.RetryAt, out.Status = e.RetryAt, e.Status
		if limit := x.o.Now().Add(maxRateLimitKept); out.RetryAt.After(limit) {
			out.RetryAt = limit // as the refusal is kept: a year-long Retry-After is not passed on
		}
	}
	return out
}

// target names the audience and resource.
func (x *TokenExchange) target() string {
	return strings.Join(append(append([]string(nil), x.o.Audience...), x.o.Resource...), " ")
}

// String names the source, never a token.
func (e *exchangeSource) String() string { return "auth.TokenExchangeSource(" + e.label + ")" }

// Format prints String under every verb.
func (e *exchangeSource) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, e.String(), e.String())
}

// LogValue prints String.
func (e *exchangeSource) LogValue() slog.Value { return slog.StringValue(e.String()) }
