package identity

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/internal/warnlimit"
)

// Token types, the `typ` header of Backstage's tokens.
const (
	TypeUser        = "vnd.backstage.user"
	TypeLimitedUser = "vnd.backstage.limited-user"
)

// Audience is the `aud` of Backstage user tokens.
const Audience = "backstage"

// MaxTokenSize is Backstage's cap on a user token: 32,768 characters
// (about 500 ownership refs). Larger tokens are neither issued nor
// verified.
const MaxTokenSize = 32768

// Lifetime bounds: Backstage clamps auth.backstageTokenExpiration to
// [10 minutes, 24 hours], default 1 hour.
const (
	MinLifetime     = 10 * time.Minute
	MaxLifetime     = 24 * time.Hour
	DefaultLifetime = time.Hour
)

// clampLifetime returns d clamped to [MinLifetime, MaxLifetime] as
// Backstage clamps the token lifetime; 0 means DefaultLifetime.
func clampLifetime(d time.Duration) time.Duration {
	if d == 0 {
		return DefaultLifetime
	}
	return min(max(d, MinLifetime), MaxLifetime)
}

// IssuerOptions configure an [Issuer]. Issuer is required (NewIssuer
// refuses nil options); the other fields default as each says.
type IssuerOptions struct {
	// Issuer is the `iss` claim: the auth backend's external base URL,
	// e.g. "https://portal.example.com/api/auth". Required.
	Issuer string
	// Lifetime of tokens, 0 for DefaultLifetime, else clamped to
	// [MinLifetime, MaxLifetime] as Backstage does; keys rotate every
	// Lifetime and are published for 3 × Lifetime.
	Lifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for keys; nil means crypto/rand.
	Rand io.Reader
	// Algorithm signs the tokens: "ES256" (the default, as Backstage),
	// "ES384" or "ES512", as Backstage's auth.identityTokenAlgorithm.
	Algorithm string
	// KeyStore is where the Issuer publishes its public keys and reads
	// the other replicas' (Backstage's auth.keyStore); nil means a
	// [MemoryKeyStore] of its own, so that only this Issuer's keys are
	// published. Give every replica of a fleet the same shared store
	// (redisstore's Store.IssuerKeys) so that each one's JWKS lists all
	// of their keys.
	KeyStore KeyStore
	// Logger, if set, receives a Warn record for every stored key the
	// JWKS leaves out (malformed, or not of the Issuer's algorithm) and
	// for a failed removal of expired keys; nil means silent.
	Logger *slog.Logger
	// OmitOwnershipClaim leaves the ent claim out of the user tokens
	// (Backstage's auth.omitIdentityTokenOwnershipClaim), so that the
	// token of a user in many groups stays small (Backstage's limit is
	// [MaxTokenSize]); her ownership refs are then served by the user
	// info endpoint ([Issuer.UserInfoHandler]), which verifiers ask
	// (VerifierOptions.UserInfoURL). The sign-in response still lists
	// them.
	OmitOwnershipClaim bool
	// UserInfo is where the Issuer records, at each token, the user
	// info its UserInfoHandler serves: one write per token. When it fails,
	// a token without ent (OmitOwnershipClaim) is not issued; one with ent
	// is, and the failure is logged. nil means none is recorded, unless
	// OmitOwnershipClaim is set: then a [MemoryUserInfoStore] of its own,
	// for a single replica (NewIssuer refuses OmitOwnershipClaim with a
	// KeyStore other than a MemoryKeyStore and no UserInfo). Give every
	// replica of a fleet the same shared store (redisstore's
	// Store.UserInfo), as for KeyStore. With StaticKeys, the replicas of a
	// fleet share their keys without a KeyStore, so OmitOwnershipClaim
	// needs UserInfo set too (NewIssuer refuses it otherwise): give a
	// shared store, or for a single replica a &MemoryUserInfoStore{}.
	UserInfo UserInfoStore
	// StaticKeys, when set, are the only keys of the Issuer (Backstage's
	// auth.keyStore.provider: static): the first signs every token (its
	// KeyID is the kid, its Algorithm the alg; Algorithm above is not
	// used), and all of them are published in the JWKS, in this order.
	// The Issuer never makes, rotates, publishes elsewhere or removes a
	// key: KeyStore must be nil, Rand and the key rotation of Lifetime are
	// not used (Lifetime still sets the tokens' lifetime), Republish and
	// StartRepublishing do nothing, and Revoke is refused (remove the key
	// from the list on every replica instead; see [StaticKey] for the
	// rotation order). Every replica given the same keys signs with the
	// same key and serves the same JWKS. NewIssuer refuses an empty kid or
	// one with characters unsafe in a JWT header, two keys with one kid, a
	// curve that does not fit the algorithm, a public key that is not the
	// private key's half, and a first key without its private key.
	StaticKeys []StaticKey
}

// ecAlg is a supported signing algorithm.
type ecAlg struct {
	name   string
	curve  elliptic.Curve
	crv    string
	size   int
	method *jwt.SigningMethodECDSA
}

func algorithm(name string) (ecAlg, bool) {
	switch name {
	case "", "ES256":
		return ecAlg{"ES256", elliptic.P256(), "P-256", 32, jwt.SigningMethodES256}, true
	case "ES384":
		return ecAlg{"ES384", elliptic.P384(), "P-384", 48, jwt.SigningMethodES384}, true
	case "ES512":
		return ecAlg{"ES512", elliptic.P521(), "P-521", 66, jwt.SigningMethodES512}, true
	}
	return ecAlg{}, false
}

