// Package oauthsrv is the OAuth 2.0 authorization server (RFC 6749, PKCE
// of RFC 7636) behind the sign-in of the provider fakes: an authorization
// endpoint that signs one configured user in at once, and a token
// endpoint with the authorization_code, refresh_token and
// client_credentials grants. What providers say differently is a [Config]
// and a [Client]: each refusal's wording and status, token prefixes and
// lifetimes, the token answer's shape.
//
// A code lives 10 minutes and is used once, even by an exchange that
// fails; its code_challenge is checked with S256. A refresh token is
// rotated on every use: the old one and its access token are revoked.
//
// The device authorization grant (RFC 8628) is served for clients with
// Device set: [Server.DeviceAuthorize] issues a device code and a user
// code that live Config.DeviceLifetime, [Server.Approve] or [Server.Refuse] stands
// for the user entering the user code in a browser, and the token
// endpoint answers authorization_pending (or slow_down when polled
// sooner than the interval) until then.
package oauthsrv

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Failure is a refusal, worded by [Config.Answers].
type Failure int

// The refusals of the authorization endpoint, answered with a page
// (UnknownClient, BadRequest) or at the redirect_uri, and those of the
// token endpoint.
const (
	UnknownClient      Failure = iota + 1 // client_id is not registered
	BadRequest                            // redirect_uri not absolute, or response_type not "code" (Config.ResponseType)
	BadChallengeMethod                    // code_challenge_method not S256, or without code_challenge
	Denied                                // the user refused ([Server.DenyNext]), or nobody signs in
	BadForm                               // the token request's form does not parse
	BadClient                             // unknown client or wrong secret
	BadCode                               // code unknown, used, expired, or another client's or redirect_uri's
	BadVerifier                           // code_verifier does not match the code_challenge
	BadRefresh                            // refresh token unknown, used, or another client's
	BadGrantType                          // a grant_type the client may not use
	DeviceDisabled                        // a device authorization for a client without Device
	Pending                               // the user has not entered the user code yet
	SlowDown                              // polled sooner than the interval
	DeviceDenied                          // the user refused the device ([Server.Refuse])
	DeviceExpired                         // the device code has expired
	BadDeviceCode                         // device code unknown, used, or another client's
)

// Answer words a Failure: with Error, a body written by Config.Write (at
// the authorization endpoint, the error parameters sent back); without, a
// text/plain page. An empty Description is left out.
type Answer struct {
	Status             int
	Error, Description string
}

// Config is what a provider says its own way; U is its user.
type Config[U any] struct {
	Now        func() time.Time
	Clients    []Client // registered from the start
	CodePrefix string
	// Schemes (lower case) of the Authorization header, or Header, carry
	// a request's access token ([Server.Caller]).
	Schemes []string
	Header  string
	// ResponseType refuses a response_type other than "code".
	ResponseType bool
	// GrantOptional takes a token request without grant_type for a code
	// exchange.
	GrantOptional bool
	Answers       map[Failure]Answer
	// VerificationPath is where, on the server's host, a user enters a
	// device's user code; VerificationComplete also answers the page with
	// the code filled in (verification_uri_complete).
	VerificationPath     string
	VerificationComplete bool
	// DeviceLifetime is how long device and user codes live; default 15
	// minutes.
	DeviceLifetime time.Duration
	// DeviceNeedsSecret makes a client with a secret authenticate at the
	// device authorization endpoint and when polling (Doorkeeper's rule);
	// without it, the device grant takes a client without its secret, as
	// a public client.
	DeviceNeedsSecret bool
	// PollNow is the clock that paces device polls (slow_down); default
	// time.Now, since clients poll in real time.
	PollNow func() time.Time
	// Write writes a token answer or a refusal's body.
	Write func(w http.ResponseWriter, r *http.Request, status int, body any)
	// Issued is called for every token issued, by grantType; it returns
	// the token answer.
	Issued func(g *Grant[U], grantType string) any
}

