package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/redact"
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

// IssuerOptions configure an [Issuer]. Nil means the defaults.
type IssuerOptions struct {
	// Issuer is the `iss` claim: the auth backend's external base URL,
	// e.g. "https://portal.example.com/api/auth".
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
// It is safe for concurrent use. Keys live in memory and the first is
// made by the first Issue (JWKS is empty before). Several replicas each
// have their own keys, and nothing in scmkit shares them (not
// redisstore): a [Verifier] reading one JWKS URL behind a load balancer
// gets one replica's keys and refuses the others' tokens with
// Unauthorized (it refetches on an unknown kid at most once per
// VerifierOptions.RefetchInterval). With several replicas, give each
// Verifier every replica's keys (VerifierOptions.Keys, merged) or route
// token verification to the replica that issued the token.
type Issuer struct {
	iss      string
	alg      ecAlg
	lifetime time.Duration
	now      func() time.Time
	rand     io.Reader

	mu   sync.Mutex
	keys []*signingKey // oldest first; the last is current
}

type signingKey struct {
	kid     string
	priv    *ecdsa.PrivateKey
	created time.Time
}

// NewIssuer returns an Issuer. It returns InvalidArgument when
// opts.Issuer is not an absolute http(s) URL.
func NewIssuer(opts *IssuerOptions) (*Issuer, error) {
	var o IssuerOptions
	if opts != nil {
		o = *opts
	}
	if !strings.HasPrefix(o.Issuer, "https://") && !strings.HasPrefix(o.Issuer, "http://") {
		return nil, errcode.Newf(errcode.InvalidArgument, "identity.NewIssuer", "issuer must be the auth backend's http(s) base URL, got %q", o.Issuer)
	}
	alg, ok := algorithm(o.Algorithm)
	if !ok {
		return nil, errcode.Newf(errcode.InvalidArgument, "identity.NewIssuer", "algorithm must be ES256, ES384 or ES512, got %q", o.Algorithm)
	}
	is := &Issuer{iss: o.Issuer, alg: alg, lifetime: clampLifetime(o.Lifetime), now: o.Now, rand: o.Rand}
	if is.now == nil {
		is.now = time.Now
	}
	if is.rand == nil {
		is.rand = rand.Reader
	}
	return is, nil
}

// Lifetime returns the (clamped) token lifetime.
func (is *Issuer) Lifetime() time.Duration { return is.lifetime }

// key returns the current signing key, making a new one when the current
// one is older than the lifetime, and pruning keys older than 3 ×
// lifetime.
func (is *Issuer) key() (*signingKey, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	now := is.now()
	is.prune(now)
	if n := len(is.keys); n > 0 && now.Sub(is.keys[n-1].created) < is.lifetime {
		return is.keys[n-1], nil
	}
	priv, err := ecdsa.GenerateKey(is.alg.curve, is.rand)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.Unknown, Op: "identity.Issuer", Msg: "generating a signing key", Err: err}
	}
	kid, err := newUUID(is.rand)
	if err != nil {
		return nil, err
	}
	k := &signingKey{kid: kid, priv: priv, created: now}
	is.keys = append(is.keys, k)
	return k, nil
}

func (is *Issuer) prune(now time.Time) {
	is.keys = slices.DeleteFunc(is.keys, func(k *signingKey) bool { return now.Sub(k.created) >= 3*is.lifetime })
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
// the token would exceed [MaxTokenSize].
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
	k, err := is.key()
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
	claims["iss"], claims["sub"], claims["ent"], claims["aud"] = is.iss, r.Subject, ent, Audience
	claims["iat"], claims["exp"], claims["uip"] = iat, exp, uip
	t := jwt.NewWithClaims(is.alg.method, claims)
	t.Header["kid"] = k.kid
	t.Header["typ"] = TypeUser
	s, err := t.SignedString(k.priv)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.Unknown, Op: op, Msg: "signing", Err: err}
	}
	if len(s) > MaxTokenSize {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "the token for %s would be %d characters, more than Backstage's limit of %d (too many ownership refs: %d)", r.Subject, len(s), MaxTokenSize, len(ent))
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

// JWKS returns the published public keys: those younger than 3 ×
// lifetime, oldest first.
func (is *Issuer) JWKS() JWKS {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.prune(is.now())
	out := JWKS{Keys: []JWK{}}
	for _, k := range is.keys {
		out.Keys = append(out.Keys, is.alg.jwk(k.kid, &k.priv.PublicKey))
	}
	return out
}

// jwk is pub as a JWK. The key is the issuer's own, generated on a
// supported curve, so encoding it cannot fail.
func (a ecAlg) jwk(kid string, pub *ecdsa.PublicKey) JWK {
	point, _ := pub.Bytes() // 0x04 || X || Y, each a.size bytes
	enc := base64.RawURLEncoding
	return JWK{Kty: "EC", Crv: a.crv, X: enc.EncodeToString(point[1 : 1+a.size]), Y: enc.EncodeToString(point[1+a.size:]), Kid: kid, Alg: a.name, Use: "sig"}
}

// JWKSHandler serves [Issuer.JWKS] as JSON, for
// /api/auth/.well-known/jwks.json.
func (is *Issuer) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		_ = json.NewEncoder(w).Encode(is.JWKS())
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

// isEntityRef reports whether s is a full entity ref kind:namespace/name.
func isEntityRef(s string) bool {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || kind == "" {
		return false
	}
	ns, name, ok := strings.Cut(rest, "/")
	return ok && ns != "" && name != "" && !strings.ContainsAny(s, " \t\r\n") && !strings.Contains(name, "/") && len(s) <= 512
}
