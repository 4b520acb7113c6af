package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

// VerifierOptions configure a [Verifier]. Nil means the defaults.
type VerifierOptions struct {
	// JWKSURL is where the keys are published, e.g.
	// "https://portal.example.com/api/auth/.well-known/jwks.json". It is
	// fetched on first use (by a token whose kid is not among Keys, so
	// that tokens signed by a static key verify while it is down) and
	// again, once, when a token names an unknown kid, and when the last
	// fetch is JWKSMaxAge old. Its member names are matched exactly (RFC
	// 7517), and a key it lists with a private part (d, p, q, k, …) is
	// ignored: anyone could sign with it.
	JWKSURL string
	// HTTPClient fetches JWKSURL, below scmkit's retry policy; nil means a
	// client that does not follow redirects. Each fetch is bounded to 10 s.
	HTTPClient *http.Client
	// Keys are static keys, used with or instead of JWKSURL: a snapshot,
	// never refreshed, and not bounded by JWKSMaxStale. An Issuer's keys
	// are not static (it makes its first at its first token and a new one
	// every Lifetime), so verify its tokens through JWKSURL, pointed at its
	// JWKSHandler; keep Keys for keys that change only with a deployment,
	// such as those of an Issuer with IssuerOptions.StaticKeys (its JWKS).
	Keys *JWKS
	// Algorithms allowed; nil means ES256 only. "none" and HMAC
	// algorithms are never accepted.
	Algorithms []string
	// Issuer, when set, must equal the `iss` claim of user tokens
	// (limited tokens have none).
	Issuer string
	// AcceptLimited also accepts limited user tokens
	// (vnd.backstage.limited-user), as plugin backends do for cookie
	// auth; they carry no ent.
	AcceptLimited bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway tolerated on exp and nbf; 0 means none. An iat up to 10 s
	// in the future (or Leeway, if larger) is accepted: the clock of the
	// replica that made the token may run ahead of the verifier's.
	Leeway time.Duration
	// CacheSize bounds the cache of verified tokens (by SHA-256), so that
	// a token presented on every request is checked cryptographically
	// once; a cached token is still refused once expired. 0 means 10,000;
	// negative disables the cache.
	CacheSize int
	// RefetchInterval is the least time between two JWKS fetches caused
	// by unknown kids; 0 means 30 s. Forged kids cannot make the
	// verifier hammer the JWKS URL. A token whose iat is after the last
	// fetch (its key may be a replica's new one) may fetch sooner, a
	// second after the last fetch; each such fetch that does not find
	// its kid (forged iats) doubles that second, up to RefetchInterval,
	// until a fetch finds one. Until a first fetch has succeeded
	// (the JWKS URL was not up yet when the verifier started), a failed
	// fetch is retried sooner: 1 s after it, then 2 s, 4 s, … up to
	// RefetchInterval.
	RefetchInterval time.Duration
	// JWKSMaxAge is how long a fetched JWKS is used: the first
	// verification after it fetches the JWKS again (one fetch, shared;
	// that verification waits for it up to 250 ms, the others do not
	// wait), so that a key the issuers stopped publishing (revoked with
	// [Issuer.Revoke]) stops verifying within this time even when no
	// token names a new kid. A refetch that fails (or hangs) keeps the
	// keys fetched before for a while: tokens go on being verified with
	// them until JWKSMaxStale after the last successful fetch (a passing
	// outage of the issuer signs nobody out); the refetch is tried again
	// JWKSMaxAge after. 0 means 10 minutes, as Backstage's verifiers
	// (jose's cacheMaxAge); less than RefetchInterval means
	// RefetchInterval; negative means only unknown kids refetch.
	JWKSMaxAge time.Duration
	// JWKSMaxStale bounds how long keys fetched from JWKSURL verify
	// without a successful fetch since: past it (the JWKS URL down,
	// unreachable, or blocked by an attacker who wants a revoked key kept
	// alive), every token not signed by one of Keys is refused with an
	// Unavailable error whose RetryAt is the next fetch, and the JWKS is
	// fetched again, once for all verifications, after a gap that starts
	// at 1 s and doubles with each failed fetch since the last success
	// (those of the JWKSMaxAge refetches before the bound count: with the
	// defaults the first gap past the bound is 4 s), up to
	// RefetchInterval; the first fetch
	// that succeeds makes its keys verify again. So a key revoked at the
	// issuers stops verifying within JWKSMaxStale whatever happens to the
	// fetches. Backstage's verifiers (jose's remote JWKS) have no such
	// margin: once the set is cacheMaxAge old, every verification waits
	// for a fetch and fails with it. 0 means 3 × JWKSMaxAge (30 minutes
	// by default), or no bound when JWKSMaxAge is negative; less than
	// JWKSMaxAge means JWKSMaxAge; negative means no bound (the keys of
	// the last successful fetch verify for as long as fetches fail).
	JWKSMaxStale time.Duration
	// UserInfoURL, when set, is the issuer's user info endpoint, e.g.
	// "https://portal.example.com/api/auth/v1/userinfo"
	// ([Issuer.UserInfoHandler]): a user token (or limited token) that
	// carries no ent, as those of an Issuer with OmitOwnershipClaim, gets
	// its ownership refs from there, as Backstage's UserInfoService
	// does: one GET with the token as Bearer credentials, after the
	// token has verified (so only tokens signed by a published key cause
	// one), once per token (the answer is cached with it), concurrent
	// verifications of a token sharing it, with HTTPClient (redirects are
	// never followed, whatever HTTPClient's policy: a 3xx is Unavailable),
	// bounded to 10 s. It must be an http(s) URL without user information; plain
	// http carries the user's token in clear, so keep it to a loopback
	// host or a private network (Backstage's in-cluster discovery).
	// The endpoint's 401 or 404 is Unauthorized; another failure is
	// Unavailable, and the token is not accepted (its ownership is
	// unknown). Empty: such a token's ent is its subject only.
	UserInfoURL string
}

