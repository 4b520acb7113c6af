package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"

	"github.com/scmkit/scmkit/credentials/internal/tokencache"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/redact"
)

// FromOAuth2 adapts an oauth2.TokenSource, such as the one from
// oauth2.Config.TokenSource, to a [Source] of the signed-in user's
// credential (KindUser, Source "user").
//
// oauth2.TokenSource takes no context, so the call to ts.Token itself
// cannot be interrupted: a refresh it makes runs to its end whatever the
// callers do. Credential still returns as soon as the caller's context
// ends (Canceled or DeadlineExceeded), leaving that call to finish on its
// own; concurrent callers, and callers that come while an abandoned call
// is still running, share that one call, so callers that give up do not
// pile up goroutines. ts also cannot be told that a token was rejected, so
// the [Transport] does not retry a 401 with it. Prefer [UserSource], which
// has neither limit.
func FromOAuth2(ts oauth2.TokenSource) Source {
	const op = "credentials.FromOAuth2"
	var g singleflight.Group
	return SourceFunc(func(ctx context.Context) (*Credential, error) {
		if err := errcode.FromContext(ctx, op); err != nil {
			return nil, err
		}
		ch := g.DoChan("", func() (any, error) { return ts.Token() })
		select {
		case <-ctx.Done():
			return nil, &errcode.Error{Code: codeOfContext(ctx), Op: op,
				Msg: "the OAuth token source did not answer before the caller's context ended", Err: ctx.Err()}
		case res := <-ch:
			if res.Err != nil {
				e := oauthError(op, "", "the signed-in user's token", refreshRefused, time.Now(), res.Err)
				return nil, e
			}
			tok, _ := res.Val.(*oauth2.Token)
			if tok == nil {
				return nil, errcode.New(errcode.Unauthorized, op, "the OAuth token source returned no token")
			}
			return &Credential{Kind: KindUser, Token: tok.AccessToken, Expiry: tok.Expiry, Source: "user"}, nil
		}
	})
}

// UserOptions tunes [UserSource]. A nil *UserOptions gives the defaults.
type UserOptions struct {
	// OnRotate, if set, is called after a refresh that returned a new
	// refresh token, with the whole new token, so that the embedding app
	// can store it (many providers, GitLab among them, invalidate the old
	// refresh token on use). It runs once per refresh, however many
	// callers are waiting, with a context that is not cancelled when they
	// stop waiting; keep it quick.
	OnRotate func(ctx context.Context, tok *oauth2.Token)
	// HTTPClient sends the refresh requests; nil means a client with
	// http.DefaultTransport. It must not be a client that attaches
	// credentials itself. UserSource uses a copy that never follows
	// redirects, so that the refresh token and client secret go to the
	// token URL only.
	HTTPClient *http.Client
	// AttemptTimeout bounds a refresh; default 20s. A refresh runs to its
	// end (or this timeout) even when every caller waiting for it gives
	// up, so that a refresh token the provider has already rotated is not
	// lost.
	AttemptTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Margin is how long before expiry the token is refreshed; default
	// DefaultMargin.
	Margin time.Duration
	// Source labels the credentials, e.g. "user alice"; default "user".
	Source string
}

// UserTokenSource is the signed-in user's OAuth token, refreshed with its
// refresh token before it expires. It is safe for concurrent use. The
// zero UserTokenSource is not usable; make one with [UserSource].
type UserTokenSource struct {
	cfg      *oauth2.Config
	client   *http.Client
	now      func() time.Time
	onRotate func(context.Context, *oauth2.Token)
	source   string
	timeout  time.Duration

	mu sync.Mutex
	// refresh is the current refresh token, behind a pointer so that
	// printing the struct by reflection, where its Format method is not
	// reachable (an unexported field of an embedding struct under %s), shows
	// an address, never the token.
	refresh *heldSecret
	// held is the access token handed in without a refresh token, served
	// until it expires or a server rejects it; nil otherwise.
	held *Credential
	// heldOnly is set when held is all there is: no refresh token or no
	// config, so no other credential can ever be served.
	heldOnly bool

	cache *tokencache.Cache[struct{}, *Credential]
	fetch tokencache.Fetch[*Credential]
}