// Issuer mints Backstage user tokens (ES256, `typ` vnd.backstage.user,
// `aud` backstage) and publishes its public keys as a JWKS. Its signing
// key rotates every token lifetime; a key is published from its creation
// until 3 × lifetime after it, so that every token it signed verifies
// until it expires (overlap-based rotation, as Backstage's TokenFactory).
// It is safe for concurrent use.
//
// The private key stays in the Issuer's memory and is never shared. Its
// public half is published in IssuerOptions.KeyStore before the first
// token it signs is handed out (the first Issue makes the first key; JWKS
// is empty before), and JWKS lists every unexpired key of that store. With
// several replicas behind a load balancer, give them one shared store
// (redisstore's Store.IssuerKeys): each replica signs with its own key,
// and a [Verifier] reading any replica's JWKS URL accepts every replica's
// tokens; a verifier refetches the JWKS for a token made after its last
// fetch (at most once a second; such a token arriving sooner waits for
// the rest of that second), so a replica's new key is known at once.
// Each replica keeps its own keys and the others' it has read until they
// expire, and writes its signing key again when it issues (once a minute)
// and its unexpired keys when its JWKS finds them missing; with
// [Issuer.StartRepublishing] (call it on every replica of a fleet, and
// [Issuer.Close] at shutdown) it also does so every minute while idle, so
// a store that loses its data (Redis flushed or failed over) hides no
// key from replicas started since for more than a minute. While the store
// cannot be read, the JWKS endpoint serves the keys the replica holds in
// memory (see [Issuer.JWKSHandler]). A key expires 3 × the lifetime of the
// replica that made it after its creation, so replicas with different
// lifetimes or algorithms (during a configuration change) serve each
// other's keys. Without a shared store (the default in-memory one), each
// replica's JWKS lists only its own keys.
//
// With IssuerOptions.StaticKeys (Backstage's auth.keyStore.provider:
// static) none of this happens: the operator's first key signs every token,
// every listed public key is published, and nothing is made, rotated,
// stored or revoked at run time; replicas configured alike sign with the
// same key and serve the same JWKS (see [StaticKey]).
//
// To revoke a key (its private half leaked, say), call [Issuer.Revoke]
// on any replica with its kid: the store refuses the key from then on,
// every replica stops serving it and the one that made it stops signing
// with it and makes a new key. Deleting a key from the store
// (KeyStore.RemoveKeys) revokes nothing: the replica that made it writes
// it back, as after a store that lost its data, and the others serve it
// from memory until it expires.
//
// The zero Issuer is not usable; make one with [NewIssuer].
type Issuer struct {
	iss      string
	alg      ecAlg
	lifetime time.Duration
	now      func() time.Time
	rand     io.Reader
	store    KeyStore
	log      *slog.Logger
	omitEnt  bool
	userInfo UserInfoStore // nil: none recorded
	selfOnce sync.Once     // makes self, UserInfoHandler's verifier
	self     *Verifier
	selfErr  error
	infoLog  warnlimit.Limiter // Warn records of UserInfoHandler's store failures
	static   *staticSet        // IssuerOptions.StaticKeys; nil: the Issuer makes its keys

	publish chan struct{} // held while a new key is made and published

	mu        sync.Mutex
	cur       *signingKey          // the key that signs; nil before the first Issue
	own       []*signingKey        // this Issuer's keys not yet expired, oldest first (cur last)
	known     map[string]StoredKey // others' keys read from the store, until they expire
	published time.Time            // when cur was last written to the store
	retryAt   time.Time            // no new key before, after a failed publication
	warned    map[string]bool      // kids already logged as left out
	revoked   map[string]time.Time // kids revoked (by Revoke or as read from the store), until their revocation ends

	listing   []StoredKey        // the store's keys as last listed, with this Issuer's writes since; never modified in place
	listedAt  time.Time          // when listing was read; zero: never
	lists     singleflight.Group // one ListKeys at a time
	storeDown bool               // the last listing failed (logged once per outage)
	flight    *listFlight        // the shared ListKeys under way, if any
	stop      context.CancelFunc // stops StartRepublishing's goroutine; nil when none runs
	stopped   chan struct{}      // closed when that goroutine has ended
	running   context.Context    // that goroutine's context: done, it is ending
	ending    []chan struct{}    // stopped of goroutines replaced while ending, for Close to wait on
}

type signingKey struct {
	kid     string
	priv    *ecdsa.PrivateKey
	created time.Time
}

// NewIssuer returns an Issuer. It returns InvalidArgument when
// opts.Issuer is not an absolute http(s) URL, the algorithm is not
// supported, StaticKeys are not valid (or come with a KeyStore), or
// OmitOwnershipClaim needs a UserInfo store that is not given (see
// IssuerOptions.UserInfo).
func NewIssuer(opts *IssuerOptions) (*Issuer, error) {
	const op = "identity.NewIssuer"
	var o IssuerOptions
	if opts != nil {
		o = *opts
	}
	if !strings.HasPrefix(o.Issuer, "https://") && !strings.HasPrefix(o.Issuer, "http://") {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "issuer must be the auth backend's http(s) base URL, got %q", o.Issuer)
	}
	alg, ok := algorithm(o.Algorithm)
	var static *staticSet
	if o.StaticKeys != nil {
		if o.KeyStore != nil {
			return nil, errcode.New(errcode.InvalidArgument, op, "StaticKeys are not published in a KeyStore: every replica given the same keys serves them; leave KeyStore nil")
		}
		var err error
		if static, alg, err = newStaticSet(op, o.StaticKeys); err != nil {
			return nil, err
		}
		ok = true
	}
	if !ok {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "algorithm must be ES256, ES384 or ES512, got %q", o.Algorithm)
	}
	is := &Issuer{iss: o.Issuer, alg: alg, lifetime: clampLifetime(o.Lifetime), now: o.Now, rand: o.Rand, static: static,
		store: o.KeyStore, log: o.Logger, publish: make(chan struct{}, 1), omitEnt: o.OmitOwnershipClaim, userInfo: o.UserInfo}
	if is.now == nil {
		is.now = time.Now
	}
	if is.rand == nil {
		is.rand = rand.Reader
	}
	if is.store == nil {
		is.store = &MemoryKeyStore{now: is.now}
	}
	if is.userInfo == nil && is.omitEnt {
		if is.static != nil {
			// Static keys are how a fleet shares its keys without a
			// store: as with a shared KeyStore, another replica must know
			// the user info of this one's tokens.
			return nil, errcode.New(errcode.InvalidArgument, op, "OmitOwnershipClaim with StaticKeys needs a UserInfo store: the replicas that share the keys "+
				"must share the user info too (redisstore's Store.UserInfo); for a single replica, give UserInfo: &identity.MemoryUserInfoStore{}")
		}
		if _, own := is.store.(*MemoryKeyStore); !own {
			// A fleet (a shared key store) would keep each replica's user
			// info in its own memory: another replica's endpoint would
			// answer 404, and verifiers refuse the token.
			return nil, errcode.New(errcode.InvalidArgument, op, "OmitOwnershipClaim with a shared KeyStore needs a shared UserInfo store too "+
				"(redisstore's Store.UserInfo): another replica's user info endpoint must know the tokens this one issues")
		}
		is.userInfo = &MemoryUserInfoStore{clock: is.now}
	}
	return is, nil
}

// Lifetime returns the (clamped) token lifetime.
func (is *Issuer) Lifetime() time.Duration { return is.lifetime }

// Timing of key publication.
const (
	// republishEvery is how often an Issuer writes its signing key to
	// the store again (on an Issue), so that a store that lost it (Redis
	// flushed or failed over) has it back within this time.
	republishEvery = time.Minute
	// publishRetry is how long an Issuer whose new key could not be
	// published keeps signing with the previous one before trying again.
	publishRetry = 10 * time.Second
)

// current returns the signing key if it is younger than the lifetime, and
// whether it is due to be written to the store again.
func (is *Issuer) current(now time.Time) (k *signingKey, republish bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.cur == nil || now.Sub(is.cur.created) >= is.lifetime {
		// Past its lifetime it may still sign while a new key cannot be
		// published, up to 2 × lifetime (its tokens then expire before
		// it stops being published, at 3 × lifetime).
		if is.cur != nil && now.Before(is.retryAt) && now.Sub(is.cur.created) < 2*is.lifetime {
			return is.cur, false
		}
		return nil, false
	}
	if now.Sub(is.published) >= republishEvery {
		is.published = now // one caller writes it
		return is.cur, true
	}
	return is.cur, false
}

