package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
)

// countingStore wraps a KeyStore, counts its calls, and fails them on
// demand.
type countingStore struct {
	KeyStore
	adds, lists, removes atomic.Int64
	failAdd, failList    atomic.Bool
	onAdd                func(StoredKey) // called before the key is stored
}

func newCountingStore() *countingStore { return &countingStore{KeyStore: NewMemoryKeyStore()} }

var errStoreDown = errors.New("store down: 10.0.0.7:6379 refused")

func (c *countingStore) AddKey(ctx context.Context, k StoredKey) error {
	c.adds.Add(1)
	if c.onAdd != nil {
		c.onAdd(k)
	}
	if c.failAdd.Load() {
		return errStoreDown
	}
	return c.KeyStore.AddKey(ctx, k)
}

func (c *countingStore) ListKeys(ctx context.Context) ([]StoredKey, error) {
	c.lists.Add(1)
	if c.failList.Load() {
		return nil, errStoreDown
	}
	return c.KeyStore.ListKeys(ctx)
}

func (c *countingStore) RemoveKeys(ctx context.Context, kids []string) error {
	c.removes.Add(1)
	return c.KeyStore.RemoveKeys(ctx, kids)
}

func (c *countingStore) calls() int64 { return c.adds.Load() + c.lists.Load() + c.removes.Load() }

func storeKids(t testing.TB, s KeyStore) []string {
	t.Helper()
	keys, err := s.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.Key.Kid)
	}
	slices.Sort(out)
	return out
}

func headerKid(t testing.TB, tok string) string {
	t.Helper()
	tk, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tk.Header["kid"].(string)
	return kid
}

func TestMemoryKeyStore(t *testing.T) {
	ctx := t.Context()
	m := NewMemoryKeyStore()
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for i, kid := range []string{"a", "b", "c"} {
		if err := m.AddKey(ctx, StoredKey{Key: JWK{Kty: "EC", Kid: kid}, Created: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	// Same kid: replaced, not duplicated.
	if err := m.AddKey(ctx, StoredKey{Key: JWK{Kty: "EC", Kid: "b", X: "new"}, Created: t0}); err != nil {
		t.Fatal(err)
	}
	keys, err := m.ListKeys(ctx)
	if err != nil || len(keys) != 3 {
		t.Fatalf("ListKeys = %v, %v; want 3 keys", keys, err)
	}
	if i := slices.IndexFunc(keys, func(k StoredKey) bool { return k.Key.Kid == "b" }); i < 0 || keys[i].Key.X != "new" {
		t.Errorf("AddKey of an existing kid did not replace it: %+v", keys)
	}
	// The list is a copy.
	keys[0].Key.Kid = "mallory"
	if got := storeKids(t, m); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("changing ListKeys' result changed the store: %v", got)
	}
	if err := m.RemoveKeys(ctx, []string{"a", "unknown"}); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveKeys(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := storeKids(t, m); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("after RemoveKeys(a, unknown): %v; want [b c]", got)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.AddKey(done, StoredKey{Key: JWK{Kid: "d"}}); errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("AddKey on a cancelled context = %v; want Canceled", err)
	}
	if _, err := m.ListKeys(done); errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("ListKeys on a cancelled context = %v; want Canceled", err)
	}
	if err := m.RemoveKeys(done, []string{"b"}); errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("RemoveKeys on a cancelled context = %v; want Canceled", err)
	}
	if got := storeKids(t, m); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("calls on a cancelled context changed the store: %v", got)
	}
}