// UserSource returns a Source of the signed-in user's credential (KindUser)
// starting from tok, the token the user's sign-in produced. When the access
// token is missing or due for renewal, it is refreshed through cfg's token
// endpoint with the refresh token, once for all concurrent callers. The
// refresh is not cancelled when the caller that started it gives up: it
// runs to its end (bounded by [UserOptions.AttemptTimeout]), so that the
// new token is stored, OnRotate is called and the callers still waiting get
// it, while every caller returns as soon as its own context ends.
// Refreshes are not retried: a provider that rotates refresh tokens may
// have used up the old one even when the answer was lost.
//
// A token without a refresh token (or with a nil cfg) is served until it
// expires, and then refused; so is one that a server rejected
// ([UserTokenSource.Invalidate]).
//
// Errors: Unauthorized when the token has expired or was rejected and
// there is no refresh token, or the provider rejects the refresh token
// (the user must sign in again); Unavailable when the token endpoint
// cannot be reached or answers garbage.
func UserSource(cfg *oauth2.Config, tok *oauth2.Token, opts *UserOptions) *UserTokenSource {
	var o UserOptions
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Margin <= 0 {
		o.Margin = DefaultMargin
	}
	if o.Source == "" {
		o.Source = "user"
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = defaultAttemptTimeout
	}
	s := &UserTokenSource{cfg: cfg, client: noRedirects(o.HTTPClient), now: o.Now, onRotate: o.OnRotate, source: o.Source, timeout: o.AttemptTimeout}
	s.cache = tokencache.New[struct{}, *Credential]("credentials.UserSource", o.Now, o.Margin, func(struct{}) string { return "" })
	// A refresh runs to its end whoever waits for it, and its failure is
	// final for every caller waiting: fetching again after the caller that
	// started it gave up would re-send a refresh token the provider may
	// have consumed.
	s.cache.Detached = true
	s.fetch = s.refreshCredential
	if tok != nil {
		s.refresh = &heldSecret{tok.RefreshToken}
		if tok.AccessToken != "" {
			c := &Credential{Kind: KindUser, Token: tok.AccessToken, Expiry: tok.Expiry, Source: o.Source}
			s.cache.Seed(struct{}{}, c, tok.Expiry)
			if tok.RefreshToken == "" || cfg == nil {
				s.held = c
				s.heldOnly = true
			}
		}
	}
	return s
}

// Credential returns the user's current credential, refreshing it first if
// it is due.
func (s *UserTokenSource) Credential(ctx context.Context) (*Credential, error) {
	c, err, ok := s.cache.Peek(struct{}{})
	if !ok {
		c, err = s.cache.Get(ctx, struct{}{}, s.fetch)
	}
	if err == nil && s.heldOnly && !s.stillHeld(c) {
		// Invalidate ran while a fetch was handing out the token it
		// rejected, and the cache stored it after Invalidate emptied it.
		s.cache.DeleteFunc(func(_ struct{}, v *Credential) bool { return v.Token == c.Token })
		return nil, errcode.New(errcode.Unauthorized, "credentials.UserSource",
			"a server rejected the signed-in user's token and there is no refresh token to renew it; the user must sign in again")
	}
	return c, err
}

// stillHeld reports whether c is the token handed in without a refresh
// token and no server has rejected it.
func (s *UserTokenSource) stillHeld(c *Credential) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held != nil && s.held.Token == c.Token
}

// Invalidate drops cred if it is the current credential, so that the next
// call refreshes. It reports whether it dropped anything.
func (s *UserTokenSource) Invalidate(cred *Credential) bool {
	if cred == nil {
		return false
	}
	s.mu.Lock()
	if s.held != nil && s.held.Token == cred.Token {
		s.held = nil
	}
	s.mu.Unlock()
	return s.cache.DeleteFunc(func(_ struct{}, v *Credential) bool { return v.Token == cred.Token }) > 0
}