// validPort reports whether p, a URL's port, is empty or a TCP port.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535
}

// Verifier verifies Backstage user tokens strictly: at most
// [MaxTokenSize] characters, an allowed algorithm (ES256 by default) that
// fits the key (an ECDSA algorithm on its own curve), no `crit` header, a
// `typ` header of vnd.backstage.user (or limited-user when accepted), a
// kid among the published keys, a valid signature, `aud` backstage, `exp`
// in the future, `iat` and `sub` (an entity ref) present. Keys are cached;
// an unknown kid refetches the JWKS once (concurrent verifications share
// one fetch, and fetches are spaced by RefetchInterval); a token made
// after the last fetch may get a second fetch a second later, since an
// Issuer's JWKS may be a second behind its store (see [Issuer.JWKS]). Each
// fetched key set replaces the previous one: a key the JWKS stops listing
// stops verifying at the next fetch, as with Backstage, so that a key
// revoked at the issuers ([Issuer.Revoke]) stops verifying here, at the
// latest VerifierOptions.JWKSMaxAge after the last fetch, and whatever
// happens to the fetches, VerifierOptions.JWKSMaxStale after the last
// successful one (past it, tokens are refused as Unavailable until a fetch
// succeeds). The verifier does not keep keys the JWKS dropped: a fleet of
// Issuers keeps its unexpired keys listed instead
// ([Issuer.StartRepublishing]). It is safe for concurrent use. The zero
// Verifier is not usable; make one with [NewVerifier].
type Verifier struct {
	opts          VerifierOptions
	parser        *jwt.Parser // user tokens: aud backstage
	limitedParser *jwt.Parser // limited user tokens carry no aud
	hc            *http.Client

	mu        sync.RWMutex
	keys      map[string]any // kid → public key: the static keys and the last JWKS fetched
	keyAlg    map[string]string
	static    map[string]any // the static keys, kept across fetches
	staticAlg map[string]string
	fetched   bool
	fetches   int // fetches ended, failed ones too
	failures  int // failed fetches before the first that succeeded
	failing   int // failed fetches since the last that succeeded
	lastFetch time.Time
	lastOK    time.Time     // when the last successful fetch ended
	aged      time.Time     // when the refetch of a JWKSMaxAge-old set started; zero: none
	fastGap   time.Duration // the least time between fetches for tokens made after the last fetch (see slowFast)
	fastSeen  int           // fetches when fastGap last changed
	group     singleflight.Group

	cmu      sync.Mutex
	verified map[[32]byte]*Claims
	owned    map[[32]byte][]string // user info answers until their claims are in verified (userinfo.go)

	// plugin, when set, makes this a verifier of the plugin tokens of
	// that plugin (see PluginVerifier): typ vnd.backstage.plugin, sub
	// the plugin id, aud the verifying plugin's id.
	plugin *pluginRules
}

// pluginRules are what a plugin token must say: its caller (sub) and its
// audience.
type pluginRules struct{ caller, aud string }

// Claims are a verified token's claims.
type Claims struct {
	Type      string    // TypeUser, or TypeLimitedUser (with VerifierOptions.AcceptLimited); TypePlugin from a PluginVerifier
	Issuer    string    // iss; empty for a limited token
	Subject   string    // sub: the user's entity ref, "user:default/alice"
	Ent       []string  // ent: her ownership entity refs; for a token without ent, those of VerifierOptions.UserInfoURL, else nil
	IssuedAt  time.Time // iat
	ExpiresAt time.Time // exp
	// Extra are the other claims.
	Extra map[string]any

	kid string // the key that signed the token
}

// User returns the claims as a [User]. A token without ent (a limited
// token, or one from an Issuer with OmitOwnershipClaim) has the ownership
// refs of the user info endpoint when the verifier has a UserInfoURL, and
// its subject only otherwise.
func (c *Claims) User() *User {
	ent := c.Ent
	if len(ent) == 0 {
		ent = []string{c.Subject}
	}
	return &User{EntityRef: c.Subject, OwnershipEntityRefs: slices.Clone(ent)}
}

