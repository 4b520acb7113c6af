package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// pluginBackend publishes the plugin keys of a Backstage backend, one per
// plugin, at <base>/api/<plugin>/.backstage/auth/v1/jwks.json, and counts
// the fetches per plugin.
type pluginBackend struct {
	srv  *httptest.Server
	keys map[string]*ecdsa.PrivateKey
	mu   sync.Mutex
	hits map[string]int
}

func newPluginBackend(t *testing.T, plugins ...string) *pluginBackend {
	return newPluginBackendTB(t, plugins...)
}

func newPluginBackendTB(t testing.TB, plugins ...string) *pluginBackend {
	b := &pluginBackend{keys: map[string]*ecdsa.PrivateKey{}, hits: map[string]int{}}
	for _, p := range plugins {
		b.keys[p], _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plugin, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/api/"), PluginJWKSPath)
		b.mu.Lock()
		b.hits[plugin]++
		b.mu.Unlock()
		k := b.keys[plugin]
		if !ok || k == nil {
			http.NotFound(w, r)
			return
		}
		es256, _ := algorithm("ES256")
		_ = json.NewEncoder(w).Encode(JWKS{Keys: []JWK{es256.jwk(plugin+"-key", &k.PublicKey)}})
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *pluginBackend) baseURL(_ context.Context, plugin string) (string, error) {
	return b.srv.URL + "/api/" + plugin, nil
}

// token mints a plugin token as Backstage's PluginTokenHandler does, signed
// with signer's key.
func (b *pluginBackend) token(t testing.TB, signer string, claims map[string]any) string {
	return backstageToken(t, b.keys[signer], signer+"-key", claims, map[string]any{"typ": TypePlugin, "alg": "ES256", "kid": signer + "-key"})
}

// Backstage backend plugins call other plugins (the permission backend's
// /authorize among them) with plugin tokens, on behalf of a user through
// the obo claim; scmkit refused every such token, so no Backstage backend
// plugin could ask an scmkit permission endpoint anything.
func TestPluginVerifier(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	usrv, _ := jwksServer(t, is)
	users, err := NewVerifier(&VerifierOptions{JWKSURL: usrv.URL, Now: c.Now, Issuer: "https://portal.example.com/api/auth"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	obo, err := LimitedToken(tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	b := newPluginBackend(t, "catalog", "scaffolder", "search")
	pv, err := NewPluginVerifier(&PluginVerifierOptions{PluginID: "permission", AllowedPlugins: []string{"catalog", "scaffolder"},
		BaseURL: b.baseURL, Users: users, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	claims := func(sub string, extra map[string]any) map[string]any {
		m := map[string]any{"sub": sub, "aud": "permission", "iat": now, "exp": now + 3600}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	tamperedObo := obo[:len(obo)-4] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, obo[len(obo)-4:])
	good := []struct {
		name, token, service, user string
	}{
		{"on behalf of a user", b.token(t, "catalog", claims("catalog", map[string]any{"obo": obo})), "plugin:catalog", "user:default/alice"},
		{"as itself", b.token(t, "scaffolder", claims("scaffolder", nil)), "plugin:scaffolder", ""},
	}
	for _, tt := range good {
		pc, err := pv.Verify(context.Background(), tt.token)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		p := pc.Principal()
		if p.Service != tt.service || (tt.user == "") != (p.User == nil) || (p.User != nil && p.User.EntityRef != tt.user) {
			t.Errorf("%s: principal %v", tt.name, p)
		}
	}
	bad := []struct{ name, token string }{
		{"another audience", b.token(t, "catalog", claims("catalog", map[string]any{"aud": "catalog"}))},
		{"no audience", b.token(t, "catalog", claims("catalog", map[string]any{"aud": nil}))},
		{"signed by another plugin's key", b.token(t, "catalog", claims("scaffolder", nil))},
		{"a plugin not allowed", b.token(t, "search", claims("search", nil))},
		{"not a plugin id", b.token(t, "catalog", claims("../catalog", nil))},
		{"expired", b.token(t, "catalog", claims("catalog", map[string]any{"iat": now - 7200, "exp": now - 3600}))},
		{"no exp", b.token(t, "catalog", claims("catalog", map[string]any{"exp": nil}))},
		{"no iat", b.token(t, "catalog", claims("catalog", map[string]any{"iat": nil}))},
		{"a forged obo", b.token(t, "catalog", claims("catalog", map[string]any{"obo": tamperedObo}))},
		{"an obo that is no token", b.token(t, "catalog", claims("catalog", map[string]any{"obo": 42}))},
		{"an obo signed by the plugin", b.token(t, "catalog", claims("catalog", map[string]any{"obo": backstageToken(t, b.keys["catalog"], "catalog-key",
			map[string]any{"sub": "user:default/admin", "iat": now, "exp": now + 3600}, map[string]any{"typ": TypeLimitedUser, "alg": "ES256", "kid": "catalog-key"})}))},
		{"ent in a plugin token", b.token(t, "catalog", claims("catalog", map[string]any{"ent": []string{"group:default/admins"}}))},
		{"a user typ", backstageToken(t, b.keys["catalog"], "catalog-key", claims("catalog", nil), map[string]any{"typ": TypeUser, "alg": "ES256", "kid": "catalog-key"})},
		{"alg none", base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"vnd.backstage.plugin","alg":"none","kid":"catalog-key"}`)) + "." +
			b64(claims("catalog", nil)) + "."},
		{"a user token", tok.Token},
	}
	for _, tt := range bad {
		pc, err := pv.Verify(context.Background(), tt.token)
		if errcode.CodeOf(err) != errcode.Unauthorized {
			t.Errorf("%s: %+v, %v; want Unauthorized", tt.name, pc, err)
		}
		t.Logf("%s: %v", tt.name, err)
	}
	if b.hits["search"] != 0 {
		t.Errorf("the keys of a plugin not allowed were fetched %d times", b.hits["search"])
	}
	// The refusal of a plugin not allowed names it and the option to
	// change (an embedder's review: "not allowed" alone sent her looking).
	if _, err := pv.Verify(context.Background(), b.token(t, "search", claims("search", nil))); err == nil ||
		!strings.Contains(err.Error(), `"search"`) || !strings.Contains(err.Error(), "AllowedPlugins") {
		t.Errorf("a plugin not allowed: %v; want the error to name the plugin and AllowedPlugins", err)
	}

	// An obo user token that expired makes the plugin token fail too.
	c.Advance(2 * time.Hour)
	later := c.Now().Unix()
	late := b.token(t, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": later, "exp": later + 3600, "obo": obo})
	if pc, err := pv.Verify(context.Background(), late); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("expired obo: %+v, %v; want Unauthorized", pc, err)
	}
}

// Authenticate takes user tokens (through Users) and plugin tokens, and
// still refuses a limited user token as a bearer token.
func TestPluginVerifierAuthenticate(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	usrv, _ := jwksServer(t, is)
	users, err := NewVerifier(&VerifierOptions{JWKSURL: usrv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	limited, _ := LimitedToken(tok.Token)
	b := newPluginBackend(t, "catalog")
	pv, err := NewPluginVerifier(&PluginVerifierOptions{PluginID: "permission", AllowedPlugins: []string{"catalog"}, BaseURL: b.baseURL, Users: users, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	plugin := b.token(t, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": now, "exp": now + 600, "obo": limited})
	for _, tt := range []struct {
		name, header, want string
		ok                 bool
	}{
		{"user token", "Bearer " + tok.Token, "user:default/alice", true},
		{"plugin token for a user", "Bearer " + plugin, "plugin:catalog on behalf of user:default/alice", true},
		{"limited user token", "Bearer " + limited, "", false},
		{"no token", "", "", false},
		{"basic", "Basic " + tok.Token, "", false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/api/permission/authorize", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		p, err := pv.Authenticate(r)
		if tt.ok != (err == nil) || (tt.ok && p.String() != tt.want) {
			t.Errorf("%s: %v, %v; want %q", tt.name, p, err, tt.want)
		}
		if !tt.ok && errcode.CodeOf(err) != errcode.Unauthorized {
			t.Errorf("%s: %v, want Unauthorized", tt.name, err)
		}
	}
	if p, _ := pv.Authenticate(func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok.Token)
		return r
	}()); p.User == nil || len(p.User.OwnershipEntityRefs) != 2 {
		t.Errorf("a user token's principal lost its ownership refs: %v", p.User)
	}
}

func TestNewPluginVerifierRefusesBadOptions(t *testing.T) {
	users, _ := NewVerifier(&VerifierOptions{Keys: unrelatedKeys(t)})
	base := func(context.Context, string) (string, error) { return "http://backend/api/catalog", nil }
	for name, o := range map[string]*PluginVerifierOptions{
		"nil":                nil,
		"no plugin id":       {AllowedPlugins: []string{"catalog"}, BaseURL: base, Users: users},
		"bad plugin id":      {PluginID: "Permission", AllowedPlugins: []string{"catalog"}, BaseURL: base, Users: users},
		"no allowed plugins": {PluginID: "permission", BaseURL: base, Users: users},
		"bad allowed plugin": {PluginID: "permission", AllowedPlugins: []string{"cat/alog"}, BaseURL: base, Users: users},
		"no base URL":        {PluginID: "permission", AllowedPlugins: []string{"catalog"}, Users: users},
		"no users":           {PluginID: "permission", AllowedPlugins: []string{"catalog"}, BaseURL: base},
		"HMAC":               {PluginID: "permission", AllowedPlugins: []string{"catalog"}, BaseURL: base, Users: users, Algorithms: []string{"HS256"}},
	} {
		if _, err := NewPluginVerifier(o); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

// FuzzPluginVerify: no input panics, and only a token the catalog plugin
// signed for this audience verifies.
func FuzzPluginVerify(f *testing.F) {
	c := newClock()
	is := newIssuer(f, c)
	users, err := NewVerifier(&VerifierOptions{Keys: func() *JWKS {
		_, _ = is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice"})
		set, _ := is.JWKS(context.Background())
		return &set
	}(), Now: c.Now})
	if err != nil {
		f.Fatal(err)
	}
	tok, _ := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice"})
	obo, _ := LimitedToken(tok.Token)
	b := newPluginBackendTB(f, "catalog")
	pv, err := NewPluginVerifier(&PluginVerifierOptions{PluginID: "permission", AllowedPlugins: []string{"catalog"}, BaseURL: b.baseURL, Users: users, Now: c.Now})
	if err != nil {
		f.Fatal(err)
	}
	now := c.Now().Unix()
	f.Add(b.token(f, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": now, "exp": now + 600, "obo": obo}))
	f.Add(b.token(f, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": now, "exp": now + 600}))
	f.Add("e30.e30.")
	f.Fuzz(func(t *testing.T, token string) {
		pc, err := pv.Verify(context.Background(), token)
		if err == nil && (pc.Plugin != "catalog" || (pc.User != nil && pc.User.Subject != "user:default/alice")) {
			t.Fatalf("verified %q as %+v", token, pc)
		}
		if err != nil && errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("%q: %v, want Unauthorized", token, err)
		}
	})
}

// The user a plugin acts for gets her ownership refs from
// PluginVerifierOptions.OwnershipRefs (her obo token, a limited one, has
// none); its error fails the verification.
func TestPluginVerifierOwnershipRefs(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	usrv, _ := jwksServer(t, is)
	users, err := NewVerifier(&VerifierOptions{JWKSURL: usrv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	snap := &org.Snapshot{Users: []org.User{{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"team-a"}}}},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "team-a"}, Spec: org.GroupSpec{Type: "team"}}}}
	cat := NewSnapshotCatalog(snap)
	b := newPluginBackend(t, "catalog")
	now := c.Now().Unix()
	token := func(sub string) string {
		tok, err := is.Issue(context.Background(), IssueRequest{Subject: sub})
		if err != nil {
			t.Fatal(err)
		}
		obo, _ := LimitedToken(tok.Token)
		return b.token(t, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": now, "exp": now + 600, "obo": obo})
	}
	pv, err := NewPluginVerifier(&PluginVerifierOptions{PluginID: "permission", AllowedPlugins: []string{"catalog"}, BaseURL: b.baseURL, Users: users, Now: c.Now,
		OwnershipRefs: func(ctx context.Context, ref string) ([]string, error) {
			r, err := org.ParseRef(ref, "user", org.DefaultNamespace)
			if err != nil {
				return nil, err
			}
			if users, _ := cat.FindUsers(ctx, Filter{Ref: r}); len(users) == 0 {
				return nil, errcode.New(errcode.NotFound, "test", "no such user")
			}
			if r.Name == "cyclist" {
				return nil, errcode.New(errcode.Conflict, "test", "her groups form a cycle")
			}
			return OwnershipRefs(ctx, cat, r, nil)
		}})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := pv.Verify(context.Background(), token("user:default/alice"))
	if err != nil {
		t.Fatal(err)
	}
	if got := pc.Principal().User.OwnershipEntityRefs; strings.Join(got, " ") != "user:default/alice group:default/team-a" {
		t.Errorf("ownership refs %v", got)
	}
	if pc, err := pv.Verify(context.Background(), token("user:default/mallory")); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("a user the catalog does not know: %+v, %v; want NotFound", pc, err)
	}
	// The catalog's own trouble says nothing of the token: not a 401.
	snap.Users = append(snap.Users, org.User{Metadata: org.Metadata{Name: "cyclist"}})
	cat = NewSnapshotCatalog(snap)
	if pc, err := pv.Verify(context.Background(), token("user:default/cyclist")); errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("a group cycle: %+v, %v; want Unavailable", pc, err)
	}
}

// A plugin whose discovery fails is not asked about again for every
// token naming it: once per RefetchInterval, as JWKS fetches.
func TestPluginDiscoveryFailureIsSpaced(t *testing.T) {
	c := newClock()
	users, err := NewVerifier(&VerifierOptions{Keys: unrelatedKeys(t), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	b := newPluginBackend(t, "catalog")
	var calls atomic.Int32
	pv, err := NewPluginVerifier(&PluginVerifierOptions{PluginID: "permission", AllowedPlugins: []string{"catalog"}, Users: users, Now: c.Now,
		BaseURL: func(context.Context, string) (string, error) {
			calls.Add(1)
			return "", errors.New("discovery is down")
		}})
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	for i := range 100 {
		tok := b.token(t, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": now, "exp": now + 600, "jti": i})
		if _, err := pv.Verify(context.Background(), tok); errcode.CodeOf(err) != errcode.Unavailable {
			t.Fatalf("token %d: %v; want Unavailable", i, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("100 tokens asked discovery %d times; want 1", n)
	}
	c.Advance(31 * time.Second)
	tok := b.token(t, "catalog", map[string]any{"sub": "catalog", "aud": "permission", "iat": now, "exp": now + 600})
	_, _ = pv.Verify(context.Background(), tok)
	if n := calls.Load(); n != 2 {
		t.Errorf("after the interval, discovery was asked %d times in all; want 2", n)
	}
}
