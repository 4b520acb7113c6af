package fakegithub

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OAuthApp is an OAuth client registered with the fake's sign-in
// endpoints (GET /login/oauth/authorize, POST /login/oauth/access_token):
// an OAuth App, whose tokens never expire, or, with Expiring, a GitHub
// App's user-to-server tokens, which expire after TokenLifetime (GitHub: 8
// hours) and come with a refresh token that is rotated, and the old one
// and its access token revoked, on every use.
type OAuthApp struct {
	ClientID     string
	ClientSecret string
	// Expiring issues GitHub App user-to-server tokens (ghu_ with a ghr_
	// refresh token) instead of OAuth App tokens (gho_).
	Expiring bool
	// TokenLifetime is the access token lifetime when Expiring; default
	// 8 hours.
	TokenLifetime time.Duration
}

// OAuthUser is the user the fake's authorization endpoint signs in,
// approving every request at once (no login page, no consent page).
type OAuthUser struct {
	Login string
	Name  string
	// Email is the primary, verified address, listed by /user/emails.
	Email string
	// PrivateEmail hides Email from /user, as GitHub does for a user who
	// keeps her address private; /user/emails still lists it.
	PrivateEmail bool
}

// oauthState is the fake's sign-in state; it has its own lock so that the
// sign-in endpoints never wait for the repository world.
type oauthState struct {
	mu     sync.Mutex
	apps   map[string]OAuthApp
	user   *OAuthUser
	userID int64
	deny   string                 // error to answer the next authorization with
	codes  map[string]*oauthCode  // one-time codes
	tokens map[string]*oauthToken // access tokens
	rts    map[string]*oauthToken // refresh token → the access token it renews
}

type oauthCode struct {
	app       string
	user      OAuthUser
	redirect  string
	challenge string
	scope     string
	expires   time.Time
}

type oauthToken struct {
	app     string
	user    OAuthUser
	scope   string
	access  string
	refresh string
	expires time.Time // zero: never
}

// oauthLazy is the Server's field holding its sign-in state, made on
// first use.
type oauthLazy struct {
	once sync.Once
	st   *oauthState
}

func (s *Server) oauth() *oauthState {
	s.oauthSt.once.Do(func() {
		s.oauthSt.st = &oauthState{apps: map[string]OAuthApp{}, codes: map[string]*oauthCode{},
			tokens: map[string]*oauthToken{}, rts: map[string]*oauthToken{}}
	})
	return s.oauthSt.st
}

// AddOAuthApp registers an OAuth client.
func (s *Server) AddOAuthApp(a OAuthApp) {
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	if a.Expiring && a.TokenLifetime <= 0 {
		a.TokenLifetime = 8 * time.Hour
	}
	st.apps[a.ClientID] = a
}

// SetOAuthUser sets the user the authorization endpoint signs in. Tokens
// issued to her are accepted by every API endpoint as her: she is the
// author of the commits and pull requests created with them.
func (s *Server) SetOAuthUser(u OAuthUser) {
	s.mu.Lock()
	id := s.ownerLocked(u.Login, User).id
	s.mu.Unlock()
	st := s.oauth() // never held together with s.mu, which is taken first elsewhere
	st.mu.Lock()
	defer st.mu.Unlock()
	st.user = &u
	st.userID = id
}

// DenyNextAuthorization makes the next authorization request end with
// error=errCode (e.g. "access_denied", as when the user clicks Cancel).
func (s *Server) DenyNextAuthorization(errCode string) {
	st := s.oauth()
	st.mu.Lock()
	st.deny = errCode
	st.mu.Unlock()
}

// ExpireOAuthTokens makes every access token issued so far expired, as
// if their lifetime had passed (refresh tokens stay valid).
func (s *Server) ExpireOAuthTokens() {
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	past := s.opts.Now().Add(-time.Second)
	for _, t := range st.tokens {
		t.expires = past
	}
}