// TestIssuerPublishesBeforeSigning: a key is in the store before the first
// token it signs exists, and a store that refuses the key yields no token.
func TestIssuerPublishesBeforeSigning(t *testing.T) {
	c := newClock()
	st := newCountingStore()
	var mu sync.Mutex
	issued := map[string]bool{} // kids that signed a token handed out
	st.onAdd = func(k StoredKey) {
		mu.Lock()
		defer mu.Unlock()
		if issued[k.Key.Kid] {
			t.Errorf("key %s published after a token it signed was handed out", k.Key.Kid)
		}
	}
	is := replica(t, c, st, 0, "")
	st.failAdd.Store(true)
	tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if tok != nil || errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("Issue with a failing key store = %v, %v; want no token, Unavailable", tok, err)
	}
	if got := storeKids(t, st.KeyStore); len(got) != 0 {
		t.Fatalf("the refused key is in the store: %v", got)
	}
	if set := jwksOf(t, is); len(set.Keys) != 0 {
		t.Fatalf("JWKS lists an unpublished key: %+v", set.Keys)
	}

	st.failAdd.Store(false)
	tok, err = is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	issued[headerKid(t, tok.Token)] = true
	mu.Unlock()
	if got := storeKids(t, st.KeyStore); !slices.Equal(got, []string{headerKid(t, tok.Token)}) {
		t.Fatalf("store holds %v; want the kid of the token, %s", got, headerKid(t, tok.Token))
	}
	// The warm key is used without the store, even when it is down.
	st.failAdd.Store(true)
	before := st.calls()
	if _, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/bob"}); err != nil {
		t.Fatalf("Issue with a warm key and the store down: %v", err)
	}
	if st.calls() != before {
		t.Errorf("Issue with a warm key made %d store calls; want 0", st.calls()-before)
	}
	// Rotation while the store is down: no token signed by an unpublished
	// key. The previous key, published, goes on signing up to 2 ×
	// lifetime (its tokens expire before it stops being published); past
	// that, Unavailable.
	c.Advance(is.Lifetime())
	prev := headerKid(t, tok.Token)
	if tok2, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"}); err != nil || headerKid(t, tok2.Token) != prev {
		t.Fatalf("Issue when the key is due and the store is down = %v, %v; want a token of the previous key %s", tok2, err, prev)
	}
	if got := storeKids(t, st.KeyStore); !slices.Equal(got, []string{prev}) {
		t.Fatalf("store holds %v; want only the previous key %s", got, prev)
	}
	c.Advance(is.Lifetime())
	if tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"}); tok != nil || errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("Issue at 2 × lifetime with the store down = %v, %v; want Unavailable", tok, err)
	}
	// Back up: a new key is published and signs.
	st.failAdd.Store(false)
	c.Advance(11 * time.Second) // past the retry pause
	tok3, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil || headerKid(t, tok3.Token) == prev {
		t.Fatalf("Issue once the store is back = %v, %v; want a token of a new key", tok3, err)
	}
}

// TestIssuerOnePublicationAtATime: concurrent first Issues publish one key.
func TestIssuerOnePublicationAtATime(t *testing.T) {
	c := newClock()
	st := newCountingStore()
	is := replica(t, c, st, 0, "")
	var wg sync.WaitGroup
	kids := make([]string, 20)
	for i := range kids {
		wg.Go(func() {
			tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = headerKid(t, tok.Token)
		})
	}
	wg.Wait()
	if n := st.adds.Load(); n != 1 {
		t.Errorf("20 concurrent first Issues published %d keys; want 1", n)
	}
	if kids[0] == "" || slices.ContainsFunc(kids, func(k string) bool { return k != kids[0] }) {
		t.Errorf("tokens signed by different keys: %v", kids)
	}
}

