package fakebitbucketcloud

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// OAuthApp is an OAuth consumer registered with the fake's sign-in
// endpoints (GET /site/oauth2/authorize and the authorization_code and
// refresh_token grants of POST /site/oauth2/access_token, on the web
// host): access tokens expire after TokenLifetime (Bitbucket: 2 hours) and
// come with a refresh token, rotated on every use.
type OAuthApp struct {
	Key    string
	Secret string
	// TokenLifetime defaults to 2 hours.
	TokenLifetime time.Duration
}

// OAuthUser is the user the authorization endpoint signs in, approving
// every request at once.
type OAuthUser struct {
	Nickname    string
	DisplayName string
	Email       string
}

type oauthLazy struct {
	once sync.Once
	st   *oauthState
}

type oauthState struct {
	mu     sync.Mutex
	apps   map[string]OAuthApp
	user   *OAuthUser
	deny   string
	codes  map[string]*oauthCode
	tokens map[string]*oauthToken
	rts    map[string]*oauthToken
}

type oauthCode struct {
	app, redirect, challenge string
	user                     OAuthUser
	expires                  time.Time
}

type oauthToken struct {
	app, access, refresh string
	user                 OAuthUser
	expires              time.Time
}

func (s *Server) oauth() *oauthState {
	s.oauthSt.once.Do(func() {
		s.oauthSt.st = &oauthState{apps: map[string]OAuthApp{}, codes: map[string]*oauthCode{}, tokens: map[string]*oauthToken{}, rts: map[string]*oauthToken{}}
	})
	return s.oauthSt.st
}

// AddOAuthApp registers an OAuth consumer for sign-in.
func (s *Server) AddOAuthApp(a OAuthApp) {
	if a.TokenLifetime <= 0 {
		a.TokenLifetime = 2 * time.Hour
	}
	st := s.oauth()
	st.mu.Lock()
	st.apps[a.Key] = a
	st.mu.Unlock()
}

// SetOAuthUser sets the user the authorization endpoint signs in; tokens
// issued to her are accepted by the API, and /2.0/user answers her.
func (s *Server) SetOAuthUser(u OAuthUser) {
	st := s.oauth()
	st.mu.Lock()
	st.user = &u
	st.mu.Unlock()
}

// DenyNextAuthorization makes the next authorization end with
// error=errCode ("access_denied").
func (s *Server) DenyNextAuthorization(errCode string) {
	st := s.oauth()
	st.mu.Lock()
	st.deny = errCode
	st.mu.Unlock()
}

// oauthTokenCheck reports whether tok is a user token the fake issued
// (known) and whether it is valid.
func (s *Server) oauthTokenCheck(tok string) (valid, known bool) {
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.tokens[tok]
	if !ok {
		return false, false
	}
	return s.now().Before(t.expires), true
}

func (s *Server) userTokenOf(r *http.Request) *oauthToken {
	h := r.Header.Get("Authorization")
	if len(h) < 7 {
		return nil
	}
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.tokens[h[7:]]
	if t == nil || !s.now().Before(t.expires) {
		return nil
	}
	return t
}

func oauthRandom() string {
	b := make([]byte, 20)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	app, ok := st.apps[q.Get("client_id")]
	ru, err := url.Parse(q.Get("redirect_uri"))
	if !ok || err != nil || ru.Host == "" || q.Get("response_type") != "code" {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "Invalid client_id, redirect_uri or response_type"})
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
		st.deny = ""
	default:
		code := oauthRandom()
		st.codes[code] = &oauthCode{app: app.Key, redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), user: *st.user, expires: s.now().Add(10 * time.Minute)}
		back.Set("code", code)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// oauthGrant answers the authorization_code and refresh_token grants of