// key returns the current signing key. When there is none or it is older
// than the lifetime, it makes a new one and publishes it in the key store
// before returning it (one publication at a time: concurrent callers wait
// for it and share the key). When the store fails, the previous key goes
// on signing until it is 2 × lifetime old (retrying the store every
// publishRetry); past that, or without a previous key, the call is
// Unavailable. The signing key is written to the store again every
// republishEvery, best-effort.
func (is *Issuer) key(ctx context.Context, op string) (*signingKey, error) {
	if is.static != nil {
		return is.static.signer, nil
	}
	now := is.now()
	if k, republish := is.current(now); k != nil {
		if !republish {
			return k, nil
		}
		err := is.store.AddKey(ctx, is.stored(k))
		switch {
		case err == nil:
			is.listed(is.stored(k))
			return k, nil
		case errcode.CodeOf(err) != errcode.Conflict:
			is.warn("identity: writing the signing key to the key store again failed: "+err.Error(), k.kid)
			return k, nil
		}
		// Revoked (by another replica's Revoke, or an operator): it
		// signs nothing more; a new key is made below.
		is.warn("identity: the signing key was revoked in the key store; making a new one", k.kid)
		is.forget(map[string]time.Time{k.kid: now.Add(RevocationPeriod)})
	}
	select {
	case is.publish <- struct{}{}:
	case <-ctx.Done():
		return nil, errcode.FromContext(ctx, op)
	}
	defer func() { <-is.publish }()
	if k, _ := is.current(is.now()); k != nil {
		return k, nil // published while this caller waited, or still in its retry pause
	}
	for range 3 {
		k, err := is.newKey(ctx, op)
		if k != nil || err != nil {
			return k, err
		}
	}
	return nil, errcode.New(errcode.Unavailable, op, "every new signing key was revoked as it was published; try again")
}

// newKey makes a signing key and publishes it; see key. It returns
// neither key nor error when the key was revoked as soon as it was
// published (an operator revoking every key listed): it signs nothing,
// and the caller makes another.
func (is *Issuer) newKey(ctx context.Context, op string) (*signingKey, error) {
	priv, err := ecdsa.GenerateKey(is.alg.curve, is.rand)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.Unknown, Op: op, Msg: "generating a signing key", Err: err}
	}
	kid, err := newUUID(is.rand)
	if err != nil {
		return nil, err
	}
	k := &signingKey{kid: kid, priv: priv, created: is.now()}
	if err := is.store.AddKey(ctx, is.stored(k)); err != nil {
		if ctxErr := errcode.FromContext(ctx, op); ctxErr != nil {
			return nil, ctxErr
		}
		is.mu.Lock()
		prev := is.cur
		is.retryAt = is.now().Add(publishRetry)
		is.mu.Unlock()
		if prev != nil && is.now().Sub(prev.created) < 2*is.lifetime {
			is.warn("identity: a new signing key could not be published; the previous one signs meanwhile: "+err.Error(), prev.kid)
			return prev, nil
		}
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "publishing a new signing key in the key store", Err: err}
	}
	is.listed(is.stored(k))
	is.mu.Lock()
	if end, ok := is.revoked[k.kid]; ok && is.now().Before(end) {
		is.mu.Unlock()
		return nil, nil
	}
	is.cur, is.published, is.retryAt = k, k.created, time.Time{}
	is.own = append(slices.DeleteFunc(is.own, func(o *signingKey) bool { return !k.created.Before(is.expiry(o)) }), k)
	is.mu.Unlock()
	return k, nil
}

// expiry is when k stops being published.
func (is *Issuer) expiry(k *signingKey) time.Time { return k.created.Add(3 * is.lifetime) }

// stored is k as published.
func (is *Issuer) stored(k *signingKey) StoredKey {
	return StoredKey{Key: is.alg.jwk(k.kid, &k.priv.PublicKey), Created: k.created, Expires: is.expiry(k)}
}

func newUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", &errcode.Error{Code: errcode.Unknown, Op: "identity.Issuer", Msg: "reading randomness", Err: err}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// reserved claims cannot be set through Extra.
var reserved = []string{"iss", "sub", "ent", "aud", "iat", "exp", "nbf", "jti", "uip", "typ"}

// IssueRequest is what a token says.
type IssueRequest struct {
	// Subject is the user's entity ref, "user:default/alice".
	Subject string
	// Ent are her ownership refs; empty means Subject, as in
	// Backstage.
	Ent []string
	// Extra claims from a sign-in resolver; reserved names are refused.
	Extra map[string]any
}

// Token is an issued token.
type Token struct {
	// Token is the JWT. It is a secret: Token's String, Format and
	// MarshalJSON do not show it.
	Token     string
	ExpiresAt time.Time
	User      User
}

// String describes t without its secret.
func (t Token) String() string {
	return "backstage user token for " + t.User.EntityRef + ", expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
}

// Format prints String under every verb, so no verb shows the token.
func (t Token) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// MarshalJSON writes the metadata with the token redacted.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expiresAt"`
		User      User      `json:"identity"`
	}{redact.Mark, t.ExpiresAt, t.User})
}

