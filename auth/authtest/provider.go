package authtest

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// Provider is an [auth.RedirectProvider] whose authorization server is the
// test itself: AuthCodeURL points straight back at the callback with a
// code, as a provider that approves at once would. Its refresh tokens
// rotate strictly, as GitHub's do: each works once, and only the newest
// one works. Set its fields before the first sign-in; a zero Provider
// signs in "alice" on "stub.example.com" with tokens that never expire.
type Provider struct {
	// ProviderInfo is what Info returns; default type "stub" on host
	// stub.example.com with issuer https://<host>.
	ProviderInfo auth.ProviderInfo
	// Identity is who signs in; default Subject "42", Login "alice".
	Identity auth.Identity
	// AccessPrefix and RefreshPrefix start the tokens, which end in a
	// generation number (1 for the sign-in, then one more per refresh);
	// defaults "at-" and "rt-".
	AccessPrefix, RefreshPrefix string
	// Scope is the scope of the sign-in's tokens.
	Scope string
	// Lifetime is how long an access token lives from Now; 0: no expiry.
	Lifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RefreshDelay is how long a refresh takes, as a provider's round
	// trip does, so that concurrent callers overlap; a refresh whose
	// context ends first fails without rotating.
	RefreshDelay time.Duration

	// Refreshes counts calls to Refresh; Refused counts those refused
	// for a refresh token that is not the newest.
	Refreshes, Refused atomic.Int32

	mu      sync.Mutex
	gen     int
	rt      string // the newest refresh token
	lastReq auth.AuthRequest
	revoked []auth.Tokens
}

var (
	_ auth.RedirectProvider = (*Provider)(nil)
	_ auth.Revoker          = (*Provider)(nil)
)

const providerCode = "c0de"

// Info describes the provider.
func (p *Provider) Info() auth.ProviderInfo {
	in := p.ProviderInfo
	in.Type = cmp.Or(in.Type, "stub")
	in.Host = cmp.Or(in.Host, "stub.example.com")
	in.Issuer = cmp.Or(in.Issuer, "https://"+in.Host)
	return in
}

// AuthCodeURL returns the callback URL with a code and req's state, and
// records req.
func (p *Provider) AuthCodeURL(_ context.Context, req auth.AuthRequest) (string, error) {
	p.mu.Lock()
	p.lastReq = req
	p.mu.Unlock()
	return req.RedirectURI + "?code=" + providerCode + "&state=" + url.QueryEscape(req.State), nil
}

// LastRequest returns the AuthRequest of the latest AuthCodeURL.
func (p *Provider) LastRequest() auth.AuthRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastReq
}

// Exchange signs Identity in for the code AuthCodeURL gave, sent with a
// PKCE verifier; any other callback is Unauthorized.
func (p *Provider) Exchange(_ context.Context, cb auth.Callback) (*auth.SignIn, error) {
	if cb.Code != providerCode || cb.CodeVerifier == "" {
		return nil, errcode.New(errcode.Unauthorized, "authtest.Provider", "bad code")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.Identity
	id.Subject = cmp.Or(id.Subject, "42")
	id.Login = cmp.Or(id.Login, "alice")
	t := p.issue()
	t.Scope = p.Scope
	return &auth.SignIn{Identity: id, Tokens: t}, nil
}

// Refresh rotates t's refresh token if it is the newest, after
// RefreshDelay; an older one is Unauthorized, as GitHub's
// bad_refresh_token.
func (p *Provider) Refresh(ctx context.Context, t auth.Tokens) (*auth.SignIn, error) {
	p.Refreshes.Add(1)
	if p.RefreshDelay > 0 {
		select {
		case <-time.After(p.RefreshDelay):
		case <-ctx.Done():
			return nil, errcode.FromContext(ctx, "authtest.Provider")
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.RefreshToken != p.rt {
		p.Refused.Add(1)
		return nil, errcode.New(errcode.Unauthorized, "authtest.Provider", "bad_refresh_token: the refresh token was already used")
	}
	return &auth.SignIn{Tokens: p.issue()}, nil
}

// Revoke records t as revoked (a logout): [Provider.Revoked] lists it.
// The tokens themselves stay usable.
func (p *Provider) Revoke(_ context.Context, t auth.Tokens) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.revoked = append(p.revoked, t)
	return nil
}

// Revoked returns the tokens Revoke was given, oldest first.
func (p *Provider) Revoked() []auth.Tokens {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.revoked)
}

// issue makes the next generation of tokens; p.mu is held.
func (p *Provider) issue() auth.Tokens {
	p.gen++
	n := strconv.Itoa(p.gen)
	p.rt = cmp.Or(p.RefreshPrefix, "rt-") + n
	t := auth.Tokens{AccessToken: cmp.Or(p.AccessPrefix, "at-") + n, RefreshToken: p.rt}
	if p.Lifetime > 0 {
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		t.Expiry = now().Add(p.Lifetime)
	}
	return t
}
