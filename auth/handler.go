package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact"
)

// Defaults of [Options].
const (
	DefaultSessionDuration = 7 * 24 * time.Hour
	DefaultRefreshMargin   = 5 * time.Minute
	DefaultProviderTimeout = 10 * time.Second
	DefaultRecheckInterval = time.Hour
	DefaultRecheckGrace    = 24 * time.Hour
	// flowLifetime is how long a started sign-in may take.
	flowLifetime = 10 * time.Minute
)

// Options configures a [Handler]. Secret and BaseURL are required.
type Options struct {
	// BaseURL is the absolute URL the handler is mounted at, e.g.
	// "https://portal.example.com/api/auth" (Backstage: backend.baseUrl
	// + "/api/auth"). Callback URLs default to
	// BaseURL/<provider>/handler/frame. With an https BaseURL the session
	// cookie is "__Host-scmkit-session" (Secure, HttpOnly, SameSite=Lax,
	// Path=/). Plain http is accepted only for a loopback host
	// (localhost, 127.0.0.1, ::1), for development: the cookies are then
	// named without the __Host- prefix and are not Secure.
	BaseURL string
	// AppURL is the frontend's base URL (app.baseUrl). Its origin is an
	// allowed origin and it is where users land after sign-in when no
	// redirect target is given. Default: BaseURL's origin. With an https
	// BaseURL it must be https too, unless on a loopback host (unlike
	// Backstage): the popup posts the user's Backstage token to it.
	AppURL string
	// AllowedOrigins are further origins that may start a sign-in and be
	// redirected to afterwards, exact ("https://a.example.com") or with
	// "*" wildcards as Backstage's auth.experimentalExtraAllowedOrigins
	// ("https://*.example.com"); matched case-insensitively. A "*" stands
	// for characters within one host label or the port, never a ".", ":"
	// or "/": "https://*.example.com" allows https://a.example.com but not
	// https://a.b.example.com or https://a.example.com:8443 (Backstage's
	// minimatch lets "*" cross dots; list each level instead). With an
	// https BaseURL, plain http origins are refused unless their host is
	// loopback ("http://localhost:3000"), unlike Backstage: any network
	// attacker can serve an http origin and read the token posted to it.
	AllowedOrigins []string
	// Secret is auth.session.secret, at least 16 characters (32 random
	// bytes recommended). Keys for sealing session records, the state and
	// the flow cookie and for signing the session cookie are derived from it.
	// Values are always sealed and signed under Secret.
	Secret integrations.Secret
	// PreviousSecrets are secrets used before Secret, newest first
	// (scmkit's auth.session.previousSecrets, not Backstage's): they
	// only open and verify, never seal or sign, so that Secret can be
	// rotated without signing everyone out or breaking sign-ins in
	// progress. A session record opened under one is sealed again under
	// Secret when it is next written (a token refresh, a re-check) or at
	// its next /refresh, which also signs its cookie again (a
	// compare-and-swap, so a concurrent write wins); a sign-in started
	// under one completes. Once a secret is dropped from the list, what
	// was sealed or signed under it no longer opens: its sessions end.
	// At most 4, each at least 16 characters, none equal to Secret or
	// listed twice; otherwise [New] fails with InvalidArgument naming
	// auth.session.previousSecrets[i]. Like Secret, they never show when
	// printed or logged.
	//
	// To rotate across replicas without any replica meeting a value it
	// cannot open: first deploy everywhere the new secret as a previous
	// one (Secret: old, PreviousSecrets: [new]), then swap them (Secret:
	// new, PreviousSecrets: [old]), then, after the sessions still
	// under the old secret have been used or have ended, drop it.
	PreviousSecrets []integrations.Secret
	// Environment is auth.environment, used when a /start request names
	// no env. When set, it is the only environment the Handler serves,
	// as a Backstage backend serves its own auth.environment: [Handler.Register]
	// refuses another and [Config.NewHandler] skips the others (with a
	// warning), so that a second environment whose identity provider is
	// looser cannot sign users into this one; a session signed in
	// through another environment (a deployment sharing the secret and
	// the store) is refused as Unauthorized. Empty: env is required, as
	// in Backstage, and every registered environment is served.
	Environment string
	// ServeAllEnvironments serves every registered environment besides
	// Environment. Each session keeps the environment it signed in
	// through (Session.Env): give each its own sign-in resolvers.
	ServeAllEnvironments bool
	// Store keeps the sessions; nil means a new [MemoryStore].
	Store SessionStore
	// ReadOnly makes a Handler that only reads the sessions other
	// replicas sign users in to, through a shared Store (a service that
	// needs the signed-in user): it registers no provider, never
	// refreshes or re-checks a session or ends one on its own (its
	// /logout route still signs a user out), serves one with the grace
	// the serving replicas give, and
	// hands out its token while the token lives (Unavailable once it
	// expired, until a serving replica refreshes it). Without it, a
	// Handler ends the sessions of a provider it does not have (one
	// removed from the configuration, also when it was the last).
	ReadOnly bool
	// SessionDuration is how long a session lasts after sign-in; default
	// DefaultSessionDuration.
	SessionDuration time.Duration
	// RefreshMargin is how long before its expiry a provider token is
	// refreshed; default DefaultRefreshMargin. For a token that lives
	// less than twice the margin, half its lifetime is used instead, so
	// that a short-lived token is not refreshed on every request.
	RefreshMargin time.Duration
	// ProviderTimeout bounds every call to a provider (code exchange,
	// refresh, profile); default DefaultProviderTimeout.
	ProviderTimeout time.Duration
	// RecheckInterval is how often a session whose provider token does
	// not expire (an LDAP sign-in, a GitHub OAuth App token) is checked
	// again with its provider, which no token refresh would otherwise
	// ever ask: the first refresh (GET /refresh, or a credential from
	// [Session.UserCredentials]) after the interval calls the provider's
	// [Rechecker] (a directory re-reads the account, an OAuth provider
	// reads the profile with the token). A user or token the provider no
	// longer accepts ends the session (the refresh answers 401, and
	// [Handler.Session] finds no session); a session of a provider that
	// cannot re-check ends too. Default DefaultRecheckInterval (1 hour):
	// one directory search pair, or one profile request, per session and
	// hour.
	RecheckInterval time.Duration
	// RecheckGrace is how long past a due re-check a session is kept
	// while its provider cannot answer (unreachable, 5xx, rate-limited,
	// timed out): the refresh then answers with the session unchanged,
	// and a refresh after RecheckInterval/12 (at most 5 minutes; or after
	// the provider's rate limit resets) asks again. Past the grace the
	// refresh fails (401) until the provider answers, so that an outage
	// cannot extend an unchecked session for the rest of SessionDuration.
	// Sessions whose tokens expire get the same grace past their expiry:
	// while their refresh fails for want of an answer, [Handler.Session]
	// serves them until RecheckGrace after the tokens expired.
	// Default DefaultRecheckGrace (24 hours); negative: no grace, a
	// refresh fails as soon as a due re-check cannot be made, and a
	// session whose tokens expired is not served.
	RecheckGrace time.Duration
	// ExposeProviderTokens puts the provider's access and ID tokens in
	// the response body (providerInfo.accessToken, .idToken) as Backstage
	// does, for frontends that call the provider from the browser. Off by
	// default: the tokens stay on the server.
	ExposeProviderTokens bool
	// BackstageIdentity, if set, is called after every sign-in and
	// refresh to issue the user's Backstage identity (a sign-in resolver
	// and token issuer); its result becomes the response's
	// backstageIdentity. An error refuses the sign-in (403) with the
	// message of its *errcode.Error (Msg, never the errors it wraps; any
	// other error gets a generic message): make Msg name the reason,
	// never a secret.
	BackstageIdentity func(ctx context.Context, s *Session) (*BackstageIdentity, error)
	// HTTPClient sends the requests of the providers [Config.NewHandler]
	// builds; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger, if set, receives one line per sign-in, refresh and refusal
	// (never a token).
	Logger *slog.Logger
}