// oauthRoutes registers the sign-in endpoints and /user.
func (s *Server) oauthRoutes(mux *http.ServeMux) {
	s.route(mux, "GET /login/oauth/authorize", s.oauthAuthorize)
	s.route(mux, "POST /login/oauth/access_token", s.oauthToken)
	s.route(mux, "GET /user", s.oauthGetUser)
	s.route(mux, "GET /user/emails", s.oauthUserEmails)
}

// oauthTokenCheck reports whether tok is a user token the fake issued
// (known) and, if so, whether it is still valid.
func (s *Server) oauthTokenCheck(tok string) (valid, known bool) {
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.tokens[tok]
	if !ok {
		return false, false
	}
	return t.expires.IsZero() || s.opts.Now().Before(t.expires), true
}

// actor is the login that acts in r: the signed-in user of a user token,
// Options.User otherwise.
func (s *Server) actor(r *http.Request) string {
	if t := s.userToken(r); t != nil {
		return t.user.Login
	}
	return s.opts.User
}

func (s *Server) userToken(r *http.Request) *oauthToken {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token") {
		return nil
	}
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.tokens[tok]
	if t == nil || (!t.expires.IsZero() && !s.opts.Now().Before(t.expires)) {
		return nil
	}
	return t
}

func randToken(prefix string) string {
	b := make([]byte, 18)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	app, ok := st.apps[q.Get("client_id")]
	if !ok {
		http.Error(w, "The client_id is not registered with this fake GitHub.", http.StatusNotFound)
		return
	}
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if redirect == "" || err != nil || ru.Host == "" {
		http.Error(w, "The redirect_uri MUST match the registered callback URL for this application.", http.StatusBadRequest)
		return
	}
	back := ru.Query()
	back.Set("state", q.Get("state"))
	if m := q.Get("code_challenge_method"); (m != "" && m != "S256") || (m == "S256" && q.Get("code_challenge") == "") {
		back.Set("error", "invalid_request")
		back.Set("error_description", "code_challenge_method must be S256")
	} else if st.deny != "" || st.user == nil {
		back.Set("error", "access_denied")
		if st.deny != "" {
			back.Set("error", st.deny)
		}
		back.Set("error_description", "The user has denied your application access.")
		st.deny = ""
	} else {
		code := randToken("")[:20]
		st.codes[code] = &oauthCode{app: app.ClientID, user: *st.user, redirect: redirect, challenge: q.Get("code_challenge"),
			scope: q.Get("scope"), expires: s.opts.Now().Add(10 * time.Minute)}
		back.Set("code", code)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// oauthToken answers as GitHub does: 200 with an error field for a bad
// code or refresh token, form-encoded unless JSON is accepted.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	id, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	app, ok := st.apps[id]
	if !ok || subtle.ConstantTimeCompare([]byte(app.ClientSecret), []byte(secret)) != 1 {
		s.oauthAnswer(w, r, url.Values{"error": {"incorrect_client_credentials"}, "error_description": {"The client_id and/or client_secret passed are incorrect."}})
		return
	}
	now := s.opts.Now()
	var user OAuthUser
	var scope string
	switch f.Get("grant_type") {
	case "", "authorization_code":
		c := st.codes[f.Get("code")]
		delete(st.codes, f.Get("code")) // one use, even when it fails
		if c == nil || c.app != app.ClientID || !now.Before(c.expires) || c.redirect != f.Get("redirect_uri") {
			s.oauthAnswer(w, r, url.Values{"error": {"bad_verification_code"}, "error_description": {"The code passed is incorrect or expired."}})
			return
		}
		if c.challenge != "" {
			sum := sha256.Sum256([]byte(f.Get("code_verifier")))
			if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.challenge)) != 1 {
				s.oauthAnswer(w, r, url.Values{"error": {"bad_verification_code"}, "error_description": {"The code_verifier does not match the code_challenge."}})
				return
			}
		}
		user, scope = c.user, c.scope
	case "refresh_token":
		old := st.rts[f.Get("refresh_token")]
		if old == nil || old.app != app.ClientID {
			s.oauthAnswer(w, r, url.Values{"error": {"bad_refresh_token"}, "error_description": {"The refresh token passed is incorrect or expired."}})
			return
		}
		// Strict rotation: the refresh token and its access token die.
		delete(st.rts, old.refresh)
		delete(st.tokens, old.access)
		user, scope = old.user, old.scope
	default:
		s.oauthAnswer(w, r, url.Values{"error": {"unsupported_grant_type"}})
		return
	}
	t := &oauthToken{app: app.ClientID, user: user, scope: strings.ReplaceAll(scope, " ", ",")}
	out := url.Values{"token_type": {"bearer"}, "scope": {t.scope}}
	if app.Expiring {
		t.access, t.refresh, t.expires = randToken("ghu_"), randToken("ghr_"), now.Add(app.TokenLifetime)
		t.scope = ""
		out.Set("scope", "")
		out.Set("expires_in", strconv.Itoa(int(app.TokenLifetime/time.Second)))
		out.Set("refresh_token", t.refresh)
		out.Set("refresh_token_expires_in", "15811200")
		st.rts[t.refresh] = t
	} else {
		t.access = randToken("gho_")
	}
	out.Set("access_token", t.access)
	st.tokens[t.access] = t
	s.oauthAnswer(w, r, out)
}