// a sign-in consumer; it returns false, answering nothing, for any other
// request (the client-credentials grant of Options.Consumers).
func (s *Server) oauthGrant(w http.ResponseWriter, r *http.Request) bool {
	if r.ParseForm() != nil {
		return false
	}
	f := r.PostForm
	gt := f.Get("grant_type")
	if gt != "authorization_code" && gt != "refresh_token" {
		return false
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	st := s.oauth()
	st.mu.Lock()
	defer st.mu.Unlock()
	app, known := st.apps[id]
	if !known {
		return false
	}
	fail := func(code, desc string) bool {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": code, "error_description": desc})
		return true
	}
	if subtle.ConstantTimeCompare([]byte(app.Secret), []byte(secret)) != 1 {
		return fail("invalid_client", "Invalid OAuth client credentials")
	}
	now := s.now()
	var user OAuthUser
	if gt == "authorization_code" {
		c := st.codes[f.Get("code")]
		delete(st.codes, f.Get("code"))
		if c == nil || c.app != app.Key || !now.Before(c.expires) || c.redirect != f.Get("redirect_uri") {
			return fail("invalid_grant", "The specified code is not valid")
		}
		if c.challenge != "" {
			sum := sha256.Sum256([]byte(f.Get("code_verifier")))
			if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.challenge)) != 1 {
				return fail("invalid_grant", "The code verifier is not valid")
			}
		}
		user = c.user
	} else {
		old := st.rts[f.Get("refresh_token")]
		if old == nil || old.app != app.Key {
			return fail("invalid_grant", "Invalid refresh_token")
		}
		delete(st.rts, old.refresh)
		delete(st.tokens, old.access)
		user = old.user
	}
	t := &oauthToken{app: app.Key, access: "bbc-user-" + oauthRandom(), refresh: "bbc-refresh-" + oauthRandom(), user: user, expires: now.Add(app.TokenLifetime)}
	st.tokens[t.access], st.rts[t.refresh] = t, t
	s.writeJSON(w, r, http.StatusOK, map[string]any{"access_token": t.access, "scopes": "account email repository pullrequest",
		"expires_in": int(app.TokenLifetime / time.Second), "refresh_token": t.refresh, "token_type": "bearer", "state": gt})
	return true
}

func (s *Server) oauthUser(w http.ResponseWriter, r *http.Request) {
	j := s.userJSON()
	if t := s.userTokenOf(r); t != nil {
		j["display_name"], j["nickname"], j["uuid"] = t.user.DisplayName, t.user.Nickname, uuid("user:"+t.user.Nickname)
		j["account_id"] = "557058:" + t.user.Nickname
	}
	j["created_on"] = "2020-01-01T00:00:00+00:00"
	s.writeJSON(w, r, http.StatusOK, j)
}

func (s *Server) oauthEmails(w http.ResponseWriter, r *http.Request) {
	vals := []any{}
	if t := s.userTokenOf(r); t != nil && t.user.Email != "" {
		vals = append(vals, map[string]any{"email": t.user.Email, "is_primary": true, "is_confirmed": true, "type": "email",
			"links": links{"self": href(s.api.URL + "/2.0/user/emails/" + url.PathEscape(t.user.Email))}})
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"pagelen": 10, "values": vals, "page": 1, "size": len(vals)})
}

func (s *Server) userJSON() map[string]any {
	id := uuid("user")
	return map[string]any{"display_name": s.opts.User, "type": "user", "uuid": id, "account_id": "557058:fake",
		"nickname": s.opts.User, "links": links{"self": href(s.api.URL + "/2.0/users/" + url.PathEscape(id)),
			"html": href(s.api.URL + "/" + url.PathEscape(id) + "/"), "avatar": href(s.api.URL + "/avatar/fake")}}
}

// actorName is the display name of who acts in r: the signed-in user of
// a user token, "" (Options.User) otherwise.
func (s *Server) actorName(r *http.Request) string {
	if t := s.userTokenOf(r); t != nil {
		return t.user.Nickname
	}
	return ""
}

// authorJSON is the user object of a pull request's author: the
// signed-in user who opened it, or the fake's user.
func (s *Server) authorJSON(nickname string) map[string]any {
	j := s.userJSON()
	if nickname != "" {
		st := s.oauth()
		st.mu.Lock()
		name := nickname
		if st.user != nil && st.user.Nickname == nickname {
			name = st.user.DisplayName
		}
		st.mu.Unlock()
		j["display_name"], j["nickname"], j["uuid"], j["account_id"] = name, nickname, uuid("user:"+nickname), "557058:"+nickname
	}
	return j
}