// NewVerifier returns a Verifier. It returns InvalidArgument when there is
// neither a JWKS URL nor a static key (an empty Keys, such as an Issuer's
// JWKS before its first token, included), when an algorithm is not
// supported, or when a static key does not parse.
func NewVerifier(opts *VerifierOptions) (*Verifier, error) {
	return newVerifier(opts, nil)
}

// checkAlgorithms refuses an algorithm a Verifier does not accept: "none"
// and HMAC above all.
func checkAlgorithms(op string, algs []string) error {
	for _, a := range algs {
		switch a {
		case "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		default:
			return errcode.Newf(errcode.InvalidArgument, op, "algorithm %q is not allowed", a)
		}
	}
	return nil
}

// newVerifier returns a verifier of user tokens, or with plugin of the
// plugin tokens of one plugin.
func newVerifier(opts *VerifierOptions, plugin *pluginRules) (*Verifier, error) {
	const op = "identity.NewVerifier"
	v := &Verifier{keys: map[string]any{}, keyAlg: map[string]string{}, plugin: plugin}
	if opts != nil {
		v.opts = *opts
	}
	o := &v.opts
	if o.JWKSURL == "" && (o.Keys == nil || len(o.Keys.Keys) == 0) {
		return nil, errcode.New(errcode.InvalidArgument, op, "a JWKS URL or at least one static key is required "+
			"(an Issuer's JWKS has no key before its first token, and its keys rotate: give its JWKS URL instead)")
	}
	if o.UserInfoURL != "" {
		u, err := url.Parse(o.UserInfoURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || !validPort(u.Port()) || u.User != nil || u.Fragment != "" {
			return nil, errcode.New(errcode.InvalidArgument, op, "UserInfoURL must be the auth backend's http(s) user info URL without user information, "+
				"e.g. https://portal.example.com/api/auth/v1/userinfo: it receives the user's token")
		}
	}
	if o.Algorithms == nil {
		o.Algorithms = []string{"ES256"}
	}
	if err := checkAlgorithms(op, o.Algorithms); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheSize == 0 {
		o.CacheSize = 10000
	}
	v.verified = map[[32]byte]*Claims{}
	if o.RefetchInterval == 0 {
		o.RefetchInterval = 30 * time.Second
	}
	switch {
	case o.JWKSMaxAge == 0:
		o.JWKSMaxAge = 10 * time.Minute
	case o.JWKSMaxAge > 0:
		o.JWKSMaxAge = max(o.JWKSMaxAge, o.RefetchInterval)
	}
	switch {
	case o.JWKSMaxStale == 0 && o.JWKSMaxAge < 0:
		o.JWKSMaxStale = -1
	case o.JWKSMaxStale == 0:
		o.JWKSMaxStale = 3 * o.JWKSMaxAge
	case o.JWKSMaxStale > 0:
		o.JWKSMaxStale = max(o.JWKSMaxStale, o.JWKSMaxAge)
	}
	// The JWKS is fetched under scmkit's one retry policy (a 5xx or a
	// network error is retried within the fetch's 10 s), so that a passing
	// failure of the issuer does not reject valid tokens.
	hc := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if o.HTTPClient != nil {
		hc = *o.HTTPClient
	}
	hc.Transport = httpx.NewTransport(&httpx.Options{Base: hc.Transport, Now: o.Now})
	v.hc = &hc
	if o.Keys != nil {
		keys, algs, err := parseKeys(o.Keys)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "static keys", Err: err}
		}
		v.static, v.staticAlg = keys, algs
		maps.Copy(v.keys, keys)
		maps.Copy(v.keyAlg, algs)
	}
	// iat is checked after parsing (Verify), with the issuers' clock skew
	// allowed, not here with Leeway alone.
	common := []jwt.ParserOption{jwt.WithValidMethods(o.Algorithms), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(o.Now), jwt.WithLeeway(o.Leeway), jwt.WithStrictDecoding()}
	aud := Audience
	if plugin != nil {
		aud = plugin.aud
	}
	v.parser = jwt.NewParser(append(common, jwt.WithAudience(aud))...)
	v.limitedParser = jwt.NewParser(common...)
	return v, nil
}