func (s *Server) oauthAnswer(w http.ResponseWriter, r *http.Request, v url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	if strings.Contains(r.Header.Get("Accept"), "json") {
		m := map[string]any{}
		for k := range v {
			if n, err := strconv.Atoi(v.Get(k)); err == nil && strings.HasPrefix(k, "expires") || err == nil && k == "refresh_token_expires_in" {
				m[k] = n
			} else {
				m[k] = v.Get(k)
			}
		}
		s.writeJSON(w, r, http.StatusOK, m)
		return
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(v.Encode()))
}

func (s *Server) oauthGetUser(w http.ResponseWriter, r *http.Request) {
	ok, good, _ := s.checkAuth(r)
	if !good || !ok {
		s.writeError(w, r, http.StatusUnauthorized, "Requires authentication", "https://docs.github.com/rest/users/users#get-the-authenticated-user")
		return
	}
	login, name, email := s.opts.User, "", ""
	if t := s.userToken(r); t != nil {
		login, name = t.user.Login, t.user.Name
		if !t.user.PrivateEmail {
			email = t.user.Email
		}
	}
	s.mu.Lock()
	o := s.ownerLocked(login, User)
	nodeID := s.org.userIDLocked(login) // as the GraphQL organisation answers name her
	s.mu.Unlock()
	j := s.ownerJSON(r, o)
	j["node_id"] = nodeID
	j["name"], j["company"], j["blog"], j["location"], j["hireable"], j["bio"], j["twitter_username"] = nilIfEmpty(name), nil, "", nil, nil, nil, nil
	j["email"] = nilIfEmpty(email)
	j["public_repos"], j["public_gists"], j["followers"], j["following"] = len(o.repos), 0, 0, 0
	j["created_at"], j["updated_at"] = "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"
	s.writeJSON(w, r, http.StatusOK, j)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) oauthUserEmails(w http.ResponseWriter, r *http.Request) {
	t := s.userToken(r)
	if t == nil {
		s.writeError(w, r, http.StatusUnauthorized, "Requires authentication", "https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user")
		return
	}
	st := s.oauth()
	st.mu.Lock()
	expiring := st.apps[t.app].Expiring
	st.mu.Unlock()
	if !expiring && !strings.Contains(","+t.scope+",", ",user:email,") && !strings.Contains(","+t.scope+",", ",user,") {
		s.writeError(w, r, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user")
		return
	}
	vis := any("public")
	if t.user.PrivateEmail {
		vis = "private"
	}
	list := []any{}
	if t.user.Email != "" {
		list = append(list, map[string]any{"email": t.user.Email, "primary": true, "verified": true, "visibility": vis})
	}
	s.writeJSON(w, r, http.StatusOK, list)
}