// Issue mints a user token: header {alg (ES256 by default), kid, typ:
// vnd.backstage.user}, claims iss, sub, ent, aud "backstage", iat, exp
// (iat + lifetime), uip (the signature of the matching limited user
// token), and the extras. It returns InvalidArgument when Subject is not
// an entity ref, an ent ref is malformed, an extra claim is reserved, or
// the token would exceed [MaxTokenSize]. When its signing key is due (the
// first Issue, then once per lifetime), it publishes a new one in the key
// store first; when the store fails, the previous key signs until it is 2
// × lifetime old, and past that (or without one) Issue returns
// Unavailable, without a token. Otherwise it touches the store only to
// write the signing key again, once a minute (best-effort).
func (is *Issuer) Issue(ctx context.Context, r IssueRequest) (*Token, error) {
	const op = "identity.Issue"
	if err := errcode.FromContext(ctx, op); err != nil {
		return nil, err
	}
	if !isEntityRef(r.Subject) {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "subject %q is not an entity ref (kind:namespace/name)", r.Subject)
	}
	ent := r.Ent
	if len(ent) == 0 {
		ent = []string{r.Subject}
	}
	for _, e := range ent {
		if !isEntityRef(e) {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "ownership ref %q is not an entity ref", e)
		}
	}
	k, err := is.key(ctx, op)
	if err != nil {
		return nil, err
	}
	now := is.now().Truncate(time.Second)
	iat, exp := now.Unix(), now.Add(is.lifetime).Unix()
	uip, err := is.limitedSignature(k, r.Subject, iat, exp)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	for name, v := range r.Extra {
		if slices.Contains(reserved, name) {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "extra claim %q is reserved", name)
		}
		claims[name] = v
	}
	claims["iss"], claims["sub"], claims["aud"] = is.iss, r.Subject, Audience
	if !is.omitEnt {
		claims["ent"] = ent
	}
	claims["iat"], claims["exp"], claims["uip"] = iat, exp, uip
	t := jwt.NewWithClaims(is.alg.method, claims)
	t.Header["kid"] = k.kid
	t.Header["typ"] = TypeUser
	s, err := t.SignedString(k.priv)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.Unknown, Op: op, Msg: "signing", Err: err}
	}
	if len(s) > MaxTokenSize {
		msg := fmt.Sprintf("the token for %s would be %d characters, more than Backstage's limit of %d (too many ownership refs: %d; IssuerOptions.OmitOwnershipClaim leaves them out)", r.Subject, len(s), MaxTokenSize, len(ent))
		if is.omitEnt {
			msg = fmt.Sprintf("the token for %s would be %d characters, more than Backstage's limit of %d (too many extra claims)", r.Subject, len(s), MaxTokenSize)
		}
		return nil, errcode.New(errcode.InvalidArgument, op, msg)
	}
	if is.userInfo != nil {
		info := UserInfo{User: User{EntityRef: r.Subject, OwnershipEntityRefs: slices.Clone(ent)}, ExpiresAt: time.Unix(exp, 0), Extra: maps.Clone(r.Extra)}
		if err := is.userInfo.PutUserInfo(ctx, info); err != nil {
			if is.omitEnt {
				// Without ent, a token whose user info is unknown gives its
				// user no groups: not issued.
				return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "recording the user info of " + r.Subject + " (its token is not issued)", Err: err}
			}
			// The token carries ent: verifiers need no user info.
			if ok, leftOut := is.infoLog.Allow(is.now()); ok && is.log != nil {
				is.log.Warn("identity: recording user info failed; the token carries ent, so it is issued", slog.String("error", err.Error()), slog.Int("left_out", leftOut))
			}
		}
	}
	return &Token{Token: s, ExpiresAt: time.Unix(exp, 0), User: User{EntityRef: r.Subject, OwnershipEntityRefs: slices.Clone(ent)}}, nil
}

// limitedParts returns the header and payload segments of the limited
// user token, with Backstage's field order: header {typ, alg, kid},
// payload {sub, iat, exp}.
func limitedParts(alg, kid, sub string, iat, exp int64) string {
	h, _ := json.Marshal(struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}{TypeLimitedUser, alg, kid})
	p, _ := json.Marshal(struct {
		Sub string `json:"sub"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
	}{sub, iat, exp})
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p)
}

func (is *Issuer) limitedSignature(k *signingKey, sub string, iat, exp int64) (string, error) {
	sig, err := is.alg.method.Sign(limitedParts(is.alg.name, k.kid, sub, iat, exp), k.priv)
	if err != nil {
		return "", &errcode.Error{Code: errcode.Unknown, Op: "identity.Issue", Msg: "signing the limited token", Err: err}
	}
	return base64.RawURLEncoding.EncodeToString(sig), nil
}

// LimitedToken rebuilds the limited user token of a user token from its
// uip claim, as any Backstage service can: header {typ:
// vnd.backstage.limited-user, alg, kid}, payload {sub, iat, exp}, and the
// uip signature. It does not verify the user token; verify the result.
// A limited token is returned as it is.
func LimitedToken(userToken string) (string, error) {
	const op = "identity.LimitedToken"
	if len(userToken) > MaxTokenSize {
		return "", errcode.New(errcode.InvalidArgument, op, "token is larger than the size limit")
	}
	var claims struct {
		Sub string `json:"sub"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
		Uip string `json:"uip"`
	}
	t, _, err := jwt.NewParser().ParseUnverified(userToken, jwt.MapClaims{})
	if err != nil {
		return "", errcode.New(errcode.InvalidArgument, op, "not a JWT")
	}
	typ, _ := t.Header["typ"].(string)
	if typ == TypeLimitedUser {
		return userToken, nil
	}
	alg, _ := t.Header["alg"].(string)
	kid, _ := t.Header["kid"].(string)
	if typ != TypeUser || alg == "" || kid == "" {
		return "", errcode.New(errcode.InvalidArgument, op, "not a Backstage user token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(userToken, ".")[1])
	if err != nil || json.Unmarshal(payload, &claims) != nil || claims.Uip == "" {
		return "", errcode.New(errcode.InvalidArgument, op, "the user token has no uip claim")
	}
	return limitedParts(alg, kid, claims.Sub, claims.Iat, claims.Exp) + "." + claims.Uip, nil
}

// JWK is a public JSON Web Key (RFC 7517) of an EC or RSA key.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the published public keys, oldest first: the unexpired
// keys of the key store, this Issuer's own keys (from its memory, written
// to the store again when it lost them), and the other replicas' keys it
// read from the store before, until they expire (so that a store that
// lost its data, Redis flushed or failed over, does not hide them until
// their replicas write them again). A key expires at its
// StoredKey.Expires (3 × the lifetime of the Issuer that made it);
// expired keys are removed from the store on the way, best-effort (a
// failure is logged, not returned). Stored keys a verifier could not use
// — malformed, not EC on a supported curve, of an algorithm that does not
// match its curve, not for signing, made in the future, a kid listed
// twice, or another value under one of this Issuer's kids — are left out
// and logged once.
//
// The store is read once per call, except that a shared store's answer
// (any KeyStore but a [MemoryKeyStore]) is reused for up to a second, and
// concurrent calls share one read: the JWKS endpoint is public, and a
// flood of requests must not be a flood on the fleet's Redis. This
// Issuer's own keys are served from its memory, so a key it has just made
// is listed at once; another replica's new key is listed within that
// second (a [Verifier] fetches again, once a second, for a token made
// after its last fetch). The shared read is not cancelled with the
// request that started it, but bounded by 10 s of its own; each caller
// stops waiting for it when its own ctx is done, and a read unanswered
// for 2 s is not joined any more: the next caller reads the store again,
// so that one hung read cannot stop every later JWKS and Republish. It
// returns Unavailable when the store cannot be read (the JWKSHandler then
// serves the keys this Issuer holds), and the context's error when ctx is
// done.
//
// With IssuerOptions.StaticKeys it returns their public keys, in the
// configured order, and reads no store.
func (is *Issuer) JWKS(ctx context.Context) (JWKS, error) {
	set, _, err := is.jwks(ctx, false)
	return set, err
}

// Timing of the shared store's listing.
const (
	// listingReuse is how long a shared store's ListKeys answer is
	// reused.
	listingReuse = time.Second
	// listTimeout bounds a shared ListKeys, which no caller's context
	// cancels.
	listTimeout = 10 * time.Second
	// listingStuck is how long a shared ListKeys may run before later
	// callers stop joining it and start another (at most one every
	// listingStuck while the store hangs, each ending at listTimeout).
	listingStuck = 2 * time.Second
	// jwksWait is how long JWKSHandler waits for the store before it
	// serves the keys the Issuer holds in memory.
	jwksWait = 500 * time.Millisecond
)

// jwks is JWKS; with remembered, when the store cannot be read, it returns
// the keys this Issuer holds in memory instead (if it holds any) and
// reports it.
func (is *Issuer) jwks(ctx context.Context, remembered bool) (set JWKS, fromMemory bool, err error) {
	const op = "identity.Issuer.JWKS"
	if err := errcode.FromContext(ctx, op); err != nil {
		return JWKS{}, false, err
	}
	if is.static != nil {
		return is.static.jwks(), false, nil
	}
	sctx := ctx // the store's calls
	if remembered {
		// The handler waits for the store jwksWait at most, then serves
		// what it holds: a hung store must not hang the endpoint.
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, jwksWait)
		defer cancel()
	}
	stored, err := is.listKeys(sctx, false)
	if err != nil {
		if ctxErr := errcode.FromContext(ctx, op); ctxErr != nil {
			return JWKS{}, false, ctxErr
		}
		is.noteStoreDown(err)
		if remembered {
			if set := is.remembered(is.now()); len(set.Keys) > 0 {
				return set, true, nil
			}
		}
		return JWKS{}, false, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "reading the key store", Err: err}
	}
	if remembered {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, jwksWait)
		defer cancel()
	}
	set, _ = is.merge(sctx, stored)
	return set, false, nil
}