// Client is a registered OAuth client. Its access tokens last Lifetime
// and come with a refresh token; with Lifetime 0 they never expire and
// come alone. Credentials allows it the client_credentials grant, Device
// the device authorization grant, polled every DeviceInterval (default 5
// s; the token endpoint takes a device code without the client's secret,
// as from a public client, and then refreshes its tokens without one).
type Client struct {
	ID, Secret                  string
	Lifetime                    time.Duration
	AccessPrefix, RefreshPrefix string
	Credentials                 bool
	Device                      bool
	DeviceInterval              time.Duration
}

// Grant is an access token and its refresh token, or a code.
type Grant[U any] struct {
	User            U // zero for a client_credentials grant
	Scope           string
	Access, Refresh string
	Issued, Expires time.Time // Expires zero: never

	client, code, redirect, challenge string
	device                            *device // a device code's, until the user answers
	public                            bool    // issued to a public client (device grant without a secret): refreshed without one
}

// device is a device authorization waiting for its user.
type device struct {
	userCode         string
	interval         time.Duration
	polled           time.Time
	approved, denied bool
}

// ExpiresIn is the token's lifetime in seconds, 0 when it never expires.
func (g *Grant[U]) ExpiresIn() int {
	if g.Expires.IsZero() {
		return 0
	}
	return int(g.Expires.Sub(g.Issued) / time.Second)
}

// Server is an authorization server, safe for concurrent use. It calls
// Config's functions without holding its lock.
type Server[U any] struct {
	cfg     Config[U]
	mu      sync.Mutex
	clients map[string]Client
	user    *U
	deny    string
	grants  map[string]*Grant[U] // by code, device code, user code, access token and refresh token
}

// Lazy is a Server made on first use.
type Lazy[U any] struct {
	once sync.Once
	s    *Server[U]
}

// Get returns the Server, made with config() the first time.
func (l *Lazy[U]) Get(config func() Config[U]) *Server[U] {
	l.once.Do(func() { l.s = New(config()) })
	return l.s
}

// New returns a Server with Config.Clients, where nobody signs in.
func New[U any](cfg Config[U]) *Server[U] {
	s := &Server[U]{cfg: cfg, clients: map[string]Client{}, grants: map[string]*Grant[U]{}}
	for _, c := range cfg.Clients {
		s.clients[c.ID] = c
	}
	return s
}

// AddClient registers c, replacing the client with its ID.
func (s *Server[U]) AddClient(c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
}

// SetUser sets the user the authorization endpoint signs in.
func (s *Server[U]) SetUser(u U) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user = &u
}

// DenyNext makes the next authorization end with error=code.
func (s *Server[U]) DenyNext(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = code
}

// Lookup returns a copy of the grant of an access token. known reports
// whether the server issued it; g is nil when it has expired.
func (s *Server[U]) Lookup(access string) (g *Grant[U], known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g = s.grants[access]; g == nil || g.Access != access {
		return nil, false
	}
	if !g.Expires.IsZero() && !s.cfg.Now().Before(g.Expires) {
		return nil, true
	}
	c := *g
	return &c, true
}

// Revoke revokes access token tok of the client that id and secret
// authenticate. clientOK reports whether they did; found, whether tok
// was a live token of that client. Its refresh token, if any, stays
// valid.
func (s *Server[U]) Revoke(id, secret, tok string) (clientOK, found bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, known := s.clients[id]
	if !known || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 || c.Secret == "" {
		return false, false
	}
	g := s.grants[tok]
	if g == nil || g.Access != tok || g.client != id || !g.Expires.IsZero() && !s.cfg.Now().Before(g.Expires) {
		return true, false
	}
	delete(s.grants, tok)
	return true, true
}

// Caller is Lookup of the access token r carries.
func (s *Server[U]) Caller(r *http.Request) (g *Grant[U], known bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !slices.Contains(s.cfg.Schemes, strings.ToLower(scheme)) {
		tok = r.Header.Get(s.cfg.Header)
	}
	return s.Lookup(tok)
}