// TestIssuersShareKeys: two Issuers (replicas) on one store; a Verifier
// reading replica A's JWKS accepts replica B's tokens.
func TestIssuersShareKeys(t *testing.T) {
	c := newClock()
	shared := NewMemoryKeyStore()
	replica := func() *Issuer {
		is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, KeyStore: shared})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	a, b := replica(), replica()
	srv := httptest.NewServer(a.JWKSHandler())
	defer srv.Close()
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i, is := range []*Issuer{a, b, a, b} {
		tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
		if err != nil {
			t.Fatal(err)
		}
		// The verifier refetches for an unknown kid at most once per
		// RefetchInterval (30s).
		c.Advance(31 * time.Second)
		if _, err := v.Verify(t.Context(), tok.Token); err != nil {
			t.Fatalf("token %d, of replica %s: does not verify against replica A's JWKS: %v", i, map[bool]string{true: "A", false: "B"}[is == a], err)
		}
	}
	if n := len(jwksOf(t, b).Keys); n != 2 {
		t.Errorf("JWKS lists %d keys; want 2, one per replica", n)
	}
	// A store with no shared state: each replica lists only its own key,
	// today's one-process behaviour.
	solo := newIssuer(t, c)
	if _, err := solo.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"}); err != nil {
		t.Fatal(err)
	}
	if n := len(jwksOf(t, solo).Keys); n != 1 {
		t.Errorf("the default store lists %d keys; want the Issuer's own only", n)
	}
}

// TestJWKSRemovesExpiredKeys: keys expire 3 × lifetime after they were
// made and are removed from the store when the JWKS is read.
func TestJWKSRemovesExpiredKeys(t *testing.T) {
	c := newClock()
	st := newCountingStore()
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, KeyStore: st, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for range 5 {
		tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, headerKid(t, tok.Token))
		c.Advance(time.Hour)
	}
	// Now: key i was made (5-i) hours ago; keys 0 and 1 are 5h and 4h
	// old, key 2 is exactly 3h old: all three expired.
	var got []string
	for _, k := range jwksOf(t, is).Keys {
		got = append(got, k.Kid)
	}
	if !slices.Equal(got, kids[3:]) {
		t.Errorf("JWKS = %v; want the two keys younger than 3h, oldest first: %v", got, kids[3:])
	}
	if n := st.removes.Load(); n != 1 {
		t.Errorf("RemoveKeys called %d times; want 1", n)
	}
	want := slices.Clone(kids[3:])
	slices.Sort(want)
	if got := storeKids(t, st.KeyStore); !slices.Equal(got, want) {
		t.Errorf("store after JWKS = %v; want %v", got, want)
	}
	// Nothing expired: no removal.
	jwksOf(t, is)
	if n := st.removes.Load(); n != 1 {
		t.Errorf("RemoveKeys called with nothing expired")
	}
}

// plantedStore lists extra keys besides its own, as a store holding
// entries nobody vetted (duplicates included) would.
type plantedStore struct {
	KeyStore
	extra []StoredKey
}

func (p *plantedStore) ListKeys(ctx context.Context) ([]StoredKey, error) {
	keys, err := p.KeyStore.ListKeys(ctx)
	return append(keys, p.extra...), err
}