// Verify verifies token and returns its claims. Every failure is an
// Unauthorized *errcode.Error whose message says what was wrong (never the
// token); a JWKS that cannot be fetched is Unavailable; a cancelled
// context is Canceled or DeadlineExceeded.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	const op = "identity.Verify"
	unauthorized := func(msg string) error { return errcode.New(errcode.Unauthorized, op, msg) }
	if len(token) > MaxTokenSize {
		return nil, unauthorized("token is larger than the size limit")
	}
	v.refreshAged(ctx)
	var sum [32]byte
	if v.opts.CacheSize > 0 {
		sum = sha256.Sum256([]byte(token))
		if c, ok := v.cached(sum); ok {
			return c, nil
		}
	}
	parser := v.parser
	if v.plugin == nil && v.opts.AcceptLimited && headerType(token) == TypeLimitedUser {
		parser = v.limitedParser
	}
	var fetchErr error
	var signedBy string
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		typ, _ := t.Header["typ"].(string)
		if v.plugin != nil {
			if typ != TypePlugin {
				return nil, errors.New("typ must be " + TypePlugin)
			}
		} else if typ != TypeUser && !(v.opts.AcceptLimited && typ == TypeLimitedUser) {
			return nil, errors.New("typ must be " + TypeUser)
		}
		if (typ == TypeLimitedUser) != (parser == v.limitedParser) {
			// The typ that chose the parser (and so whether aud is
			// checked) must be the typ verified.
			return nil, errors.New("typ is ambiguous")
		}
		if _, ok := t.Header["crit"]; ok {
			// RFC 7515, 4.1.11: a header parameter the verifier must
			// understand (b64: an unencoded payload); none is
			// understood here, so the token is refused, as jose does.
			return nil, errors.New("critical header parameters are not supported")
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid")
		}
		alg := t.Method.Alg()
		key, kalg, ok := v.key(kid)
		firstFetch := false
		if !ok && v.opts.JWKSURL != "" && !v.haveFetched() {
			// The JWKS is fetched on first use, and only for a kid
			// the static keys do not have: a token signed by a static
			// key verifies while the JWKS URL is down.
			if _, err := v.refresh(ctx, true, time.Time{}); err != nil {
				fetchErr = err
				return nil, err
			}
			key, kalg, ok = v.key(kid)
			firstFetch = true
		}
		if !ok && v.opts.JWKSURL != "" && !firstFetch {
			// The token's iat is not verified yet: it only decides how
			// soon the JWKS may be fetched again (newKeyRefetch at the
			// soonest), never whether the token is accepted.
			var iat time.Time
			if c, _ := t.Claims.(jwt.MapClaims); c != nil {
				if n, ok := c["iat"].(float64); ok && n > 0 && n < 1e11 {
					iat = time.Unix(int64(n), 0)
				}
			}
			// An unknown kid gets one fetch, spaced by RefetchInterval
			// (newKeyRefetch for a token made after the last fetch), and
			// none right after the first fetch. A token made after the
			// last fetch whose fetch did not wait gets one more,
			// newKeyRefetch later: its key may be a replica's new one,
			// published just before the token and missing from a JWKS
			// answered from a store listing read before it (an Issuer
			// reuses its listing for up to a second).
			fresh := v.madeAfterLastFetch(iat)
			for try := 0; try < 2 && !ok; try++ {
				if try > 0 && !v.madeAfterLastFetch(iat) {
					break
				}
				waited, err := v.refresh(ctx, false, iat)
				if err != nil {
					fetchErr = err
					return nil, err
				}
				key, kalg, ok = v.key(kid)
				if waited {
					break
				}
			}
			if ok || fresh {
				// Only a token that could fetch sooner slows
				// that down; any kid found speeds it up again.
				v.slowFast(ok)
			}
		}
		if err := v.trusted(kid); err != nil {
			// Past JWKSMaxStale: the fetched keys are not trusted, and
			// a kid they lack may be in the JWKS this verifier cannot
			// read; either way the answer is to try again later.
			fetchErr = err
			return nil, err
		}
		if !ok {
			return nil, errors.New("signed by an unknown key")
		}
		if (kalg != "" && kalg != alg) || !fitsKey(alg, key) {
			return nil, errors.New("the key is for another algorithm")
		}
		signedBy = kid
		return key, nil
	})
	if fetchErr != nil {
		return nil, fetchErr
	}
	if err != nil {
		if ctxErr := errcode.FromContext(ctx, op); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &errcode.Error{Code: errcode.Unauthorized, Op: op, Msg: "invalid token", Err: scrub(err)}
	}
	c := &Claims{Extra: map[string]any{}, kid: signedBy}
	for k, val := range claims {
		switch k {
		case "iss":
			c.Issuer, _ = val.(string)
		case "sub":
			c.Subject, _ = val.(string)
		case "ent":
			list, ok := val.([]any)
			if !ok {
				return nil, unauthorized("ent must be an array of entity refs")
			}
			for _, e := range list {
				s, ok := e.(string)
				if !ok || !isEntityRef(s) {
					return nil, unauthorized("ent must be an array of entity refs")
				}
				c.Ent = append(c.Ent, s)
			}
		case "iat", "exp", "aud", "uip":
		default:
			c.Extra[k] = val
		}
	}
	if _, ok := claims["iat"]; !ok {
		return nil, unauthorized("token has no iat")
	}
	// A replica whose clock runs ahead makes tokens whose iat is in this
	// verifier's future: up to issuerSkew (or Leeway, if larger) is
	// tolerated, as exp is not.
	if iat, err := claims.GetIssuedAt(); err != nil || iat == nil {
		return nil, unauthorized("iat is not a time")
	} else if iat.After(v.opts.Now().Add(max(v.opts.Leeway, issuerSkew))) {
		return nil, unauthorized("token used before issued")
	}
	switch {
	case v.plugin != nil:
		if c.Subject != v.plugin.caller {
			return nil, unauthorized("sub is not the plugin whose key signed the token")
		}
		if c.Ent != nil {
			return nil, unauthorized("a plugin token carries no ent")
		}
		c.Type = TypePlugin
	case !isEntityRef(c.Subject):
		return nil, unauthorized("sub must be an entity ref")
	case parser == v.limitedParser:
		c.Type = TypeLimitedUser
	default:
		c.Type = TypeUser
	}
	if v.opts.Issuer != "" && c.Type == TypeUser && c.Issuer != v.opts.Issuer {
		return nil, unauthorized("token is from another issuer")
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	c.IssuedAt, c.ExpiresAt = iat.Time, exp.Time
	asked := false
	if _, hasEnt := claims["ent"]; !hasEnt && v.plugin == nil && v.opts.UserInfoURL != "" {
		ent, err := v.ownership(ctx, token, c.Subject)
		if err != nil {
			return nil, err
		}
		c.Ent, asked = ent, true
	}
	if v.opts.CacheSize > 0 {
		v.remember(sum, c)
	}
	if asked {
		v.settled(token)
	}
	return c.copy(), nil
}

