package identity

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

func newClock() *testclock.Clock { return testclock.New(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)) }
func b64(v any) string           { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ecPublicKey is the P-256 public key of a JWK's x and y.
func ecPublicKey(t *testing.T, x, y []byte) *ecdsa.PublicKey {
	t.Helper()
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// ecCoord is a P-256 public key's x (i 0) or y (i 1) as a JWK writes it.
func ecCoord(pub *ecdsa.PublicKey, i int) string {
	b, err := pub.Bytes()
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[1+32*i : 33+32*i])
}

func newIssuer(t testing.TB, c *testclock.Clock) *Issuer {
	t.Helper()
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// jwksServer serves the issuer's JWKS and counts requests.
func jwksServer(t testing.TB, is *Issuer) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	h := is.JWKSHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestClampLifetime(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{0: time.Hour, time.Minute: 10 * time.Minute, 2 * time.Hour: 2 * time.Hour, 48 * time.Hour: 24 * time.Hour} {
		if got := clampLifetime(in); got != want {
			t.Errorf("clampLifetime(%v) = %v, want %v", in, got, want)
		}
	}
}

// TestIssuedTokenShape checks an scmkit token against the documented
// shape of Backstage's user tokens and verifies it with Backstage's rules,
// written independently here: typ header user, aud backstage, iat, exp
// and sub required, the signature checked with the key from the JWKS
// JSON, and the uip claim rebuilding a limited token that verifies.
func TestIssuedTokenShape(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	tok, err := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice",
		Ent: []string{"user:default/alice", "group:default/team-a"}, Extra: map[string]any{"email": "alice@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.Token, ".")
	var header map[string]any
	var claims map[string]any
	_ = json.Unmarshal(mustDecode(t, parts[0]), &header)
	_ = json.Unmarshal(mustDecode(t, parts[1]), &claims)
	if header["typ"] != TypeUser || header["alg"] != "ES256" || header["kid"] == "" {
		t.Errorf("header %v", header)
	}
	now := c.Now().Unix()
	want := map[string]any{"iss": "https://portal.example.com/api/auth", "sub": "user:default/alice", "aud": "backstage",
		"ent": []any{"user:default/alice", "group:default/team-a"}, "iat": float64(now), "exp": float64(now + 3600), "email": "alice@example.com"}
	for k, v := range want {
		if fmt.Sprint(claims[k]) != fmt.Sprint(v) {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	// Backstage's verifier: key from the JWKS document by kid.
	raw, _ := json.Marshal(jwksOf(t, is))
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	_ = json.Unmarshal(raw, &set)
	var pub *ecdsa.PublicKey
	for _, k := range set.Keys {
		if k["kid"] == header["kid"] && k["kty"] == "EC" && k["crv"] == "P-256" && k["alg"] == "ES256" {
			pub = ecPublicKey(t, mustDecode(t, k["x"]), mustDecode(t, k["y"]))
		}
	}
	if pub == nil {
		t.Fatalf("kid %v not in JWKS %s", header["kid"], raw)
	}
	sig := mustDecode(t, parts[2])
	if err := jwt.SigningMethodES256.Verify(parts[0]+"."+parts[1], sig, pub); err != nil {
		t.Errorf("signature: %v", err)
	}
	// uip: the signature of {typ: limited-user, alg, kid}.{sub, iat, exp}
	// in that field order.
	limitedHead := fmt.Sprintf(`{"typ":"vnd.backstage.limited-user","alg":"ES256","kid":"%s"}`, header["kid"])
	limitedBody := fmt.Sprintf(`{"sub":"user:default/alice","iat":%d,"exp":%d}`, now, now+3600)
	signing := base64.RawURLEncoding.EncodeToString([]byte(limitedHead)) + "." + base64.RawURLEncoding.EncodeToString([]byte(limitedBody))
	if err := jwt.SigningMethodES256.Verify(signing, mustDecode(t, claims["uip"].(string)), pub); err != nil {
		t.Errorf("uip does not sign the limited token: %v", err)
	}
	lt, err := LimitedToken(tok.Token)
	if err != nil || lt != signing+"."+claims["uip"].(string) {
		t.Errorf("LimitedToken = %q, %v", lt, err)
	}
	// Our verifier accepts both (the limited one when asked).
	v, err := NewVerifier(&VerifierOptions{Keys: jwksOf(t, is), Now: c.Now, AcceptLimited: true, Issuer: "https://portal.example.com/api/auth"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(context.Background(), tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "user:default/alice" || len(got.Ent) != 2 || got.Extra["email"] != "alice@example.com" || got.Type != TypeUser {
		t.Errorf("claims %+v", got)
	}
	lc, err := v.Verify(context.Background(), lt)
	if err != nil || lc.Type != TypeLimitedUser || lc.User().OwnershipEntityRefs[0] != "user:default/alice" {
		t.Errorf("limited: %+v, %v", lc, err)
	}
	// Formatting never shows the token.
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v %#v %s %q", tok, tok, tok, tok), fmt.Sprint(*tok)} {
		if strings.Contains(s, parts[2]) {
			t.Errorf("token shown: %s", s)
		}
	}
	if b, _ := json.Marshal(tok); strings.Contains(string(b), parts[2]) {
		t.Error("token in JSON")
	}
}

// jwksOf returns is's JWKS, failing t if it cannot be read.
// unrelatedKeys is a key set of one P-256 key nothing signs with, for a
// user-token verifier a test does not use.
func unrelatedKeys(t testing.TB) *JWKS {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &JWKS{Keys: []JWK{{Kty: "EC", Crv: "P-256", Kid: "unrelated", Alg: "ES256", X: ecCoord(&k.PublicKey, 0), Y: ecCoord(&k.PublicKey, 1)}}}
}

func jwksOf(t testing.TB, is *Issuer) *JWKS {
	t.Helper()
	set, err := is.JWKS(t.Context())
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	return &set
}

// backstageToken mints a token the way Backstage's TokenFactory does (jose:
// header {typ, alg, kid}, claims in its order), with its own key.
func backstageToken(t testing.TB, priv *ecdsa.PrivateKey, kid string, claims map[string]any, header map[string]any) string {
	t.Helper()
	if header == nil {
		header = map[string]any{"typ": TypeUser, "alg": "ES256", "kid": kid}
	}
	signing := b64(header) + "." + b64(claims)
	sig, err := jwt.SigningMethodES256.Sign(signing, priv)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// backstageJWKS serves one EC key as Backstage's auth backend publishes it
// at /api/auth/.well-known/jwks.json.
func backstageJWKS(t testing.TB, kid string, pub *ecdsa.PublicKey) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	body, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
		"x": ecCoord(pub, 0), "y": ecCoord(pub, 1)}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestVerifyBackstageMintedToken(t *testing.T) {
	c := newClock()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	kid := "5c6b8b0e-3d1e-4f7a-9a53-1f0c2f1a2b3c"
	srv, n := backstageJWKS(t, kid, &priv.PublicKey)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	claims := map[string]any{"iss": "http://localhost:7007/api/auth", "sub": "user:default/guest", "ent": []string{"user:default/guest"},
		"aud": "backstage", "iat": now, "exp": now + 3600, "uip": "abc"}
	got, err := v.Verify(context.Background(), backstageToken(t, priv, kid, claims, nil))
	if err != nil {
		t.Fatal(err)
	}
	if u := got.User(); u.EntityRef != "user:default/guest" || u.OwnershipEntityRefs[0] != "user:default/guest" {
		t.Errorf("user %+v", u)
	}
	// Cached keys: the next verification makes no request.
	before := n.Load()
	if _, err := v.Verify(context.Background(), backstageToken(t, priv, kid, claims, nil)); err != nil {
		t.Fatal(err)
	}
	if n.Load() != before || before != 1 {
		t.Errorf("JWKS fetched %d then %d times", before, n.Load())
	}
}

func TestVerifyBadTokens(t *testing.T) {
	c := newClock()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	kid := "k1"
	srv, n := backstageJWKS(t, kid, &priv.PublicKey)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, RefetchInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	good := func() map[string]any {
		return map[string]any{"iss": "x", "sub": "user:default/a", "ent": []string{"user:default/a"}, "aud": "backstage", "iat": now, "exp": now + 600}
	}
	with := func(k string, val any) map[string]any {
		m := good()
		if val == nil {
			delete(m, k)
		} else {
			m[k] = val
		}
		return m
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(good()))
	hs.Header["kid"], hs.Header["typ"] = kid, TypeUser
	hsTok, _ := hs.SignedString([]byte("secret"))
	rs := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(good()))
	rs.Header["kid"], rs.Header["typ"] = kid, TypeUser
	rsTok, _ := rs.SignedString(rsaKey)
	none := b64(map[string]any{"alg": "none", "typ": TypeUser, "kid": kid}) + "." + b64(good()) + "."
	tests := []struct {
		name  string
		token string
	}{
		{"unknown key", backstageToken(t, other, "k2", good(), nil)},
		{"wrong signature", backstageToken(t, other, kid, good(), nil)},
		{"alg none", none},
		{"alg HS256", hsTok},
		{"alg RS256 not allowed", rsTok},
		{"wrong aud", backstageToken(t, priv, kid, with("aud", "catalog"), nil)},
		{"no aud", backstageToken(t, priv, kid, with("aud", nil), nil)},
		{"wrong typ", backstageToken(t, priv, kid, good(), map[string]any{"typ": "vnd.backstage.plugin", "alg": "ES256", "kid": kid})},
		{"no typ (legacy)", backstageToken(t, priv, kid, good(), map[string]any{"alg": "ES256", "kid": kid})},
		{"limited not accepted", backstageToken(t, priv, kid, good(), map[string]any{"typ": TypeLimitedUser, "alg": "ES256", "kid": kid})},
		{"expired", backstageToken(t, priv, kid, with("exp", now-1), nil)},
		{"no exp", backstageToken(t, priv, kid, with("exp", nil), nil)},
		{"no iat", backstageToken(t, priv, kid, with("iat", nil), nil)},
		{"issued in the future", backstageToken(t, priv, kid, with("iat", now+600), nil)},
		{"no sub", backstageToken(t, priv, kid, with("sub", nil), nil)},
		{"sub not a ref", backstageToken(t, priv, kid, with("sub", "alice"), nil)},
		{"ent not refs", backstageToken(t, priv, kid, with("ent", []any{1}), nil)},
		{"ent not an array", backstageToken(t, priv, kid, with("ent", "group:default/admins"), nil)},
		{"oversized", backstageToken(t, priv, kid, with("pad", strings.Repeat("x", MaxTokenSize)), nil)},
		{"garbage", "not.a.token"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.token)
			if errcode.CodeOf(err) != errcode.Unauthorized {
				t.Fatalf("err = %v, want Unauthorized", err)
			}
			if len(tt.token) > 20 && strings.Contains(err.Error(), tt.token[len(tt.token)-20:]) {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
	// The initial fetch only: it was made for the first token ("unknown
	// key"), after that token was made, so a second could find no newer
	// key (TestNewReplicaKeyWithinASecond and TestUnknownKidRefetchedOnce
	// show the refetch).
	if got := n.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times, want 1", got)
	}
}

func TestUnknownKidRefetchedOnce(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	srv, n := jwksServer(t, is)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t1, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/a"})
	if _, err := v.Verify(context.Background(), t1.Token); err != nil {
		t.Fatal(err)
	}
	// Rotation: after a lifetime the issuer signs with a new key; the
	// verifier refetches once for it, concurrently shared.
	c.Advance(time.Hour + time.Second)
	t2, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/a"})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), t2.Token)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times, want 2", got)
	}
}

func TestKeyRotationOverlap(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	kidOf := func(tok string) string {
		var h map[string]any
		_ = json.Unmarshal(mustDecode(t, strings.Split(tok, ".")[0]), &h)
		return h["kid"].(string)
	}
	t1, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/a"})
	c.Advance(30 * time.Minute)
	t1b, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/a"})
	if kidOf(t1.Token) != kidOf(t1b.Token) {
		t.Error("key rotated within its lifetime")
	}
	c.Advance(31 * time.Minute)
	t2, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/a"})
	if kidOf(t2.Token) == kidOf(t1.Token) {
		t.Error("key not rotated after its lifetime")
	}
	kids := func() []string {
		var out []string
		for _, k := range jwksOf(t, is).Keys {
			out = append(out, k.Kid)
		}
		return out
	}
	if got := kids(); len(got) != 2 {
		t.Errorf("published %v, want both keys", got)
	}
	// t1b (signed at 30 min, expires at 90 min) still verifies at 89 min
	// with the published keys.
	c.Advance(28 * time.Minute)
	v, _ := NewVerifier(&VerifierOptions{Keys: jwksOf(t, is), Now: c.Now})
	if _, err := v.Verify(context.Background(), t1b.Token); err != nil {
		t.Errorf("token signed by the previous key: %v", err)
	}
	// The first key is pruned 3 lifetimes after its creation.
	c.Advance(3*time.Hour - 89*time.Minute)
	for _, k := range kids() {
		if k == kidOf(t1.Token) {
			t.Error("key published after 3 lifetimes")
		}
	}
}

func TestIssueBadInput(t *testing.T) {
	is := newIssuer(t, newClock())
	many := make([]string, 600)
	for i := range many {
		many[i] = fmt.Sprintf("group:default/some-rather-long-group-name-%04d", i)
	}
	for _, r := range []IssueRequest{
		{Subject: "alice"},
		{Subject: "user:default/a", Ent: []string{"team"}},
		{Subject: "user:default/a", Extra: map[string]any{"aud": "other"}},
		{Subject: "user:default/a", Ent: many},
	} {
		if _, err := is.Issue(context.Background(), r); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%v: %v", r.Subject, err)
		}
	}
	if _, err := NewIssuer(&IssuerOptions{Issuer: "portal"}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("bad issuer: %v", err)
	}
	const url = "https://portal.example.com/api/auth/.well-known/jwks.json" // not fetched by NewVerifier
	for _, o := range []*VerifierOptions{nil, {Keys: &JWKS{}}, {JWKSURL: url, Algorithms: []string{"HS256"}}, {JWKSURL: url, Algorithms: []string{"none"}},
		{Keys: &JWKS{Keys: []JWK{{Kty: "EC", Crv: "P-256", Kid: "a", X: "AA", Y: "AA"}}}}} {
		if _, err := NewVerifier(o); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("NewVerifier(%+v): %v", o, err)
		}
	}
}

func TestSignInResponse(t *testing.T) {
	is := newIssuer(t, newClock())
	bi, err := is.SignIn(context.Background(), User{EntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice", "group:default/a"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(bi)
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	id := got["identity"].(map[string]any)
	if got["expiresInSeconds"] != float64(3600) || id["type"] != "user" || id["userEntityRef"] != "user:default/alice" || got["token"] != bi.Token {
		t.Errorf("backstageIdentity %s", b)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %s", bi, bi, bi), bi.Token) {
		t.Error("token shown by fmt")
	}
	// slog's JSON handler marshals a struct value: the token must not
	// reach the log (neither from the response nor from an issued Token).
	tok, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice"})
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("signed in", "identity", bi, "value", *bi, "token", tok, "tokenValue", *tok)
	}
	if strings.Contains(logs.String(), bi.Token) || strings.Contains(logs.String(), tok.Token) || !strings.Contains(logs.String(), "user:default/alice") {
		t.Errorf("slog output shows a token or no user: %s", logs.String())
	}
}

func TestVerifiedCacheHonoursExpiry(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	tok, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/a"})
	v, _ := NewVerifier(&VerifierOptions{Keys: jwksOf(t, is), Now: c.Now, CacheSize: 2})
	for range 2 {
		got, err := v.Verify(context.Background(), tok.Token)
		if err != nil {
			t.Fatal(err)
		}
		got.Ent[0] = "user:default/mallory" // callers cannot poison the cache
	}
	if got, _ := v.Verify(context.Background(), tok.Token); got.Ent[0] != "user:default/a" {
		t.Errorf("cache poisoned: %v", got.Ent)
	}
	// Fill past the cap; entries are dropped, verification still works.
	for i := range 3 {
		tk, _ := is.Issue(context.Background(), IssueRequest{Subject: fmt.Sprintf("user:default/u%d", i)})
		if _, err := v.Verify(context.Background(), tk.Token); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Hour)
	if _, err := v.Verify(context.Background(), tok.Token); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("expired cached token: %v", err)
	}
}

// BenchmarkVerifyCachedKeys verifies the same token again and again, as a
// backend does for a signed-in user's requests: keys cached, the token's
// verification cached.
func BenchmarkVerifyCachedKeys(b *testing.B) { benchVerify(b, 0) }

// BenchmarkVerifySignature checks the signature on every call (the
// verified-token cache disabled): the cost of a token seen for the first
// time.
func BenchmarkVerifySignature(b *testing.B) { benchVerify(b, -1) }

func benchVerify(b *testing.B, cacheSize int) {
	c := newClock()
	is := newIssuer(b, c)
	srv, n := jwksServer(b, is)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}})
	if _, err := v.Verify(context.Background(), tok.Token); err != nil {
		b.Fatal(err)
	}
	before := n.Load()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), tok.Token); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n.Load()-before)/float64(b.N), "requests/op")
}

