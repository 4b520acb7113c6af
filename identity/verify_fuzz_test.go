package identity

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// The fuzz targets of this file verify tokens against fixed keys, read
// from testdata/keys (made for these tests with openssl genpkey, see
// testdata/NOTICE), so that the seeds in testdata/fuzz mean the same thing
// in every run.

const fuzzIssuer = "https://portal.example.com/api/auth"

// fuzzKeys are the test keys.
type fuzzKeys struct {
	ec256, ec384, attacker *ecdsa.PrivateKey
	rsa, weak              *rsa.PrivateKey
}

func loadFuzzKeys(t testing.TB) *fuzzKeys {
	t.Helper()
	read := func(name string) any {
		b, err := os.ReadFile(filepath.Join("testdata", "keys", name))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(b)
		if block == nil {
			t.Fatalf("%s: no PEM block", name)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return k
	}
	return &fuzzKeys{
		ec256:    read("ec256.pem").(*ecdsa.PrivateKey),
		ec384:    read("ec384.pem").(*ecdsa.PrivateKey),
		attacker: read("attacker.pem").(*ecdsa.PrivateKey),
		rsa:      read("rsa2048.pem").(*rsa.PrivateKey),
		weak:     read("rsa1024.pem").(*rsa.PrivateKey),
	}
}

// ecJWK is the public JWK of an EC key, its coordinates at full length.
func ecJWK(kid, alg string, pub *ecdsa.PublicKey) JWK {
	b, err := pub.Bytes()
	if err != nil {
		panic(err)
	}
	size := (len(b) - 1) / 2
	return JWK{Kty: "EC", Crv: pub.Curve.Params().Name, Kid: kid, Alg: alg, Use: "sig",
		X: base64.RawURLEncoding.EncodeToString(b[1 : 1+size]), Y: base64.RawURLEncoding.EncodeToString(b[1+size:])}
}

// rsaJWK is the public JWK of an RSA key.
func rsaJWK(kid, alg string, pub *rsa.PublicKey) JWK {
	return JWK{Kty: "RSA", Kid: kid, Alg: alg, Use: "sig", N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}
}

// Signers of FuzzVerifyToken: who signs the fuzzed header and claims.
const (
	signEC256    = iota // listed as kid "ec256", alg ES256
	signEC384           // listed as kid "ec384", no alg
	signRSA             // listed as kid "rsa", no alg
	signAttacker        // a P-256 key nobody lists
	signWeak            // an RSA key of 1024 bits, nobody lists
	signHMACJWK         // HMAC keyed with the JWK JSON of the ec256 key (its public part)
	signHMACPEM         // HMAC keyed with the PEM of the rsa key's public key
	signHMACDER         // HMAC keyed with the DER of the ec256 key's public key
	signNone            // no signature
	signRaw             // the fuzzer's own signature bytes
	signers
)

// tokenVerifier is the verifier of FuzzVerifyToken: three static keys
// (ec256 for ES256, ec384 and rsa without an alg), ES256, ES384, ES512,
// RS256 and PS256 allowed, limited tokens accepted.
func tokenVerifier(t testing.TB, k *fuzzKeys, now func() time.Time, cache int) *Verifier {
	t.Helper()
	v, err := NewVerifier(&VerifierOptions{
		Keys: &JWKS{Keys: []JWK{ecJWK("ec256", "ES256", &k.ec256.PublicKey), ecJWK("ec384", "", &k.ec384.PublicKey),
			rsaJWK("rsa", "", &k.rsa.PublicKey)}},
		Algorithms: []string{"ES256", "ES384", "ES512", "RS256", "PS256"}, Issuer: fuzzIssuer, AcceptLimited: true,
		Now: now, CacheSize: cache,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fuzzToken signs header and claims (their bytes as given) as signer does:
// with the algorithm the header names when it fits the signer's key, else
// with the key's own.
func fuzzToken(t testing.TB, k *fuzzKeys, header, claims []byte, signer byte, sig []byte) string {
	t.Helper()
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	var h map[string]any
	_ = json.Unmarshal(header, &h)
	alg, _ := h["alg"].(string)
	method := func(fallback string, fits func(jwt.SigningMethod) bool) jwt.SigningMethod {
		if m := jwt.GetSigningMethod(alg); m != nil && fits(m) {
			return m
		}
		return jwt.GetSigningMethod(fallback)
	}
	isEC := func(m jwt.SigningMethod) bool { _, ok := m.(*jwt.SigningMethodECDSA); return ok }
	isRSA := func(m jwt.SigningMethod) bool {
		switch m.(type) {
		case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
			return true
		}
		return false
	}
	mac := func(secret []byte) []byte {
		var hf func() hash.Hash
		switch alg {
		case "HS384":
			hf = sha512.New384
		case "HS512":
			hf = sha512.New
		default:
			hf = sha256.New
		}
		m := hmac.New(hf, secret)
		io.WriteString(m, signing)
		return m.Sum(nil)
	}
	// ecSign signs as m does, but with a key of any curve (jwt refuses
	// one of another curve than m's): ES512 by a P-384 key, ES384 by a
	// P-256 key, whose signatures fit m's size.
	ecSign := func(m jwt.SigningMethod, priv *ecdsa.PrivateKey) ([]byte, error) {
		em := m.(*jwt.SigningMethodECDSA)
		h := em.Hash.New()
		io.WriteString(h, signing)
		r, s, err := ecdsa.Sign(rand.Reader, priv, h.Sum(nil))
		if err != nil || r.BitLen() > 8*em.KeySize || s.BitLen() > 8*em.KeySize {
			return nil, errors.New("the signature does not fit the algorithm")
		}
		out := make([]byte, 2*em.KeySize)
		r.FillBytes(out[:em.KeySize])
		s.FillBytes(out[em.KeySize:])
		return out, nil
	}
	var err error
	switch signer % signers {
	case signEC256:
		sig, err = ecSign(method("ES256", isEC), k.ec256)
	case signEC384:
		sig, err = ecSign(method("ES384", isEC), k.ec384)
	case signRSA:
		sig, err = method("RS256", isRSA).Sign(signing, k.rsa)
	case signAttacker:
		sig, err = ecSign(method("ES256", isEC), k.attacker)
	case signWeak:
		sig, err = method("RS256", isRSA).Sign(signing, k.weak)
	case signHMACJWK:
		b, _ := json.Marshal(ecJWK("ec256", "ES256", &k.ec256.PublicKey))
		sig = mac(b)
	case signHMACPEM:
		der, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
		sig = mac(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	case signHMACDER:
		der, _ := x509.MarshalPKIXPublicKey(&k.ec256.PublicKey)
		sig = mac(der)
	case signNone:
		sig = nil
	}
	if err != nil {
		// An EC signature too large for the algorithm: the token goes
		// out with no signature.
		sig = nil
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// fuzzFits says which algorithms may verify with each listed key.
var fuzzFits = map[string][]string{"ec256": {"ES256"}, "ec384": {"ES384"}, "rsa": {"RS256", "PS256"}}

// kidOf is the kid a listed signer's key goes by.
func kidOf(signer byte) string {
	switch signer % signers {
	case signEC256:
		return "ec256"
	case signEC384:
		return "ec384"
	case signRSA:
		return "rsa"
	}
	return ""
}

// checkVerified fails t unless a token that verified is one the rules
// allow, read independently of the verifier: signed by a listed key under
// its kid, with an allowed algorithm that fits the key, no critical
// header, typ user or limited, unexpired, issued, a sub entity ref, and
// for a user token the issuer and audience.
func checkVerified(t *testing.T, header, claims []byte, signer byte, now time.Time, got *Claims) {
	t.Helper()
	kid := kidOf(signer)
	if kid == "" {
		t.Fatalf("a token of signer %d (no listed key) verified", signer%signers)
	}
	var h, c map[string]any
	if json.Unmarshal(header, &h) != nil || json.Unmarshal(claims, &c) != nil {
		t.Fatalf("a token whose header or claims are not JSON objects verified")
	}
	alg, _ := h["alg"].(string)
	if h["kid"] != kid || !slices.Contains(fuzzFits[kid], alg) {
		t.Fatalf("verified alg %q kid %v signed by the key of %q", alg, h["kid"], kid)
	}
	if _, ok := h["crit"]; ok {
		t.Fatalf("verified a token with a crit header %v", h["crit"])
	}
	typ, _ := h["typ"].(string)
	exp, _ := c["exp"].(float64)
	iat, iatOK := c["iat"].(float64)
	sub, _ := c["sub"].(string)
	switch {
	case typ != TypeUser && typ != TypeLimitedUser:
		t.Fatalf("verified typ %q", typ)
	case !(exp > float64(now.Unix())):
		t.Fatalf("verified exp %v at %d", c["exp"], now.Unix())
	case !iatOK || iat > float64(now.Add(issuerSkew).Unix()):
		t.Fatalf("verified iat %v at %d", c["iat"], now.Unix())
	case !isEntityRef(sub) || got.Subject != sub:
		t.Fatalf("verified sub %q as %q", c["sub"], got.Subject)
	}
	if typ == TypeUser {
		aud := c["aud"]
		if list, ok := aud.([]any); ok {
			if !slices.Contains(list, any(Audience)) {
				t.Fatalf("verified aud %v", aud)
			}
		} else if aud != Audience {
			t.Fatalf("verified aud %v", aud)
		}
		if c["iss"] != fuzzIssuer || got.Issuer != fuzzIssuer {
			t.Fatalf("verified iss %v", c["iss"])
		}
	}
}

// checkNoTokenText fails t when err shows a part of the token: one of its
// segments, or a header or claim value of its.
func checkNoTokenText(t *testing.T, err error, token string, header, claims []byte) {
	t.Helper()
	msg := err.Error() + " " + fmt.Sprintf("%+v %#v", err, err)
	// Our own words may be anything a fuzzed value says too.
	for _, s := range []string{TypeUser, TypeLimitedUser, TypePlugin} {
		msg = strings.ReplaceAll(msg, s, "")
	}
	for seg := range strings.SplitSeq(token, ".") {
		if len(seg) >= 16 && strings.Contains(msg, seg) {
			t.Fatalf("the error shows a segment of the token: %s", msg)
		}
	}
	for _, part := range [][]byte{header, claims} {
		var m map[string]any
		if json.Unmarshal(part, &m) != nil {
			continue
		}
		for _, v := range m {
			if s, ok := v.(string); ok && len(s) >= 16 && !strings.ContainsAny(s, " \t\n") && strings.Contains(msg, s) {
				t.Fatalf("the error shows %q of the token: %s", s, msg)
			}
		}
	}
}

// FuzzVerifyToken verifies fuzzed headers and claims, signed by a listed
// key, by a key nobody lists, with HMAC keyed by a public key, with no
// signature or with fuzzed bytes, against a fixed key set. No input
// panics; a token verifies only if signed by a listed key with an allowed
// algorithm fitting the key, with the right typ, issuer, audience, an iat
// and an exp in the future (checkVerified); a failure is Unauthorized and
// shows nothing of the token.
func FuzzVerifyToken(f *testing.F) {
	k := loadFuzzKeys(f)
	c := testclock.New(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC))
	// Every token is checked twice: its signature always, and through
	// the verified-token cache (verified once, then from the cache).
	nocache := tokenVerifier(f, k, c.Now, -1)
	cached := tokenVerifier(f, k, c.Now, 0)
	// The seeds are testdata/fuzz/FuzzVerifyToken: the cases of
	// hostileTokens, one file each.
	f.Fuzz(func(t *testing.T, header, claims string, signer byte, sig string) {
		token := fuzzToken(t, k, []byte(header), []byte(claims), signer, []byte(sig))
		for _, v := range []*Verifier{nocache, cached, cached} {
			got, err := v.Verify(context.Background(), token)
			if err != nil {
				if errcode.CodeOf(err) != errcode.Unauthorized {
					t.Fatalf("code %v: %v", errcode.CodeOf(err), err)
				}
				checkNoTokenText(t, err, token, []byte(header), []byte(claims))
				continue
			}
			checkVerified(t, []byte(header), []byte(claims), signer, c.Now(), got)
		}
	})
}

// hostileToken is a seed of FuzzVerifyToken: what it tries, and whether
// it must verify.
type hostileToken struct {
	name           string
	header, claims string
	signer         byte
	sig            string
	ok             bool
}

// hostileTokens are the attacks FuzzVerifyToken starts from (its seeds in
// testdata/fuzz/FuzzVerifyToken are these), with a few tokens that must
// verify.
func hostileTokens(k *fuzzKeys, now time.Time) []hostileToken {
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	n := now.Unix()
	user := j(map[string]any{"iss": fuzzIssuer, "sub": "user:default/alice", "ent": []string{"user:default/alice"}, "aud": Audience, "iat": n, "exp": n + 3600})
	admin := j(map[string]any{"iss": fuzzIssuer, "sub": "user:default/admin", "aud": Audience, "iat": n, "exp": n + 3600})
	hdr := func(alg, kid string, extra ...any) string {
		h := map[string]any{"typ": TypeUser, "alg": alg, "kid": kid}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i].(string)] = extra[i+1]
		}
		return j(h)
	}
	pubJWK := ecJWK("ec256", "ES256", &k.attacker.PublicKey)
	return []hostileToken{
		{name: "ES256 by the listed key", header: hdr("ES256", "ec256"), claims: user, signer: signEC256, ok: true},
		{name: "ES384 by a listed key without an alg", header: hdr("ES384", "ec384"), claims: user, signer: signEC384, ok: true},
		{name: "RS256 by the listed RSA key", header: hdr("RS256", "rsa"), claims: user, signer: signRSA, ok: true},
		{name: "PS256 by the listed RSA key", header: hdr("PS256", "rsa"), claims: user, signer: signRSA, ok: true},
		{name: "limited token", header: j(map[string]any{"typ": TypeLimitedUser, "alg": "ES256", "kid": "ec256"}),
			claims: j(map[string]any{"sub": "user:default/alice", "iat": n, "exp": n + 3600}), signer: signEC256, ok: true},
		{name: "alg none", header: hdr("none", "ec256"), claims: admin, signer: signNone},
		{name: "alg None", header: hdr("None", "ec256"), claims: admin, signer: signNone},
		{name: "HS256 keyed with the public JWK", header: hdr("HS256", "ec256"), claims: admin, signer: signHMACJWK},
		{name: "HS256 keyed with the RSA public key PEM", header: hdr("HS256", "rsa"), claims: admin, signer: signHMACPEM},
		{name: "HS512 keyed with the EC public key DER", header: hdr("HS512", "ec256"), claims: admin, signer: signHMACDER},
		{name: "kid of the RSA key, ES256 by the EC key", header: hdr("ES256", "rsa"), claims: admin, signer: signEC256},
		{name: "kid of the EC key, RS256 by the RSA key", header: hdr("RS256", "ec256"), claims: admin, signer: signRSA},
		{name: "kid of the P-384 key, ES512 by it", header: hdr("ES512", "ec384"), claims: admin, signer: signEC384},
		{name: "kid of the P-256 key, ES384 by it", header: hdr("ES384", "ec256"), claims: admin, signer: signEC256},
		{name: "a key nobody lists under a listed kid", header: hdr("ES256", "ec256"), claims: admin, signer: signAttacker},
		{name: "a key nobody lists, embedded in the header", header: hdr("ES256", "ec256", "jwk", pubJWK), claims: admin, signer: signAttacker},
		{name: "a key nobody lists, by URL", header: hdr("ES256", "attacker", "jku", "https://attacker.example/jwks.json"), claims: admin, signer: signAttacker},
		{name: "an RSA key of 1024 bits", header: hdr("RS256", "rsa"), claims: admin, signer: signWeak},
		{name: "crit header", header: hdr("ES256", "ec256", "crit", []string{"exp"}, "exp", n+1), claims: admin, signer: signEC256},
		{name: "unencoded payload", header: hdr("ES256", "ec256", "b64", false, "crit", []string{"b64"}), claims: admin, signer: signEC256},
		{name: "another issuer", header: hdr("ES256", "ec256"), claims: j(map[string]any{"iss": "https://evil.example", "sub": "user:default/admin", "aud": Audience, "iat": n, "exp": n + 3600}), signer: signEC256},
		{name: "another audience", header: hdr("ES256", "ec256"), claims: j(map[string]any{"iss": fuzzIssuer, "sub": "user:default/admin", "aud": "catalog", "iat": n, "exp": n + 3600}), signer: signEC256},
		{name: "expired", header: hdr("ES256", "ec256"), claims: j(map[string]any{"iss": fuzzIssuer, "sub": "user:default/admin", "aud": Audience, "iat": n - 7200, "exp": n - 1}), signer: signEC256},
		{name: "no exp", header: hdr("ES256", "ec256"), claims: j(map[string]any{"iss": fuzzIssuer, "sub": "user:default/admin", "aud": Audience, "iat": n}), signer: signEC256},
		{name: "exp a string", header: hdr("ES256", "ec256"), claims: j(map[string]any{"iss": fuzzIssuer, "sub": "user:default/admin", "aud": Audience, "iat": n, "exp": fmt.Sprint(n + 3600)}), signer: signEC256},
		{name: "no iat", header: hdr("ES256", "ec256"), claims: j(map[string]any{"iss": fuzzIssuer, "sub": "user:default/admin", "aud": Audience, "exp": n + 3600}), signer: signEC256},
		{name: "limited typ, user claims of another issuer", header: j(map[string]any{"typ": TypeLimitedUser, "alg": "ES256", "kid": "ec256"}),
			claims: j(map[string]any{"iss": "https://evil.example", "sub": "user:default/admin", "aud": "catalog", "iat": n, "exp": n + 3600}), signer: signEC256, ok: true},
		{name: "typ twice", header: `{"typ":"` + TypeLimitedUser + `","alg":"ES256","kid":"ec256","typ":"` + TypeUser + `"}`, claims: admin, signer: signEC256, ok: true},
		{name: "kid a number", header: `{"typ":"` + TypeUser + `","alg":"ES256","kid":1}`, claims: admin, signer: signEC256},
		{name: "fuzzed signature", header: hdr("ES256", "ec256"), claims: admin, signer: signRaw, sig: strings.Repeat("\x00", 64)},
	}
}

// TestVerifyRefusesHostileTokens: each attack of hostileTokens is
// refused, Unauthorized, and its error shows nothing of the token; the
// tokens made by the rules verify.
func TestVerifyRefusesHostileTokens(t *testing.T) {
	k := loadFuzzKeys(t)
	c := testclock.New(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC))
	v := tokenVerifier(t, k, c.Now, -1)
	for _, tc := range hostileTokens(k, c.Now()) {
		t.Run(tc.name, func(t *testing.T) {
			token := fuzzToken(t, k, []byte(tc.header), []byte(tc.claims), tc.signer, []byte(tc.sig))
			got, err := v.Verify(context.Background(), token)
			if tc.ok {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				checkVerified(t, []byte(tc.header), []byte(tc.claims), tc.signer, c.Now(), got)
				return
			}
			if errcode.CodeOf(err) != errcode.Unauthorized {
				t.Fatalf("Verify = %+v, %v; want Unauthorized", got, err)
			}
			checkNoTokenText(t, err, token, []byte(tc.header), []byte(tc.claims))
		})
	}
}

// fakeJWKS answers every request with body, and counts them.
type fakeJWKS struct {
	body []byte
	n    atomic.Int64
}

func (f *fakeJWKS) RoundTrip(r *http.Request) (*http.Response, error) {
	f.n.Add(1)
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(f.body)), Request: r}, nil
}

