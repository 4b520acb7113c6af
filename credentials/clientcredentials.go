package credentials

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/internal/warnlimit"
)

// ClientCredentialsOptions tunes [ClientCredentials]. A nil
// *ClientCredentialsOptions gives the defaults.
type ClientCredentialsOptions struct {
	// HTTPClient sends the token requests as it is, except that it never
	// follows a redirect (the client secret goes to the token URL only)
	// and each request is marked safe to repeat (another token is
	// issued), so that a retrying transport retries it as an idempotent
	// request. A client given here gets no retries from scmkit: give it
	// a retrying transport (and one that counts requests) if wanted. Nil
	// means a client with http.DefaultTransport below scmkit's retry and
	// rate-limit policy with its defaults (a 429, a 5xx or a network
	// failure retried with back-off, Retry-After honoured up to a cap),
	// error answers scrubbed of the credentials sent.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Margin is how long before expiry the token is renewed; default
	// DefaultMargin.
	Margin time.Duration
	// Source labels the credentials (Credential.Source), e.g.
	// "microsoftGraphOrg default"; default "client credentials".
	Source string
	// What names the application in errors, e.g. "the application
	// (clientId 1234)"; default "the client credentials".
	What string
	// Host and Provider fill in the errors' fields.
	Host, Provider string
	// Lifetime, when set, tells when a token whose answer names no
	// lifetime (no expires_in, which RFC 6749 only recommends) expires,
	// e.g. from a JWT's exp; a zero time means the default. Default: an
	// hour after it was issued (Bitbucket's tokens live 1-2 hours).
	Lifetime func(tok *oauth2.Token, now time.Time) time.Time
}

// ClientCredentials returns a Source of an application's own credential
// (KindApp): an access token from the OAuth client-credentials grant
// (RFC 6749 §4.4) of cc, cached and renewed before it expires with one
// request for all concurrent callers. Each caller returns as soon as its
// own context ends; the request is sent with the context of the caller
// that started it.
//
// Errors are classified as every token endpoint's are in this package
// (by status as everywhere in scmkit: a 429, or a 403 that announces a
// rate limit, is RateLimited with its RetryAt, a 5xx Unavailable;
// invalid_client and unauthorized_client are Unauthorized), and the
// client id and secret never show in them, even
// when the endpoint echoes them in its error or error_description. Until
// the RetryAt of a RateLimited answer (one the retry policy did not wait
// out), 5 minutes at most, the source fails the same way without asking
// the endpoint again.
func ClientCredentials(cc *clientcredentials.Config, opts *ClientCredentialsOptions) *CachedSource {
	return clientCredentials("credentials.ClientCredentials", cc, opts, nil)
}

// rateLimitKept bounds how long a client-credentials source, or a GitHub
// App, remembers that it is rate-limited: after it, the endpoint is asked
// again, whatever RetryAt it gave.
const rateLimitKept = 5 * time.Minute

// clientCredentials is ClientCredentials with the errors' op, and log (nil:
// silent) for the failures the retries could not mend.
func clientCredentials(op string, cc *clientcredentials.Config, opts *ClientCredentialsOptions, log *slog.Logger) *CachedSource {
	var o ClientCredentialsOptions
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Source == "" {
		o.Source = "client credentials"
	}
	if o.What == "" {
		o.What = "the client credentials"
	}
	var client *http.Client
	if o.HTTPClient == nil {
		client = tokenClient(&ResolverOptions{Now: o.Now})
	} else {
		client = noRedirects(o.HTTPClient)
		base := client.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		client.Transport = idempotent{base}
	}
	abandoned := func(ctx context.Context) error {
		return &errcode.Error{Code: codeOfContext(ctx), Op: op, Provider: o.Provider, Host: o.Host,
			Msg: "the token endpoint " + redact.URL(cc.TokenURL) + " did not answer for " + o.What + " before the caller's context ended", Err: ctx.Err()}
	}
	var warns warnlimit.Limiter
	var limited struct {
		sync.Mutex
		until time.Time // the endpoint rate-limits the client until then
	}
	src := SourceFunc(func(ctx context.Context) (*Credential, error) {
		// While the endpoint rate-limits the client (a RetryAt later than
		// the retry policy waits), a grant is not asked for: it would be
		// refused too, and count against the client.
		limited.Lock()
		until := limited.until
		limited.Unlock()
		if now := o.Now(); now.Before(until) {
			return nil, &errcode.Error{Code: errcode.RateLimited, Op: op, Provider: o.Provider, Host: o.Host, RetryAt: until,
				Msg: "the token endpoint " + redact.URL(cc.TokenURL) + " rate-limits " + o.What + " until " + until.UTC().Format(time.RFC3339) + "; not asked before then"}
		}
		tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, client))
		if err != nil {
			if ctx.Err() != nil {
				return nil, abandoned(ctx)
			}
			e := oauthError(op, o.Host, o.What, grantRefused, o.Now(), err, clientSecrets(cc.ClientID, cc.ClientSecret)...)
			e.Provider = o.Provider
			if now := o.Now(); e.Code == errcode.RateLimited && e.RetryAt.After(now) {
				limited.Lock()
				// Kept rateLimitKept at most: a Retry-After of a year (a
				// misbehaving proxy) must not stop the grants for a year.
				limited.until = e.RetryAt
				if limit := now.Add(rateLimitKept); limited.until.After(limit) {
					limited.until = limit
				}
				limited.Unlock()
			}
			if log != nil && (e.Code == errcode.Unavailable || e.Code == errcode.RateLimited) {
				// e is scrubbed of the client secret (oauthError); one
				// record a minute at most.
				if ok, leftOut := warns.Allow(o.Now()); ok {
					log.WarnContext(ctx, "credentials: a token endpoint failed after the retry policy's attempts",
						"client", o.What, "host", o.Host, "code", e.Code.String(), "error", e.Error(), "failures_left_out", leftOut)
				}
			}
			return nil, e
		}
		exp := tok.Expiry
		switch d := expiresIn(tok); {
		case d > 0:
			exp = o.Now().Add(d)
		case exp.IsZero():
			if o.Lifetime != nil {
				exp = o.Lifetime(tok, o.Now())
			}
			if exp.IsZero() {
				exp = o.Now().Add(time.Hour) // a token endpoint that names no lifetime: Bitbucket's is 1-2 hours
			}
		}
		return &Credential{Kind: KindApp, Token: tok.AccessToken, Expiry: exp, Source: o.Source}, nil
	})
	cs := Cached(src, &CacheOptions{Margin: o.Margin, Now: o.Now})
	cs.cache.Abandoned = func(ctx context.Context, _ struct{}) error { return abandoned(ctx) }
	return cs
}