// Authorize is the authorization endpoint: it sends the user back to the
// redirect_uri with a code, or with the error of a refusal.
func (s *Server[U]) Authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	f, code, denial := s.authorize(q, err == nil && back.Host != "" && (!s.cfg.ResponseType || q.Get("response_type") == "code"))
	if f == UnknownClient || f == BadRequest {
		s.refuse(w, r, f)
		return
	}
	v, a := back.Query(), s.cfg.Answers[f]
	v.Set("state", q.Get("state"))
	for k, x := range map[string]string{"code": code, "error": cmp.Or(denial, a.Error), "error_description": a.Description} {
		if x != "" {
			v.Set(k, x)
		}
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// authorize issues the code of an authorization request, or refuses it;
// denial is the error DenyNext set.
func (s *Server[U]) authorize(q url.Values, redirectOK bool) (f Failure, code, denial string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, known := s.clients[q.Get("client_id")]
	method, challenge := q.Get("code_challenge_method"), q.Get("code_challenge")
	switch {
	case !known:
		return UnknownClient, "", ""
	case !redirectOK:
		return BadRequest, "", ""
	case method != "" && (method != "S256" || challenge == ""):
		return BadChallengeMethod, "", ""
	case s.deny != "" || s.user == nil:
		denial, s.deny = s.deny, ""
		return Denied, "", denial
	}
	code = s.cfg.CodePrefix + rand.Text()
	s.grants[code] = &Grant[U]{User: *s.user, Scope: q.Get("scope"), Expires: s.cfg.Now().Add(10 * time.Minute),
		client: c.ID, code: code, redirect: q.Get("redirect_uri"), challenge: challenge}
	return 0, code, ""
}

// Token is the token endpoint. The client authenticates with Basic, or
// with client_id and client_secret in the form.
func (s *Server[U]) Token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.refuse(w, r, BadForm)
		return
	}
	gt := r.PostForm.Get("grant_type")
	if gt == "" && s.cfg.GrantOptional {
		gt = "authorization_code"
	}
	g, f := s.exchange(r, gt)
	if f != 0 {
		s.refuse(w, r, f)
		return
	}
	s.cfg.Write(w, r, http.StatusOK, s.cfg.Issued(g, gt))
}

// exchange returns a copy of the grant a token request is issued, or its
// refusal.
func (s *Server[U]) exchange(r *http.Request, gt string) (*Grant[U], Failure) {
	form := r.PostForm
	id, secret, basic := clientAuth(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, known := s.clients[id]
	noSecret := c.Device && !s.cfg.DeviceNeedsSecret && !basic && !form.Has("client_secret")
	rg := s.grants[form.Get("refresh_token")]
	public := noSecret && (gt == deviceGrant || gt == "refresh_token" && rg != nil && rg.public && rg.client == c.ID)
	if !known || !public && subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return nil, BadClient
	}
	old := &Grant[U]{}
	switch code, refresh := form.Get("code"), form.Get("refresh_token"); {
	case gt == deviceGrant && c.Device:
		dc := form.Get("device_code")
		if old = s.grants[dc]; old == nil || old.code != dc || old.device == nil || old.client != c.ID {
			return nil, BadDeviceCode
		}
		d, now := old.device, s.cfg.Now()
		switch {
		case !now.Before(old.Expires):
			delete(s.grants, dc)
			delete(s.grants, d.userCode)
			return nil, DeviceExpired
		case d.denied:
			delete(s.grants, dc)
			return nil, DeviceDenied
		case !d.approved:
			pnow := time.Now()
			if s.cfg.PollNow != nil {
				pnow = s.cfg.PollNow()
			}
			early := !d.polled.IsZero() && pnow.Sub(d.polled) < d.interval
			d.polled = pnow
			if early {
				d.interval += 5 * time.Second // RFC 8628 3.5
				return nil, SlowDown
			}
			return nil, Pending
		}
		delete(s.grants, dc)
	case gt == "authorization_code":
		if old = s.grants[code]; old == nil || old.code != code {
			return nil, BadCode
		}
		delete(s.grants, code)
		if old.client != c.ID || !s.cfg.Now().Before(old.Expires) || old.redirect != form.Get("redirect_uri") {
			return nil, BadCode
		}
		sum := sha256.Sum256([]byte(form.Get("code_verifier")))
		if old.challenge != "" && subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(old.challenge)) != 1 {
			return nil, BadVerifier
		}
	case gt == "refresh_token":
		if old = s.grants[refresh]; old == nil || old.Refresh != refresh || old.client != c.ID {
			return nil, BadRefresh
		}
		delete(s.grants, old.Refresh)
		delete(s.grants, old.Access)
	case gt != "client_credentials" || !c.Credentials:
		return nil, BadGrantType
	}
	g := &Grant[U]{User: old.User, Scope: old.Scope, Access: c.AccessPrefix + rand.Text(), Issued: s.cfg.Now(), client: c.ID, public: public}
	if c.Lifetime > 0 {
		g.Refresh, g.Expires = c.RefreshPrefix+rand.Text(), g.Issued.Add(c.Lifetime)
		s.grants[g.Refresh] = g
	}
	s.grants[g.Access] = g
	cp := *g
	return &cp, 0
}