// jwksToken is a token of FuzzJWKSFetch, signed by priv under kid with
// alg.
type jwksToken struct {
	kid, alg string
	pub      any
	token    string
}

// jwksTokens are tokens signed by the test keys, each under its own kid:
// ES256 by ec256 ("e1"), ES384 by ec384 ("e2"), RS256 by the 2048-bit
// RSA key ("r1") and by the 1024-bit one ("w1"), and ES256 by ec256 under
// "leak", which the hostile seeds publish with its private part.
func jwksTokens(t testing.TB, k *fuzzKeys, now time.Time) []jwksToken {
	t.Helper()
	// Issued long before the verifier's fetch: an unknown kid does not
	// make it fetch again.
	claims := jwt.MapClaims{"iss": fuzzIssuer, "sub": "user:default/alice", "aud": Audience, "iat": now.Add(-time.Hour).Unix(), "exp": now.Add(time.Hour).Unix()}
	var out []jwksToken
	for _, s := range []struct {
		kid, alg string
		priv     any
		pub      any
	}{
		{"e1", "ES256", k.ec256, &k.ec256.PublicKey},
		{"e2", "ES384", k.ec384, &k.ec384.PublicKey},
		{"r1", "RS256", k.rsa, &k.rsa.PublicKey},
		{"w1", "RS256", k.weak, &k.weak.PublicKey},
		{"leak", "ES256", k.ec256, &k.ec256.PublicKey},
	} {
		tok := jwt.NewWithClaims(jwt.GetSigningMethod(s.alg), claims)
		tok.Header["kid"], tok.Header["typ"] = s.kid, TypeUser
		signed, err := tok.SignedString(s.priv)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, jwksToken{kid: s.kid, alg: s.alg, pub: s.pub, token: signed})
	}
	return out
}