// copy returns a copy of c that shares nothing mutable with it.
func (c *Claims) copy() *Claims {
	n := *c
	n.Ent = slices.Clone(c.Ent)
	n.Extra = maps.Clone(c.Extra)
	return &n
}

// cached returns the claims of a token verified before, not expired, and
// whose key is still published and trusted (not past JWKSMaxStale).
func (v *Verifier) cached(sum [32]byte) (*Claims, bool) {
	v.cmu.Lock()
	c, ok := v.verified[sum]
	v.cmu.Unlock()
	if !ok {
		return nil, false
	}
	now := v.opts.Now()
	if !now.Before(c.ExpiresAt.Add(v.opts.Leeway)) {
		return nil, false
	}
	if known, stale := v.keyState(c.kid, now); !known || stale {
		return nil, false
	}
	return c.copy(), true
}

// remember caches verified claims; a full cache drops its expired
// entries, or all of them if none has expired.
func (v *Verifier) remember(sum [32]byte, c *Claims) {
	v.cmu.Lock()
	defer v.cmu.Unlock()
	if len(v.verified) >= v.opts.CacheSize {
		now := v.opts.Now()
		maps.DeleteFunc(v.verified, func(_ [32]byte, c *Claims) bool { return !now.Before(c.ExpiresAt) })
		if len(v.verified) >= v.opts.CacheSize {
			clear(v.verified)
		}
	}
	v.verified[sum] = c
}

// headerType returns the typ of a JWT's header, or "".
func headerType(token string) string {
	head, _, ok := strings.Cut(token, ".")
	if !ok || len(head) > 1024 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	// A map, not a struct: encoding/json matches struct fields
	// case-insensitively ("TYP"), the JWT library reads "typ" exactly.
	var h map[string]any
	_ = json.Unmarshal(b, &h)
	typ, _ := h["typ"].(string)
	return typ
}

// scrub keeps golang-jwt's reason and drops anything else.
func scrub(err error) error {
	for _, e := range []error{jwt.ErrTokenExpired, jwt.ErrTokenInvalidAudience, jwt.ErrTokenSignatureInvalid, jwt.ErrTokenMalformed,
		jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenUnverifiable, jwt.ErrTokenNotValidYet} {
		if errors.Is(err, e) {
			var ve error = e
			if e == jwt.ErrTokenUnverifiable || e == jwt.ErrTokenSignatureInvalid {
				// the keyfunc's or signature check's reason, which we wrote
				ve = errors.New(err.Error())
			}
			return ve
		}
	}
	return errors.New("token rejected")
}

// agedWait is how long the verification that finds the key set
// JWKSMaxAge old waits for its refetch; the fetch goes on after it (up to
// its 10 s), and verifications meanwhile do not wait.
const agedWait = 250 * time.Millisecond

