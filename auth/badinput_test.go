package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// countingStore counts writes, to prove a refused request stored nothing.
type countingStore struct {
	*auth.MemoryStore
	puts atomic.Int32
}

func (s *countingStore) Put(ctx context.Context, key string, data []byte, ttl time.Duration) (int64, error) {
	s.puts.Add(1)
	return s.MemoryStore.Put(ctx, key, data, ttl)
}

// noFollow is a browser that does not follow redirects.
func noFollow() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return send(t, c, req)
}

// send sends req with c and returns the answer with its body, read whole
// and closed.
func send(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// start begins a sign-in in browser c and returns the provider's
// authorization URL.
func start(t *testing.T, c *http.Client, p *portal, provider, query string) *url.URL {
	t.Helper()
	resp, body := do(t, c, http.MethodGet, p.srv.URL+"/api/auth/"+provider+"/start?env=development"+query, nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	u, _ := url.Parse(resp.Header.Get("Location"))
	return u
}

// authorize follows the provider's authorization URL (auto-approved) and
// returns the callback URL it redirects to.
func authorize(t *testing.T, authURL *url.URL) *url.URL {
	t.Helper()
	resp, body := do(t, noFollow(), http.MethodGet, authURL.String(), nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s", resp.StatusCode, body)
	}
	u, _ := url.Parse(resp.Header.Get("Location"))
	return u
}

type badCase struct {
	name       string
	run        func(t *testing.T, w *badWorld) (*http.Response, string)
	wantStatus int
	wantMsg    string
}

type badWorld struct {
	p     *portal
	fg    *fakegithub.Server
	store *countingStore
}

func newBadWorld(t *testing.T) *badWorld {
	store := &countingStore{MemoryStore: auth.NewMemoryStore(nil)}
	p := newPortal(t, auth.Options{Store: store, ProviderTimeout: 300 * time.Millisecond, AppURL: ""})
	fg := githubWorld(t, false, nil)
	registerGitHub(t, p, fg)
	return &badWorld{p: p, fg: fg, store: store}
}

func (w *badWorld) url(path string) string { return w.p.srv.URL + path }

func TestBadInputGitHubFlow(t *testing.T) {
	xrw := map[string]string{"X-Requested-With": "XMLHttpRequest"}
	cases := []badCase{
		{"MissingState", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "GET", w.url("/api/auth/github/handler/frame?code=abc"), nil)
		}, 400, "no state"},
		{"TamperedState", func(t *testing.T, w *badWorld) (*http.Response, string) {
			c := noFollow()
			cb := authorize(t, start(t, c, w.p, "github", ""))
			q := cb.Query()
			st := []byte(q.Get("state"))
			st[len(st)/2] ^= 1
			q.Set("state", string(st))
			cb.RawQuery = q.Encode()
			return do(t, c, "GET", cb.String(), nil)
		}, 400, "state is invalid"},
		{"StateFromAnotherBrowserWithoutCookie", func(t *testing.T, w *badWorld) (*http.Response, string) {
			cb := authorize(t, start(t, noFollow(), w.p, "github", ""))
			return do(t, noFollow(), "GET", cb.String(), nil)
		}, 400, "cookie is missing"},
		{"StateFromAnotherBrowserWithItsOwnFlow", func(t *testing.T, w *badWorld) (*http.Response, string) {
			victim := authorize(t, start(t, noFollow(), w.p, "github", ""))
			attacker := noFollow()
			start(t, attacker, w.p, "github", "")
			return do(t, attacker, "GET", victim.String(), nil)
		}, 400, "belongs to another sign-in"},
		{"ReplayedCode", func(t *testing.T, w *badWorld) (*http.Response, string) {
			c := noFollow()
			first := authorize(t, start(t, c, w.p, "github", ""))
			if resp, body := do(t, c, "GET", first.String(), nil); resp.StatusCode != 200 {
				t.Fatalf("first callback: %d %s", resp.StatusCode, body)
			}
			w.store.puts.Store(0)
			c2 := noFollow()
			second := authorize(t, start(t, c2, w.p, "github", ""))
			q := second.Query()
			q.Set("code", first.Query().Get("code"))
			second.RawQuery = q.Encode()
			return do(t, c2, "GET", second.String(), nil)
		}, 401, "bad_verification_code"},
		{"ReplayedCallback", func(t *testing.T, w *badWorld) (*http.Response, string) {
			c := noFollow()
			cb := authorize(t, start(t, c, w.p, "github", ""))
			do(t, c, "GET", cb.String(), nil)
			w.store.puts.Store(0)
			c.Jar, _ = cookiejar.New(nil) // a fresh browser, as the flow cookie is spent anyway
			return do(t, c, "GET", cb.String(), nil)
		}, 400, "cookie is missing"},
		{"UnknownProvider", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "GET", w.url("/api/auth/nope/start?env=development"), nil)
		}, 404, "No auth provider registered for 'nope'"},
		{"UnknownEnvironment", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "GET", w.url("/api/auth/github/start?env=production"), nil)
		}, 404, "'production' environment"},
		{"RedirectOutsideAllowedOrigins", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "GET", w.url("/api/auth/github/start?env=development&flow=redirect&redirectUrl="+url.QueryEscape("https://evil.example/x")), nil)
		}, 400, "not on an allowed origin"},
		{"RedirectSchemeRelative", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "GET", w.url("/api/auth/github/start?env=development&flow=redirect&redirectUrl="+url.QueryEscape("//evil.example/x")), nil)
		}, 400, "not on an allowed origin"},
		{"RedirectBackslash", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "GET", w.url("/api/auth/github/start?env=development&flow=redirect&redirectUrl="+url.QueryEscape("/\\evil.example/x")), nil)
		}, 400, "not on an allowed origin"},
		{"RedirectJavaScript", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "GET", w.url("/api/auth/github/start?env=development&flow=redirect&redirectUrl="+url.QueryEscape("javascript:alert(1)")), nil)
		}, 400, "not on an allowed origin"},
		{"OriginNotAllowed", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "GET", w.url("/api/auth/github/start?env=development&origin="+url.QueryEscape("https://evil.example")), nil)
		}, 400, "is not allowed"},
		{"TamperedSessionCookie", func(t *testing.T, w *badWorld) (*http.Response, string) {
			c := noFollow()
			cb := authorize(t, start(t, c, w.p, "github", ""))
			do(t, c, "GET", cb.String(), nil)
			w.store.puts.Store(0)
			u, _ := url.Parse(w.p.srv.URL)
			var val string
			for _, ck := range c.Jar.Cookies(u) {
				if ck.Name == "scmkit-session" {
					val = ck.Value
				}
			}
			b := []byte(val)
			b[3] ^= 1
			req, _ := http.NewRequest("GET", w.url("/api/auth/github/refresh"), nil)
			req.Header.Set("X-Requested-With", "XMLHttpRequest")
			req.AddCookie(&http.Cookie{Name: "scmkit-session", Value: string(b)})
			if _, err := w.p.h.Session(req); err == nil {
				t.Fatal("Session accepted a tampered cookie")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, string(body)
		}, 401, "Missing session cookie"},
		{"RefreshWithoutAntiCSRFHeader", func(t *testing.T, w *badWorld) (*http.Response, string) {
			c := noFollow()
			cb := authorize(t, start(t, c, w.p, "github", ""))
			do(t, c, "GET", cb.String(), nil)
			w.store.puts.Store(0)
			return do(t, c, "GET", w.url("/api/auth/github/refresh"), nil)
		}, 401, "send X-Requested-With: XMLHttpRequest"},
		{"CrossSiteRefresh", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "POST", w.url("/api/auth/github/refresh"), map[string]string{"X-Requested-With": "XMLHttpRequest", "Sec-Fetch-Site": "cross-site"})
		}, 401, "X-Requested-With"},
		{"CrossOriginLogout", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "POST", w.url("/api/auth/github/logout"), map[string]string{"Origin": "https://evil.example"})
		}, 401, "X-Requested-With"},
		{"AccessDenied", func(t *testing.T, w *badWorld) (*http.Response, string) {
			c := noFollow()
			w.fg.DenyNextAuthorization("access_denied")
			cb := authorize(t, start(t, c, w.p, "github", ""))
			return do(t, c, "GET", cb.String(), nil)
		}, 403, "did not sign you in: access_denied"},
		{"ProviderDown", func(t *testing.T, w *badWorld) (*http.Response, string) {
			c := noFollow()
			cb := authorize(t, start(t, c, w.p, "github", ""))
			w.fg.Inject(fake.Fault{Kind: fake.FaultServerError, Status: 503, Path: "/login/oauth/access_token"})
			return do(t, c, "GET", cb.String(), nil)
		}, 502, "HTTP 503"},
		{"ProviderSlow", func(t *testing.T, w *badWorld) (*http.Response, string) {
			c := noFollow()
			cb := authorize(t, start(t, c, w.p, "github", ""))
			w.fg.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: 5 * time.Second, Path: "/login/oauth/access_token"})
			t0 := time.Now()
			resp, body := do(t, c, "GET", cb.String(), nil)
			if d := time.Since(t0); d > 2*time.Second {
				t.Errorf("a slow provider held the callback %v; the timeout is 300ms", d)
			}
			return resp, body
		}, 504, "did not answer in time"},
		{"UnknownRoute", func(t *testing.T, w *badWorld) (*http.Response, string) {
			return do(t, noFollow(), "GET", w.url("/api/auth/github/nope"), xrw)
		}, 404, "Unknown auth route"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newBadWorld(t)
			resp, body := tc.run(t, w)
			body = html.UnescapeString(body)
			if resp.StatusCode != tc.wantStatus || !strings.Contains(body, tc.wantMsg) {
				t.Fatalf("got %d %q; want %d containing %q", resp.StatusCode, body, tc.wantStatus, tc.wantMsg)
			}
			if n := w.store.puts.Load(); n != 0 {
				t.Errorf("the refused request stored %d session(s)", n)
			}
			for _, c := range resp.Cookies() {
				if strings.Contains(c.Name, "session") && c.MaxAge >= 0 {
					t.Errorf("the refused request set a session cookie")
				}
			}
			for _, secret := range []string{"gh-secret", "gho_", "ghu_", "ghr_", "portal-pat"} {
				if strings.Contains(body, secret) {
					t.Errorf("the answer leaks %q: %s", secret, body)
				}
			}
		})
	}
}

