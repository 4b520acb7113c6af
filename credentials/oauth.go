package credentials

import (
	"context"
	"errors"
	"fmt"
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

	"github.com/scmkit/scmkit/credentials/internal/retry"
	"github.com/scmkit/scmkit/credentials/internal/tokencache"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/errcode"
)

// FromOAuth2 adapts an oauth2.TokenSource, such as the one from
// oauth2.Config.TokenSource, to a [Source] of the signed-in user's
// credential (KindUser, Source "user").
//
// oauth2.TokenSource takes no context, so a refresh it makes cannot be
// cancelled and ignores the caller's context; it also cannot be told that
// a token was rejected, so the [Transport] does not retry a 401 with it.
// Prefer [UserSource], which has neither limit.
func FromOAuth2(ts oauth2.TokenSource) Source {
	return SourceFunc(func(ctx context.Context) (*Credential, error) {
		if err := errcode.FromContext(ctx, "credentials.FromOAuth2"); err != nil {
			return nil, err
		}
		tok, err := ts.Token()
		if err != nil {
			e, _ := oauthError("credentials.FromOAuth2", "", "the signed-in user's token", err)
			return nil, e
		}
		return &Credential{Kind: KindUser, Token: tok.AccessToken, Expiry: tok.Expiry, Source: "user"}, nil
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
	// HTTPClient sends the refresh requests; nil means
	// http.DefaultClient. It must not be a client that attaches
	// credentials itself.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Margin is how long before expiry the token is refreshed; default
	// DefaultMargin.
	Margin time.Duration
	// Source labels the credentials, e.g. "user alice"; default "user".
	Source string
}

// UserTokenSource is the signed-in user's OAuth token, refreshed with its
// refresh token before it expires. Make one with [UserSource].
type UserTokenSource struct {
	cfg      *oauth2.Config
	client   *http.Client
	now      func() time.Time
	onRotate func(context.Context, *oauth2.Token)
	source   string

	mu      sync.Mutex
	refresh string // the current refresh token

	cache *tokencache.Cache[struct{}, *Credential]
	fetch tokencache.Fetch[*Credential]
}

// UserSource returns a Source of the signed-in user's credential (KindUser)
// starting from tok, the token the user's sign-in produced. When the access
// token is missing or due for renewal, it is refreshed through cfg's token
// endpoint with the refresh token, once for all concurrent callers, using
// the context of the call that needed it. Refreshes are not retried: a
// provider that rotates refresh tokens may have used up the old one even
// when the answer was lost.
//
// Errors: Unauthorized when there is no refresh token or the provider
// rejects it (the user must sign in again); Unavailable when the token
// endpoint cannot be reached or answers garbage.
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
	s := &UserTokenSource{cfg: cfg, client: o.HTTPClient, now: o.Now, onRotate: o.OnRotate, source: o.Source}
	s.cache = tokencache.New[struct{}, *Credential]("credentials.UserSource", o.Now, o.Margin, func(struct{}) string { return "" })
	s.fetch = s.refreshCredential
	if tok != nil {
		s.refresh = tok.RefreshToken
		if tok.AccessToken != "" {
			s.cache.Seed(struct{}{}, &Credential{Kind: KindUser, Token: tok.AccessToken, Expiry: tok.Expiry, Source: o.Source}, tok.Expiry)
		}
	}
	return s
}

// Credential returns the user's current credential, refreshing it first if
// it is due.
func (s *UserTokenSource) Credential(ctx context.Context) (*Credential, error) {
	if c, err, ok := s.cache.Peek(struct{}{}); ok {
		return c, err
	}
	return s.cache.Get(ctx, struct{}{}, s.fetch)
}

// Invalidate drops cred if it is the current credential, so that the next
// call refreshes. It reports whether it dropped anything.
func (s *UserTokenSource) Invalidate(cred *Credential) bool {
	if cred == nil {
		return false
	}
	return s.cache.DeleteFunc(func(_ struct{}, v *Credential) bool { return v.Token == cred.Token }) > 0
}

func (s *UserTokenSource) refreshCredential(ctx context.Context) (*Credential, time.Time, error) {
	const op = "credentials.UserSource"
	s.mu.Lock()
	rt := s.refresh
	s.mu.Unlock()
	if rt == "" || s.cfg == nil {
		return nil, time.Time{}, errcode.New(errcode.Unauthorized, op,
			"the signed-in user's token has expired and there is no refresh token to renew it; the user must sign in again")
	}
	rctx := ctx
	if s.client != nil {
		rctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	}
	tok, err := s.cfg.TokenSource(rctx, &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		if ctx.Err() != nil {
			return nil, time.Time{}, errcode.FromContext(ctx, op)
		}
		e, _ := oauthError(op, "", "refreshing the signed-in user's token", err)
		return nil, time.Time{}, e
	}
	if tok.AccessToken == "" {
		return nil, time.Time{}, errcode.New(errcode.Unavailable, op, "the token endpoint answered the refresh without an access token")
	}
	if tok.RefreshToken != "" && tok.RefreshToken != rt {
		s.mu.Lock()
		s.refresh = tok.RefreshToken
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

// String describes the source without any secret.
func (s *UserTokenSource) String() string { return "credentials.UserTokenSource(" + s.source + ")" }

// Format prints String for every verb, so no verb shows a secret.
func (s *UserTokenSource) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, s.String(), "&credentials.UserTokenSource{Source: "+strconv.Quote(s.source)+"}")
}

// LogValue describes the source without any secret.
func (s *UserTokenSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

// newClientCredentials is the Bitbucket Cloud OAuth consumer of in: the
// client-credentials grant against its token URL, with the client id and
// secret in a Basic Authorization header, cached and renewed before expiry
// with one request for all concurrent callers.
func newClientCredentials(in *integrations.Integration, client *http.Client, now func() time.Time, margin time.Duration, pol retry.Policy) *CachedSource {
	const op = "credentials.Resolve"
	c := in.BitbucketCloud
	tokenURL := c.TokenURL
	if tokenURL == "" {
		tokenURL = integrations.BitbucketCloudTokenURL
	}
	cc := &clientcredentials.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret.Reveal(), TokenURL: tokenURL,
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	source := in.ConfigPath + " oauth consumer"
	what := "the OAuth consumer " + in.ConfigPath + " (clientId " + c.ClientID + ")"
	src := SourceFunc(func(ctx context.Context) (*Credential, error) {
		var tok *oauth2.Token
		err := pol.Do(ctx, func(ctx context.Context) error {
			return &errcode.Error{Code: codeOfContext(ctx), Op: op, Provider: string(in.Kind), Host: in.Host,
				Msg: "the token endpoint " + tokenURL + " did not answer for " + what + " before the caller's context ended", Err: ctx.Err()}
		}, func(actx context.Context) (bool, time.Duration, error) {
			t, err := cc.Token(context.WithValue(actx, oauth2.HTTPClient, client))
			if err != nil {
				e, retry := oauthError(op, in.Host, what, err)
				e.Provider = string(in.Kind)
				return retry, 0, e
			}
			tok = t
			return false, 0, nil
		})
		if err != nil {
			return nil, err
		}
		exp := tok.Expiry
		switch d := expiresIn(tok); {
		case d > 0:
			exp = now().Add(d)
		case exp.IsZero():
			exp = now().Add(time.Hour) // Bitbucket's documented lifetime is 1-2 hours
		}
		return &Credential{Kind: KindApp, Token: tok.AccessToken, Expiry: exp, Source: source}, nil
	})
	cs := Cached(src, &CacheOptions{Margin: margin, Now: now})
	cs.cache.Abandoned = func(ctx context.Context, _ struct{}) error {
		return &errcode.Error{Code: codeOfContext(ctx), Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: "the token endpoint " + tokenURL + " did not answer for " + what + " before the caller's context ended", Err: ctx.Err()}
	}
	return cs
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

// oauthError classifies an error from golang.org/x/oauth2 and says whether
// it is worth retrying. It never wraps *oauth2.RetrieveError, whose text
// includes the raw response body; the status, error code and description
// are copied instead.
func oauthError(op, host, what string, err error) (*errcode.Error, bool) {
	e := &errcode.Error{Op: op, Host: host}
	var re *oauth2.RetrieveError
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
			detail += ", " + re.ErrorCode
		}
		if re.ErrorDescription != "" {
			detail += ": " + oneLine(re.ErrorDescription)
		}
		switch {
		case status >= 500:
			e.Code, e.Msg = errcode.Unavailable, "the token endpoint failed "+what+" ("+detail+")"
			return e, true
		case status == http.StatusTooManyRequests:
			e.Code, e.Msg = errcode.RateLimited, "the token endpoint rate-limited "+what+" ("+detail+")"
		case re.ErrorCode == "invalid_grant":
			e.Code, e.Msg = errcode.Unauthorized, "the token endpoint rejected "+what+" ("+detail+"): the refresh token was revoked, expired or already used; sign in again"
		case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" || status == http.StatusUnauthorized:
			e.Code, e.Msg = errcode.Unauthorized, "the token endpoint rejected "+what+" ("+detail+"): check the client id and secret"
		case status >= 400:
			e.Code, e.Msg = errcode.Unauthorized, "the token endpoint refused "+what+" ("+detail+")"
		default:
			// A 2xx with an "error" field, or a body that is not a token.
			e.Code, e.Msg = errcode.Unavailable, "the token endpoint answered "+what+" with an error ("+detail+")"
		}
		return e, false
	case errors.As(err, &ue), errors.As(err, &ne):
		// *url.Error names the token URL, which carries no secret: the
		// client secret and refresh token travel in the header and body.
		e.Code, e.Msg, e.Err = errcode.Unavailable, "cannot reach the token endpoint for "+what, err
		return e, true
	default:
		// "oauth2: cannot parse json", "server response missing
		// access_token": the endpoint answered, but not with a token.
		e.Code, e.Err = errcode.Unavailable, err
		e.Msg = "the token endpoint answered " + what + " with something that is not an OAuth token response; check the token URL"
		return e, false
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