// refreshAged refetches the JWKS when the last fetch is JWKSMaxAge old, or
// when the keys are past JWKSMaxStale and the last failed fetch is
// staleGap old: one fetch, shared, which this call waits for up to
// agedWait (a JWKS that answers at once replaces the keys before this
// token is verified); calls while it runs do not wait. Its failure is not
// the token's while the keys are within JWKSMaxStale: the keys fetched
// before verify it, and the next try is JWKSMaxAge after; past it, the
// token is refused (see trusted).
func (v *Verifier) refreshAged(ctx context.Context) {
	if v.opts.JWKSURL == "" || (v.opts.JWKSMaxAge < 0 && v.opts.JWKSMaxStale < 0) {
		return
	}
	now := v.opts.Now()
	v.mu.RLock()
	due := v.refetchDue(now)
	v.mu.RUnlock()
	if !due {
		return // the common case, under the read lock only
	}
	v.mu.Lock()
	due = v.refetchDue(now)
	running := !v.aged.IsZero() && v.lastFetch.Before(v.aged) && now.Sub(v.aged) < fetchTimeout
	if !due || running {
		v.mu.Unlock()
		return
	}
	v.aged = now
	seen := v.fetches
	v.mu.Unlock()
	ch := v.group.DoChan("jwks", func() (any, error) {
		v.mu.RLock()
		done := v.fetches != seen // fetched since
		v.mu.RUnlock()
		if done {
			return nil, nil
		}
		return nil, v.fetch(context.WithoutCancel(ctx))
	})
	t := time.NewTimer(agedWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}

// refetchDue reports whether the JWKS is to be fetched again at now: the
// last fetch is JWKSMaxAge old, or the keys are past JWKSMaxStale (they
// verify nothing) and the last failed fetch is staleGap old. v.mu must be
// held.
func (v *Verifier) refetchDue(now time.Time) bool {
	if !v.fetched {
		return false // the first fetch is the verification's (refresh)
	}
	if v.opts.JWKSMaxAge >= 0 && now.Sub(v.lastFetch) >= v.opts.JWKSMaxAge {
		return true
	}
	return v.pastMaxStale(now) && now.Sub(v.lastFetch) >= v.staleGap()
}

// pastMaxStale reports whether the fetched keys are JWKSMaxStale past the
// last successful fetch at now. v.mu must be held.
func (v *Verifier) pastMaxStale(now time.Time) bool {
	return v.opts.JWKSMaxStale > 0 && v.fetched && !now.Before(v.lastOK.Add(v.opts.JWKSMaxStale))
}

// staleGap is the least time between two fetches while the keys are past
// JWKSMaxStale: firstFetchRetry doubled per failure since the last
// successful fetch, up to RefetchInterval. v.mu must be held.
func (v *Verifier) staleGap() time.Duration {
	gap := firstFetchRetry
	for i := 1; i < v.failing && gap < v.opts.RefetchInterval; i++ {
		gap *= 2
	}
	return min(gap, v.opts.RefetchInterval)
}

// keyState reports whether kid is a key of this verifier, and whether it
// (or, for an unknown kid, the fetched set it is missing from) is past
// JWKSMaxStale at now; a static key never is.
func (v *Verifier) keyState(kid string, now time.Time) (known, stale bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, known = v.keys[kid]
	if _, static := v.static[kid]; static {
		return known, false
	}
	return known, v.pastMaxStale(now)
}

// trusted returns nil unless kid is not a static key and the fetched keys
// are past JWKSMaxStale: then an Unavailable error whose RetryAt is when
// the JWKS may be fetched again.
func (v *Verifier) trusted(kid string) error {
	now := v.opts.Now()
	if _, stale := v.keyState(kid, now); !stale {
		return nil
	}
	v.mu.RLock()
	retry := v.lastFetch.Add(v.staleGap())
	since := now.Sub(v.lastOK).Round(time.Second)
	v.mu.RUnlock()
	if !retry.After(now) {
		retry = now.Add(firstFetchRetry) // a fetch is under way, or due at the next verification
	}
	return &errcode.Error{Code: errcode.Unavailable, Op: "identity.Verify", RetryAt: retry,
		Msg: fmt.Sprintf("the JWKS has not been fetched for %s, more than VerifierOptions.JWKSMaxStale: its keys are not trusted until a fetch succeeds", since)}
}

func (v *Verifier) haveFetched() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.fetched
}

// madeAfterLastFetch reports whether a token issued at iat (not zero) may
// be signed by a key published after the last fetch: its iat is later
// than that fetch, less issuerSkew.
func (v *Verifier) madeAfterLastFetch(iat time.Time) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return !iat.IsZero() && !v.lastFetch.IsZero() && iat.After(v.lastFetch.Add(-issuerSkew))
}

func (v *Verifier) key(kid string) (any, string, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	k, ok := v.keys[kid]
	return k, v.keyAlg[kid], ok
}

// Refetching for a token made after the last fetch.
const (
	// newKeyRefetch is the least time between two JWKS fetches for
	// tokens made after the last fetch: their key may be a replica's new
	// one, published before the token but after the fetch.
	newKeyRefetch = time.Second
	// issuerSkew is how far the issuers' clocks may differ from the
	// verifier's: an iat that far in the future is accepted, and a token
	// whose iat is that far before the last fetch still counts as made
	// after it.
	issuerSkew = 10 * time.Second
)

// slowFast adjusts the refetch for tokens made after the last fetch to
// what the fetches for unknown kids found: a fetch that did not find the
// kid (a forged token, whose fresh iat anyone can write) doubles the time
// before the next such fetch, up to RefetchInterval, once per fetch; a
// kid found starts again from newKeyRefetch. So a flood of forged tokens
// with fresh iats costs a few fetches more than RefetchInterval allows,
// not two a second, while a new replica's key still verifies within a
// second when forged tokens have not just been refused.
func (v *Verifier) slowFast(found bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case found:
		v.fastGap, v.fastSeen = newKeyRefetch, v.fetches
	case v.fetches != v.fastSeen:
		v.fastGap, v.fastSeen = min(2*max(v.fastGap, newKeyRefetch), v.opts.RefetchInterval), v.fetches
	}
}