// evilOP is an OpenID provider that issues ID tokens broken on purpose.
type evilOP struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey
	mode     string
	msIss    string // Entra multi-tenant: the iss of ID tokens ("" for the normal issuer)
	msTID    string // and their tid claim
	issParam bool   // advertise RFC 9207 iss
	sendIss  string // iss parameter to send on the callback ("" none)
	mu       sync.Mutex
	nonces   map[string]string
}

func newEvilOP(t *testing.T) *evilOP {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	e := &evilOP{key: key, nonces: map[string]string{}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": e.srv.URL, "authorization_endpoint": e.srv.URL + "/authorize",
			"token_endpoint": e.srv.URL + "/token", "jwks_uri": e.srv.URL + "/keys", "userinfo_endpoint": e.srv.URL + "/userinfo",
			"id_token_signing_alg_values_supported": []string{"RS256", "none", "HS256"}, "code_challenge_methods_supported": []string{"S256"},
			"authorization_response_iss_parameter_supported": e.issParam})
	})
	mux.HandleFunc("GET /common/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": e.srv.URL + "/{tenantid}/v2.0", "authorization_endpoint": e.srv.URL + "/authorize",
			"token_endpoint": e.srv.URL + "/token", "jwks_uri": e.srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := "code-" + q.Get("state")[:8]
		e.mu.Lock()
		e.nonces[code] = q.Get("nonce")
		e.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		bq := url.Values{"code": {code}, "state": {q.Get("state")}}
		if e.sendIss != "" {
			bq.Set("iss", e.sendIss)
		}
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		e.mu.Lock()
		nonce := e.nonces[r.PostForm.Get("code")]
		e.mu.Unlock()
		now := time.Now()
		claims := jwt.MapClaims{"iss": e.srv.URL, "sub": "evil-1", "aud": "portal", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
			"nonce": nonce, "email": "mallory@example.com", "name": "Mallory"}
		if e.msIss != "" {
			claims["iss"], claims["tid"], claims["aud"] = strings.ReplaceAll(e.msIss, "AUTHORITY", e.srv.URL), e.msTID, "portal"
		}
		if e.mode == "echoSecret" {
			// A careless token endpoint quoting what it received in its
			// error description: the client secret (Basic, decoded and
			// raw), the code and the verifier.
			user, pass, _ := r.BasicAuth()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"error": "invalid_grant", "error_description": "client " + user + " secret " + pass +
				" auth " + r.Header.Get("Authorization") + " code " + r.PostForm.Get("code") + " verifier " + r.PostForm.Get("code_verifier")})
			return
		}
		method := jwt.SigningMethod(jwt.SigningMethodRS256)
		var key any = e.key
		switch e.mode {
		case "wrongNonce":
			claims["nonce"] = "not-the-nonce"
		case "noNonce":
			delete(claims, "nonce")
		case "wrongAudience":
			claims["aud"] = "someone-else"
		case "wrongIssuer":
			claims["iss"] = "https://evil.example"
		case "expired":
			claims["exp"] = now.Add(-time.Hour).Unix()
			claims["iat"] = now.Add(-2 * time.Hour).Unix()
		case "wrongAzp":
			// Issued to another client that asked for portal as one
			// audience among others (OIDC Core 3.1.3.7, items 4 and 5).
			claims["aud"], claims["azp"] = []string{"other-client", "portal"}, "other-client"
		case "algNone":
			method, key = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType
		case "hs256":
			method, key = jwt.SigningMethodHS256, []byte("portal-secret")
		}
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(key)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "evil-access", "token_type": "Bearer", "expires_in": 3600, "id_token": s})
	})
	return e
}

