package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// staticFile is a key file of testdata/static (see testdata/NOTICE).
func staticFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "static", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// staticKey parses testdata/static/<name>.private.pem and .public.pem.
func staticKey(t testing.TB, name, kid, alg string) StaticKey {
	t.Helper()
	k, err := ParseStaticKey(kid, alg, staticFile(t, name+".private.pem"), staticFile(t, name+".public.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pemLines are the base64 lines of the PEM inputs: an error must quote
// none of them.
func pemLines(inputs ...[]byte) []string {
	var out []string
	for _, in := range inputs {
		for _, l := range strings.Split(string(in), "\n") {
			if len(l) >= 16 && !strings.HasPrefix(l, "-----") {
				out = append(out, l)
			}
		}
	}
	return out
}

// ParseStaticKey refuses every key file an operator may get wrong with a
// message that says what is wrong and quotes no key material.
func TestParseStaticKeyErrors(t *testing.T) {
	key1Priv, key1Pub := staticFile(t, "key1.private.pem"), staticFile(t, "key1.public.pem")
	key2Pub := staticFile(t, "key2.public.pem")
	for _, tc := range []struct {
		name      string
		kid, alg  string
		priv, pub []byte
		want      string
	}{
		{"not PEM", "k", "", []byte("hello"), key1Pub, "private key: is not PEM"},
		{"a public key as the private one", "k", "", key1Pub, key1Pub, `private key: is a PEM "PUBLIC KEY", not a PKCS#8 "PRIVATE KEY"`},
		{"the private key as the public one", "k", "", key1Priv, key1Priv, `public key: is a PEM "PRIVATE KEY", not an SPKI "PUBLIC KEY"`},
		{"encrypted", "k", "", staticFile(t, "key1.encrypted.pem"), key1Pub, "private key: is encrypted"},
		{"legacy encrypted", "k", "", []byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n"), key1Pub, "private key: is encrypted"},
		{"SEC 1 as ecparam writes it", "k", "", staticFile(t, "key1.sec1.pem"), key1Pub, "not PKCS#8; convert it with openssl pkcs8 -topk8 -nocrypt"},
		{"RSA", "k", "", staticFile(t, "rsa.private.pem"), key1Pub, "private key: is an RSA key; scmkit signs with ES256, ES384 or ES512"},
		{"RSA public", "k", "", key1Priv, staticFile(t, "rsa.public.pem"), "public key: is an RSA key"},
		{"Ed25519", "k", "", staticFile(t, "ed25519.private.pem"), key1Pub, "private key: is an Ed25519 key"},
		{"two keys in one file", "k", "", append(append([]byte{}, key1Priv...), staticFile(t, "key2.private.pem")...), key1Pub, "holds more than one PEM block"},
		{"a P-384 key for ES256", "k", "", staticFile(t, "p384.private.pem"), staticFile(t, "p384.public.pem"), "the private key is on P-384, but ES256 needs P-256"},
		{"a P-256 key for ES512", "k", "ES512", key1Priv, key1Pub, "the private key is on P-256, but ES512 needs P-521"},
		{"another key's public half", "k", "", key1Priv, key2Pub, "the public key is not the private key's public half"},
		{"an algorithm scmkit does not sign with", "k", "RS256", key1Priv, key1Pub, `algorithm "RS256": scmkit signs with ES256, ES384 or ES512`},
		{"no kid", "", "", key1Priv, key1Pub, "keyId is empty"},
		{"a kid with a quote", `key"1`, "", key1Priv, key1Pub, "keyId must be 1 to 128 characters"},
		{"a kid with a space", "key 1", "", key1Priv, key1Pub, "keyId must be"},
		{"a kid with a newline", "key\n1", "", key1Priv, key1Pub, "keyId must be"},
		{"a kid too long", strings.Repeat("k", 129), "", key1Priv, key1Pub, "keyId must be"},
		{"not PKCS#8 inside", "k", "", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), key1Pub, "is not a valid PKCS#8 private key"},
		{"a certificate", "k", "", key1Priv, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "public key: is a certificate"},
	} {
		_, err := ParseStaticKey(tc.kid, tc.alg, tc.priv, tc.pub)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want InvalidArgument containing %q", tc.name, err, tc.want)
			continue
		}
		for _, l := range pemLines(tc.priv, tc.pub) {
			if strings.Contains(err.Error(), l) {
				t.Errorf("%s: the error shows key material: %v", tc.name, err)
			}
		}
	}
	// The good ones: the public file may be left out, and its String
	// shows no key.
	k, err := ParseStaticKey("key-1", "", key1Priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if k.PrivateKey == nil || k.PublicKey != nil || fmt.Sprintf("%v %+v %#v %s", k, k, k, k) != strings.Repeat(`static key "key-1" (ES256) `, 3)+`static key "key-1" (ES256)` {
		t.Errorf("key = %v", k)
	}
	if _, err := ParseStaticKey("key-384", "ES384", staticFile(t, "p384.private.pem"), staticFile(t, "p384.public.pem")); err != nil {
		t.Error(err)
	}
	// Neither fmt (inside the options, too), encoding/json nor slog's JSON
	// handler shows the private scalar.
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("keys", "key", k, "keys", []StaticKey{k})
	js, _ := json.Marshal(struct{ Keys []StaticKey }{[]StaticKey{k}})
	d := k.PrivateKey.D.String()
	raw, _ := k.PrivateKey.Bytes()
	for name, out := range map[string]string{"fmt": fmt.Sprintf("%v %+v %#v", IssuerOptions{StaticKeys: []StaticKey{k}}, []StaticKey{k}, &k), "json": string(js), "slog": logged.String()} {
		if strings.Contains(out, d) || strings.Contains(out, base64.StdEncoding.EncodeToString(raw)) || strings.Contains(out, fmt.Sprintf("%x", raw)) {
			t.Errorf("%s shows the private key: %s", name, out)
		}
		if !strings.Contains(out, "key-1") {
			t.Errorf("%s does not name the key: %s", name, out)
		}
	}
}

// IssuerOptions.StaticKeys given in Go: every mistake is refused by
// NewIssuer naming the index.
func TestNewIssuerStaticKeysErrors(t *testing.T) {
	k1, k2 := staticKey(t, "key1", "key-1", ""), staticKey(t, "key2", "key-2", "")
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mismatched := *k1.PrivateKey
	mismatched.PublicKey = other.PublicKey
	for _, tc := range []struct {
		name string
		opts IssuerOptions
		want string
	}{
		{"none", IssuerOptions{StaticKeys: []StaticKey{}}, "IssuerOptions.StaticKeys is empty"},
		{"a duplicate kid", IssuerOptions{StaticKeys: []StaticKey{k1, {KeyID: "key-1", PrivateKey: k2.PrivateKey}}}, `StaticKeys[1]: keyId "key-1" is also StaticKeys[0]'s`},
		{"a bad kid", IssuerOptions{StaticKeys: []StaticKey{k1, {KeyID: "a/b c", PrivateKey: k2.PrivateKey}}}, "StaticKeys[1]: keyId must be"},
		{"no private key first", IssuerOptions{StaticKeys: []StaticKey{{KeyID: "key-1", PublicKey: k1.PublicKey}}}, "StaticKeys[0]: the first key signs every token: its PrivateKey is required"},
		{"no key at all", IssuerOptions{StaticKeys: []StaticKey{k1, {KeyID: "key-2"}}}, "StaticKeys[1]: no key"},
		{"public not the private's", IssuerOptions{StaticKeys: []StaticKey{{KeyID: "key-1", PrivateKey: k1.PrivateKey, PublicKey: k2.PublicKey}}}, "the public key is not the private key's public half"},
		{"a private key whose public half is another's", IssuerOptions{StaticKeys: []StaticKey{{KeyID: "key-1", PrivateKey: &mismatched}}}, "StaticKeys[0]: the private key is not a valid P-256 key"},
		{"with a KeyStore", IssuerOptions{StaticKeys: []StaticKey{k1}, KeyStore: NewMemoryKeyStore()}, "leave KeyStore nil"},
		{"without ent and no user info", IssuerOptions{StaticKeys: []StaticKey{k1}, OmitOwnershipClaim: true}, "OmitOwnershipClaim with StaticKeys needs a UserInfo store"},
	} {
		tc.opts.Issuer = "https://portal.example.com/api/auth"
		_, err := NewIssuer(&tc.opts)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want InvalidArgument containing %q", tc.name, err, tc.want)
		}
	}
}

// staticConfig is an app-config with static keys, files relative to
// identity/.
func staticConfig(t *testing.T, keys string, extra string) *config.Config {
	t.Helper()
	cfg, err := config.LoadBytes(t.Context(), nil, []byte("backend:\n  baseUrl: https://portal.example.com\nauth:\n"+extra+"  keyStore:\n    provider: static\n    static:\n      keys:\n"+keys))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func keyEntry(priv, pub, kid, alg string) string {
	s := "        - privateKeyFile: " + priv + "\n          publicKeyFile: " + pub + "\n          keyId: " + kid + "\n"
	if alg != "" {
		s += "          algorithm: " + alg + "\n"
	}
	return s
}

// Backstage's auth.keyStore.static configuration: the files are read and
// checked, and every error names the config key of the entry.
func TestIssuerOptionsFromConfigStatic(t *testing.T) {
	d := "testdata/static/"
	good := keyEntry(d+"key1.private.pem", d+"key1.public.pem", "key-1", "") + keyEntry(d+"p384.private.pem", d+"p384.public.pem", "key-384", "ES384")
	shared := NewMemoryKeyStore()
	o, err := IssuerOptionsFromConfig(staticConfig(t, good, ""), &IssuerOptions{KeyStore: shared})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.StaticKeys) != 2 || o.StaticKeys[0].KeyID != "key-1" || o.StaticKeys[1].Algorithm != "ES384" || o.KeyStore != nil {
		t.Fatalf("options = %+v", o)
	}
	// The fs.FS variant reads the same names relative to its root.
	o2, err := IssuerOptionsFromConfigFS(staticConfig(t, strings.ReplaceAll(good, d, "./"), ""), os.DirFS(d), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !o2.StaticKeys[1].PrivateKey.Equal(o.StaticKeys[1].PrivateKey) {
		t.Error("IssuerOptionsFromConfigFS read other keys")
	}
	// A key store provider other than static drops base's static keys.
	cfg, err := config.LoadBytes(t.Context(), nil, []byte("backend:\n  baseUrl: https://portal.example.com\nauth:\n  keyStore:\n    provider: memory\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o3, err := IssuerOptionsFromConfig(cfg, o); err != nil || o3.StaticKeys != nil {
		t.Errorf("provider memory over static base: %v, %d static keys", err, len(o3.StaticKeys))
	}

	for _, tc := range []struct {
		name, keys, extra, want string
	}{
		{"no keys", "        []\n", "", "auth.keyStore.static.keys: lists no key"},
		{"a missing file", keyEntry(d+"key1.private.pem", d+"nothing.pem", "key-1", ""), "", "auth.keyStore.static.keys[0].publicKeyFile"},
		{"no private key file", "        - publicKeyFile: " + d + "key1.public.pem\n          keyId: key-1\n", "", "auth.keyStore.static.keys[0].privateKeyFile: is required"},
		{"no keyId", keyEntry(d+"key1.private.pem", d+"key1.public.pem", `""`, ""), "", "auth.keyStore.static.keys[0].keyId: is required"},
		{"a bad keyId", good + keyEntry(d+"key2.private.pem", d+"key2.public.pem", `"key 2"`, ""), "", "auth.keyStore.static.keys[2].keyId: must be 1 to 128 characters"},
		{"a duplicate keyId", good + keyEntry(d+"key2.private.pem", d+"key2.public.pem", "key-1", ""), "", `auth.keyStore.static.keys[2].keyId: "key-1" is also auth.keyStore.static.keys[0]'s`},
		{"an RS256 key", keyEntry(d+"rsa.private.pem", d+"rsa.public.pem", "rsa", "RS256"), "", `auth.keyStore.static.keys[0].algorithm: scmkit signs with ES256, ES384 or ES512, not "RS256"`},
		{"an RSA key file", keyEntry(d+"rsa.private.pem", d+"rsa.public.pem", "rsa", ""), "", "auth.keyStore.static.keys[0].privateKeyFile: the file is an RSA key"},
		{"an encrypted key", keyEntry(d+"key1.encrypted.pem", d+"key1.public.pem", "key-1", ""), "", "auth.keyStore.static.keys[0].privateKeyFile: the file is encrypted"},
		{"the files swapped", keyEntry(d+"key1.public.pem", d+"key1.private.pem", "key-1", ""), "", `auth.keyStore.static.keys[0].privateKeyFile: the file is a PEM "PUBLIC KEY"`},
		{"another key's public file", good + keyEntry(d+"key2.private.pem", d+"key1.public.pem", "key-2", ""), "", "auth.keyStore.static.keys[2]: the public key is not the private key's public half"},
		{"a curve not the algorithm's", keyEntry(d+"p384.private.pem", d+"p384.public.pem", "k", ""), "", "auth.keyStore.static.keys[0]: the private key is on P-384, but ES256 needs P-256"},
		{"without ent and no user info", good, "  omitIdentityTokenOwnershipClaim: true\n", "auth.omitIdentityTokenOwnershipClaim: tokens without ent need the user info shared"},
	} {
		_, err := IssuerOptionsFromConfig(staticConfig(t, tc.keys, tc.extra), nil)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want InvalidArgument containing %q", tc.name, err, tc.want)
			continue
		}
		for _, name := range []string{"key1.private.pem", "key1.public.pem", "rsa.private.pem", "key1.encrypted.pem"} {
			for _, l := range pemLines(staticFile(t, name)) {
				if strings.Contains(err.Error(), l) {
					t.Errorf("%s: the error shows key material: %v", tc.name, err)
				}
			}
		}
	}
	// The fs.FS variant refuses a name that leaves it, naming the key.
	_, err = IssuerOptionsFromConfigFS(staticConfig(t, keyEntry("../static/key1.private.pem", "key1.public.pem", "key-1", ""), ""), os.DirFS(d), nil)
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "auth.keyStore.static.keys[0].privateKeyFile") || !strings.Contains(err.Error(), "outside the fs.FS") {
		t.Errorf("a ../ name: %v", err)
	}
	// A file larger than any key is refused without being read whole.
	big := fstest.MapFS{"big.pem": {Data: []byte(strings.Repeat("A", maxKeyFile+10))}, "key1.public.pem": {Data: staticFile(t, "key1.public.pem")}}
	_, err = IssuerOptionsFromConfigFS(staticConfig(t, keyEntry("big.pem", "key1.public.pem", "key-1", ""), ""), big, nil)
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "larger than 64 KiB") {
		t.Errorf("a large file: %v", err)
	}
}

// staticIssuer is an Issuer of the static keys of the config keys.
func staticIssuer(t *testing.T, c *testclock.Clock, keys string, base *IssuerOptions) *Issuer {
	t.Helper()
	if base == nil {
		base = &IssuerOptions{}
	}
	base.Now = c.Now
	o, err := IssuerOptionsFromConfig(staticConfig(t, keys, ""), base)
	if err != nil {
		t.Fatal(err)
	}
	is, err := NewIssuer(o)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// switchable serves the JWKS of whichever Issuer is current, and counts
// requests: one JWKS URL across deployments.
type switchable struct {
	cur atomic.Pointer[Issuer]
	n   atomic.Int64
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.n.Add(1)
	s.cur.Load().JWKSHandler().ServeHTTP(w, r)
}

// The first static key signs (kid keyId, alg algorithm), the JWKS lists
// every public key and nothing private, and a Verifier reading it over
// HTTP verifies the user token, its limited token, and a plugin token
// acting for the user; two Issuers of the same configuration (two
// replicas, no shared store) verify each other's tokens.
func TestStaticKeysIssueAndVerify(t *testing.T) {
	c := newClock()
	d := "testdata/static/"
	keys := keyEntry(d+"key1.private.pem", d+"key1.public.pem", "key-1", "") + keyEntry(d+"p384.private.pem", d+"p384.public.pem", "key-384", "ES384")
	a, b := staticIssuer(t, c, keys, nil), staticIssuer(t, c, keys, nil)
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	var header map[string]any
	_ = json.Unmarshal(mustDecode(t, strings.Split(tok.Token, ".")[0]), &header)
	if header["kid"] != "key-1" || header["alg"] != "ES256" || header["typ"] != TypeUser {
		t.Errorf("header = %v", header)
	}
	srv, n := jwksServer(t, b) // the other replica's JWKS
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string][]map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	resp.Body.Close()
	if len(raw["keys"]) != 2 || raw["keys"][0]["kid"] != "key-1" || raw["keys"][1]["kid"] != "key-384" || raw["keys"][1]["crv"] != "P-384" || raw["keys"][1]["alg"] != "ES384" {
		t.Errorf("JWKS = %v", raw)
	}
	for _, k := range raw["keys"] {
		for _, private := range privateJWKMembers {
			if _, ok := k[private]; ok {
				t.Errorf("the JWKS shows %q of %v", private, k["kid"])
			}
		}
	}
	if resp.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, Issuer: "https://portal.example.com/api/auth", AcceptLimited: true, Algorithms: []string{"ES256", "ES384"}})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(t.Context(), tok.Token)
	if err != nil || claims.Subject != "user:default/alice" || len(claims.Ent) != 2 {
		t.Fatalf("verify a's token at b's JWKS: %v, %+v", err, claims)
	}
	btok := issueAs(t, b, "user:default/bob")
	if _, err := v.Verify(t.Context(), btok); err != nil {
		t.Errorf("b's token: %v", err)
	}
	limited, err := LimitedToken(tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	if lc, err := v.Verify(t.Context(), limited); err != nil || lc.Type != TypeLimitedUser {
		t.Errorf("the limited token: %v, %+v", err, lc)
	}
	// A plugin token acting for alice carries her limited token (obo).
	pb := newPluginBackend(t, "catalog")
	pv, err := NewPluginVerifier(&PluginVerifierOptions{PluginID: "permission", AllowedPlugins: []string{"catalog"}, BaseURL: pb.baseURL, Users: v, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	pc, err := pv.Verify(t.Context(), pb.token(t, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": now, "exp": now + 3600, "obo": limited}))
	if err != nil || pc.User == nil || pc.User.Subject != "user:default/alice" {
		t.Errorf("a plugin token for alice: %v, %+v", err, pc)
	}
	if got := n.Load(); got != 3 { // the GET above, the verifier's one fetch, and the plugin verifier's obo verifier's
		t.Errorf("%d JWKS requests; want 3", got)
	}
	// Nothing is made, stored or revoked at run time.
	if err := a.Revoke(t.Context(), "key-1"); errcode.CodeOf(err) != errcode.Unimplemented || !strings.Contains(err.Error(), "auth.keyStore.static.keys") {
		t.Errorf("Revoke: %v; want Unimplemented", err)
	}
	if err := a.Republish(t.Context()); err != nil {
		t.Errorf("Republish: %v", err)
	}
	a.StartRepublishing(t.Context(), time.Millisecond) // starts no goroutine (TestMain's goleak would see it)
	a.mu.Lock()
	running := a.stop != nil
	a.mu.Unlock()
	if running {
		t.Error("StartRepublishing started a goroutine for static keys")
	}
	if err := a.Close(); err != nil {
		t.Error(err)
	}
	c.Advance(5 * time.Hour) // no rotation: still key-1
	if kid := headerKid(t, issueAs(t, a, "user:default/alice")); kid != "key-1" {
		t.Errorf("5 hours later the kid is %q", kid)
	}
}

// The documented rotation: add the new key second, move it first, remove
// the old one. A verifier following one JWKS URL across the deployments
// accepts every token that is still valid at each step, and refuses the
// old key's tokens once the old key is gone (at its next fetch).
func TestStaticKeysRotation(t *testing.T) {
	c := newClock()
	d := "testdata/static/"
	k1 := keyEntry(d+"key1.private.pem", d+"key1.public.pem", "key-1", "")
	k2 := keyEntry(d+"key2.private.pem", d+"key2.public.pem", "key-2", "")
	var s switchable
	srv := httptest.NewServer(&s)
	defer srv.Close()
	step1 := staticIssuer(t, c, k1, nil)
	s.cur.Store(step1)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	t1 := issueAs(t, step1, "user:default/alice")
	verify := func(step, tok string) error { _, err := v.Verify(t.Context(), tok); return err }
	if err := verify("step 1", t1); err != nil {
		t.Fatal(err)
	}
	s.cur.Store(staticIssuer(t, c, k1+k2, nil)) // step 2: key-2 published, key-1 signs
	c.Advance(10 * time.Minute)
	t2 := issueAs(t, s.cur.Load(), "user:default/alice")
	if headerKid(t, t2) != "key-1" {
		t.Error("step 2 signs with key-2")
	}
	for _, tok := range []string{t1, t2} {
		if err := verify("step 2", tok); err != nil {
			t.Errorf("step 2: %v", err)
		}
	}
	s.cur.Store(staticIssuer(t, c, k2+k1, nil)) // step 3: key-2 signs, key-1 still published
	c.Advance(10 * time.Minute)
	t3 := issueAs(t, s.cur.Load(), "user:default/alice")
	if headerKid(t, t3) != "key-2" {
		t.Error("step 3 does not sign with key-2")
	}
	for _, tok := range []string{t1, t3} {
		if err := verify("step 3", tok); err != nil {
			t.Errorf("step 3: %v", err)
		}
	}
	s.cur.Store(staticIssuer(t, c, k2, nil)) // step 4: key-1 removed
	c.Advance(10 * time.Minute)              // the verifier's JWKSMaxAge: it fetches again
	if err := verify("step 4", t3); err != nil {
		t.Errorf("step 4, key-2's token: %v", err)
	}
	if err := verify("step 4", t2); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("step 4, key-1's token: %v; want Unauthorized", err)
	}
}

// Tokens without ent: with static keys the Issuer needs a UserInfo store
// (the replicas share the keys without a KeyStore); with one, its user
// info endpoint answers, also for a token signed by a listed key of
// another algorithm than the signing key's.
func TestStaticKeysWithoutEnt(t *testing.T) {
	c := newClock()
	d := "testdata/static/"
	info := &MemoryUserInfoStore{clock: c.Now}
	p384 := keyEntry(d+"p384.private.pem", d+"p384.public.pem", "key-384", "ES384")
	k1 := keyEntry(d+"key1.private.pem", d+"key1.public.pem", "key-1", "")
	old := staticIssuer(t, c, p384+k1, &IssuerOptions{OmitOwnershipClaim: true, UserInfo: info})
	tok, err := old.Issue(t.Context(), IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	// The next deployment signs with key-1 (ES256) and still lists key-384.
	is := staticIssuer(t, c, k1+p384, &IssuerOptions{OmitOwnershipClaim: true, UserInfo: info})
	mux := http.NewServeMux()
	mux.Handle("/jwks", is.JWKSHandler())
	mux.Handle("/userinfo", is.UserInfoHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL + "/jwks", UserInfoURL: srv.URL + "/userinfo", Now: c.Now, Algorithms: []string{"ES256", "ES384"}})
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	if headerKid(t, tok.Token) != "key-384" || headerKid(t, tok2.Token) != "key-1" {
		t.Fatal("not signed by the keys of each deployment")
	}
	for _, tt := range []string{tok.Token, tok2.Token} {
		claims, err := v.Verify(t.Context(), tt)
		if err != nil {
			t.Errorf("verify: %v", err)
			continue
		}
		if len(claims.Ent) != 2 || claims.Ent[1] != "group:default/team-a" {
			t.Errorf("ent = %v", claims.Ent)
		}
	}
}

// ParseStaticKey never panics, accepts only a key pair that signs and
// verifies, and never quotes its input in an error.
func FuzzParseStaticKey(f *testing.F) {
	for _, name := range []string{"key1.private.pem", "key1.sec1.pem", "key1.encrypted.pem", "rsa.private.pem", "p384.private.pem", "ed25519.private.pem"} {
		f.Add(staticFile(f, name), staticFile(f, "key1.public.pem"), "")
	}
	f.Add(staticFile(f, "p384.private.pem"), staticFile(f, "p384.public.pem"), "ES384")
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END PRIVATE KEY-----\n"), []byte{}, "ES256")
	f.Fuzz(func(t *testing.T, priv, pub []byte, alg string) {
		var pubIn []byte
		if len(pub) > 0 {
			pubIn = pub
		}
		k, err := ParseStaticKey("key-1", alg, priv, pubIn)
		if err != nil {
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("code %v", errcode.CodeOf(err))
			}
			for _, l := range pemLines(priv, pub) {
				if strings.Contains(err.Error(), l) {
					t.Fatalf("the error quotes the input: %v", err)
				}
			}
			return
		}
		is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", StaticKeys: []StaticKey{k}})
		if err != nil {
			t.Fatalf("a key ParseStaticKey accepts is refused by NewIssuer: %v", err)
		}
		tok, err := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice"})
		if err != nil {
			t.Fatal(err)
		}
		set, _ := is.JWKS(context.Background())
		a, _ := algorithm(alg)
		v, err := NewVerifier(&VerifierOptions{Keys: &set, Algorithms: []string{a.name}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), tok.Token); err != nil {
			t.Fatalf("the token of an accepted key does not verify: %v", err)
		}
	})
}
