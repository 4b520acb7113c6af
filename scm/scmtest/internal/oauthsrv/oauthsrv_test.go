package oauthsrv

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// world is a Server with a test provider's wording behind an httptest
// server, on a clock the test moves.
type world struct {
	t    *testing.T
	srv  *Server[string]
	http *httptest.Server
	mu   sync.Mutex
	now  time.Time
}

var testAnswers = map[Failure]Answer{
	UnknownClient:      {Status: 404, Description: "no such client"},
	BadRequest:         {Status: 400, Error: "invalid_request", Description: "bad redirect"},
	BadChallengeMethod: {Error: "invalid_request", Description: "S256 only"},
	Denied:             {Error: "access_denied"},
	BadForm:            {Status: 400, Error: "invalid_request", Description: "bad form"},
	BadClient:          {Status: 401, Error: "invalid_client", Description: "who are you"},
	BadCode:            {Status: 400, Error: "invalid_grant", Description: "bad code"},
	BadVerifier:        {Status: 400, Error: "invalid_grant", Description: "bad verifier"},
	BadRefresh:         {Status: 400, Error: "invalid_grant", Description: "bad refresh"},
	BadGrantType:       {Status: 400, Error: "unsupported_grant_type"},
	DeviceDisabled:     {Status: 400, Error: "unauthorized_client"},
	Pending:            {Status: 400, Error: "authorization_pending"},
	SlowDown:           {Status: 400, Error: "slow_down"},
	DeviceDenied:       {Status: 400, Error: "access_denied"},
	DeviceExpired:      {Status: 400, Error: "expired_token"},
	BadDeviceCode:      {Status: 400, Error: "invalid_grant", Description: "bad device code"},
}