// listKeys returns the store's keys: a shared store's answer of less than
// listingReuse ago unless fresh, else one read shared by concurrent
// callers. A MemoryKeyStore is read every time (it costs nothing).
func (is *Issuer) listKeys(ctx context.Context, fresh bool) ([]StoredKey, error) {
	if _, local := is.store.(*MemoryKeyStore); local {
		return is.store.ListKeys(ctx)
	}
	if !fresh {
		now := is.now()
		is.mu.Lock()
		list, at := is.listing, is.listedAt
		is.mu.Unlock()
		if !at.IsZero() && !now.Before(at) && now.Sub(at) < listingReuse {
			return list, nil
		}
	}
	now := is.now()
	is.mu.Lock()
	if f := is.flight; f != nil && now.Sub(f.started) >= listingStuck {
		// A read that has not answered for this long is taken for hung:
		// later callers start another rather than wait for it (it ends
		// at its own listTimeout, and its answer is then ignored unless
		// it is the newest).
		is.lists.Forget("list")
		is.flight = nil
	}
	is.mu.Unlock()
	ch := is.lists.DoChan("list", func() (any, error) {
		at := is.now()
		f := &listFlight{started: at}
		is.mu.Lock()
		is.flight = f
		is.mu.Unlock()
		defer func() {
			is.mu.Lock()
			if is.flight == f {
				is.flight = nil
			}
			is.mu.Unlock()
		}()
		// Shared by every caller: not cancelled with the first one's
		// request, but bounded by listTimeout of its own, so that a store
		// that honours only the context (a connection gone silent) cannot
		// hold it for good.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listTimeout)
		defer cancel()
		list, err := is.store.ListKeys(lctx)
		if err != nil {
			return nil, err
		}
		is.mu.Lock()
		if !at.Before(is.listedAt) { // not a late answer of a read taken for hung
			is.listing, is.listedAt, is.storeDown = list, at, false
		}
		is.mu.Unlock()
		return list, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]StoredKey), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// listFlight is a shared ListKeys under way.
type listFlight struct{ started time.Time }

// listed records in the reused listing that this Issuer wrote k to the
// store, so that its next answers list k without reading the store again
// (and do not write it again).
func (is *Issuer) listed(k StoredKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if !is.listedAt.IsZero() {
		l := slices.DeleteFunc(slices.Clone(is.listing), func(s StoredKey) bool { return s.Key.Kid == k.Key.Kid })
		is.listing = append(l, k)
	}
}

// unlisted records in the reused listing that this Issuer removed kids
// from the store (or tried to: a failed removal is tried again at the next
// read, not on every answer).
func (is *Issuer) unlisted(kids []string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.listing = slices.DeleteFunc(slices.Clone(is.listing), func(s StoredKey) bool { return slices.Contains(kids, s.Key.Kid) })
}

// noteStoreDown logs, once until the store is read again, that it cannot
// be read.
func (is *Issuer) noteStoreDown(err error) {
	is.mu.Lock()
	first := !is.storeDown
	is.storeDown = true
	is.mu.Unlock()
	if first {
		is.warn("identity: the key store cannot be read; the JWKS endpoint serves the keys this Issuer holds in memory until it can: "+err.Error(), "")
	}
}

// remembered returns the keys this Issuer holds in memory: its own and
// those it read from the store before, unexpired.
func (is *Issuer) remembered(now time.Time) JWKS {
	keep := map[string]StoredKey{}
	is.mu.Lock()
	for kid, k := range is.known {
		if now.Before(k.Expires) {
			keep[kid] = k
		}
	}
	for _, k := range is.own {
		if now.Before(is.expiry(k)) {
			keep[k.kid] = is.stored(k)
		}
	}
	is.mu.Unlock()
	return sortedSet(keep)
}

// sortedSet returns keys as a JWKS, oldest first.
func sortedSet(keys map[string]StoredKey) JWKS {
	list := slices.SortedFunc(maps.Values(keys), func(a, b StoredKey) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.Key.Kid, b.Key.Kid))
	})
	out := JWKS{Keys: make([]JWK, 0, len(list))}
	for _, k := range list {
		out.Keys = append(out.Keys, k.Key)
	}
	return out
}

