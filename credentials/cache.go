package credentials

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/scmkit/scmkit/credentials/internal/tokencache"
	"github.com/scmkit/scmkit/internal/errcode"
)

// DefaultMargin is how long before a cached credential expires it is
// renewed, unless options say otherwise. A credential that lives less than
// twice the margin is renewed at half its lifetime instead.
const DefaultMargin = 5 * time.Minute

// CacheOptions tunes [Cached]. A nil *CacheOptions gives the defaults.
type CacheOptions struct {
	// Margin is how long before its expiry a credential is renewed;
	// default DefaultMargin.
	Margin time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// CachedSource is a [Source] that reuses its underlying source's
// credential until it is due for renewal. Make one with [Cached].
type CachedSource struct {
	src   Source
	cache *tokencache.Cache[struct{}, *Credential]
	fetch tokencache.Fetch[*Credential]
}

// Cached returns a Source that calls src only when it has no credential, or
// when the one it has expires within the margin. Concurrent callers share
// one call to src, made outside any lock; each caller still returns as
// soon as its own context ends. Errors are not cached.
//
// Wrapping a *CachedSource wraps its underlying source instead, so
// credentials are never cached twice.
func Cached(src Source, opts *CacheOptions) *CachedSource {
	if c, ok := src.(*CachedSource); ok {
		src = c.src
	}
	var o CacheOptions
	if opts != nil {
		o = *opts
	}
	if o.Margin <= 0 {
		o.Margin = DefaultMargin
	}
	c := &CachedSource{src: src}
	c.cache = tokencache.New[struct{}, *Credential]("credentials.Cached", o.Now, o.Margin, func(struct{}) string { return "" })
	c.fetch = func(ctx context.Context) (*Credential, time.Time, error) {
		cred, err := c.src.Credential(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		if cred == nil {
			return nil, time.Time{}, errcode.New(errcode.Unauthorized, "credentials.Cached", "the source returned no credential")
		}
		return cred, cred.Expiry, nil
	}
	return c
}

// Credential returns the cached credential, or a new one from the
// underlying source.
func (c *CachedSource) Credential(ctx context.Context) (*Credential, error) {
	if cred, err, ok := c.cache.Peek(struct{}{}); ok {
		return cred, err
	}
	return c.cache.Get(ctx, struct{}{}, c.fetch)
}

// Invalidate drops the cached credential if it is cred (same token), so
// that the next call asks the underlying source. Call it when a server
// rejects cred. It reports whether it dropped anything.
func (c *CachedSource) Invalidate(cred *Credential) bool {
	if cred == nil {
		return false
	}
	return c.cache.DeleteFunc(func(_ struct{}, v *Credential) bool { return v.Token == cred.Token }) > 0
}

// String describes the source without any secret.
func (c *CachedSource) String() string { return "credentials.CachedSource" }

// Format prints String for every verb, so no verb shows a secret.
func (c *CachedSource) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, c.String(), "&"+c.String()+"{}")
}

// LogValue describes the source without any secret.
func (c *CachedSource) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Invalidator is implemented by sources that cache credentials and can be
// told that one was rejected ([CachedSource], [UserTokenSource]). The
// [Transport] uses it to retry a request that got 401 with a fresh
// credential.
type Invalidator interface {
	// Invalidate drops cred from the cache if it is still there, and
	// reports whether it did.
	Invalidate(cred *Credential) bool
}