// clientAuth returns the client credentials of a token request parsed
// with ParseForm: Basic ones (basic true), or client_id and client_secret
// in the form.
func clientAuth(r *http.Request) (id, secret string, basic bool) {
	if id, secret, basic = r.BasicAuth(); !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id, secret, basic
}

// deviceGrant is the device authorization grant's grant_type.
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// DeviceAuthorize is the device authorization endpoint (RFC 8628 3.1):
// it issues a device code and a user code to a client with Device, for
// the signed-in user to approve.
func (s *Server[U]) DeviceAuthorize(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.refuse(w, r, BadForm)
		return
	}
	id, secret, _ := clientAuth(r)
	s.mu.Lock()
	c, known := s.clients[id]
	if !known || s.cfg.DeviceNeedsSecret && c.Secret != "" && subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		s.mu.Unlock()
		s.refuse(w, r, BadClient)
		return
	}
	if !c.Device {
		s.mu.Unlock()
		s.refuse(w, r, DeviceDisabled)
		return
	}
	interval, lifetime := cmp.Or(c.DeviceInterval, 5*time.Second), cmp.Or(s.cfg.DeviceLifetime, 15*time.Minute)
	g := &Grant[U]{Scope: r.PostForm.Get("scope"), Expires: s.cfg.Now().Add(lifetime), client: c.ID,
		code: "dc-" + rand.Text(), device: &device{userCode: userCode(), interval: interval}}
	s.grants[g.code], s.grants[g.device.userCode] = g, g
	s.mu.Unlock()
	page := scheme(r) + "://" + r.Host + s.cfg.VerificationPath
	body := map[string]any{"device_code": g.code, "user_code": g.device.userCode, "verification_uri": page,
		"expires_in": int(lifetime / time.Second), "interval": int(interval / time.Second)}
	if s.cfg.VerificationComplete {
		body["verification_uri_complete"] = page + "?user_code=" + g.device.userCode
	}
	s.cfg.Write(w, r, http.StatusOK, body)
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// userCode is a user code as GitHub's: eight letters and digits, in two
// groups.
func userCode() string {
	t := strings.ToUpper(rand.Text())
	return t[:4] + "-" + t[4:8]
}

// Approve is the signed-in user (SetUser) entering userCode and
// approving the device; it reports whether the code was waiting for her.
func (s *Server[U]) Approve(userCode string) bool { return s.answerDevice(userCode, true) }

// Refuse is the user entering userCode and refusing the device.
func (s *Server[U]) Refuse(userCode string) bool { return s.answerDevice(userCode, false) }

func (s *Server[U]) answerDevice(userCode string, approve bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grants[userCode]
	if g == nil || g.device == nil || g.device.userCode != userCode || !s.cfg.Now().Before(g.Expires) || s.user == nil {
		return false
	}
	delete(s.grants, userCode)
	g.User = *s.user
	g.device.approved, g.device.denied = approve, !approve
	return true
}

// refuse writes f's Answer.
func (s *Server[U]) refuse(w http.ResponseWriter, r *http.Request, f Failure) {
	a := s.cfg.Answers[f]
	if a.Error == "" {
		http.Error(w, a.Description, a.Status)
		return
	}
	body := map[string]any{"error": a.Error}
	if a.Description != "" {
		body["error_description"] = a.Description
	}
	s.cfg.Write(w, r, a.Status, body)
}