// firstFetchRetry is how long after a failed fetch a verifier that never
// fetched the JWKS may try again; it doubles with each failure, up to
// RefetchInterval.
const firstFetchRetry = time.Second

// retryGap is the least time between a failed fetch and the next one while
// no fetch has succeeded: firstFetchRetry doubled per earlier failure, up
// to RefetchInterval. v.mu must be held.
func (v *Verifier) retryGap() time.Duration {
	gap := firstFetchRetry
	for i := 1; i < v.failures && gap < v.opts.RefetchInterval; i++ {
		gap *= 2
	}
	return min(gap, v.opts.RefetchInterval)
}

// refresh fetches the JWKS, once for all concurrent callers; unless first,
// not more often than RefetchInterval (until a fetch succeeds, a failed one
// is retried after retryGap instead), or newKeyRefetch for a token made
// (iat, not zero) after the last fetch, whose key may be new: a replica
// publishes a new key just before its first token, and a verifier that
// fetched the JWKS moments earlier would otherwise refuse that replica's
// tokens for RefetchInterval. Such a token arriving within newKeyRefetch
// of the last fetch waits for the rest of it, then fetches. A forged iat
// makes the verifier fetch at most twice (and its own request wait
// newKeyRefetch) the first time; each fetch that does not find the kid
// doubles newKeyRefetch for the next, up to RefetchInterval (slowFast),
// and no request waits then. It reports whether it waited.
func (v *Verifier) refresh(ctx context.Context, first bool, iat time.Time) (waited bool, err error) {
	v.mu.RLock()
	gap := v.opts.RefetchInterval
	newKey := !iat.IsZero() && !v.lastFetch.IsZero() && iat.After(v.lastFetch.Add(-issuerSkew))
	if newKey {
		gap = min(gap, max(v.fastGap, newKeyRefetch))
	}
	if !v.fetched {
		// No key set yet: the JWKS URL was down at the first fetch (an
		// issuer starting with its verifiers); back off from 1 s, not
		// from RefetchInterval, which spaces fetches for unknown kids.
		gap = v.retryGap()
	}
	seen := v.fetches
	since := v.opts.Now().Sub(v.lastFetch)
	recent := !v.lastFetch.IsZero() && since < gap
	fetched, retryAt := v.fetched, v.lastFetch.Add(gap)
	v.mu.RUnlock()
	if recent && (!first || !fetched) {
		if !fetched {
			return false, &errcode.Error{Code: errcode.Unavailable, Op: "identity.Verify", Msg: "the JWKS could not be fetched; retrying later", RetryAt: retryAt}
		}
		if !newKey || gap != newKeyRefetch {
			return false, nil
		}
		// A token made after the last fetch, by a key that fetch did
		// not have: most likely another replica's new key, published
		// just before the token. Refusing it would sign its user out
		// for nothing; wait until a fetch is allowed again (at most
		// newKeyRefetch) and fetch.
		t := time.NewTimer(gap - since)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return true, errcode.FromContext(ctx, "identity.Verify")
		}
		waited = true
	}
	ch := v.group.DoChan("jwks", func() (any, error) {
		// A fetch that ended since the check above makes this one
		// redundant.
		v.mu.RLock()
		done := v.fetched && (first || v.opts.Now().Sub(v.lastFetch) < gap)
		if waited {
			done = v.fetches != seen // another waiter fetched since
		}
		v.mu.RUnlock()
		if done {
			return nil, nil
		}
		return nil, v.fetch(context.WithoutCancel(ctx))
	})
	select {
	case r := <-ch:
		return waited, r.Err
	case <-ctx.Done():
		return waited, errcode.FromContext(ctx, "identity.Verify")
	}
}

// maxJWKS caps a JWKS response body.
const maxJWKS = 1 << 20

// fetchTimeout bounds a JWKS fetch.
const fetchTimeout = 10 * time.Second

func (v *Verifier) fetch(ctx context.Context) error {
	const op = "identity.Verify"
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.opts.JWKSURL, nil)
	if err != nil {
		return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "bad JWKS URL"}
	}
	req.Header.Set("Accept", "application/json")
	// lastFetch is set when the fetch is over (keys added or failed), so
	// that a verification arriving meanwhile joins this fetch instead of
	// skipping it as recent.
	ok := false
	defer func() {
		v.mu.Lock()
		v.lastFetch = v.opts.Now()
		v.fetches++
		if !ok && !v.fetched {
			v.failures++
		}
		if ok {
			v.lastOK, v.failing = v.lastFetch, 0
		} else {
			v.failing++
		}
		v.mu.Unlock()
	}()
	resp, err := v.hc.Do(req)
	if err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "fetching the JWKS", Err: errors.Unwrap(err)}
	}
	body, err := httpx.ReadBody(resp, maxJWKS)
	if err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "reading the JWKS", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Status: resp.StatusCode, Msg: "fetching the JWKS"}
	}
	set, err := decodeJWKS(body)
	if err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "the JWKS is not valid JSON"}
	}
	keys, algs, err := parseKeys(set)
	if err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "the JWKS", Err: err}
	}
	// The fetched set replaces the previous one: a key the issuer no
	// longer publishes (pruned or revoked) stops verifying, as with
	// Backstage's remote JWKS. Static keys stay, and win a kid both
	// name: a static key verifies before the first fetch, so the same kid
	// must mean the same key after it.
	v.mu.Lock()
	v.keys, v.keyAlg = keys, algs
	for kid, k := range v.static {
		v.keys[kid], v.keyAlg[kid] = k, v.staticAlg[kid]
	}
	v.fetched, ok = true, true
	v.mu.Unlock()
	return nil
}