// Handler serves Backstage's sign-in routes under its BaseURL's path for
// the providers registered with it, and keeps the sessions:
//
//	GET      <prefix>/<provider>/start?env=E[&flow=redirect&redirectUrl=U&origin=O&scope=S]
//	GET|POST <prefix>/<provider>/handler/frame   (the OAuth callback)
//	GET|POST <prefix>/<provider>/refresh          (X-Requested-With: XMLHttpRequest)
//	POST     <prefix>/<provider>/logout           (X-Requested-With, or a same-origin form)
//	POST     <prefix>/<provider>/login            (password providers: username, password)
//
// /login takes a JSON body {username, password} (answered with the
// sign-in response, as /refresh is) or a form post with username,
// password and redirectUrl (answered with a 303 redirect to redirectUrl
// when given, which must be on an allowed origin). Like /refresh and
// /logout it refuses a request that looks cross-site: it needs
// X-Requested-With: XMLHttpRequest, or, for a form, an Origin header of
// an allowed origin (browsers send one with every form post; a test
// client or curl must set it). A refused request gets 401 with
// Backstage's message "Invalid X-Requested-With header".
//
// Make one with [New] (the zero Handler is not usable); register providers
// with [Handler.Register]. A Handler is safe for concurrent use: it serves
// requests in parallel, and providers may be registered while it serves.
type Handler struct {
	o        Options
	base     *url.URL
	basePath string
	secure   bool
	keys     *keys
	store    SessionStore
	now      func() time.Time
	allowed  []*regexp.Regexp
	appURL   *url.URL
	sf       singleflight.Group

	macs sync.Pool // of hash.Hash: HMAC-SHA256 under keys.cookie

	cacheMu sync.RWMutex
	cache   map[string]cachedSession // store key → the last record opened
	cookies map[string]string        // verified session cookie → store key

	recheckMu   sync.Mutex
	recheckWait map[string]recheckFailure // store key → the last failed re-check, while it is not retried

	mu        sync.RWMutex
	providers map[string]map[string]Provider // id → env → provider
	callbacks map[string]string              // id + "/" + env → callback URL, when not the default
	durations map[string]time.Duration       // id + "/" + env → session duration, when not the default
}

// String describes the handler: its base URL and providers, no secret.
func (h *Handler) String() string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var ids []string
	for id, envs := range h.providers {
		for env := range envs {
			ids = append(ids, id+"."+env)
		}
	}
	slices.Sort(ids)
	return "auth.Handler(" + h.base.String() + ", providers " + strings.Join(ids, ", ") + ")"
}

// Format prints String under every verb, so that no verb reaches the
// sessions it caches.
func (h *Handler) Format(f fmt.State, verb rune) { redact.Format(f, verb, h.String(), h.String()) }

// LogValue describes the handler in log/slog output.
func (h *Handler) LogValue() slog.Value { return slog.StringValue(h.String()) }