// TestJWKSSkipsUnusableKeys: a stored key a verifier could not use is not
// served (and is logged); the others are, and the JWKS always parses.
func TestJWKSSkipsUnusableKeys(t *testing.T) {
	c := newClock()
	logs := &testlog.Buffer{}
	st := &plantedStore{KeyStore: NewMemoryKeyStore()}
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, KeyStore: st, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	es256, _ := algorithm("ES256")
	es384, _ := algorithm("ES384")
	p256 := func(kid string) JWK {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		return es256.jwk(kid, &k.PublicKey)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	enc := base64.RawURLEncoding
	twin := p256("twin")
	unusable := []struct {
		name string
		key  JWK
	}{
		{"no kid", p256("")},
		{"RSA", JWK{Kty: "RSA", N: enc.EncodeToString(append([]byte{1}, make([]byte, 255)...)), E: "AQAB", Kid: "rsa", Alg: "RS256"}},
		{"alg of another curve", func() JWK { k := p256("alg"); k.Alg = "ES512"; return k }()},
		{"encryption key", func() JWK { k := p256("enc"); k.Use = "enc"; return k }()},
		{"bad base64", func() JWK { k := p256("b64"); k.X = "!!"; return k }()},
		{"off the curve", func() JWK {
			k := p256("off-curve")
			k.Y = enc.EncodeToString(append([]byte{1}, make([]byte, 31)...))
			return k
		}()},
		{"coordinates too long", func() JWK {
			k := p256("long")
			k.X = enc.EncodeToString(append([]byte{1}, make([]byte, 40)...))
			return k
		}()},
		{"the issuer's kid, another key", p256(headerKid(t, tok.Token))},
		{"a kid listed twice", twin},
	}
	// A P-384 key of a replica signing with ES384 is served too (a fleet
	// changing auth.identityTokenAlgorithm).
	st.extra = append(st.extra, StoredKey{Key: twin, Created: c.Now()}, StoredKey{Key: p256("other-replica"), Created: c.Now()},
		StoredKey{Key: es384.jwk("p384", &p384.PublicKey), Created: c.Now()},
		StoredKey{Key: p256("future"), Created: c.Now().Add(2 * is.Lifetime())})
	for _, u := range unusable {
		st.extra = append(st.extra, StoredKey{Key: u.key, Created: c.Now()})
	}
	set := jwksOf(t, is)
	var got []string
	for _, k := range set.Keys {
		got = append(got, k.Kid)
	}
	slices.Sort(got)
	want := []string{headerKid(t, tok.Token), "other-replica", "p384", "twin"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("JWKS kids = %q; want only the usable keys %q", got, want)
	}
	// A verifier parses the whole set, and the issuer's own key (not the
	// planted one under its kid) verifies its token.
	v, err := NewVerifier(&VerifierOptions{Keys: set, Now: c.Now})
	if err != nil {
		t.Fatalf("the JWKS does not parse: %v", err)
	}
	if _, err := v.Verify(t.Context(), tok.Token); err != nil {
		t.Errorf("the issuer's token: %v", err)
	}
	if n, want := logs.Count("left a stored key out of the JWKS"), len(unusable)+1; n != want {
		t.Errorf("logged %d left-out keys; want %d:\n%s", n, want, logs)
	}
	// Each reason is distinct in the log.
	for _, why := range []string{"no kid", "not an EC key on P-256", "algorithm is not ES256", "not a signing key", "malformed",
		"listed twice", "made in the future", "kid of this Issuer's signing key"} {
		if logs.Count(why) == 0 {
			t.Errorf("no log says %q:\n%s", why, logs)
		}
	}
}

// TestJWKSStoreDown: a store that cannot be read makes JWKS Unavailable;
// the handler then serves the keys the Issuer holds in memory, cacheable
// for 5 s only, and logs the outage once; a replica that holds no key
// answers 503 without detail, not cacheable.
func TestJWKSStoreDown(t *testing.T) {
	c := newClock()
	st := newCountingStore()
	logs := &testlog.Buffer{}
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, KeyStore: st, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	cold := replica(t, c, st, 0, "") // holds no key
	st.failList.Store(true)
	if _, err := is.JWKS(t.Context()); errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("JWKS with the store down = %v; want Unavailable", err)
	}
	srv := httptest.NewServer(is.JWKSHandler())
	defer srv.Close()
	for range 3 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		var set JWKS
		err = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil || len(set.Keys) != 1 || set.Keys[0].Kid != headerKid(t, tok.Token) {
			t.Errorf("handler with the store down = %d %+v, %v; want 200 with the Issuer's own key", resp.StatusCode, set, err)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=5" {
			t.Errorf("keys served from memory are cacheable as %q; want 5 s", cc)
		}
	}
	if n := logs.Count("key store cannot be read"); n != 1 {
		t.Errorf("the outage was logged %d times; want once:\n%s", n, logs)
	}
	coldSrv := httptest.NewServer(cold.JWKSHandler())
	defer coldSrv.Close()
	resp, err := http.Get(coldSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), "10.0.0.7") || strings.Contains(string(body), "keys") {
		t.Errorf("handler of a replica without keys, store down = %d %q; want 503 without detail", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); strings.Contains(cc, "max-age") {
		t.Errorf("a 503 is cacheable: %q", cc)
	}
	st.failList.Store(false)
	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("handler with the store back = %d %q; want 200, cacheable for a minute", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

// TestJWKSRepublishesLostKey: a store that lost the Issuer's signing key
// (Redis flushed) gets it back on the next JWKS, which lists it meanwhile.
func TestJWKSRepublishesLostKey(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	is := replica(t, c, st, 0, "")
	tok, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	kid := headerKid(t, tok.Token)
	if err := st.RemoveKeys(t.Context(), []string{kid}); err != nil {
		t.Fatal(err)
	}
	set := jwksOf(t, is)
	if len(set.Keys) != 1 || set.Keys[0].Kid != kid {
		t.Fatalf("JWKS = %+v; want the signing key %s", set.Keys, kid)
	}
	if got := storeKids(t, st); !slices.Equal(got, []string{kid}) {
		t.Errorf("store = %v; want the signing key published again", got)
	}
}

// BenchmarkIssueWarmKey: Issue with a current key makes no store call.
// Budget: 0 requests/op (to the key store).
func BenchmarkIssueWarmKey(b *testing.B) {
	st := newCountingStore()
	is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", KeyStore: st})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := is.Issue(b.Context(), IssueRequest{Subject: "user:default/alice"}); err != nil {
		b.Fatal(err)
	}
	before := st.calls()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := is.Issue(b.Context(), IssueRequest{Subject: "user:default/alice"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.calls()-before)/float64(b.N), "requests/op")
}

// BenchmarkJWKS: one JWKS answer with three replicas' keys published.
// Budget: 1 request/op (one ListKeys).
func BenchmarkJWKS(b *testing.B) {
	st := newCountingStore()
	var is *Issuer
	for range 3 {
		var err error
		is, err = NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", KeyStore: st})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := is.Issue(b.Context(), IssueRequest{Subject: "user:default/alice"}); err != nil {
			b.Fatal(err)
		}
	}
	before := st.calls()
	b.ReportAllocs()
	for b.Loop() {
		set, err := is.JWKS(b.Context())
		if err != nil || len(set.Keys) != 3 {
			b.Fatalf("JWKS = %d keys, %v", len(set.Keys), err)
		}
	}
	b.ReportMetric(float64(st.calls()-before)/float64(b.N), "requests/op")
}

