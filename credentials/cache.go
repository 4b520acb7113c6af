package credentials

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/scmkit/scmkit/credentials/internal/tokencache"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/internal/typednil"
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
	// Shared, with SharedKey, shares the credential with other processes
	// (replicas) through a store such as redisstore's: one of them
	// fetches it, the others read it from the store, and one of them
	// renews it. Nil, or a nil pointer (a *redisstore.Store from
	// FromConfig without Redis), shares nothing. The credential is stored as a
	// secret (the store encrypts it).
	Shared SharedStore
	// SharedKey names the credential in Shared, the same in every
	// replica and different for every credential, e.g.
	// "bitbucketCloud:bitbucket.org:oauth:<clientId>". Empty shares
	// nothing.
	SharedKey string
	// SharedLease bounds how long one replica may hold the right to
	// fetch before another takes it over; default 10s.
	SharedLease time.Duration
}

// SharedStore is a store shared by the replicas of a service, behind each
// replica's own caches of app credentials (GitHub App installations and
// installation tokens, OAuth client-credentials tokens). The package
// redisstore implements it with Redis; nothing in credentials needs one.
//
// Every method may fail (the store is down, slow, or was flushed): the
// caches then fetch from the provider as if there were no store, so a
// store costs requests when it fails and never changes an answer.
// Implementations should fail fast when the store is known to be down.
type SharedStore interface {
	// Load returns the value saved at key, if any.
	Load(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Lease takes the lease of key for ttl, the right to fetch its value
	// while the others wait, if no one holds it. It returns a fencing
	// token (> 0, greater than any earlier one for key) when it took the
	// lease, 0 when another holder has it.
	Lease(ctx context.Context, key string, ttl time.Duration) (fence int64, err error)
	// Save writes value at key for ttl (0: no expiry) unless a value
	// written under a newer fencing token is there, and releases the
	// lease of key if fence holds it. It reports whether it wrote. A
	// secret value is encrypted at rest.
	Save(ctx context.Context, key string, value []byte, ttl time.Duration, fence int64, secret bool) (bool, error)
	// Release gives up the lease of key if fence still holds it.
	Release(ctx context.Context, key string, fence int64) error
	// Delete removes the value at key.
	Delete(ctx context.Context, key string) error
}

// CachedSource is a [Source] that reuses its underlying source's
// credential until it is due for renewal. It is safe for concurrent use.
// The zero CachedSource is not usable; make one with [Cached].
type CachedSource struct {
	src   Source
	cache *tokencache.Cache[struct{}, *Credential]
	fetch tokencache.Fetch[*Credential]
}

// Cached returns a Source that calls src only when it has no credential, or
// when the one it has expires within the margin. Concurrent callers share
// one call to src, made outside any lock; each caller still returns as
// soon as its own context ends. Errors are not cached. A nil credential,
// or one without a token (unless KindAnonymous), from src is an
// Unauthorized error, never cached.
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
	if !typednil.Is(o.Shared) && o.SharedKey != "" {
		c.share(o.Shared, o.SharedKey, o.SharedLease)
	}
	c.fetch = func(ctx context.Context) (*Credential, time.Time, error) {
		cred, err := c.src.Credential(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		if cred == nil {
			return nil, time.Time{}, errcode.New(errcode.Unauthorized, "credentials.Cached", "the source returned no credential")
		}
		if cred.Token == "" && cred.Kind != KindAnonymous {
			// Not "no credential": a user's source may be the only one
			// a write may use, and an empty token cached (with no
			// expiry, for ever) would read as the user having none.
			return nil, time.Time{}, errcode.New(errcode.Unauthorized, "credentials.Cached", "the source returned a credential without a token")
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
	redact.Format(f, verb, c.String(), "&"+c.String()+"{}")
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

// share makes c share its credential through st under key.
func (c *CachedSource) share(st SharedStore, key string, lease time.Duration) {
	c.cache.Share(&tokencache.Sharing[struct{}, *Credential]{
		Store: st, Key: func(struct{}) string { return key }, Secret: true, Lease: lease,
		Encode: encodeCredential, Decode: decodeCredential,
	})
}

// logStoreFailures logs, at Warn, each failure of the shared store that
// c works around (nil log: none); what names the credential.
func (c *CachedSource) logStoreFailures(log *slog.Logger, what string) {
	if log == nil || !c.cache.Shared() {
		return
	}
	c.cache.OnShareFailure(func(ctx context.Context, op string, err error) {
		log.WarnContext(ctx, "credentials: the shared store failed; asking the provider without it",
			"credential", what, "store", op, "error", err.Error())
	})
}

// storedCredential is a Credential as a SharedStore holds it: with its
// token, which Credential's own MarshalJSON redacts.
type storedCredential struct {
	Kind     Kind      `json:"kind"`
	Token    string    `json:"token"`
	Username string    `json:"username,omitempty"`
	Expiry   time.Time `json:"expiry,omitzero"`
	Source   string    `json:"source,omitempty"`
}

func encodeCredential(c *Credential) ([]byte, error) {
	// JSON would store a byte that is not UTF-8 as U+FFFD: another
	// replica would read back another token. Such a credential is not
	// shared (each replica fetches its own).
	if !utf8.ValidString(c.Token) || !utf8.ValidString(c.Username) || !utf8.ValidString(c.Source) || !utf8.ValidString(string(c.Kind)) {
		return nil, errcode.New(errcode.InvalidArgument, "credentials.Cached", "a credential that is not UTF-8 text is not shared")
	}
	return json.Marshal(storedCredential{c.Kind, c.Token, c.Username, c.Expiry, c.Source})
}

func decodeCredential(b []byte) (*Credential, error) {
	var s storedCredential
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.Token == "" {
		return nil, errcode.New(errcode.Unavailable, "credentials.Cached", "the shared store holds a credential without a token")
	}
	return &Credential{Kind: s.Kind, Token: s.Token, Username: s.Username, Expiry: s.Expiry, Source: s.Source}, nil
}