func (s *UserTokenSource) refreshCredential(ctx context.Context) (*Credential, time.Time, error) {
	const op = "credentials.UserSource"
	s.mu.Lock()
	var rt string
	if s.refresh != nil {
		rt = s.refresh.v
	}
	held := s.held
	s.mu.Unlock()
	if rt == "" || s.cfg == nil {
		// Nothing to renew it with: the token handed in is still served
		// for the rest of its life (the cache asks again as its end
		// nears, at no cost), never after.
		if held != nil && (held.Expiry.IsZero() || s.now().Before(held.Expiry)) {
			return held, held.Expiry, nil
		}
		return nil, time.Time{}, errcode.New(errcode.Unauthorized, op,
			"the signed-in user's token has expired and there is no refresh token to renew it; the user must sign in again")
	}
	// Not the caller's context: once the request is out, the provider may
	// rotate the refresh token, and only finishing the refresh keeps the
	// new one. The cache is Detached (it already strips the cancellation;
	// this keeps the refresh safe whoever calls it), returns to each
	// caller when its own context ends and hands the result, failure
	// included, to every caller still waiting.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	tok, err := s.cfg.TokenSource(context.WithValue(rctx, oauth2.HTTPClient, s.client), &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		if rctx.Err() != nil {
			return nil, time.Time{}, &errcode.Error{Code: errcode.Unavailable, Op: op,
				Msg: "the token endpoint did not answer the refresh of the signed-in user's token within " + s.timeout.String(), Err: err}
		}
		e := oauthError(op, "", "refreshing the signed-in user's token", refreshRefused, s.now(), err, append(clientSecrets(s.cfg.ClientID, s.cfg.ClientSecret), rt)...)
		return nil, time.Time{}, e
	}
	if tok.AccessToken == "" {
		return nil, time.Time{}, errcode.New(errcode.Unavailable, op, "the token endpoint answered the refresh without an access token")
	}
	if tok.RefreshToken != "" && tok.RefreshToken != rt {
		s.mu.Lock()
		s.refresh = &heldSecret{tok.RefreshToken}
		s.mu.Unlock()
		if s.onRotate != nil {
			s.onRotate(context.WithoutCancel(ctx), tok)
		}
	}
	exp := tok.Expiry
	if d := expiresIn(tok); d > 0 {
		exp = s.now().Add(d)
	}
	return &Credential{Kind: KindUser, Token: tok.AccessToken, Expiry: exp, Source: s.source}, exp, nil
}

// heldSecret holds a secret behind a pointer; see UserTokenSource.refresh.
type heldSecret struct{ v string }

// String describes the source without any secret.
func (s *UserTokenSource) String() string { return "credentials.UserTokenSource(" + s.source + ")" }

// Format prints String for every verb, so no verb shows a secret.
func (s *UserTokenSource) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, s.String(), "&credentials.UserTokenSource{Source: "+strconv.Quote(s.source)+"}")
}

// LogValue describes the source without any secret.
func (s *UserTokenSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

// defaultAttemptTimeout bounds one request to a token endpoint.
const defaultAttemptTimeout = 20 * time.Second

// tokenClient is the client of token endpoints (OAuth client-credentials
// grants): o.HTTPClient without redirects, with error answers scrubbed of
// the credentials their requests carried, below scmkit's one retry and
// rate-limit policy tuned by o. A client-credentials grant is safe to
// repeat (another token is issued), so it is retried as an idempotent
// request.
func tokenClient(o *ResolverOptions) *http.Client {
	c := noRedirects(o.HTTPClient)
	timeout := o.AttemptTimeout
	if timeout <= 0 {
		timeout = defaultAttemptTimeout
	}
	c.Transport = idempotent{httpx.NewTransport(&httpx.Options{
		Base:       httpx.Sanitize(c.Transport, nil),
		MaxRetries: o.MaxRetries, MinWait: o.MinWait, MaxWait: o.MaxWait,
		MaxRateLimitWait: o.MaxRateLimitWait, AttemptTimeout: timeout, Now: o.Now,
		Logger: o.Logger,
	})}
	return c
}

// idempotent marks each request idempotent for the transport below, with
// a nil Idempotency-Key, which net/http does not send.
type idempotent struct{ base http.RoundTripper }

func (t idempotent) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, ok := req.Header["Idempotency-Key"]; !ok {
		req = req.Clone(req.Context())
		req.Header["Idempotency-Key"] = nil
	}
	return t.base.RoundTrip(req)
}