var providerID = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$`)

// New returns a Handler without providers. Errors are InvalidArgument
// *errcode.Error naming the option.
func New(opts *Options) (*Handler, error) {
	const op = "auth.New"
	if opts == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "options are required (BaseURL, Secret)")
	}
	o := *opts
	o.PreviousSecrets = slices.Clone(o.PreviousSecrets)
	bad := func(msg string) (*Handler, error) { return nil, errcode.New(errcode.InvalidArgument, op, msg) }
	base, err := url.Parse(strings.TrimSuffix(o.BaseURL, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") || base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		return bad("BaseURL must be an absolute http(s) URL without query, e.g. https://portal.example.com/api/auth: backend.baseUrl followed by /api/auth, as auth.OptionsFromConfig sets it")
	}
	if base.Scheme == "http" && !isLoopback(base.Hostname()) {
		return bad("BaseURL must be https; plain http is allowed only on localhost for development")
	}
	previous := make([][]byte, len(o.PreviousSecrets))
	for i, p := range o.PreviousSecrets {
		previous[i] = []byte(p.Reveal())
	}
	k, err := deriveKeys([]byte(o.Secret.Reveal()), previous)
	if err != nil {
		return bad(err.Error())
	}
	if o.AppURL == "" {
		o.AppURL = base.Scheme + "://" + base.Host
	}
	app, err := url.Parse(o.AppURL)
	if err != nil || app.Host == "" || (app.Scheme != "https" && app.Scheme != "http") {
		return bad("AppURL (app.baseUrl) must be an absolute http(s) URL")
	}
	if base.Scheme == "https" && app.Scheme == "http" && !isLoopback(app.Hostname()) {
		return bad("AppURL (app.baseUrl) " + clip(origin(app)) + " is plain http while BaseURL is https: the sign-in popup would post the " +
			"user's token to an origin any network attacker can serve; use https:// (plain http is allowed only on localhost)")
	}
	h := &Handler{o: o, base: base, basePath: base.EscapedPath(), secure: base.Scheme == "https", keys: k, appURL: app,
		providers: map[string]map[string]Provider{}, cache: map[string]cachedSession{}, cookies: map[string]string{}}
	h.macs.New = func() any { return hmac.New(sha256.New, k.cookie) }
	for _, g := range append([]string{origin(app)}, o.AllowedOrigins...) {
		re, err := originPattern(g)
		if err != nil {
			return bad("AllowedOrigins: " + err.Error())
		}
		if base.Scheme == "https" && !secureOrigin(g) {
			return bad("AllowedOrigins (auth.experimentalExtraAllowedOrigins): " + clip(g) + " is plain http on a host that is not loopback while " +
				"BaseURL is https: the sign-in popup would post the user's token to an origin any network attacker can serve; " +
				"use https:// (plain http is allowed only for localhost)")
		}
		h.allowed = append(h.allowed, re)
	}
	h.store = o.Store
	if h.store == nil {
		h.store = NewMemoryStore(nil)
	}
	h.now = o.Now
	if h.now == nil {
		h.now = time.Now
	}
	if h.o.SessionDuration <= 0 {
		h.o.SessionDuration = DefaultSessionDuration
	}
	if h.o.RefreshMargin <= 0 {
		h.o.RefreshMargin = DefaultRefreshMargin
	}
	if h.o.ProviderTimeout <= 0 {
		h.o.ProviderTimeout = DefaultProviderTimeout
	}
	return h, nil
}

// Register adds p under the provider id and the auth environment env
// (Backstage's auth.providers.<id>.<env>). p must be a [RedirectProvider]
// or a [PasswordProvider]; env must be Options.Environment when that is
// set, unless Options.ServeAllEnvironments. Registering the same id and
// env twice replaces the provider. Safe to call while serving.
func (h *Handler) Register(id, env string, p Provider) error {
	const op = "auth.Handler.Register"
	if !providerID.MatchString(id) || !providerID.MatchString(env) {
		return errcode.Newf(errcode.InvalidArgument, op, "provider id and environment must be letters, digits, '-' and '_' (got %q, %q)", id, env)
	}
	switch p.(type) {
	case RedirectProvider, PasswordProvider:
	default:
		return errcode.Newf(errcode.InvalidArgument, op, "provider %q is neither a RedirectProvider nor a PasswordProvider", id)
	}
	if h.o.ReadOnly {
		return errcode.Newf(errcode.InvalidArgument, op, "this Handler only reads sessions (Options.ReadOnly): it signs nobody in, so provider %q is not registered", id)
	}
	if d, ok := p.(interface{ deviceOnlyClient() bool }); ok && d.deviceOnlyClient() {
		return errcode.Newf(errcode.InvalidArgument, op, "provider %q has no client secret: it serves the device flow only, not a Handler's sign-in", id)
	}
	if !h.serves(env) {
		return errcode.Newf(errcode.InvalidArgument, op, "environment %q of provider %q is not served: this Handler serves auth.environment %q only "+
			"(Options.Environment); set Options.ServeAllEnvironments to serve others", env, id, h.o.Environment)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.providers[id] == nil {
		h.providers[id] = map[string]Provider{}
	}
	h.providers[id][env] = p
	return nil
}

// serves reports whether env is an environment the Handler serves.
func (h *Handler) serves(env string) bool {
	return h.o.Environment == "" || h.o.ServeAllEnvironments || env == h.o.Environment
}

// CallbackURL returns the default callback URL of provider id:
// BaseURL/<id>/handler/frame.
func (h *Handler) CallbackURL(id string) string {
	return h.base.String() + "/" + id + "/handler/frame"
}

// callbackFor is the redirect URI of id in env: its configured
// callbackUrl, or the default.
func (h *Handler) callbackFor(id, env string) string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if u, ok := h.callbacks[id+"/"+env]; ok {
		return u
	}
	return h.CallbackURL(id)
}

func (h *Handler) setDuration(id, env string, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.durations == nil {
		h.durations = map[string]time.Duration{}
	}
	h.durations[id+"/"+env] = d
}

func (h *Handler) durationFor(id, env string) time.Duration {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if d, ok := h.durations[id+"/"+env]; ok {
		return d
	}
	return h.o.SessionDuration
}

func (h *Handler) setCallback(id, env, u string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.callbacks == nil {
		h.callbacks = map[string]string{}
	}
	h.callbacks[id+"/"+env] = u
}

func (h *Handler) provider(id, env string) (Provider, *httpError) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	envs, ok := h.providers[id]
	if !ok {
		return nil, &httpError{status: http.StatusNotFound, name: "NotFoundError", msg: "No auth provider registered for '" + id + "'"}
	}
	p, ok := envs[env]
	if !ok {
		return nil, &httpError{status: http.StatusNotFound, name: "NotFoundError", msg: "No configuration available for the '" + clip(env) + "' environment of this provider"}
	}
	return p, nil
}

// ServeHTTP routes the sign-in requests.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), h.basePath+"/")
	if !ok {
		h.fail(w, r, false, &httpError{status: http.StatusNotFound, name: "NotFoundError", msg: "Not found"})
		return
	}
	id, action, _ := strings.Cut(rest, "/")
	if !providerID.MatchString(id) {
		h.fail(w, r, false, &httpError{status: http.StatusNotFound, name: "NotFoundError", msg: "No auth provider registered for that id"})
		return
	}
	switch {
	case action == "start" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h.start(w, r, id)
	case action == "handler/frame" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		h.callback(w, r, id)
	case action == "refresh" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		h.refresh(w, r, id)
	case action == "logout" && r.Method == http.MethodPost:
		h.logout(w, r, id)
	case action == "login" && r.Method == http.MethodPost:
		h.login(w, r, id)
	case action == "start" || action == "handler/frame" || action == "refresh" || action == "logout" || action == "login":
		w.Header().Set("Allow", map[string]string{"start": "GET", "logout": "POST", "login": "POST"}[action])
		h.fail(w, r, true, &httpError{status: http.StatusMethodNotAllowed, name: "MethodNotAllowedError", msg: "Method not allowed"})
	default:
		h.fail(w, r, false, &httpError{status: http.StatusNotFound, name: "NotFoundError", msg: "Unknown auth route"})
	}
}

// ---- sessions ----

const sessionIDLen = 32

func (h *Handler) cookieName(name string) string {
	if h.secure {
		return "__Host-scmkit-" + name
	}
	return "scmkit-" + name
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: h.cookieName(name), Value: value, Path: "/", HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// sessionKey checks the session cookie's signature and returns the store
// key of its session.
func (h *Handler) sessionKey(r *http.Request) (string, bool) {
	c, err := r.Cookie(h.cookieName("session"))
	if err != nil {
		return "", false
	}
	return h.keyOfCookie(c.Value)
}

func (h *Handler) keyOfCookie(v string) (string, bool) {
	h.cacheMu.RLock()
	key, ok := h.cookies[v]
	h.cacheMu.RUnlock()
	if ok {
		return key, true
	}
	key, ok = h.verifyCookie(v)
	if ok {
		h.cacheMu.Lock()
		if len(h.cookies) >= maxCached {
			for k := range h.cookies { // evict an arbitrary entry
				delete(h.cookies, k)
				break
			}
		}
		h.cookies[v] = key
		h.cacheMu.Unlock()
	}
	return key, ok
}

// verifyCookie checks a session cookie's signature.
func (h *Handler) verifyCookie(v string) (string, bool) {
	id, _, ok := h.checkCookie(v)
	if !ok {
		return "", false
	}
	return storeKey(id[:]), true
}

// checkCookie checks a session cookie's signature, under the current
// secret (current true) or a previous one, and returns its session id.
func (h *Handler) checkCookie(v string) (id [sessionIDLen]byte, current, ok bool) {
	idPart, sigPart, ok := strings.Cut(v, ".")
	if !ok || len(idPart) != base64.RawURLEncoding.EncodedLen(sessionIDLen) || len(sigPart) != base64.RawURLEncoding.EncodedLen(16) {
		return id, false, false
	}
	var sigBuf [16]byte
	n1, err1 := base64.RawURLEncoding.Decode(id[:], []byte(idPart))
	n2, err2 := base64.RawURLEncoding.Decode(sigBuf[:], []byte(sigPart))
	if err1 != nil || err2 != nil || n1 != sessionIDLen || n2 != 16 {
		return id, false, false
	}
	if subtle.ConstantTimeCompare(sigBuf[:], h.cookieMAC(id[:])) == 1 {
		return id, true, true
	}
	for _, k := range h.keys.oldCookies {
		if subtle.ConstantTimeCompare(sigBuf[:], mac(k, id[:])[:16]) == 1 {
			return id, false, true
		}
	}
	return id, false, false
}

// renewCookie signs r's session cookie again under the current secret
// when a previous one (Options.PreviousSecrets) signed it, so that the
// session outlives that secret's removal. The session id, and so the
// store key, stay the same.
func (h *Handler) renewCookie(w http.ResponseWriter, r *http.Request, s *Session) {
	if len(h.keys.oldCookies) == 0 {
		return
	}
	c, err := r.Cookie(h.cookieName("session"))
	if err != nil {
		return
	}
	id, current, ok := h.checkCookie(c.Value)
	if !ok || current {
		return
	}
	h.setCookie(w, "session", base64.RawURLEncoding.EncodeToString(id[:])+"."+base64.RawURLEncoding.EncodeToString(h.cookieMAC(id[:])),
		s.Expires.Sub(h.now()))
}

// cookieMAC is the signature of a session id: HMAC-SHA256, truncated to
// 128 bits.
func (h *Handler) cookieMAC(id []byte) []byte {
	m := h.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(id)
	sum := m.Sum(nil)
	h.macs.Put(m)
	return sum[:16]
}

// storeKey is the store's key for a session id: a hash, so that the store
// never holds what the cookie holds.
func storeKey(id []byte) string {
	const prefix = "session:"
	sum := sha256.Sum256(id)
	var b [len(prefix) + 2*sha256.Size]byte
	copy(b[:], prefix)
	hex.Encode(b[len(prefix):], sum[:])
	return string(b[:])
}

func (h *Handler) newSessionCookie() (value, key string) {
	id := randomBytes(sessionIDLen)
	return base64.RawURLEncoding.EncodeToString(id) + "." + base64.RawURLEncoding.EncodeToString(h.cookieMAC(id)), storeKey(id)
}

// Session returns the signed-in user's session of request r. Errors are
// *errcode.Error: Unauthorized when r has no session cookie, a cookie
// that was tampered with, or a session that ended; Unavailable when the
// store fails. It makes no request to any provider: the provider checks
// the session when it is refreshed (its token's refresh, or, for tokens
// that do not expire, a re-check every [Options.RecheckInterval]), and a
// session the provider refused is gone. A session the provider has not
// confirmed for too long is Unauthorized here, but kept: the app's next
// /refresh asks the provider and, if it confirms, serves it again. Too
// long is, for tokens that do not expire, RecheckInterval plus
// [Options.RecheckGrace] since the last re-check; for tokens that expire,
// RecheckGrace past their expiry (no refresh has succeeded since: the
// provider is down, or the app has not refreshed), or their expiry itself
// when nothing can renew them (no refresh token, as from an OpenID
// provider asked without the offline_access scope; a provider that cannot
// refresh, or is no longer configured).
//
// A Handler with Options.ReadOnly (one a service builds only to read the
// portal's sessions from the shared store) reads sessions as the replicas
// that serve sign-ins do, with the same grace, and never ends one: the
// credentials of [Session.UserCredentials] are the session's tokens while
// they live and the session is confirmed: Unavailable once they expired,
// until a serving replica renews them, and Unauthorized once the session
// is unconfirmed for too long. Its Register refuses every provider. Any other Handler ends the
// sessions of a provider it does not have.
func (h *Handler) Session(r *http.Request) (*Session, error) {
	const op = "auth.Handler.Session"
	key, ok := h.sessionKey(r)
	if !ok {
		return nil, errcode.New(errcode.Unauthorized, op, "not signed in")
	}
	s, err := h.load(r.Context(), key)
	if err != nil {
		return nil, err
	}
	if h.unconfirmed(s) {
		return nil, errcode.New(errcode.Unauthorized, op, "the provider has not confirmed this session for too long; refresh it or sign in again")
	}
	return s, nil
}

// unconfirmed reports whether s's provider has not confirmed it for too
// long: for tokens that do not expire, its last re-check was more than
// RecheckInterval plus RecheckGrace ago; for tokens that expire, they
// expired more than RecheckGrace ago (every refresh since failed, or none
// was asked for), or at all when nothing can renew them (no refresh
// token, a provider that cannot refresh or is no longer configured).
func (h *Handler) unconfirmed(s *Session) bool {
	if s.Tokens.Expiry.IsZero() {
		return h.now().After(s.lastChecked().Add(h.recheckInterval() + h.recheckGrace()))
	}
	if _, ok := h.redirectProvider(s.Identity.Provider, s.Env); (!ok && !h.readOnly()) || s.Tokens.RefreshToken == "" {
		// Nothing can renew the tokens (no refresh token, a provider that
		// cannot refresh, or one no longer configured): no grace. A
		// read-only Handler (Options.ReadOnly) cannot tell: a replica
		// serving sign-ins renews them, or ends the session.
		return h.now().After(s.Tokens.Expiry)
	}
	return h.now().After(s.Tokens.Expiry.Add(h.recheckGrace()))
}

func (h *Handler) load(ctx context.Context, key string) (*Session, error) {
	const op = "auth.Handler.Session"
	h.cacheMu.RLock()
	c, ok := h.cache[key]
	h.cacheMu.RUnlock()
	if vr, isVR := h.store.(versionReader); ok && isVR {
		// The store tells the current version without copying the
		// record: nothing to open when it is the one cached.
		if v, err := vr.currentVersion(ctx, key); err == nil && v == c.version {
			return h.fromCache(key, c)
		}
	}
	rec, err := h.store.Get(ctx, key)
	if err != nil {
		if errcode.CodeOf(err) == errcode.NotFound {
			h.forget(key)
			return nil, errcode.New(errcode.Unauthorized, op, "the session has ended; sign in again")
		}
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "reading the session store", Err: err}
	}
	// The store never gives a version twice for a key, so a record of the
	// version opened last time is that record: skip opening it again.
	if ok && c.version == rec.Version {
		return h.fromCache(key, c)
	}
	plain, stale, err := h.keys.records.Open(rec.Data, []byte(key))
	if err != nil {
		return nil, errcode.New(errcode.Unauthorized, op, "the stored session cannot be opened (was auth.session.secret changed without "+
			"listing the old one in auth.session.previousSecrets?); sign in again")
	}
	s, err := decodeSession(plain)
	if err != nil {
		return nil, errcode.New(errcode.Unauthorized, op, "the stored session is corrupt; sign in again")
	}
	if !h.now().Before(s.Expires) {
		return nil, errcode.New(errcode.Unauthorized, op, "the session has ended; sign in again")
	}
	if err := h.envServed(s); err != nil {
		return nil, err
	}
	s.Version, s.h, s.key, s.stale = rec.Version, h, key, stale
	h.remember(key, s)
	return s, nil
}

// envServed refuses a session of an environment the Handler does not
// serve (Options.Environment): a deployment sharing the session secret
// and the store with another (development and production on one Redis)
// must not accept the other's sessions, whose users its own identity
// provider never vouched for.
func (h *Handler) envServed(s *Session) error {
	if h.serves(s.Env) {
		return nil
	}
	return errcode.New(errcode.Unauthorized, "auth.Handler.Session", "the session was signed in through the "+strconv.Quote(clip(s.Env))+
		" environment, which this server does not serve; sign in again")
}

// reseal writes a session record that a previous secret opened again,
// sealed under the current secret, unless it changed since it was read
// (compare-and-swap): a concurrent writer sealed it under its own current
// secret already. It runs at /refresh only, with the cookie's renewal,
// not at every read: while replicas of a rolling rotation disagree on
// which secret is current, reads must not make them rewrite each other's
// records. A failure is logged and changes nothing; the next refresh
// tries again.
func (h *Handler) reseal(ctx context.Context, key string, s *Session) {
	data, ttl, err := h.sealSession(s, key)
	if err != nil {
		return
	}
	v, err := h.store.CompareAndSwap(ctx, key, s.Version, data, ttl)
	switch {
	case err == nil:
		s.Version, s.stale = v, false
	case errcode.CodeOf(err) != errcode.Conflict && errcode.CodeOf(err) != errcode.NotFound:
		h.log(ctx, "auth: sealing a session again under the current secret failed", slog.String("error", err.Error()))
	}
}

func (h *Handler) fromCache(key string, c cachedSession) (*Session, error) {
	s := c.s
	if !h.now().Before(s.Expires) {
		return nil, errcode.New(errcode.Unauthorized, "auth.Handler.Session", "the session has ended; sign in again")
	}
	if err := h.envServed(&s); err != nil {
		return nil, err
	}
	s.Version, s.h, s.key = c.version, h, key
	return &s, nil
}

// versionReader is implemented by stores that can tell a key's current
// version without reading its record ([MemoryStore]).
type versionReader interface {
	currentVersion(ctx context.Context, key string) (int64, error)
}

// cachedSession is a decoded session record, by version.
type cachedSession struct {
	version int64
	s       Session
}

// maxCached bounds the decoded-session cache.
const maxCached = 10000

func (h *Handler) remember(key string, s *Session) {
	h.cacheMu.Lock()
	defer h.cacheMu.Unlock()
	if _, ok := h.cache[key]; !ok && len(h.cache) >= maxCached {
		for k := range h.cache { // evict an arbitrary entry
			delete(h.cache, k)
			break
		}
	}
	h.cache[key] = cachedSession{version: s.Version, s: *s}
}

func (h *Handler) forget(key string) {
	h.cacheMu.Lock()
	delete(h.cache, key)
	h.cacheMu.Unlock()
}

func (h *Handler) sealSession(s *Session, key string) ([]byte, time.Duration, error) {
	plain, err := s.encode()
	if err != nil {
		return nil, 0, err
	}
	ttl := s.Expires.Sub(h.now())
	if ttl <= 0 {
		return nil, 0, errcode.New(errcode.Unauthorized, "auth.Handler", "the session has ended")
	}
	return seal(h.keys.records, plain, []byte(key)), ttl, nil
}

// fresh returns the session's tokens, refreshed first when they expire
// within the refresh margin: once per session across this process (a
// single flight) and across every replica sharing the store (a lease), so
// that a provider that rotates refresh tokens on every use (GitHub) sees
// one refresh. The rotated token is written to the store, fenced by the
// lease, before anyone gets the new access token.
func (h *Handler) fresh(ctx context.Context, key string, cur *Session) (*Session, error) {
	if cur != nil && !h.due(cur) {
		return cur, nil
	}
	if h.readOnly() {
		// A replica that serves sign-ins refreshes it: no lease, no
		// request, the session as the store has it while its tokens
		// live.
		if cur == nil {
			var err error
			if cur, err = h.load(ctx, key); err != nil {
				return nil, err
			}
		}
		if h.unconfirmed(cur) {
			return nil, errcode.New(errcode.Unauthorized, "auth.Refresh", "the provider has not confirmed this session for too long; refresh it or sign in again")
		}
		if cur.Tokens.Expiry.IsZero() || h.now().Before(cur.Tokens.Expiry) {
			return cur, nil
		}
		return nil, errcode.New(errcode.Unavailable, "auth.Refresh", errNoProviders)
	}
	ch := h.sf.DoChan(key, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.o.ProviderTimeout+5*time.Second)
		defer cancel()
		return h.refreshSession(rctx, key)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Session), nil
	case <-ctx.Done():
		return nil, errcode.FromContext(ctx, "auth.Refresh")
	}
}

// due reports whether s's tokens are to be refreshed: within the refresh
// margin of their expiry, or, for tokens that live less than twice the
// margin, past half their lifetime. Tokens that do not expire are due for
// a re-check with the provider once RecheckInterval has passed since the
// last one.
func (h *Handler) due(s *Session) bool {
	if s.Tokens.Expiry.IsZero() {
		return !h.now().Before(s.lastChecked().Add(h.recheckInterval()))
	}
	m := h.o.RefreshMargin
	if life := s.Tokens.Expiry.Sub(s.issued); !s.issued.IsZero() && life > 0 && life < 2*m {
		m = life / 2
	}
	return s.Tokens.Expiry.Before(h.now().Add(m))
}

func (h *Handler) refreshSession(ctx context.Context, key string) (*Session, error) {
	const op = "auth.Refresh"
	wait := 10 * time.Millisecond
	for {
		s, err := h.load(ctx, key)
		if err != nil {
			return nil, err
		}
		if !h.due(s) {
			return s, nil // someone refreshed it
		}
		lease, err := h.store.Acquire(ctx, "refresh:"+key, h.o.ProviderTimeout+5*time.Second)
		if errcode.CodeOf(err) == errcode.Conflict {
			// Another replica is refreshing: wait for its result.
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "waiting for another replica's refresh", Err: ctx.Err()}
			}
			wait = min(wait*2, 200*time.Millisecond)
			continue
		}
		if err != nil {
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "taking the refresh lease", Err: err}
		}
		s, err = h.refreshHeld(ctx, lease, key)
		rerr := h.store.Release(context.WithoutCancel(ctx), lease)
		if err == nil && rerr != nil {
			h.log(ctx, "auth: releasing a refresh lease failed", slog.String("error", rerr.Error()))
		}
		return s, err
	}
}

func (h *Handler) refreshHeld(ctx context.Context, lease Lease, key string) (*Session, error) {
	const op = "auth.Refresh"
	// Read again under the lease: a refresh that finished between our
	// read and the lease is not repeated.
	s, err := h.load(ctx, key)
	if err != nil || !h.due(s) {
		return s, err
	}
	if s.Tokens.Expiry.IsZero() {
		return h.recheckHeld(ctx, lease, key, s)
	}
	p, herr := h.provider(s.Identity.Provider, s.Env)
	if herr != nil { // (a read-only Handler never gets here: see fresh)
		// No refresh can ever succeed: the session ends, as a session
		// whose tokens do not expire ends at its re-check.
		return nil, h.endRefused(ctx, op, key, "the session's provider is no longer configured; sign in again", nil)
	}
	rp, ok := p.(RedirectProvider)
	if !ok || s.Tokens.RefreshToken == "" {
		// Nothing can renew the tokens (a password provider's, or no
		// refresh token): the session is served until they expire, as
		// Handler.Session serves it, then ends.
		if h.now().Before(s.Tokens.Expiry) {
			return s, nil
		}
		return nil, h.endRefused(ctx, op, key, "the provider token expired and cannot be renewed; sign in again", nil)
	}
	pctx, cancel := context.WithTimeout(ctx, h.o.ProviderTimeout)
	defer cancel()
	res, err := rp.Refresh(pctx, s.Tokens)
	if err != nil {
		h.log(ctx, "auth: refresh failed", slog.String("user", s.Identity.String()), slog.String("error", err.Error()))
		if refreshRefused(err) {
			// The grant is gone (revoked, expired, or the refresh token
			// spent elsewhere): no later refresh can succeed, and the
			// session must not outlive it as a signed-in user.
			return nil, h.endRefused(ctx, op, key, "the provider refused the session's refresh token ("+oneLine(publicMessage(err))+"); sign in again", err)
		}
		return nil, err
	}
	ns := *s
	ns.Tokens, ns.issued = res.Tokens, h.now()
	if ns.Tokens.RefreshToken == "" {
		ns.Tokens.RefreshToken = s.Tokens.RefreshToken
	}
	if ns.Tokens.IDToken == "" {
		ns.Tokens.IDToken = s.Tokens.IDToken
	}
	if res.Identity.Subject != "" {
		if !sameUser(res, s.Identity) {
			return nil, h.endRefused(ctx, op, key, "the refreshed ID token names another user; sign in again", nil)
		}
		res.Identity.Provider = s.Identity.Provider
		ns.Identity = res.Identity
	}
	// The provider may have rotated the refresh token: if it cannot be
	// stored, the session cannot be refreshed again.
	return h.putHeld(ctx, op, lease, key, &ns, "storing the refreshed tokens failed; sign in again", "auth: refreshed")
}

// sameUser reports whether a refresh's or re-check's identity is the
// session's user: the same subject and, when it comes from a new ID
// token, the same issuer (OpenID Connect Core 12.2: a refreshed ID
// token's iss and sub are the original's; a multi-tenant Entra ID
// token's issuer is its tenant's). Other providers' issuers are their
// configured URLs, not a claim: a URL edited in the configuration does
// not end their sessions.
func sameUser(got *SignIn, session Identity) bool {
	if got.Identity.Subject != session.Subject {
		return false
	}
	return got.Tokens.IDToken == "" || got.Identity.Issuer == "" || session.Issuer == "" || got.Identity.Issuer == session.Issuer
}

// refreshRefused reports whether a provider's Refresh error means the
// user's grant is gone (Unauthorized or PermissionDenied, as
// [RedirectProvider] documents), not that the provider failed or refused
// the portal's own client credentials.
func refreshRefused(err error) bool {
	switch errcode.CodeOf(err) {
	case errcode.Unauthorized, errcode.PermissionDenied:
		return !errors.Is(err, errClientRefused)
	}
	return false
}

// endRefused deletes the session key, which its provider refused, under
// the refresh lease the caller holds, and returns the Unauthorized error
// msg (wrapping cause), or Unavailable when the store cannot delete it.
func (h *Handler) endRefused(ctx context.Context, op, key, msg string, cause error) error {
	derr := h.store.Delete(ctx, key)
	h.forget(key)
	if derr != nil && errcode.CodeOf(derr) != errcode.NotFound {
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "ending a session its provider refused failed", Err: derr}
	}
	return &errcode.Error{Code: errcode.Unauthorized, Op: op, Msg: msg, Err: cause}
}

// putHeld seals ns and writes it under lease (the refresh lease the
// caller holds), then logs done. A failed write is Unavailable with msg.
func (h *Handler) putHeld(ctx context.Context, op string, lease Lease, key string, ns *Session, msg, done string) (*Session, error) {
	data, ttl, err := h.sealSession(ns, key)
	if err != nil {
		return nil, err
	}
	v, err := h.store.PutFenced(ctx, lease, key, data, ttl)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: msg, Err: err}
	}
	ns.Version, ns.stale = v, false
	h.log(ctx, done, slog.String("user", ns.Identity.String()))
	return ns, nil
}

// recheckInterval is Options.RecheckInterval or its default.
func (h *Handler) recheckInterval() time.Duration {
	if h.o.RecheckInterval <= 0 {
		return DefaultRecheckInterval
	}
	return h.o.RecheckInterval
}

// recheckGrace is Options.RecheckGrace or its default; none when negative.
func (h *Handler) recheckGrace() time.Duration {
	switch g := h.o.RecheckGrace; {
	case g == 0:
		return DefaultRecheckGrace
	case g < 0:
		return 0
	default:
		return g
	}
}

// endsSession reports whether a re-check's error ends the session: the
// provider refused the user or the token, or cannot re-check it. Any
// other error means the provider could not answer.
func endsSession(err error) bool {
	switch errcode.CodeOf(err) {
	case errcode.Unauthorized, errcode.PermissionDenied, errcode.NotFound, errcode.InvalidArgument, errcode.Unimplemented:
		return true
	}
	return false
}

// recheckFailure is a re-check that failed for want of an answer, not
// asked again before until.
type recheckFailure struct {
	until time.Time
	err   error
}

// recheckRetry is how long after a re-check the provider could not answer
// the next is made: RecheckInterval/12, at most 5 minutes, or later when
// the provider said so (a rate limit's reset).
func (h *Handler) recheckRetry(err error) time.Time {
	until := h.now().Add(min(h.recheckInterval()/12, 5*time.Minute))
	var e *errcode.Error
	if errors.As(err, &e) && e.RetryAt.After(until) {
		until = e.RetryAt
	}
	return until
}

// recheckFailed returns the error of key's last re-check while it is not
// to be retried (this process's memory, not the store's: each replica
// asks the provider at most once per retry delay).
func (h *Handler) recheckFailed(key string) (error, bool) {
	h.recheckMu.Lock()
	defer h.recheckMu.Unlock()
	f, ok := h.recheckWait[key]
	if !ok || !h.now().Before(f.until) {
		return nil, false
	}
	return f.err, true
}

// noteRecheck remembers a re-check that failed for want of an answer and
// forgets any other outcome.
func (h *Handler) noteRecheck(key string, err error) {
	h.recheckMu.Lock()
	defer h.recheckMu.Unlock()
	if err == nil || endsSession(err) {
		delete(h.recheckWait, key)
		return
	}
	if h.recheckWait == nil {
		h.recheckWait = map[string]recheckFailure{}
	}
	if _, ok := h.recheckWait[key]; !ok && len(h.recheckWait) >= maxCached {
		now := h.now()
		for k, f := range h.recheckWait {
			if !now.Before(f.until) {
				delete(h.recheckWait, k)
			}
		}
		for k := range h.recheckWait { // still full: evict an arbitrary entry
			if len(h.recheckWait) < maxCached {
				break
			}
			delete(h.recheckWait, k)
		}
	}
	h.recheckWait[key] = recheckFailure{until: h.recheckRetry(err), err: err}
}

// recheckHeld checks a session whose tokens do not expire with its
// provider, under the refresh lease. A provider that refuses the user or
// the token (Unauthorized, PermissionDenied, NotFound), that cannot
// re-check (no [Rechecker], Unimplemented, InvalidArgument), or that names
// another user ends the session: it is deleted. A provider that cannot
// answer (anything else: Unavailable, DeadlineExceeded, RateLimited)
// leaves the session as it is, unchecked, and a later refresh tries again
// (after recheckRetry, so that an outage does not cost every
// refresh a provider timeout), for RecheckGrace past the due re-check;
// later the refresh fails without deleting the session, until the
// provider answers.
func (h *Handler) recheckHeld(ctx context.Context, lease Lease, key string, s *Session) (*Session, error) {
	const op = "auth.Refresh"
	p, herr := h.provider(s.Identity.Provider, s.Env)
	var res *SignIn
	var err error
	asked := false
	switch rc, ok := p.(Rechecker); {
	case herr != nil:
		err = errcode.New(errcode.NotFound, op, "the session's provider is no longer configured")
	case !ok:
		err = errcode.New(errcode.Unimplemented, op, "the session's provider cannot re-check its sessions")
	default:
		var waiting bool
		if err, waiting = h.recheckFailed(key); waiting {
			break // the provider failed moments ago: do not ask it again yet
		}
		asked = true
		pctx, cancel := context.WithTimeout(ctx, h.o.ProviderTimeout)
		res, err = rc.Recheck(pctx, s.Identity, s.Tokens)
		cancel()
		if err == nil && res == nil {
			res = &SignIn{} // confirmed, nothing new
		}
		if err == nil && res.Identity.Subject != "" && !sameUser(res, s.Identity) {
			err = errcode.New(errcode.Unauthorized, op, "the provider's re-check names another user")
		}
		h.noteRecheck(key, err)
	}
	switch {
	case err == nil:
	case endsSession(err):
		h.log(ctx, "auth: re-check refused the session", slog.String("user", s.Identity.String()), slog.String("error", err.Error()))
		derr := h.store.Delete(ctx, key)
		h.forget(key)
		if derr != nil && errcode.CodeOf(derr) != errcode.NotFound {
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "ending a session its provider refused failed", Err: derr}
		}
		return nil, &errcode.Error{Code: errcode.Unauthorized, Op: op, Msg: "the provider no longer accepts this session (" + oneLine(publicMessage(err)) + "); sign in again", Err: err}
	default:
		if asked {
			h.log(ctx, "auth: re-check failed; the session is kept unchecked", slog.String("user", s.Identity.String()), slog.String("error", err.Error()))
		}
		if h.unconfirmed(s) {
			return nil, &errcode.Error{Code: errcode.Unauthorized, Op: op, Msg: "the provider could not confirm this session for too long (" + oneLine(publicMessage(err)) + "); try again later", Err: err}
		}
		return s, nil
	}
	ns := *s
	ns.checked = h.now()
	if res.Tokens.AccessToken != "" {
		ns.Tokens, ns.issued = res.Tokens, ns.checked
		if ns.Tokens.RefreshToken == "" {
			ns.Tokens.RefreshToken = s.Tokens.RefreshToken
		}
		if ns.Tokens.IDToken == "" {
			ns.Tokens.IDToken = s.Tokens.IDToken
		}
	}
	if res.Identity.Subject != "" {
		res.Identity.Provider = s.Identity.Provider
		ns.Identity = res.Identity
	}
	return h.putHeld(ctx, op, lease, key, &ns, "storing the re-checked session failed", "auth: re-checked")
}

// errNoProviders is why a Handler without providers refreshes nothing.
const errNoProviders = "this server only reads sessions (auth.Options.ReadOnly): a server that serves sign-ins must refresh the session"

// readOnly reports whether the Handler only reads sessions
// (Options.ReadOnly), so that a session whose provider it lacks is not
// one whose provider was removed.
func (h *Handler) readOnly() bool { return h.o.ReadOnly }

func (h *Handler) redirectProvider(id, env string) (RedirectProvider, bool) {
	p, herr := h.provider(id, env)
	if herr != nil {
		return nil, false
	}
	rp, ok := p.(RedirectProvider)
	return rp, ok
}

func (h *Handler) log(ctx context.Context, msg string, attrs ...slog.Attr) {
	if h.o.Logger != nil {
		h.o.Logger.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
	}
}

// ---- origins ----

func origin(u *url.URL) string { return strings.ToLower(u.Scheme + "://" + u.Host) }

func originPattern(glob string) (*regexp.Regexp, error) {
	if strings.Contains(glob, "**") {
		return nil, errors.New("'**' is not allowed in an origin pattern")
	}
	glob = strings.TrimSuffix(strings.ToLower(glob), "/")
	if !strings.HasPrefix(glob, "https://") && !strings.HasPrefix(glob, "http://") {
		return nil, errors.New("origin " + glob + " must start with https:// or http://")
	}
	parts := strings.Split(glob, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.Compile("^" + strings.Join(parts, `[^/.:]*`) + "$")
}

// secureOrigin reports whether an origin pattern is https, or plain http
// on a loopback host whatever its wildcards stand for.
func secureOrigin(glob string) bool {
	rest, ok := strings.CutPrefix(strings.ToLower(glob), "http://")
	if !ok {
		return true // https://, as originPattern checked
	}
	hostport, _, _ := strings.Cut(rest, "/")
	host := hostport
	if hst, _, err := net.SplitHostPort(hostport); err == nil {
		host = hst
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return isLoopback(strings.ReplaceAll(host, "*", "0")) && isLoopback(strings.ReplaceAll(host, "*", "a"))
}

func (h *Handler) originAllowed(o string) bool {
	o = strings.ToLower(o)
	for _, re := range h.allowed {
		if re.MatchString(o) {
			return true
		}
	}
	return false
}

// redirectTarget validates a post-sign-in target: an absolute http(s) URL
// of an allowed origin, or a path on the app's origin. "" gives AppURL.
func (h *Handler) redirectTarget(target string) (string, bool) {
	if target == "" {
		return h.appURL.String(), true
	}
	if strings.ContainsAny(target, "\\\r\n\t") {
		return "", false
	}
	u, err := url.Parse(target)
	if err != nil || u.User != nil {
		return "", false
	}
	if u.Scheme == "" && u.Host == "" {
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
			return "", false
		}
		return h.appURL.ResolveReference(u).String(), true
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !h.originAllowed(origin(u)) {
		return "", false
	}
	return u.String(), true
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