// merge returns the JWKS of the stored keys and this Issuer's memory (see
// JWKS), removes the expired keys from the store and writes back the own
// keys it lost; the error is the first failed write back, if any.
func (is *Issuer) merge(ctx context.Context, stored []StoredKey) (JWKS, error) {
	now := is.now()
	revoked := map[string]time.Time{}
	for _, sk := range stored {
		if sk.Revoked {
			revoked[sk.Key.Kid] = sk.Expires
		}
	}
	if len(revoked) > 0 {
		is.forget(revoked)
	}
	is.reassert(ctx, revoked, now)
	is.mu.Lock()
	own := map[string]*signingKey{}
	for _, k := range is.own {
		if now.Before(is.expiry(k)) {
			own[k.kid] = k
		}
	}
	is.mu.Unlock()
	var (
		keep    = map[string]StoredKey{}
		expired []string
		listed  = map[string]bool{}
		dup     = map[string]bool{}
	)
	for _, sk := range stored {
		if sk.Revoked || is.isRevoked(sk.Key.Kid, now) {
			continue // the store keeps revocations, and ends them
		}
		exp := sk.Expires
		if exp.IsZero() {
			exp = sk.Created.Add(3 * is.lifetime)
		}
		if !now.Before(exp) {
			expired = append(expired, sk.Key.Kid)
			continue
		}
		if k := own[sk.Key.Kid]; k != nil {
			// This Issuer's own keys are served from memory, never as
			// stored.
			if is.stored(k).Key != sk.Key {
				is.warn("identity: left a stored key out of the JWKS: it has the kid of this Issuer's signing key, and another value", sk.Key.Kid)
			} else {
				listed[sk.Key.Kid] = true
			}
			continue
		}
		if dup[sk.Key.Kid] {
			continue
		}
		if listed[sk.Key.Kid] {
			// The same key twice is served once; two values under one
			// kid are both left out (a verifier cannot tell them apart).
			is.warn("identity: left a stored key out of the JWKS: its kid is listed twice", sk.Key.Kid)
			if first, ok := keep[sk.Key.Kid]; !ok || first.Key != sk.Key && usableKey(sk.Key) != first.Key {
				delete(keep, sk.Key.Kid)
				dup[sk.Key.Kid] = true
			}
			continue
		}
		listed[sk.Key.Kid] = true
		k, why := usable(sk.Key)
		if why == "" && sk.Created.Sub(now) > is.lifetime {
			why = "it was made in the future"
		}
		if why != "" {
			is.warn("identity: left a stored key out of the JWKS: "+why, sk.Key.Kid)
			continue
		}
		keep[k.Kid] = StoredKey{Key: k, Created: sk.Created, Expires: exp}
	}
	if len(expired) > 0 {
		if err := is.store.RemoveKeys(ctx, expired); err != nil {
			is.warn("identity: could not remove expired keys from the key store (they are not served): "+err.Error(), "")
		}
		is.unlisted(expired)
	}
	is.mu.Lock()
	if is.known == nil {
		is.known = map[string]StoredKey{}
	}
	for kid, k := range keep {
		is.known[kid] = k
	}
	for kid, k := range is.known {
		switch {
		case !now.Before(k.Expires) || dup[kid]:
			delete(is.known, kid)
		case !listed[kid]:
			keep[kid] = k // lost by the store: served until it expires
		}
	}
	is.mu.Unlock()
	var writeErr error
	for kid, k := range own {
		sk := is.stored(k)
		if !listed[kid] {
			err := is.store.AddKey(ctx, sk)
			if errcode.CodeOf(err) == errcode.Conflict {
				// Revoked while the store did not list it: forgotten,
				// not served.
				is.warn("identity: a signing key was revoked in the key store; it is not served or used any more", kid)
				is.forget(map[string]time.Time{kid: now.Add(RevocationPeriod)})
				continue
			}
			if err != nil {
				is.warn("identity: could not write a signing key to the key store again, which had lost it: "+err.Error(), kid)
				writeErr = cmp.Or(writeErr, err)
			}
			is.listed(sk) // written, or tried again at the next read
		}
		keep[kid] = sk
	}
	return sortedSet(keep), writeErr
}

// Revoke revokes the keys with the given kids across the fleet: it
// calls KeyStore.RevokeKeys, which removes them from the store and refuses
// them for [RevocationPeriod], and forgets them here. Use it when a key's
// private half may have leaked; the kids are those of the JWKS (or of a
// token's header). A kid the store does not hold is revoked all the same.
//
// From then on:
//   - this Issuer signs nothing more with them (an Issue under way may
//     still finish with one) and makes a new key at its next Issue if its
//     signing key was one of them; its JWKS stops listing them at once;
//   - every other replica's JWKS stops listing them at its next read of
//     the store (within a second of a JWKS request, or at its next
//     republishing);
//   - the replica that made a key stops signing with it at its next
//     write of the key, which the store refuses: within a minute while
//     it issues tokens (or at its next republishing or JWKS answer), and
//     makes a new key;
//   - a [Verifier] stops accepting tokens signed by them at its next
//     successful fetch of the JWKS: at the latest VerifierOptions.JWKSMaxAge
//     (10 minutes by default) after its last one, sooner when a token
//     signed by a new key comes in; while its fetches fail, it keeps the
//     keys it has, the revoked ones too, but only until
//     VerifierOptions.JWKSMaxStale (30 minutes by default) after its last
//     successful fetch: past that it refuses their tokens (Unavailable)
//     until a fetch succeeds.
//
// A replica that cannot read the store while it is revoked serves the
// keys it holds from memory until it can (see [Issuer.JWKS]); only the
// replica that made a key can sign with it. Every replica that has read
// a revocation (this one, and the others at their next read) writes it
// back should the store lose it (Redis flushed, or failed over to a
// replica that had not received it), at its next read of the store
// (within a minute with StartRepublishing); until then, the key's replica
// may write the key back and sign with it.
//
// An Issuer with IssuerOptions.StaticKeys refuses Revoke (Unimplemented):
// its replicas share no store that would tell the others, so the operator
// revokes a static key by removing it from every replica's configuration
// (moving another key first if it signs) and restarting them.
//
// It returns InvalidArgument for no kids or an empty one, Unimplemented
// with static keys, the store's error (Unavailable when it cannot be
// reached: nothing is revoked then, try again), or the context's error.
func (is *Issuer) Revoke(ctx context.Context, kids ...string) error {
	const op = "identity.Issuer.Revoke"
	if len(kids) == 0 || slices.Contains(kids, "") {
		return errcode.New(errcode.InvalidArgument, op, "name the kids of the keys to revoke")
	}
	if is.static != nil {
		return errcode.New(errcode.Unimplemented, op, "static keys cannot be revoked at run time: remove the key from auth.keyStore.static.keys "+
			"(IssuerOptions.StaticKeys) on every replica, moving another key first if it is the signing key, and restart them")
	}
	end := is.now().Add(RevocationPeriod)
	if err := is.store.RevokeKeys(ctx, kids, end); err != nil {
		if ctxErr := errcode.FromContext(ctx, op); ctxErr != nil {
			return ctxErr
		}
		return &errcode.Error{Code: errcode.CodeOf(err), Op: op, Msg: "revoking keys in the key store", Err: err}
	}
	revoked := make(map[string]time.Time, len(kids))
	for _, kid := range kids {
		revoked[kid] = end
	}
	is.forget(revoked)
	return nil
}