// privateMembers are the JWK members of private and symmetric keys (RFC
// 7518, 6.2.2, 6.3.2 and 6.4.1).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// publishes reports whether the JWKS body, read by the RFC (member names
// exact), lists pub under kid for alg as a verifier may use it: a public
// key for signing, of the key's type, an RSA modulus of 2048 bits or
// more, no private member, no other alg.
func publishes(body []byte, kid, alg string, pub any) bool {
	var doc map[string]json.RawMessage
	var keys []map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil || json.Unmarshal(doc["keys"], &keys) != nil {
		return false
	}
	str := func(m map[string]json.RawMessage, name string) string {
		var s string
		_ = json.Unmarshal(m[name], &s)
		return s
	}
	num := func(m map[string]json.RawMessage, name string) *big.Int {
		b, err := base64.RawURLEncoding.DecodeString(str(m, name))
		if err != nil {
			return nil
		}
		return new(big.Int).SetBytes(b)
	}
	for _, m := range keys {
		if str(m, "kid") != kid || (str(m, "use") != "" && str(m, "use") != "sig") || (str(m, "alg") != "" && str(m, "alg") != alg) {
			continue
		}
		if slices.ContainsFunc(privateMembers, func(name string) bool { _, ok := m[name]; return ok }) {
			continue
		}
		switch p := pub.(type) {
		case *ecdsa.PublicKey:
			x, y := num(m, "x"), num(m, "y")
			if str(m, "kty") == "EC" && str(m, "crv") == p.Curve.Params().Name && x != nil && y != nil && x.Cmp(p.X) == 0 && y.Cmp(p.Y) == 0 {
				return true
			}
		case *rsa.PublicKey:
			n, e := num(m, "n"), num(m, "e")
			if str(m, "kty") == "RSA" && n != nil && e != nil && n.Cmp(p.N) == 0 && e.Int64() == int64(p.E) && n.BitLen() >= 2048 {
				return true
			}
		}
	}
	return false
}

