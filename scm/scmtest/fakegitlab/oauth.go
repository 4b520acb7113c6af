package fakegitlab

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// OAuthApp is an OAuth application registered with the fake's sign-in
// endpoints (GET /oauth/authorize, POST /oauth/token): access tokens expire
// after TokenLifetime (GitLab: 2 hours) and come with a refresh token that
// is rotated, the old one revoked, on every use.
type OAuthApp struct {
	ClientID     string
	ClientSecret string
	// TokenLifetime defaults to 2 hours.
	TokenLifetime time.Duration
}

// OAuthUser is the user the fake's authorization endpoint signs in,
// approving every request at once.
type OAuthUser struct {
	Username string
	Name     string
	Email    string
}

// oauthState is the sign-in state: applications, the user who signs in,
// and the codes and tokens issued. A code is a grant with no access token.
type oauthState struct {
	mu     sync.Mutex
	apps   map[string]OAuthApp
	user   *OAuthUser
	deny   string
	grants map[string]*oauthGrant // by code, access token and refresh token
}

type oauthGrant struct {
	app, redirect, challenge, scope, access, refresh string
	user                                             OAuthUser
	expires                                          time.Time
}

func (s *Server) oauth() *oauthState {
	s.oauthOnce.Do(func() { s.oauthSt = &oauthState{apps: map[string]OAuthApp{}, grants: map[string]*oauthGrant{}} })
	return s.oauthSt
}

// AddOAuthApp registers an OAuth application.
func (s *Server) AddOAuthApp(a OAuthApp) {
	if a.TokenLifetime <= 0 {
		a.TokenLifetime = 2 * time.Hour
	}
	st := s.oauth()
	st.mu.Lock()
	st.apps[a.ClientID] = a
	st.mu.Unlock()
}

// SetOAuthUser sets the user the authorization endpoint signs in; tokens
// issued to her are accepted by the API as her, and she authors the
// commits and merge requests made with them.
func (s *Server) SetOAuthUser(u OAuthUser) {
	s.addUser(u.Username)
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.user = &u
}

// DenyNextAuthorization makes the next authorization end with
// error=errCode ("access_denied").
func (s *Server) DenyNextAuthorization(errCode string) {
	st := s.oauth()
	st.mu.Lock()
	st.deny = errCode
	st.mu.Unlock()
}

func (s *Server) oauthRoutes() {
	s.route("GET /oauth/authorize", s.oauthAuthorize)
	s.route("POST /oauth/token", s.oauthToken)
}

// route registers an unauthenticated route with recording and faults.
func (s *Server) route(pattern string, fn http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.record(r, pattern)
		s.core.Serve(w, r, "api", "api", fn)
	})
}

func (s *Server) bearer(r *http.Request) string {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "bearer") {
		return tok
	}
	return r.Header.Get("Private-Token")
}

// userToken returns the grant of r's access token when the fake issued
// it (known), nil when it has expired.
func (s *Server) userToken(r *http.Request) (t *oauthGrant, known bool) {
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	tok := s.bearer(r)
	if t = st.grants[tok]; t == nil || t.access != tok {
		return nil, false
	}
	if !s.opts.Now().Before(t.expires) {
		return nil, true
	}
	return t, true
}

// actor is the username acting in r.
func (s *Server) actor(r *http.Request) string {
	if t, _ := s.userToken(r); t != nil {
		return t.user.Username
	}
	return s.opts.User
}

// userJSONOf is the user object of username.
func (s *Server) userJSONOf(r *http.Request, username string) map[string]any {
	j := s.userJSON(r)
	j["username"], j["name"], j["web_url"] = username, username, s.webURL(r)+"/"+username
	return j
}

// oauthGetUser answers GET /api/v4/user: the signed-in user for her
// token, the fake's user otherwise.
func (s *Server) oauthGetUser(w http.ResponseWriter, r *http.Request) {
	t, _ := s.userToken(r)
	if t == nil {
		s.getUser(w, r)
		return
	}
	j := s.userJSONOf(r, t.user.Username)
	j["id"], j["name"], j["email"], j["public_email"], j["confirmed_at"] = 4242, t.user.Name, t.user.Email, "", "2020-01-01T00:00:00.000Z"
	s.writeJSON(w, r, http.StatusOK, j)
}

func oauthRandom(prefix string) string {
	b := make([]byte, 20)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	app, ok := st.apps[q.Get("client_id")]
	ru, err := url.Parse(q.Get("redirect_uri"))
	if !ok || err != nil || ru.Host == "" {
		writeText(w, http.StatusBadRequest, "The client authentication failed or the redirect URI is invalid.\n")
		return
	}
	back := ru.Query()
	back.Set("state", q.Get("state"))
	switch {
	case q.Get("code_challenge_method") != "" && q.Get("code_challenge_method") != "S256":
		back.Set("error", "invalid_request")
	case st.deny != "" || st.user == nil:
		back.Set("error", "access_denied")
		if st.deny != "" {
			back.Set("error", st.deny)
		}
		back.Set("error_description", "The resource owner or authorization server denied the request.")
		st.deny = ""
	default:
		code := oauthRandom("")
		st.grants[code] = &oauthGrant{app: app.ClientID, redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), scope: q.Get("scope"),
			user: *st.user, expires: s.opts.Now().Add(10 * time.Minute)}
		back.Set("code", code)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func (s *Server) oauthError(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, status, map[string]any{"error": code, "error_description": desc})
}

func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.oauthError(w, r, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter.")
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
		s.oauthError(w, r, http.StatusUnauthorized, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
		return
	}
	const invalidGrant = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
	now := s.opts.Now()
	var user OAuthUser
	var scope string
	switch f.Get("grant_type") {
	case "authorization_code":
		c := st.grants[f.Get("code")]
		if c != nil && c.access == "" {
			delete(st.grants, f.Get("code"))
		}
		if c == nil || c.access != "" || c.app != app.ClientID || !now.Before(c.expires) || c.redirect != f.Get("redirect_uri") {
			s.oauthError(w, r, http.StatusBadRequest, "invalid_grant", invalidGrant)
			return
		}
		if c.challenge != "" {
			sum := sha256.Sum256([]byte(f.Get("code_verifier")))
			if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.challenge)) != 1 {
				s.oauthError(w, r, http.StatusBadRequest, "invalid_grant", invalidGrant)
				return
			}
		}
		user, scope = c.user, c.scope
	case "refresh_token":
		old := st.grants[f.Get("refresh_token")]
		if old == nil || old.refresh != f.Get("refresh_token") || old.app != app.ClientID {
			s.oauthError(w, r, http.StatusBadRequest, "invalid_grant", invalidGrant)
			return
		}
		delete(st.grants, old.refresh)
		delete(st.grants, old.access)
		user, scope = old.user, old.scope
	default:
		s.oauthError(w, r, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	t := &oauthGrant{app: app.ClientID, user: user, scope: scope, access: oauthRandom("glpat-oauth-"), refresh: oauthRandom("glrt-"), expires: now.Add(app.TokenLifetime)}
	st.grants[t.access], st.grants[t.refresh] = t, t
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusOK, map[string]any{"access_token": t.access, "token_type": "Bearer", "expires_in": int(app.TokenLifetime / time.Second),
		"refresh_token": t.refresh, "scope": scope, "created_at": now.Unix()})
}