// forget drops the revoked kids (each with the end of its revocation)
// from this Issuer: its own keys (the signing key too: the next Issue makes
// another), the others' keys it knows, and the reused listing; and
// remembers them as revoked, so that a listing read before the revocation
// does not bring them back.
func (is *Issuer) forget(revoked map[string]time.Time) {
	now := is.now()
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.revoked == nil {
		is.revoked = map[string]time.Time{}
	}
	maps.DeleteFunc(is.revoked, func(_ string, end time.Time) bool { return !now.Before(end) })
	for kid, end := range revoked {
		if !now.Before(end) {
			// Ended (read from a listing older than its end, or by a
			// clock behind the store's): nothing to revoke, and not to
			// be written back.
			delete(revoked, kid)
			continue
		}
		is.revoked[kid] = end
		delete(is.known, kid)
	}
	is.own = slices.DeleteFunc(is.own, func(k *signingKey) bool { _, r := revoked[k.kid]; return r })
	if is.cur != nil {
		if _, r := revoked[is.cur.kid]; r {
			// Not kept as the previous key either: while no new key can
			// be published, nothing is issued.
			is.cur, is.published, is.retryAt = nil, time.Time{}, time.Time{}
		}
	}
	is.listRevocations(revoked)
}

// listRevocations records the revocations (kid → end) in the reused
// listing, as the store now lists them (or will, once a write back is
// retried at the next read), so that the answers that reuse it neither
// serve the keys nor take the store for having lost the revocations.
// is.mu must be held.
func (is *Issuer) listRevocations(revoked map[string]time.Time) {
	if is.listedAt.IsZero() || len(revoked) == 0 {
		return
	}
	l := slices.DeleteFunc(slices.Clone(is.listing), func(s StoredKey) bool { _, r := revoked[s.Key.Kid]; return r })
	for kid, end := range revoked {
		l = append(l, StoredKey{Key: JWK{Kid: kid}, Expires: end, Revoked: true})
	}
	is.listing = l
}

// reassert writes back the revocations this Issuer knows of that the store
// does not list (listed: the revocations it lists): a store that lost its
// data (Redis flushed, or failed over to a replica that had not received
// the revocation) would otherwise let the key's replica write it back and
// sign with it again. Best-effort: one RevokeKeys call, only when
// something is missing; a failure is tried again at the next read.
func (is *Issuer) reassert(ctx context.Context, listed map[string]time.Time, now time.Time) {
	lost := map[time.Time][]string{} // by end: each is written back with its own
	is.mu.Lock()
	for kid, end := range is.revoked {
		if _, ok := listed[kid]; !ok && now.Before(end) {
			lost[end] = append(lost[end], kid)
		}
	}
	written := map[string]time.Time{}
	for end, kids := range lost {
		for _, kid := range kids {
			written[kid] = end
		}
	}
	// Written back or tried: the answers that reuse the listing do not
	// try again; the next read of the store does, if it still lacks them.
	is.listRevocations(written)
	is.mu.Unlock()
	for end, kids := range lost {
		slices.Sort(kids)
		// Logged once per kid and outcome (warn dedupes by kid).
		if err := is.store.RevokeKeys(ctx, kids, end); err != nil {
			is.warn("identity: could not write back revocations that the key store lost: "+err.Error(), strings.Join(kids, ","))
			continue
		}
		is.warn("identity: wrote back revocations that the key store had lost (flushed or failed over?)", strings.Join(kids, ","))
	}
}

// isRevoked reports whether kid was revoked, as far as this Issuer knows.
func (is *Issuer) isRevoked(kid string, now time.Time) bool {
	is.mu.Lock()
	defer is.mu.Unlock()
	end, ok := is.revoked[kid]
	return ok && now.Before(end)
}

// Republish reads the key store (not a reused answer) and writes back
// every unexpired key of this Issuer the store has lost, as a JWKS answer
// does; it also learns the other replicas' keys for its JWKS. Replicas call
// it every minute when started with [Issuer.StartRepublishing]; call it
// yourself to schedule it otherwise. It returns Unavailable when the store
// cannot be read or a key cannot be written, and the context's error when
// ctx is done. With IssuerOptions.StaticKeys there is no store: it does
// nothing and returns nil (unless ctx is done).
func (is *Issuer) Republish(ctx context.Context) error {
	const op = "identity.Issuer.Republish"
	if err := errcode.FromContext(ctx, op); err != nil {
		return err
	}
	if is.static != nil {
		return nil
	}
	stored, err := is.listKeys(ctx, true)
	if err == nil {
		_, err = is.merge(ctx, stored)
	}
	if err != nil {
		if ctxErr := errcode.FromContext(ctx, op); ctxErr != nil {
			return ctxErr
		}
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "republishing the signing keys", Err: err}
	}
	return nil
}