// FuzzJWKSFetch serves a fuzzed JWKS to a verifier, then verifies tokens
// of the test keys. No body panics; the JWKS is fetched once; a token
// verifies only if the body lists its key under its kid as the RFC reads
// it, public, for signing, of its algorithm, an RSA key of 2048 bits or
// more (publishes); a failure is Unauthorized, or Unavailable when the
// body was refused, and shows nothing of the token.
func FuzzJWKSFetch(f *testing.F) {
	k := loadFuzzKeys(f)
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	tokens := jwksTokens(f, k, now)
	// The seeds are testdata/fuzz/FuzzJWKSFetch: the bodies of
	// hostileJWKS, one file each.
	f.Fuzz(func(t *testing.T, body string) {
		rt := &fakeJWKS{body: []byte(body)}
		v, err := NewVerifier(&VerifierOptions{JWKSURL: "https://portal.example.com/api/auth/.well-known/jwks.json",
			HTTPClient: &http.Client{Transport: rt}, Algorithms: []string{"ES256", "ES384", "RS256"}, Now: func() time.Time { return now },
			CacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range tokens {
			_, err := v.Verify(context.Background(), tk.token)
			if err == nil {
				if !publishes([]byte(body), tk.kid, tk.alg, tk.pub) {
					t.Fatalf("%s (%s) verified, but the JWKS does not publish its key for it", tk.kid, tk.alg)
				}
				continue
			}
			if code := errcode.CodeOf(err); code != errcode.Unauthorized && code != errcode.Unavailable {
				t.Fatalf("code %v: %v", code, err)
			}
			checkNoTokenText(t, err, tk.token, nil, nil)
		}
		if n := rt.n.Load(); n != 1 {
			t.Fatalf("%d JWKS requests for %d tokens, want 1", n, len(tokens))
		}
	})
}

// hostileJWK is a seed of FuzzJWKSFetch: a JWKS body, and the kids whose
// tokens must verify with it.
type hostileJWK struct {
	name string
	body string
	ok   []string
}

// hostileJWKS are the key sets FuzzJWKSFetch starts from (its seeds in
// testdata/fuzz/FuzzJWKSFetch are these bodies).
func hostileJWKS(k *fuzzKeys) []hostileJWK {
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	set := func(keys ...any) string { return j(map[string]any{"keys": keys}) }
	asMap := func(k JWK) map[string]any {
		var m map[string]any
		_ = json.Unmarshal([]byte(j(k)), &m)
		return m
	}
	with := func(k JWK, kv ...any) map[string]any {
		m := asMap(k)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	b64 := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.Bytes()) }
	e1, e2 := ecJWK("e1", "ES256", &k.ec256.PublicKey), ecJWK("e2", "ES384", &k.ec384.PublicKey)
	r1, w1 := rsaJWK("r1", "RS256", &k.rsa.PublicKey), rsaJWK("w1", "RS256", &k.weak.PublicKey)
	leak := ecJWK("leak", "ES256", &k.ec256.PublicKey)
	upper := func(k JWK) map[string]any {
		m := map[string]any{}
		for name, v := range asMap(k) {
			m[strings.ToUpper(name)] = v
		}
		return m
	}
	return []hostileJWK{
		{name: "all good", body: set(e1, e2, r1), ok: []string{"e1", "e2", "r1"}},
		{name: "EC private key published", body: set(e1, with(leak, "d", b64(k.ec256.D))), ok: []string{"e1"}},
		{name: "RSA private key published", body: set(e1, with(rsaJWK("r1", "RS256", &k.rsa.PublicKey), "d", b64(k.rsa.D),
			"p", b64(k.rsa.Primes[0]), "q", b64(k.rsa.Primes[1]))), ok: []string{"e1"}},
		{name: "symmetric key", body: set(e1, map[string]any{"kty": "oct", "kid": "leak", "alg": "HS256", "k": "c2VjcmV0"}), ok: []string{"e1"}},
		{name: "symmetric member on an EC key", body: set(e1, with(leak, "k", "c2VjcmV0")), ok: []string{"e1"}},
		{name: "RSA key of 1024 bits", body: set(e1, w1)},
		{name: "member names in capitals", body: set(e1, upper(e2)), ok: []string{"e1"}},
		// JWK marshals kid before alg and use: "KID" comes last.
		{name: "kid twice, in capitals last", body: `{"keys":[` + j(e1) + "," + strings.TrimSuffix(j(e2), "}") + `,"KID":"other"}]}`, ok: []string{"e1", "e2"}},
		{name: "keys in capitals", body: j(map[string]any{"KEYS": []any{e1}})},
		{name: "EC key for RS256", body: set(with(e1, "alg", "RS256"), r1), ok: []string{"r1"}},
		{name: "P-256 key under the P-384 kid", body: set(e1, with(e1, "kid", "e2")), ok: []string{"e1"}},
		{name: "for encryption", body: set(with(e1, "use", "enc"), r1), ok: []string{"r1"}},
		{name: "point not on the curve", body: set(with(e1, "y", e1.X), r1)},
		{name: "RSA exponent 1", body: set(e1, with(r1, "e", "AQ"))},
		{name: "kid a number", body: `{"keys":[{"kty":"EC","crv":"P-256","kid":5,"x":"` + e1.X + `","y":"` + e1.Y + `"}]}`},
		{name: "not JSON", body: `{"keys":[`},
		{name: "empty", body: ``},
	}
}

// TestJWKSFetchRefusesHostileKeys: with each key set of hostileJWKS, the
// tokens of the kids it lists usably verify and no other.
func TestJWKSFetchRefusesHostileKeys(t *testing.T) {
	k := loadFuzzKeys(t)
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	tokens := jwksTokens(t, k, now)
	for _, s := range hostileJWKS(k) {
		t.Run(s.name, func(t *testing.T) {
			v, err := NewVerifier(&VerifierOptions{JWKSURL: "https://portal.example.com/api/auth/.well-known/jwks.json",
				HTTPClient: &http.Client{Transport: &fakeJWKS{body: []byte(s.body)}}, Algorithms: []string{"ES256", "ES384", "RS256"},
				Now: func() time.Time { return now }, CacheSize: -1})
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range tokens {
				_, err := v.Verify(context.Background(), tk.token)
				if want := slices.Contains(s.ok, tk.kid); want != (err == nil) {
					t.Errorf("%s: Verify = %v, want it to verify: %v", tk.kid, err, want)
				}
			}
		})
	}
}