// privateJWKMembers are the members of private and symmetric JWKs (RFC
// 7518, 6.2.2, 6.3.2 and 6.4.1).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// decodeJWKS reads a fetched JWKS document as RFC 7517 does, not as
// encoding/json fills a struct: member names are exact ("KID" is not kid,
// and does not replace it), and a key with a private or symmetric member
// is left out: a private key published by mistake can sign anything, so
// tokens of its kid must not verify (jose refuses a private key for
// verifying, too). A member of the wrong type is an error, as before.
func decodeJWKS(body []byte) (*JWKS, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	var raw []map[string]json.RawMessage
	if list, ok := doc["keys"]; ok {
		if err := json.Unmarshal(list, &raw); err != nil {
			return nil, err
		}
	}
	set := &JWKS{Keys: make([]JWK, 0, len(raw))}
	for _, m := range raw {
		if slices.ContainsFunc(privateJWKMembers, func(name string) bool { _, ok := m[name]; return ok }) {
			continue
		}
		var k JWK
		for name, dst := range map[string]*string{"kty": &k.Kty, "crv": &k.Crv, "x": &k.X, "y": &k.Y, "n": &k.N,
			"e": &k.E, "kid": &k.Kid, "alg": &k.Alg, "use": &k.Use} {
			if v, ok := m[name]; ok {
				if err := json.Unmarshal(v, dst); err != nil {
					return nil, err
				}
			}
		}
		set.Keys = append(set.Keys, k)
	}
	return set, nil
}

// fitsKey reports whether a token of algorithm alg may be verified with
// key: an ECDSA algorithm with a key on its own curve (RFC 7518, 3.4;
// golang-jwt checks only the signature's size, so that a P-384 key
// without an alg would verify ES512), RSA algorithms with an RSA key.
func fitsKey(alg string, key any) bool {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		curve := map[string]string{"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
		return curve != "" && k.Curve.Params().Name == curve
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	}
	return false
}

// parseKeys returns the usable keys of set by kid, and their algorithms;
// keys of unknown types are skipped, malformed ones are an error.
func parseKeys(set *JWKS) (map[string]any, map[string]string, error) {
	keys := map[string]any{}
	algs := map[string]string{}
	for _, k := range set.Keys {
		if k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := parseJWK(k)
		if err != nil {
			return nil, nil, err
		}
		if pub != nil {
			keys[k.Kid], algs[k.Kid] = pub, k.Alg
		}
	}
	return keys, algs, nil
}

func parseJWK(k JWK) (any, error) {
	dec := func(s string) (*big.Int, error) {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			return nil, errcode.Newf(errcode.InvalidArgument, "identity.JWK", "key %s: bad base64url value", k.Kid)
		}
		return new(big.Int).SetBytes(b), nil
	}
	switch k.Kty {
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, nil
		}
		x, err := dec(k.X)
		if err != nil {
			return nil, err
		}
		y, err := dec(k.Y)
		if err != nil {
			return nil, err
		}
		size := (curve.Params().BitSize + 7) / 8
		if x.BitLen() > size*8 || y.BitLen() > size*8 {
			return nil, errcode.Newf(errcode.InvalidArgument, "identity.JWK", "key %s: coordinates too large", k.Kid)
		}
		point := append([]byte{4}, append(x.FillBytes(make([]byte, size)), y.FillBytes(make([]byte, size))...)...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, errcode.Newf(errcode.InvalidArgument, "identity.JWK", "key %s: point is not on the curve", k.Kid)
		}
		return pub, nil
	case "RSA":
		n, err := dec(k.N)
		if err != nil {
			return nil, err
		}
		e, err := dec(k.E)
		if err != nil {
			return nil, err
		}
		if n.BitLen() < 2048 || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31 {
			return nil, errcode.Newf(errcode.InvalidArgument, "identity.JWK", "key %s: RSA key is too weak or malformed", k.Kid)
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	}
	return nil, nil
}

// Authenticate verifies the bearer token of r (Authorization: Bearer …)
// and returns the user as a [Principal]. It fits permission.Handler's who
// argument. A request without a bearer token, or with one that does not
// verify, gives an Unauthorized *errcode.Error.
func (v *Verifier) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Principal{}, errcode.New(errcode.Unauthorized, "identity.Authenticate", "no bearer token")
	}
	c, err := v.Verify(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return Principal{}, err
	}
	return Principal{User: c.User()}, nil
}