// StartRepublishing starts a goroutine that calls [Issuer.Republish] every
// interval (0 means every minute) until ctx is done or [Issuer.Close] is
// called; failures are logged to IssuerOptions.Logger, if any. An Issuer
// starts no goroutine unless this is called; a second call while one runs
// does nothing.
//
// Call it on every replica that shares a KeyStore. A replica writes its
// signing key back by itself only when it issues a token (once a minute)
// or answers a JWKS request; when the store loses its keys (Redis flushed,
// failed over to an empty replica, restarted without persistence), an
// idle replica's key, whose tokens are still valid, would be missing from
// the JWKS of every replica started since (they never read it) until that
// replica issues again, and verifiers reading their JWKS would refuse its
// users' tokens. Republishing bounds that to one interval.
//
// It writes back only the keys this replica made, whose private half it
// holds: a key deleted from the store while its replica runs comes back
// within an interval, unless it was revoked ([Issuer.Revoke]).
//
// When ctx is done the goroutine ends, and a later call starts another.
// Close may be called more than once, and after ctx is done.
//
// With IssuerOptions.StaticKeys there is nothing to republish: it starts
// no goroutine (so the same start-up code serves both kinds of Issuer).
func (is *Issuer) StartRepublishing(ctx context.Context, interval time.Duration) {
	if is.static != nil {
		return
	}
	if interval <= 0 {
		interval = republishEvery
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.stop != nil && is.running.Err() == nil {
		return
	}
	// None runs, or one is ending (its context is done) and is replaced
	// now, not when it has been scheduled to end; Close still waits for
	// it.
	if is.stopped != nil {
		is.ending = append(slices.DeleteFunc(is.ending, closed), is.stopped)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	is.stop, is.stopped, is.running = cancel, done, ctx
	go func() {
		defer func() {
			cancel()
			is.mu.Lock()
			if is.stopped == done { // still its own: a later call starts another
				is.stop, is.stopped, is.running = nil, nil, nil
			}
			is.mu.Unlock()
			close(done)
		}()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(ctx, max(interval, 10*time.Second))
			if err := is.Republish(rctx); err != nil && ctx.Err() == nil {
				is.warn("identity: republishing the signing keys failed: "+err.Error(), "")
			}
			cancel()
		}
	}()
}

// Close stops the goroutine of [Issuer.StartRepublishing], if one runs,
// and waits for it to end. The Issuer goes on issuing tokens and serving
// its JWKS. It may be called more than once, and after the context of
// StartRepublishing is done. It returns nil.
func (is *Issuer) Close() error {
	is.mu.Lock()
	stop, stopped, ending := is.stop, is.stopped, is.ending
	is.stop, is.stopped, is.running, is.ending = nil, nil, nil, nil
	is.mu.Unlock()
	if stop != nil {
		stop()
		<-stopped
	}
	for _, e := range ending {
		<-e
	}
	return nil
}

// closed reports whether ch is closed.
func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// warn logs msg about the key kid, if the Issuer has a Logger.
// A kid is logged once for one message (the JWKS endpoint is public and
// would repeat the same warning on every request).
func (is *Issuer) warn(msg, kid string) {
	if is.log == nil {
		return
	}
	if kid == "" {
		is.log.Warn(msg)
		return
	}
	is.mu.Lock()
	if is.warned == nil || len(is.warned) > 1000 {
		is.warned = map[string]bool{}
	}
	seen := is.warned[msg+"\x00"+kid]
	is.warned[msg+"\x00"+kid] = true
	is.mu.Unlock()
	if !seen {
		is.log.Warn(msg, slog.String("kid", kid))
	}
}

// usable returns k as published (its public fields only) if a verifier
// can use it: an EC key on a supported curve, for signing, whose alg (if
// any) is its curve's; otherwise why not. The replicas of a fleet may sign
// with different algorithms (during a change of
// auth.identityTokenAlgorithm), so every supported one is served.
func usable(k JWK) (JWK, string) {
	a, ok := algorithmOfCurve(k.Crv)
	switch {
	case k.Kid == "":
		return JWK{}, "it has no kid"
	case k.Kty != "EC" || !ok:
		return JWK{}, "it is not an EC key on P-256, P-384 or P-521"
	case k.Alg != "" && k.Alg != a.name:
		return JWK{}, "its algorithm is not " + a.name + ", its curve's"
	case k.Use != "" && k.Use != "sig":
		return JWK{}, "it is not a signing key"
	}
	pub, err := parseJWK(k)
	ec, ok := pub.(*ecdsa.PublicKey)
	if err != nil || !ok {
		return JWK{}, "it is malformed"
	}
	return a.jwk(k.Kid, ec), ""
}

// usableKey is k as usable returns it, or the zero JWK.
func usableKey(k JWK) JWK {
	u, _ := usable(k)
	return u
}

// algorithmOfCurve is the signing algorithm of a JWK curve name.
func algorithmOfCurve(crv string) (ecAlg, bool) {
	for _, name := range []string{"ES256", "ES384", "ES512"} {
		if a, _ := algorithm(name); a.crv == crv {
			return a, true
		}
	}
	return ecAlg{}, false
}

// jwk is pub as a JWK. The key is on a's curve (generated or parsed), so
// encoding it cannot fail.
func (a ecAlg) jwk(kid string, pub *ecdsa.PublicKey) JWK {
	point, _ := pub.Bytes() // 0x04 || X || Y, each a.size bytes
	enc := base64.RawURLEncoding
	return JWK{Kty: "EC", Crv: a.crv, X: enc.EncodeToString(point[1 : 1+a.size]), Y: enc.EncodeToString(point[1+a.size:]), Kid: kid, Alg: a.name, Use: "sig"}
}

// JWKSHandler serves [Issuer.JWKS] as JSON, for
// /api/auth/.well-known/jwks.json, cacheable for a minute. When the key
// store cannot be read (Redis down), it serves the keys this Issuer holds
// in memory instead — its own unexpired keys, which go on signing tokens
// during the outage, and the other replicas' it read before, until they
// expire — cacheable for 5 seconds only, so that verifiers starting during
// the outage accept the tokens issued meanwhile and ask again soon; the
// outage is logged once to IssuerOptions.Logger, if any. Only when it
// holds no key either does it answer 503 Service Unavailable, without
// detail (and without caching), so that verifiers keep the keys they have
// and ask again. It waits for the store half a second at most (a store
// that does not answer is taken for down) and for its writes (expired keys
// removed, own keys written back) as long again.
func (is *Issuer) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		set, fromMemory, err := is.jwks(r.Context(), true)
		if err != nil {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if fromMemory {
			w.Header().Set("Cache-Control", "public, max-age=5")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=60")
		}
		_ = json.NewEncoder(w).Encode(set)
	})
}

// BackstageIdentity is the `backstageIdentity` of Backstage's sign-in
// response: {token, expiresInSeconds, identity: {type: "user",
// userEntityRef, ownershipEntityRefs}}. It carries the token: send it to
// the signed-in browser only, never log it.
type BackstageIdentity struct {
	Token            string       `json:"token"`
	ExpiresInSeconds int64        `json:"expiresInSeconds"`
	Identity         UserIdentity `json:"identity"`
}

// UserIdentity is Backstage's BackstageUserIdentity.
type UserIdentity struct {
	Type string `json:"type"`
	User
}

// String describes b without its token.
func (b BackstageIdentity) String() string {
	return fmt.Sprintf("backstageIdentity for %s, expires in %ds", b.Identity.EntityRef, b.ExpiresInSeconds)
}

// Format prints String under every verb, so no verb shows the token.
func (b BackstageIdentity) Format(f fmt.State, _ rune) { fmt.Fprint(f, b.String()) }

// LogValue shows b in log/slog output without its token: slog's JSON
// handler would otherwise marshal the token with the struct.
func (b BackstageIdentity) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", redact.Mark), slog.Int64("expiresInSeconds", b.ExpiresInSeconds),
		slog.String("userEntityRef", b.Identity.EntityRef))
}

// LogValue shows t in log/slog output without its secret.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", redact.Mark), slog.Time("expiresAt", t.ExpiresAt),
		slog.String("userEntityRef", t.User.EntityRef))
}

// SignIn issues a token for u and returns the sign-in response's
// backstageIdentity.
func (is *Issuer) SignIn(ctx context.Context, u User, extra map[string]any) (*BackstageIdentity, error) {
	t, err := is.Issue(ctx, IssueRequest{Subject: u.EntityRef, Ent: u.OwnershipEntityRefs, Extra: extra})
	if err != nil {
		return nil, err
	}
	return &BackstageIdentity{Token: t.Token, ExpiresInSeconds: int64(t.ExpiresAt.Sub(is.now()).Seconds()),
		Identity: UserIdentity{Type: "user", User: t.User}}, nil
}

// printableASCII reports whether s has only printable ASCII bytes: entity
// refs are ASCII (Backstage's names are [a-zA-Z0-9-_.]), and a ref with
// other bytes would compare equal to another under Unicode case folding.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// isEntityRef reports whether s is a full entity ref kind:namespace/name
// of printable ASCII.
func isEntityRef(s string) bool {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || kind == "" {
		return false
	}
	ns, name, ok := strings.Cut(rest, "/")
	return ok && ns != "" && name != "" && printableASCII(s) && !strings.Contains(s, " ") && !strings.Contains(name, "/") && len(s) <= 512
}