// newClientCredentials is the Bitbucket Cloud OAuth consumer of in: the
// client-credentials grant against its token URL, with the client id and
// secret in a Basic Authorization header, cached and renewed before expiry
// with one request for all concurrent callers. client retries (see
// tokenClient) and does not follow redirects.
func newClientCredentials(in *integrations.Integration, client *http.Client, now func() time.Time, margin time.Duration, log *slog.Logger) *CachedSource {
	c := in.BitbucketCloud
	tokenURL := c.TokenURL
	if tokenURL == "" {
		tokenURL = integrations.BitbucketCloudTokenURL
	}
	cc := &clientcredentials.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret.Reveal(), TokenURL: tokenURL,
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	return clientCredentials("credentials.Resolve", cc, &ClientCredentialsOptions{HTTPClient: client, Now: now, Margin: margin,
		Source: in.ConfigPath + " oauth consumer", What: "the OAuth consumer " + in.ConfigPath + " (clientId " + c.ClientID + ")",
		Host: in.Host, Provider: string(in.Kind)}, log)
}

// noRedirects returns a shallow copy of c (nil: a client with
// http.DefaultTransport) that hands 3xx answers back instead of following
// them. Go's client keeps Authorization on a redirect to the same host name
// (any port or scheme) or a subdomain, and a 307 or 308 re-sends the body:
// the client secret and refresh token must go to the token URL only, and
// token endpoints never redirect a correct request.
func noRedirects(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// redirectTarget names where a 3xx answer pointed, without the Location's
// user info, query or fragment.
func redirectTarget(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "no Location"
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "an unparseable Location"
	}
	if resp.Request != nil && resp.Request.URL != nil {
		u = resp.Request.URL.ResolveReference(u)
	}
	return redact.URL(u.String())
}

// expiresIn reads the token response's expires_in, so that the expiry is
// on the injected clock (oauth2 computes Expiry with time.Now). It is 0 when
// the response had none.
func expiresIn(tok *oauth2.Token) time.Duration {
	if tok.ExpiresIn > 0 {
		return time.Duration(tok.ExpiresIn) * time.Second
	}
	var secs int64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		secs = int64(v)
	case string:
		secs, _ = strconv.ParseInt(v, 10, 64)
	}
	return time.Duration(max(secs, 0)) * time.Second
}

func codeOfContext(ctx context.Context) errcode.Code {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errcode.DeadlineExceeded
	}
	return errcode.Canceled
}

// Explanations of an invalid_grant answer (RFC 6749 §5.2) for
// oauthError, by the grant the request presented.
const (
	refreshRefused = "the refresh token was revoked, expired or already used; sign in again"
	grantRefused   = "the grant it presented (for a token exchange, the subject token) is invalid, expired or revoked"
)

// clientSecrets are the forms in which x/oauth2 sends a client's
// credentials, for oauthError to scrub: the secret, "id:secret" (whose
// base64 is HTTP Basic's), and both URL-escaped, as x/oauth2 escapes them
// before Basic (RFC 6749 §2.3.1), which changes a secret with "+", "/"
// or "=".
func clientSecrets(id, secret string) []string {
	if secret == "" {
		return nil
	}
	eid, esecret := url.QueryEscape(id), url.QueryEscape(secret)
	return []string{secret, id + ":" + secret, esecret, eid + ":" + esecret}
}

// oauthError classifies an error from golang.org/x/oauth2 (whose HTTP
// client may be an httpx transport, which returns *errcode.Error for a
// rate-limit wait it refuses). It never wraps *oauth2.RetrieveError,
// whose text includes the raw response body; the status, error code and
// description are copied instead. now turns relative rate-limit headers
// into RetryAt. refused explains an invalid_grant answer: what the
// grant presented and what to do.
//
// secrets are the credential values the request sent (a refresh token, a
// client secret, "id:secret"): a token endpoint that echoes them in its
// error description does not put them in the error.
func oauthError(op, host, what, refused string, now time.Time, err error, secrets ...string) *errcode.Error {
	e := classifyOAuthError(op, host, what, refused, now, err)
	var set httpx.Secrets
	for _, v := range secrets {
		if !strings.HasSuffix(v, ":") { // "id:" of an empty secret is no secret
			set.Add(v)
		}
	}
	if set.Len() > 0 && set.Shows(e.Error()) {
		e.Msg = set.Scrub(e.Msg)
		if e.Err != nil && set.Shows(e.Err.Error()) {
			e.Err = errors.New(set.Scrub(e.Err.Error()))
		}
	}
	return e
}