func TestBadInputOIDC(t *testing.T) {
	for _, tc := range []struct {
		mode, sendIss string
		issParam      bool
		wantMsg       string
	}{
		{mode: "good"},
		{mode: "wrongNonce", wantMsg: "nonce does not match"},
		{mode: "noNonce", wantMsg: "nonce does not match"},
		{mode: "algNone", wantMsg: "ID token is not valid"},
		{mode: "hs256", wantMsg: "ID token is not valid"},
		{mode: "wrongAudience", wantMsg: "ID token is not valid"},
		{mode: "wrongIssuer", wantMsg: "ID token is not valid"},
		{mode: "expired", wantMsg: "ID token is not valid"},
		{mode: "wrongAzp", wantMsg: "authorized party"},
		{mode: "echoSecret", wantMsg: "invalid_grant"},
		{mode: "good", issParam: true, wantMsg: "iss parameter does not name this provider"},
		{mode: "good", issParam: true, sendIss: "https://other-idp.example", wantMsg: "iss parameter does not name this provider"},
		{mode: "good", sendIss: "https://other-idp.example", wantMsg: "iss parameter does not name this provider"},
		{mode: "good", issParam: true, sendIss: "self"},
	} {
		name := tc.mode
		if tc.issParam || tc.sendIss != "" {
			name += "/iss=" + tc.sendIss
		}
		t.Run(name, func(t *testing.T) {
			store := &countingStore{MemoryStore: auth.NewMemoryStore(nil)}
			p := newPortal(t, auth.Options{Store: store})
			e := newEvilOP(t)
			e.mode, e.issParam, e.sendIss = tc.mode, tc.issParam, tc.sendIss
			if tc.sendIss == "self" {
				e.sendIss = e.srv.URL
			}
			prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"), MetadataURL: e.srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			p.h.Register("oidc", "development", prov)
			c := noFollow()
			cb := authorize(t, start(t, c, p, "oidc", ""))
			resp, body := do(t, c, "GET", cb.String(), nil)
			if tc.wantMsg == "" {
				if resp.StatusCode != 200 || store.puts.Load() != 1 {
					t.Fatalf("a good sign-in failed: %d %s", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != 401 || !strings.Contains(body, tc.wantMsg) {
				t.Fatalf("got %d %q; want 401 containing %q", resp.StatusCode, body, tc.wantMsg)
			}
			if store.puts.Load() != 0 {
				t.Error("a refused sign-in stored a session")
			}
			if strings.Contains(body, "evil-access") || strings.Contains(body, "portal-secret") || strings.Contains(body, "eyJ") ||
				strings.Contains(body, "code-") || strings.Contains(body, "cG9ydGFs") {
				t.Errorf("the answer leaks a token or secret: %s", body)
			}
		})
	}
}

const tenant1 = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// TestMicrosoftMultiTenantIssuer checks the issuer of a multi-tenant
// ("common") Entra ID sign-in: it must be the Microsoft issuer of the
// token's own tenant.
func TestMicrosoftMultiTenantIssuer(t *testing.T) {
	for _, tc := range []struct {
		name, iss, tid string
		allowed        []string
		ok             bool
	}{
		{"OwnTenant", "AUTHORITY/t1/v2.0", "t1", nil, true},
		{"OtherTenantsIssuer", "AUTHORITY/t2/v2.0", "t1", nil, false},
		{"NoTenant", "AUTHORITY/t1/v2.0", "", nil, false},
		{"ForeignAuthority", "https://evil.example/t1/v2.0", "t1", nil, false},
		{"AllowedTenant", "AUTHORITY/" + tenant1 + "/v2.0", tenant1, []string{"00000000-0000-0000-0000-000000000000", strings.ToUpper(tenant1)}, true},
		{"TenantNotAllowed", "AUTHORITY/t2/v2.0", "t2", []string{tenant1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &countingStore{MemoryStore: auth.NewMemoryStore(nil)}
			p := newPortal(t, auth.Options{Store: store})
			e := newEvilOP(t)
			e.msIss, e.msTID = tc.iss, tc.tid
			ms, err := auth.NewMicrosoft(auth.MicrosoftOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"), TenantID: "common", AuthorityURL: e.srv.URL, AllowedTenants: tc.allowed})
			if err != nil {
				t.Fatal(err)
			}
			p.h.Register("microsoft", "development", ms)
			c := noFollow()
			cb := authorize(t, start(t, c, p, "microsoft", ""))
			resp, body := do(t, c, "GET", cb.String(), nil)
			if tc.ok != (resp.StatusCode == 200) || tc.ok != (store.puts.Load() == 1) {
				t.Fatalf("got %d %s", resp.StatusCode, body)
			}
			want := "ID token"
			if tc.allowed != nil {
				want = "not one of allowedTenants"
			}
			if !tc.ok && !strings.Contains(body, want) {
				t.Fatalf("unclear refusal (want %q): %d %s", want, resp.StatusCode, body)
			}
		})
	}
}

// TestProviderAnswerCapped is a regression test: the discovery document,
// key set and userinfo are read by go-oidc, which reads them whole, and
// /start fetched the discovery document without the provider timeout, so
// a provider streaming an endless answer kept the handler reading (and
// holding it in memory). Every body from a provider is now capped at
// 1 MiB and /start is bounded by ProviderTimeout.
func TestProviderAnswerCapped(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string // the endless answer
	}{
		{"Discovery", "/.well-known/openid-configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent atomic.Int64
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			mux.HandleFunc("GET "+tc.path, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"issuer":`)
				chunk := []byte(strings.Repeat(" ", 32<<10))
				for range 2048 { // 64 MiB, then give up
					n, err := w.Write(chunk)
					sent.Add(int64(n))
					if err != nil {
						return
					}
				}
			})
			store := &countingStore{MemoryStore: auth.NewMemoryStore(nil)}
			p := newPortal(t, auth.Options{Store: store, ProviderTimeout: 20 * time.Second})
			prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"), MetadataURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			p.h.Register("oidc", "development", prov)
			resp, body := do(t, noFollow(), http.MethodGet, p.srv.URL+"/api/auth/oidc/start?env=development", nil)
			// 503 with Retry-After: the failed discovery is not tried
			// again for a second (502 before discovery failures were
			// remembered).
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "discovery document") {
				t.Fatalf("got %d (Retry-After %q) %s; want 503 with Retry-After naming the discovery document", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			if n := sent.Load(); n > 8<<20 {
				t.Fatalf("the handler read %d bytes of an endless answer; want about 1 MiB", n)
			}
			if store.puts.Load() != 0 {
				t.Error("a failed start stored a session")
			}
		})
	}
}
