package redisstore_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
	"github.com/scmkit/scmkit/redisstore"
)

const portalIssuer = "https://portal.example.com/api/auth"

// replicaIssuer is one replica's Issuer on its own Store over r.
func replicaIssuer(t testing.TB, st *redisstore.Store, clk *testclock.Clock, lifetime time.Duration) *identity.Issuer {
	t.Helper()
	is, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: portalIssuer, Now: clk.Now, Lifetime: lifetime, KeyStore: st.IssuerKeys()})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func tokenKid(t testing.TB, tok string) string {
	t.Helper()
	tk, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tk.Header["kid"].(string)
	return kid
}

func issue(t testing.TB, is *identity.Issuer) string {
	t.Helper()
	tok, err := is.Issue(t.Context(), identity.IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

func jwksKids(t testing.TB, is *identity.Issuer) []string {
	t.Helper()
	set, err := is.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	slices.Sort(kids)
	return kids
}

func sorted(s ...string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// TestIssuerKeysTwoReplicas: two replicas, each with its own Store on one
// Redis and its own signing key; a Verifier whose JWKS URL is served by
// replica A accepts replica B's tokens (the defect: before IssuerKeys, A's
// JWKS listed A's keys only).
func TestIssuerKeysTwoReplicas(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	a := replicaIssuer(t, openStore(t, r, &redisstore.Options{Prefix: "ik:"}), clk, 0)
	b := replicaIssuer(t, openStore(t, r, &redisstore.Options{Prefix: "ik:"}), clk, 0)
	srv := httptest.NewServer(a.JWKSHandler())
	defer srv.Close()
	v, err := identity.NewVerifier(&identity.VerifierOptions{JWKSURL: srv.URL, Now: clk.Now, Issuer: portalIssuer})
	if err != nil {
		t.Fatal(err)
	}
	tb := issue(t, b)
	c, err := v.Verify(t.Context(), tb)
	if err != nil {
		t.Fatalf("replica B's token against replica A's JWKS: %v", err)
	}
	if c.Subject != "user:default/alice" {
		t.Errorf("subject %q", c.Subject)
	}
	ta := issue(t, a)
	clk.Advance(31 * time.Second) // the verifier refetches an unknown kid once per 30s
	if _, err := v.Verify(t.Context(), ta); err != nil {
		t.Fatalf("replica A's own token: %v", err)
	}
	if tokenKid(t, ta) == tokenKid(t, tb) {
		t.Fatal("the replicas share a signing key; each must have its own")
	}
	want := sorted(tokenKid(t, ta), tokenKid(t, tb))
	for name, is := range map[string]*identity.Issuer{"A": a, "B": b} {
		if got := jwksKids(t, is); !slices.Equal(got, want) {
			t.Errorf("replica %s's JWKS = %v; want both replicas' keys %v", name, got, want)
		}
	}
	// Another deployment's prefix sees none of them.
	other := replicaIssuer(t, openStore(t, r, &redisstore.Options{Prefix: "other:"}), clk, 0)
	if got := jwksKids(t, other); len(got) != 0 {
		t.Errorf("a store with another prefix lists %v", got)
	}
}

// TestIssuerKeysRotation: over 3 × lifetime on an injected clock, each
// replica rotates its key every lifetime, the JWKS lists the keys younger
// than 3 × lifetime, and older ones are removed from Redis. Every value in
// Redis is sealed and the hash expires by itself.
func TestIssuerKeysRotation(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	clk := newClock()
	const life = identity.MinLifetime
	a := replicaIssuer(t, openStore(t, r, &redisstore.Options{Prefix: "rot:"}), clk, life)
	b := replicaIssuer(t, openStore(t, r, &redisstore.Options{Prefix: "rot:"}), clk, life)
	var kids [][]string // per lifetime: the keys made in it
	for range 5 {
		kids = append(kids, sorted(tokenKid(t, issue(t, a)), tokenKid(t, issue(t, b))))
		clk.Advance(life)
	}
	// Now is 5 lifetimes after the first keys: those of the last two
	// lifetimes are younger than 3 × lifetime (the third-last are exactly
	// 3 × lifetime old: expired).
	want := sorted(append(slices.Clone(kids[3]), kids[4]...)...)
	if got := jwksKids(t, a); !slices.Equal(got, want) {
		t.Errorf("JWKS after 5 lifetimes = %v; want the 4 keys of the last two %v", got, want)
	}
	fields, err := raw.HKeys(t.Context(), "rot:issuerkeys").Result()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Sort(fields); !slices.Equal(fields, want) {
		t.Errorf("Redis holds %v after the JWKS; want the expired keys removed, %v left", fields, want)
	}
	vals, err := raw.HVals(t.Context(), "rot:issuerkeys").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		// "<expiry in ms>|" then the sealed value.
		_, v, _ := strings.Cut(v, "|")
		if v == "" || v[0] != 'E' || bytes.Contains([]byte(v), []byte(`"kty"`)) {
			t.Errorf("an issuer key is stored as %.20q…; want it sealed", v)
		}
	}
	if ttl, err := raw.PTTL(t.Context(), "rot:issuerkeys").Result(); err != nil || ttl <= 0 || ttl > 72*time.Hour {
		t.Errorf("the hash's TTL = %v, %v; want at most 72h", ttl, err)
	}
}

// TestIssuerKeysRefusesPlantedKeys: a public key planted in Redis by
// someone without the encryption key would let them forge tokens; it is
// never served, and logged. So is a sealed key moved to another kid, or
// sealed under another key.
func TestIssuerKeysRefusesPlantedKeys(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	clk := newClock()
	logs := &testlog.Buffer{}
	st := openStore(t, r, &redisstore.Options{Prefix: "pl:", Logger: logs.Logger()})
	is := replicaIssuer(t, st, clk, 0)
	own := tokenKid(t, issue(t, is))

	// Mallory's key pair, and a token she signs with it.
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	point, _ := priv.PublicKey.Bytes()
	enc := base64.RawURLEncoding
	jwk := identity.JWK{Kty: "EC", Crv: "P-256", X: enc.EncodeToString(point[1:33]), Y: enc.EncodeToString(point[33:]), Kid: "mallory", Alg: "ES256", Use: "sig"}
	// As AddKey writes it: the expiry in clear is the key's own.
	value, _ := json.Marshal(map[string]any{"key": jwk, "created": clk.Now(), "expires": clk.Now().Add(time.Hour)})
	expires := strconv.FormatInt(clk.Now().Add(time.Hour).UnixMilli(), 10) + "|"
	if err := raw.HSet(t.Context(), "pl:issuerkeys", "mallory", append([]byte(expires+"P"), value...)).Err(); err != nil {
		t.Fatal(err)
	}
	// A store with another encryption key writes a sealed key.
	otherKey := bytes.Repeat([]byte{9}, 32)
	other := openStore(t, r, &redisstore.Options{Prefix: "pl:", EncryptionKey: otherKey})
	jwk2 := jwk
	jwk2.Kid = "other-key"
	if err := other.IssuerKeys().AddKey(t.Context(), identity.StoredKey{Key: jwk2, Created: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	// The issuer's own sealed value copied under another kid.
	ownValue, err := raw.HGet(t.Context(), "pl:issuerkeys", own).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.HSet(t.Context(), "pl:issuerkeys", "copied", ownValue).Err(); err != nil {
		t.Fatal(err)
	}

	if got := jwksKids(t, is); !slices.Equal(got, []string{own}) {
		t.Errorf("JWKS = %v; want the issuer's own key only", got)
	}
	if n := logs.Count("refused an unsealed value"); n != 1 {
		t.Errorf("the planted unsealed key was logged %d times; want 1:\n%s", n, logs)
	}
	if n := logs.Count("does not open"); n != 2 {
		t.Errorf("keys that do not open were logged %d times; want 2:\n%s", n, logs)
	}
	// A verifier reading the JWKS refuses Mallory's token.
	srv := httptest.NewServer(is.JWKSHandler())
	defer srv.Close()
	v, err := identity.NewVerifier(&identity.VerifierOptions{JWKSURL: srv.URL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	forged := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": portalIssuer, "sub": "user:default/admin", "ent": []string{"user:default/admin"},
		"aud": identity.Audience, "iat": clk.Now().Unix(), "exp": clk.Now().Add(time.Hour).Unix()})
	forged.Header["kid"], forged.Header["typ"] = "mallory", identity.TypeUser
	s, err := forged.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), s); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("a token signed with the planted key: %v; want Unauthorized", err)
	}

	// Without an encryption key, Redis is trusted: plain values are
	// served (documented), and what the store writes is plain.
	plain, err := redisstore.Open(r.URL(0), &redisstore.Options{Prefix: "pl:", Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	keys, err := plain.IssuerKeys().ListKeys(t.Context())
	if err != nil || len(keys) != 1 || keys[0].Key.Kid != "mallory" {
		t.Errorf("a store without an encryption key lists %+v, %v; want the plain value only", keys, err)
	}
}

// TestIssuerKeysRedisDown: with Redis stopped, an Issuer whose key is due
// issues nothing (Unavailable) and its JWKS handler answers 503; a warm
// key keeps issuing, and its JWKS handler serves it from memory; when
// Redis is back, both work again.
func TestIssuerKeysRedisDown(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	st := openStore(t, r, &redisstore.Options{Prefix: "down:", Timeout: 500 * time.Millisecond, RetryAfter: time.Millisecond})
	warm := replicaIssuer(t, st, clk, 0)
	issue(t, warm)
	cold := replicaIssuer(t, st, clk, 0)
	srv := httptest.NewServer(warm.JWKSHandler())
	defer srv.Close()

	r.Stop()
	if tok, err := cold.Issue(t.Context(), identity.IssueRequest{Subject: "user:default/alice"}); tok != nil || errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("Issue with a new key and Redis down = %v, %v; want Unavailable", tok, err)
	}
	if _, err := warm.Issue(t.Context(), identity.IssueRequest{Subject: "user:default/alice"}); err != nil {
		t.Errorf("Issue with a warm key and Redis down: %v", err)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var set identity.JWKS
	err = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || len(set.Keys) != 1 || resp.Header.Get("Cache-Control") != "public, max-age=5" {
		t.Errorf("warm JWKS handler with Redis down = %d %q %+v, %v; want 200 with its key, cacheable 5 s", resp.StatusCode, resp.Header.Get("Cache-Control"), set, err)
	}
	coldSrv := httptest.NewServer(cold.JWKSHandler())
	defer coldSrv.Close()
	resp, err = http.Get(coldSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("JWKS handler of a replica without keys, Redis down = %d; want 503", resp.StatusCode)
	}

	r.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := cold.Issue(t.Context(), identity.IssueRequest{Subject: "user:default/alice"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Issue after Redis came back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := jwksKids(t, warm); len(got) != 2 {
		t.Errorf("JWKS after Redis came back = %v; want both keys", got)
	}
}

// countedStore opens a Store whose client counts round trips (a pipeline
// or MULTI/EXEC is one), not counting the handshake of a new connection
// (HELLO, CLIENT), which the pool does once per connection.
func countedStore(t testing.TB, r *testsvc.Redis, prefix string) (*redisstore.Store, *atomic.Int64) {
	t.Helper()
	n := &atomic.Int64{}
	c := redis.NewClient(&redis.Options{Addr: r.Addr, DisableIdentity: true, ContextTimeoutEnabled: true})
	c.AddHook(countHook{n})
	t.Cleanup(func() { c.Close() })
	st, err := redisstore.New(c, &redisstore.Options{Prefix: prefix, EncryptionKey: testKey, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return st, n
}

type countHook struct{ n *atomic.Int64 }

func (h countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name != "hello" && name != "client" {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// TestIssuerKeysRoundTrips: publishing a key is one round trip, JWKS
// answers one per second (the listing is reused for a second), and one
// more when they remove expired keys.
func TestIssuerKeysRoundTrips(t *testing.T) {
	r := testsvc.StartRedis(t)
	st, n := countedStore(t, r, "rt:")
	clk := newClock()
	is := replicaIssuer(t, st, clk, identity.MinLifetime)
	// AddKey and RemoveKeys are scripts: the first use of each on a Redis
	// server costs one round trip more (NOSCRIPT, then EVAL), once per
	// server. Another prefix pays it here.
	warm, _ := countedStore(t, r, "rt-warm:")
	if err := warm.IssuerKeys().AddKey(t.Context(), identity.StoredKey{Key: identity.JWK{Kid: "warm"}, Created: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := warm.IssuerKeys().RemoveKeys(t.Context(), []string{"warm"}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name string
		do   func()
		want int64
	}{
		{"first Issue (publishes a key)", func() { issue(t, is) }, 1},
		{"Issue with a warm key", func() { issue(t, is) }, 0},
		{"JWKS", func() { jwksKids(t, is) }, 1},
		{"Issue after a lifetime (publishes a key)", func() { clk.Advance(identity.MinLifetime); issue(t, is) }, 1},
		{"JWKS removing the first key", func() { clk.Advance(2 * identity.MinLifetime); jwksKids(t, is) }, 2},
		{"JWKS within the second, nothing expired", func() { jwksKids(t, is) }, 0},
		{"JWKS a second later", func() { clk.Advance(time.Second); jwksKids(t, is) }, 1},
	} {
		before := n.Load()
		step.do()
		if got := n.Load() - before; got != step.want {
			t.Errorf("%s: %d round trips; want %d", step.name, got, step.want)
		}
	}
}

// BenchmarkIssuerKeysIssueWarm: Issue with a current key asks Redis
// nothing. Budget: 0 redis-round-trips/op.
func BenchmarkIssuerKeysIssueWarm(b *testing.B) {
	r := testsvc.StartRedis(b)
	st, n := countedStore(b, r, "bw:")
	is := replicaIssuer(b, st, newClock(), 0)
	issue(b, is)
	before := n.Load()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := is.Issue(b.Context(), identity.IssueRequest{Subject: "user:default/alice"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n.Load()-before)/float64(b.N), "redis-round-trips/op")
}

// BenchmarkIssuerKeysJWKS: one JWKS answer listing three replicas' keys.
// Budget: one HGETALL per second of the Issuer's clock (here never
// advanced), so 0 redis-round-trips/op; BenchmarkIssuerKeysJWKS200 measures
// it on the real clock.
func BenchmarkIssuerKeysJWKS(b *testing.B) {
	r := testsvc.StartRedis(b)
	clk := newClock()
	var is *identity.Issuer
	var n *atomic.Int64
	for range 3 {
		var st *redisstore.Store
		st, n = countedStore(b, r, "bj:")
		is = replicaIssuer(b, st, clk, 0)
		issue(b, is)
	}
	srv := httptest.NewServer(is.JWKSHandler())
	defer srv.Close()
	before := n.Load()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		var set identity.JWKS
		err = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(set.Keys) != 3 {
			b.Fatalf("JWKS answer %d, %d keys, %v", resp.StatusCode, len(set.Keys), err)
		}
	}
	b.ReportMetric(float64(n.Load()-before)/float64(b.N), "redis-round-trips/op")
}