// newServer is a world without its httptest server.
func newServer(t *testing.T, tweak func(*Config[string])) *world {
	w := &world{t: t, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg := Config[string]{
		Now:        func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now },
		CodePrefix: "code-", Schemes: []string{"bearer"}, Header: "Private-Token", Answers: testAnswers,
		Clients: []Client{{ID: "robot", Secret: "robot-secret", Lifetime: time.Hour, AccessPrefix: "cc-", RefreshPrefix: "ccr-", Credentials: true}},
		Write: func(w http.ResponseWriter, r *http.Request, status int, body any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(body)
		},
		Issued: func(g *Grant[string], gt string) any {
			return map[string]any{"access_token": g.Access, "refresh_token": g.Refresh, "expires_in": g.ExpiresIn(), "scope": g.Scope, "user": g.User, "grant": gt}
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	w.srv = New(cfg)
	w.srv.AddClient(Client{ID: "app", Secret: "app-secret", Lifetime: 2 * time.Hour, AccessPrefix: "at-", RefreshPrefix: "rt-"})
	w.srv.AddClient(Client{ID: "forever", Secret: "forever-secret", AccessPrefix: "ft-"})
	w.srv.SetUser("alice")
	return w
}

func newWorld(t *testing.T, tweak func(*Config[string])) *world {
	w := newServer(t, tweak)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", w.srv.Authorize)
	mux.HandleFunc("POST /token", w.srv.Token)
	mux.HandleFunc("POST /device", w.srv.DeviceAuthorize)
	w.http = httptest.NewServer(mux)
	t.Cleanup(w.http.Close)
	return w
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

// authorize sends an authorization request with q (client app, redirect
// to the client's callback, state s1 unless q says otherwise) and returns
// the status and the parameters sent back to the callback.
func (w *world) authorize(q url.Values) (int, url.Values) {
	w.t.Helper()
	v := url.Values{"client_id": {"app"}, "redirect_uri": {"https://client.example/cb?keep=1"}, "state": {"s1"}, "response_type": {"code"}}
	for k, x := range q {
		v[k] = x
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(w.http.URL + "/authorize?" + v.Encode())
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host != "client.example" || loc.Path != "/cb" {
		w.t.Fatalf("redirected to %q (%v)", resp.Header.Get("Location"), err)
	}
	return resp.StatusCode, loc.Query()
}

// code runs an authorization that succeeds and returns its code.
func (w *world) code(q url.Values) string {
	w.t.Helper()
	_, back := w.authorize(q)
	if back.Get("code") == "" {
		w.t.Fatalf("no code: %v", back)
	}
	return back.Get("code")
}

// token posts form to the token endpoint, as client:secret with Basic
// when basic is set, and returns the status and the decoded answer.
func (w *world) token(basic string, form url.Values) (int, map[string]any) {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.http.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id, secret, ok := strings.Cut(basic, ":"); ok {
		req.SetBasicAuth(id, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		w.t.Errorf("Cache-Control %q; want no-store", cc)
	}
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		w.t.Fatalf("token answer %d %q: %v", resp.StatusCode, b, err)
	}
	return resp.StatusCode, body
}

func (w *world) exchange(code string, extra url.Values) (int, map[string]any) {
	w.t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://client.example/cb?keep=1"}}
	for k, x := range extra {
		f[k] = x
	}
	return w.token("app:app-secret", f)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestAuthorize(t *testing.T) {
	for _, tc := range []struct {
		name       string
		q          url.Values
		setup      func(*world)
		wantStatus int
		want       url.Values // parameters sent back, besides state s1 and keep=1; code "*" means any code
	}{
		{name: "code", want: url.Values{"code": {"*"}}},
		{name: "pkce", q: url.Values{"code_challenge": {s256("v")}, "code_challenge_method": {"S256"}}, want: url.Values{"code": {"*"}}},
		{name: "plain method", q: url.Values{"code_challenge": {"v"}, "code_challenge_method": {"plain"}},
			want: url.Values{"error": {"invalid_request"}, "error_description": {"S256 only"}}},
		{name: "S256 without challenge", q: url.Values{"code_challenge_method": {"S256"}},
			want: url.Values{"error": {"invalid_request"}, "error_description": {"S256 only"}}},
		{name: "denied", setup: func(w *world) { w.srv.DenyNext("consent_required") }, want: url.Values{"error": {"consent_required"}}},
		{name: "nobody signs in", setup: func(w *world) { w.srv.user = nil }, want: url.Values{"error": {"access_denied"}}},
		{name: "unknown client", q: url.Values{"client_id": {"nope"}}, wantStatus: 404},
		{name: "no redirect_uri", q: url.Values{"redirect_uri": {""}}, wantStatus: 400},
		{name: "relative redirect_uri", q: url.Values{"redirect_uri": {"/cb"}}, wantStatus: 400},
		{name: "response_type token", setup: func(w *world) { w.srv.cfg.ResponseType = true }, q: url.Values{"response_type": {"token"}}, wantStatus: 400},
		{name: "response_type ignored", q: url.Values{"response_type": {"token"}}, want: url.Values{"code": {"*"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			if tc.setup != nil {
				tc.setup(w)
			}
			status, back := w.authorize(tc.q)
			if tc.wantStatus != 0 {
				if status != tc.wantStatus {
					t.Fatalf("status %d; want %d", status, tc.wantStatus)
				}
				return
			}
			if back.Get("state") != "s1" || back.Get("keep") != "1" {
				t.Errorf("state or the callback's own query lost: %v", back)
			}
			back.Del("state")
			back.Del("keep")
			if c := back.Get("code"); tc.want.Get("code") == "*" && strings.HasPrefix(c, "code-") && len(c) > 20 {
				back.Set("code", "*")
			}
			if back.Encode() != tc.want.Encode() {
				t.Errorf("sent back %v; want %v", back, tc.want)
			}
		})
	}
}

func TestDenyNextOnce(t *testing.T) {
	w := newWorld(t, nil)
	w.srv.DenyNext("access_denied")
	if _, back := w.authorize(nil); back.Get("error") != "access_denied" {
		t.Fatalf("first authorization: %v; want access_denied", back)
	}
	w.code(nil) // the next one succeeds
}

func TestCodeExchange(t *testing.T) {
	pkce := url.Values{"code_challenge": {s256("verifier-1")}, "code_challenge_method": {"S256"}}
	for _, tc := range []struct {
		name      string
		authorize url.Values
		extra     url.Values
		basic     string // client:secret; default app:app-secret
		wait      time.Duration
		want      int
		wantError string
		wantDesc  string
	}{
		{name: "ok", want: 200},
		{name: "pkce", authorize: pkce, extra: url.Values{"code_verifier": {"verifier-1"}}, want: 200},
		{name: "pkce wrong verifier", authorize: pkce, extra: url.Values{"code_verifier": {"verifier-2"}}, want: 400, wantError: "invalid_grant", wantDesc: "bad verifier"},
		{name: "pkce no verifier", authorize: pkce, want: 400, wantError: "invalid_grant", wantDesc: "bad verifier"},
		{name: "other redirect_uri", extra: url.Values{"redirect_uri": {"https://client.example/cb"}}, want: 400, wantError: "invalid_grant", wantDesc: "bad code"},
		{name: "expired code", wait: 11 * time.Minute, want: 400, wantError: "invalid_grant", wantDesc: "bad code"},
		{name: "unknown code", extra: url.Values{"code": {"code-nope"}}, want: 400, wantError: "invalid_grant", wantDesc: "bad code"},
		{name: "another client's code", basic: "forever:forever-secret", want: 400, wantError: "invalid_grant", wantDesc: "bad code"},
		{name: "wrong secret", basic: "app:nope", want: 401, wantError: "invalid_client", wantDesc: "who are you"},
		{name: "unknown client", basic: "nope:nope", want: 401, wantError: "invalid_client", wantDesc: "who are you"},
		{name: "no grant_type", extra: url.Values{"grant_type": {""}}, want: 400, wantError: "unsupported_grant_type"},
		{name: "password grant", extra: url.Values{"grant_type": {"password"}}, want: 400, wantError: "unsupported_grant_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			code := w.code(tc.authorize)
			w.advance(tc.wait)
			f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://client.example/cb?keep=1"}}
			for k, x := range tc.extra {
				f[k] = x
			}
			if tc.basic == "" {
				tc.basic = "app:app-secret"
			}
			status, body := w.token(tc.basic, f)
			if status != tc.want || (tc.want != 200 && (body["error"] != tc.wantError || body["error_description"] != nilIfEmpty(tc.wantDesc))) {
				t.Fatalf("answer %d %v; want %d %s %q", status, body, tc.want, tc.wantError, tc.wantDesc)
			}
			if tc.want != 200 {
				return
			}
			if !strings.HasPrefix(body["access_token"].(string), "at-") || !strings.HasPrefix(body["refresh_token"].(string), "rt-") ||
				body["expires_in"] != 7200.0 || body["user"] != "alice" || body["grant"] != "authorization_code" {
				t.Errorf("token answer %v", body)
			}
			if status, body := w.exchange(code, tc.extra); status != 400 || body["error_description"] != "bad code" {
				t.Errorf("second use of the code: %d %v; want 400 bad code", status, body)
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestCodeOneUseEvenWhenFailing: an exchange that fails burns the code.
func TestCodeOneUseEvenWhenFailing(t *testing.T) {
	w := newWorld(t, nil)
	code := w.code(url.Values{"code_challenge": {s256("v1")}, "code_challenge_method": {"S256"}})
	if status, _ := w.exchange(code, url.Values{"code_verifier": {"wrong"}}); status != 400 {
		t.Fatalf("wrong verifier: %d", status)
	}
	if status, body := w.exchange(code, url.Values{"code_verifier": {"v1"}}); status != 400 || body["error_description"] != "bad code" {
		t.Fatalf("right verifier after a failure: %d %v; want 400 bad code", status, body)
	}
}

func TestClientAuthInForm(t *testing.T) {
	w := newWorld(t, nil)
	f := url.Values{"grant_type": {"authorization_code"}, "code": {w.code(nil)}, "redirect_uri": {"https://client.example/cb?keep=1"},
		"client_id": {"app"}, "client_secret": {"app-secret"}}
	if status, body := w.token("", f); status != 200 || body["access_token"] == nil {
		t.Fatalf("client_secret in the form: %d %v", status, body)
	}
}

func TestGrantOptional(t *testing.T) {
	w := newWorld(t, func(c *Config[string]) { c.GrantOptional = true })
	status, body := w.exchange(w.code(nil), url.Values{"grant_type": {""}})
	if status != 200 || body["grant"] != "authorization_code" {
		t.Fatalf("code exchange without grant_type: %d %v", status, body)
	}
}

func TestRefreshRotation(t *testing.T) {
	w := newWorld(t, nil)
	_, first := w.exchange(w.code(url.Values{"scope": {"read write"}}), nil)
	access, refresh := first["access_token"].(string), first["refresh_token"].(string)
	w.advance(time.Minute)
	status, second := w.token("app:app-secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != 200 || second["refresh_token"] == refresh || second["access_token"] == access || second["scope"] != "read write" || second["user"] != "alice" {
		t.Fatalf("refresh: %d %v", status, second)
	}
	if g, known := w.srv.Lookup(access); g != nil || known {
		t.Errorf("the old access token is still known after its refresh: %v %v", g, known)
	}
	if g, _ := w.srv.Lookup(second["access_token"].(string)); g == nil || g.User != "alice" || g.Scope != "read write" {
		t.Errorf("the new access token: %+v", g)
	}
	for _, tc := range []struct{ name, basic, token string }{
		{"old refresh token", "app:app-secret", refresh},
		{"another client", "forever:forever-secret", second["refresh_token"].(string)},
		{"an access token", "app:app-secret", second["access_token"].(string)},
		{"unknown", "app:app-secret", "rt-nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := w.token(tc.basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tc.token}}); status != 400 || body["error_description"] != "bad refresh" {
				t.Errorf("%d %v; want 400 bad refresh", status, body)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	w := newWorld(t, nil)
	_, expiring := w.exchange(w.code(nil), nil)
	_, forever := w.token("forever:forever-secret", url.Values{"grant_type": {"authorization_code"}, "code": {w.codeFor("forever")},
		"redirect_uri": {"https://client.example/cb?keep=1"}})
	if forever["refresh_token"] != "" || forever["expires_in"] != nil && forever["expires_in"] != 0.0 {
		t.Errorf("a Lifetime 0 client's token came with a refresh token or a lifetime: %v", forever)
	}
	check := func(name string, tok any, wantValid bool) {
		t.Helper()
		if g, known := w.srv.Lookup(tok.(string)); !known || (g != nil) != wantValid {
			t.Errorf("%s: valid %v known %v; want valid %v", name, g != nil, known, wantValid)
		}
	}
	w.advance(2*time.Hour - time.Second)
	check("expiring, before its lifetime", expiring["access_token"], true)
	w.advance(time.Second)
	check("expiring, at its lifetime", expiring["access_token"], false)
	check("forever, after 2 hours", forever["access_token"], true)
	if status, _ := w.token("app:app-secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {expiring["refresh_token"].(string)}}); status != 200 {
		t.Errorf("refresh after expiry: %d; want 200", status)
	}
}

func (w *world) codeFor(client string) string {
	return w.code(url.Values{"client_id": {client}})
}

func TestClientCredentials(t *testing.T) {
	w := newWorld(t, nil)
	status, body := w.token("robot:robot-secret", url.Values{"grant_type": {"client_credentials"}})
	if status != 200 || !strings.HasPrefix(body["access_token"].(string), "cc-") || body["user"] != "" || body["expires_in"] != 3600.0 {
		t.Fatalf("client_credentials: %d %v", status, body)
	}
	if status, body := w.token("app:app-secret", url.Values{"grant_type": {"client_credentials"}}); status != 400 || body["error"] != "unsupported_grant_type" {
		t.Errorf("client_credentials for a client without Credentials: %d %v", status, body)
	}
	if status, body := w.token("robot:nope", url.Values{"grant_type": {"client_credentials"}}); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", status, body)
	}
}

func TestBadForm(t *testing.T) {
	w := newWorld(t, nil)
	resp, err := http.Post(w.http.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("a=%zz"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "bad form") {
		t.Errorf("bad form: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Post(w.http.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(strings.Repeat("a", 65<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("65 KiB form: %d; want 400", resp.StatusCode)
	}
}

func TestTextRefusal(t *testing.T) {
	w := newWorld(t, nil)
	resp, err := http.Get(w.http.URL + "/authorize?client_id=nope&redirect_uri=https://client.example/cb")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || string(b) != "no such client\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("unknown client: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

func TestCaller(t *testing.T) {
	w := newWorld(t, nil)
	_, body := w.exchange(w.code(nil), nil)
	tok := body["access_token"].(string)
	for _, tc := range []struct {
		name, header, value string
		want                bool
	}{
		{"bearer", "Authorization", "Bearer " + tok, true},
		{"bearer, other case", "Authorization", "bEaReR " + tok, true},
		{"token scheme not configured", "Authorization", "token " + tok, false},
		{"configured header", "Private-Token", tok, true},
		{"refresh token", "Authorization", "Bearer " + body["refresh_token"].(string), false},
		{"none", "X-Nothing", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set(tc.header, tc.value)
			if g, known := w.srv.Caller(r); (g != nil) != tc.want || known != tc.want || tc.want && g.User != "alice" {
				t.Errorf("Caller = %+v, %v; want a grant: %v", g, known, tc.want)
			}
		})
	}
}

// TestLookupCopy: a grant Lookup returns is the caller's own.
func TestLookupCopy(t *testing.T) {
	w := newWorld(t, nil)
	_, body := w.exchange(w.code(nil), nil)
	g, _ := w.srv.Lookup(body["access_token"].(string))
	g.User, g.Expires = "mallory", time.Time{}
	if g2, _ := w.srv.Lookup(body["access_token"].(string)); g2.User != "alice" || g2.Expires.IsZero() {
		t.Errorf("Lookup handed out the server's own grant: %+v", g2)
	}
}

// FuzzToken: whatever the form, the token endpoint answers a token or a
// configured refusal, and mints nothing for a refusal.
func FuzzToken(f *testing.F) {
	f.Add("grant_type=authorization_code&code=code-x&redirect_uri=https://client.example/cb", "app:app-secret")
	f.Add("grant_type=refresh_token&refresh_token=rt-x", "app:app-secret")
	f.Add("grant_type=client_credentials", "robot:robot-secret")
	f.Add("a=%zz&&;", "")
	f.Fuzz(func(t *testing.T, form, basic string) {
		w := newServer(t, nil)
		req, _ := http.NewRequest(http.MethodPost, "/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id, secret, ok := strings.Cut(basic, ":"); ok {
			req.SetBasicAuth(id, secret)
		}
		rec := httptest.NewRecorder()
		before := len(w.srv.grants)
		w.srv.Token(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("answer %d %q is not JSON", rec.Code, rec.Body)
		}
		if rec.Code == 200 {
			if body["grant"] != "client_credentials" || len(w.srv.grants) != before+2 {
				t.Fatalf("minted %v from %q", body, form)
			}
			return
		}
		if e, _ := body["error"].(string); e == "" || len(w.srv.grants) != before {
			t.Fatalf("refusal %d %v changed the grants (%d → %d)", rec.Code, body, before, len(w.srv.grants))
		}
	})
}

// device asks for a device code as client id and returns the answer.
func (w *world) device(id string) (int, map[string]any) {
	w.t.Helper()
	resp, err := http.PostForm(w.http.URL+"/device", url.Values{"client_id": {id}, "scope": {"read"}})
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		w.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// The device authorization grant: pending until the user answers,
// slow_down (with 5 s more) for a poll sooner than the interval, a token
// for the approving user once, the user's refusal, the code's expiry,
// a public client (no secret) and a client without Device.
func TestDeviceGrant(t *testing.T) {
	w := newWorld(t, func(c *Config[string]) { c.VerificationPath, c.PollNow = "/activate", c.Now })
	w.srv.AddClient(Client{ID: "tv", Secret: "tv-secret", Lifetime: time.Hour, AccessPrefix: "tv-", RefreshPrefix: "tvr-", Device: true, DeviceInterval: 2 * time.Second})
	status, dev := w.device("tv")
	dc, uc := dev["device_code"].(string), dev["user_code"].(string)
	if status != 200 || dc == "" || len(uc) != 9 || dev["verification_uri"] != w.http.URL+"/activate" || dev["interval"] != 2.0 || dev["expires_in"] != 900.0 {
		t.Fatalf("device authorization: %d %v", status, dev)
	}
	poll := func(basic string) (int, map[string]any) {
		return w.token(basic, url.Values{"grant_type": {deviceGrant}, "device_code": {dc}, "client_id": {"tv"}})
	}
	if status, body := poll(""); status != 400 || body["error"] != "authorization_pending" {
		t.Fatalf("first poll: %d %v; want authorization_pending", status, body)
	}
	w.advance(time.Second)
	if status, body := poll(""); status != 400 || body["error"] != "slow_down" {
		t.Fatalf("poll after 1 s of 2: %d %v; want slow_down", status, body)
	}
	w.advance(5 * time.Second) // the interval is 7 s now, 12 s after this poll
	if status, body := poll(""); status != 400 || body["error"] != "slow_down" {
		t.Fatalf("poll after 5 s of 7: %d %v; want slow_down", status, body)
	}
	w.advance(13 * time.Second)
	if status, body := poll(""); status != 400 || body["error"] != "authorization_pending" {
		t.Fatalf("poll after the interval: %d %v; want authorization_pending", status, body)
	}
	if w.srv.Approve("NOPE-NOPE") || !w.srv.Approve(uc) || w.srv.Approve(uc) {
		t.Fatalf("Approve took an unknown code, or not the user's, or hers twice")
	}
	if status, body := poll("tv:nope"); status != 401 {
		t.Fatalf("poll with a wrong secret: %d %v; want 401", status, body)
	}
	status, tok := poll("")
	if status != 200 || !strings.HasPrefix(tok["access_token"].(string), "tv-") || tok["user"] != "alice" || tok["scope"] != "read" || tok["grant"] != deviceGrant {
		t.Fatalf("poll after approval: %d %v", status, tok)
	}
	if status, body := poll(""); status != 400 || body["error_description"] != "bad device code" {
		t.Fatalf("the device code again: %d %v; want bad device code", status, body)
	}
	// A public client's tokens are refreshed without a secret; others' are not.
	refresh := func(rt string) (int, map[string]any) {
		return w.token("", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"tv"}})
	}
	status, again := refresh(tok["refresh_token"].(string))
	if status != 200 || !strings.HasPrefix(again["access_token"].(string), "tv-") {
		t.Fatalf("a public client's refresh: %d %v", status, again)
	}
	if status, body := refresh(again["refresh_token"].(string)); status != 200 {
		t.Fatalf("a public client's second refresh: %d %v", status, body)
	}
	_, dev = w.device("tv")
	dc = dev["device_code"].(string)
	w.srv.Approve(dev["user_code"].(string))
	_, confidential := poll("tv:tv-secret")
	if status, body := refresh(confidential["refresh_token"].(string)); status != 401 {
		t.Fatalf("refreshing a confidential grant without the secret: %d %v; want 401", status, body)
	}

	_, dev = w.device("tv")
	dc = dev["device_code"].(string)
	w.srv.Refuse(dev["user_code"].(string))
	if status, body := poll("tv:tv-secret"); status != 400 || body["error"] != "access_denied" {
		t.Fatalf("refused: %d %v; want access_denied", status, body)
	}
	_, dev = w.device("tv")
	dc = dev["device_code"].(string)
	w.advance(15 * time.Minute)
	if w.srv.Approve(dev["user_code"].(string)) {
		t.Errorf("Approve took an expired code")
	}
	if status, body := poll(""); status != 400 || body["error"] != "expired_token" {
		t.Fatalf("expired: %d %v; want expired_token", status, body)
	}
	if status, body := w.device("app"); status != 400 || body["error"] != "unauthorized_client" {
		t.Errorf("a client without Device: %d %v; want unauthorized_client", status, body)
	}
	if status, body := w.device("nope"); status != 401 {
		t.Errorf("an unknown client: %d %v; want 401", status, body)
	}
	if status, body := w.token("", url.Values{"grant_type": {deviceGrant}, "device_code": {dc}, "client_id": {"app"}}); status != 401 {
		t.Errorf("the device grant for a client without Device, without its secret: %d %v; want 401", status, body)
	}
}