// classifyOAuthError is oauthError before the scrubbing. Statuses are
// classified by httpx.Classify, as everywhere in scmkit, except the OAuth
// error codes that name a bad credential (RFC 6749 §5.2: invalid_grant,
// invalid_client, unauthorized_client), which are Unauthorized whatever
// the status (a token endpoint answers them with 400 or 401).
func classifyOAuthError(op, host, what, refused string, now time.Time, err error) *errcode.Error {
	e := &errcode.Error{Op: op, Host: host}
	var re *oauth2.RetrieveError
	var ce *errcode.Error
	var ue *url.Error
	var ne net.Error
	switch {
	case errors.As(err, &re):
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		e.Status = status
		detail := "HTTP " + strconv.Itoa(status)
		if re.ErrorCode != "" {
			detail += ", " + oneLine(re.ErrorCode) // a provider's field: clipped as the description is
		}
		if re.ErrorDescription != "" {
			detail += ": " + oneLine(re.ErrorDescription)
		}
		var cl httpx.Class
		if re.Response != nil && status >= 300 {
			// oauth2 has read the body; Classify may look at it again.
			resp := *re.Response
			resp.Body = io.NopCloser(bytes.NewReader(re.Body))
			cl = httpx.Classify(&resp, now)
		}
		switch {
		case status >= 300 && status < 400:
			e.Code, e.Msg = errcode.Unavailable, "the token endpoint answered "+what+" with an unexpected redirect (HTTP "+
				strconv.Itoa(status)+") to "+redirectTarget(re.Response)+", which is not followed with credentials; check the token URL"
		case cl.Code == errcode.Unavailable:
			e.Code, e.Msg = errcode.Unavailable, "the token endpoint failed "+what+" ("+detail+")"
		case cl.Code == errcode.RateLimited:
			e.Code, e.RetryAt, e.Msg = errcode.RateLimited, cl.RetryAt, "the token endpoint rate-limited "+what+" ("+detail+")"
		case re.ErrorCode == "invalid_grant":
			e.Code, e.Msg = errcode.Unauthorized, "the token endpoint rejected "+what+" ("+detail+"): "+refused
		case cl.Hint != "":
			e.Code, e.Msg = errcode.Unauthorized, "the token endpoint rejected "+what+" ("+detail+"): "+cl.Hint
		case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" || cl.Code == errcode.Unauthorized:
			e.Code, e.Msg = errcode.Unauthorized, "the token endpoint rejected "+what+" ("+detail+"): check the client id and secret"
		case cl.Code == errcode.InvalidArgument:
			e.Code, e.Msg = errcode.InvalidArgument, "the token endpoint refused "+what+" as malformed ("+detail+")"
		case status >= 400:
			e.Code, e.Msg = errcode.Unauthorized, "the token endpoint refused "+what+" ("+detail+")"
		default:
			// A 2xx with an "error" field, or a body that is not a token.
			e.Code, e.Msg = errcode.Unavailable, "the token endpoint answered "+what+" with an error ("+detail+")"
		}
		return e
	case errors.As(err, &ce):
		// The transport's own error: a wait it refused (RateLimited or
		// Unavailable with RetryAt), a failure after its retries, the
		// caller's context.
		e.Code, e.Status, e.RetryAt, e.Err = ce.Code, ce.Status, ce.RetryAt, ce
		switch ce.Code {
		case errcode.RateLimited:
			e.Msg = "the token endpoint rate-limited " + what + " until " + ce.RetryAt.UTC().Format(time.RFC3339)
		default:
			e.Msg = "cannot reach the token endpoint for " + what
		}
		return e
	case errors.As(err, &ue), errors.As(err, &ne):
		// *url.Error names the token URL, which carries no secret: the
		// client secret and refresh token travel in the header and body.
		e.Code, e.Msg, e.Err = errcode.Unavailable, "cannot reach the token endpoint for "+what, err
		return e
	default:
		// "oauth2: cannot parse json", "server response missing
		// access_token": the endpoint answered, but not with a token.
		e.Code, e.Err = errcode.Unavailable, err
		e.Msg = "the token endpoint answered " + what + " with something that is not an OAuth token response; check the token URL"
		return e
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