// FuzzJWKSStoredKey: whatever a key store holds, the JWKS an Issuer serves
// parses in a Verifier: a verifier never gets a key it cannot use.
func FuzzJWKSStoredKey(f *testing.F) {
	es256, _ := algorithm("ES256")
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	good := es256.jwk("k1", &priv.PublicKey)
	f.Add(good.Kty, good.Crv, good.X, good.Y, good.Kid, good.Alg, good.Use, int64(0))
	f.Add("EC", "P-256", good.X, "AAAA", "k2", "ES256", "", int64(-60))
	f.Add("EC", "P-384", good.X, good.Y, "k3", "ES384", "sig", int64(0))
	f.Add("RSA", "", "", "", "k4", "RS256", "sig", int64(0))
	f.Add("EC", "P-256", "", "", "", "", "", int64(1<<40))
	f.Fuzz(func(t *testing.T, kty, crv, x, y, kid, alg, use string, age int64) {
		c := newClock()
		st := NewMemoryKeyStore()
		is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, KeyStore: st})
		if err != nil {
			t.Fatal(err)
		}
		k := StoredKey{Key: JWK{Kty: kty, Crv: crv, X: x, Y: y, Kid: kid, Alg: alg, Use: use}, Created: c.Now().Add(-time.Duration(age) * time.Second)}
		if err := st.AddKey(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		set, err := is.JWKS(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Keys) == 0 {
			return
		}
		if _, err := NewVerifier(&VerifierOptions{Keys: &set}); err != nil {
			t.Fatalf("the JWKS served from %+v does not parse: %v", k, err)
		}
		for _, got := range set.Keys {
			if got.Kty != "EC" || got.Crv != "P-256" || got.Alg != "ES256" || got.Use != "sig" || got.Kid == "" {
				t.Fatalf("served %+v", got)
			}
		}
	})
}