func FuzzVerify(f *testing.F) {
	c := newClock()
	is := newIssuer(f, c)
	tok, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/a"})
	v, err := NewVerifier(&VerifierOptions{Keys: jwksOf(f, is), Now: c.Now, AcceptLimited: true, CacheSize: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok.Token)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		claims, err := v.Verify(context.Background(), s)
		if err != nil {
			if errcode.CodeOf(err) != errcode.Unauthorized {
				t.Fatalf("code %v: %v", errcode.CodeOf(err), err)
			}
			return
		}
		// Only what the issuer signed verifies: its one subject.
		if claims.Subject != "user:default/a" {
			t.Fatalf("verified a forged subject %q", claims.Subject)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	tok, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/a"}})
	v, _ := NewVerifier(&VerifierOptions{Keys: jwksOf(t, is), Now: c.Now})
	for _, tt := range []struct {
		header string
		ok     bool
	}{
		{"Bearer " + tok.Token, true},
		{"bearer " + tok.Token, true},
		{"", false},
		{"Basic " + tok.Token, false},
		{"Bearer ", false},
		{"Bearer " + tok.Token + "x", false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/api/permission/authorize", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		p, err := v.Authenticate(r)
		if tt.ok != (err == nil) || (tt.ok && p.User.EntityRef != "user:default/alice") {
			t.Errorf("%.20q: %+v, %v", tt.header, p, err)
		}
		if err != nil && errcode.CodeOf(err) != errcode.Unauthorized {
			t.Errorf("code %v", errcode.CodeOf(err))
		}
	}
}

func TestIssuerAlgorithms(t *testing.T) {
	for _, alg := range []string{"ES256", "ES384", "ES512"} {
		c := newClock()
		is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, Algorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := is.Issue(context.Background(), IssueRequest{Subject: "user:default/a"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewVerifier(&VerifierOptions{Keys: jwksOf(t, is), Now: c.Now, Algorithms: []string{alg}, AcceptLimited: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), tok.Token); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		lt, _ := LimitedToken(tok.Token)
		if _, err := v.Verify(context.Background(), lt); err != nil {
			t.Errorf("%s limited: %v", alg, err)
		}
		// The default allow-list is ES256 only.
		def, _ := NewVerifier(&VerifierOptions{Keys: jwksOf(t, is), Now: c.Now})
		if _, err := def.Verify(context.Background(), tok.Token); (err == nil) != (alg == "ES256") {
			t.Errorf("%s with the default allow-list: %v", alg, err)
		}
	}
	if _, err := NewIssuer(&IssuerOptions{Issuer: "https://x", Algorithm: "HS256"}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("HS256 issuer: %v", err)
	}
}

// TestRevokedKeyStopsVerifying: a key that the JWKS no longer publishes
// (rotated out, or revoked after a leak) must not keep verifying tokens,
// neither through the verifier's key set nor through its cache of verified
// tokens, once a refetch has shown it gone.
func TestRevokedKeyStopsVerifying(t *testing.T) {
	c := newClock()
	leaked, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fresh, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := func(kid string, pub *ecdsa.PublicKey) map[string]any {
		return map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
			"x": ecCoord(pub, 0), "y": ecCoord(pub, 1)}
	}
	var published atomic.Value
	published.Store([]any{jwk("leaked", &leaked.PublicKey)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": published.Load()})
	}))
	t.Cleanup(srv.Close)
	for _, cache := range []int{0, -1} {
		v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, CacheSize: cache})
		if err != nil {
			t.Fatal(err)
		}
		published.Store([]any{jwk("leaked", &leaked.PublicKey)})
		now := c.Now().Unix()
		claims := map[string]any{"sub": "user:default/a", "aud": "backstage", "iat": now, "exp": now + 3600}
		old := backstageToken(t, leaked, "leaked", claims, nil)
		if _, err := v.Verify(context.Background(), old); err != nil {
			t.Fatal(err)
		}
		// The issuer revokes the leaked key and signs with a new one; a
		// token of the new key makes the verifier refetch.
		published.Store([]any{jwk("fresh", &fresh.PublicKey)})
		c.Advance(time.Minute)
		if _, err := v.Verify(context.Background(), backstageToken(t, fresh, "fresh", claims, nil)); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), old); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Errorf("cache %d: token of a key no longer published: err = %v, want Unauthorized", cache, err)
		}
		forged := backstageToken(t, leaked, "leaked", map[string]any{"sub": "user:default/admin", "aud": "backstage", "iat": now, "exp": now + 3600}, nil)
		if _, err := v.Verify(context.Background(), forged); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Errorf("cache %d: new token of a revoked key: err = %v, want Unauthorized", cache, err)
		}
	}
}

// TestStaticKeysSurviveFetch: static keys are kept when the JWKS is
// fetched.
func TestStaticKeysSurviveFetch(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	tok, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/b"})
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srv, _ := backstageJWKS(t, "remote", &priv.PublicKey)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Keys: jwksOf(t, is), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	if _, err := v.Verify(context.Background(), backstageToken(t, priv, "remote", map[string]any{"sub": "user:default/a", "aud": "backstage", "iat": now, "exp": now + 60}, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok.Token); err != nil {
		t.Errorf("static key after a fetch: %v", err)
	}
}

// TestVerifyRetriesJWKS checks that the JWKS is fetched under scmkit's
// retry policy: a passing 503 of the issuer does not reject a valid token.
func TestVerifyRetriesJWKS(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	h := is.JWKSHandler()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok.Token); err != nil {
		t.Errorf("Verify = %v", err)
	}
	if n.Load() != 2 {
		t.Errorf("%d JWKS requests; want 2 (the 503, then the keys)", n.Load())
	}
}
