package fakebitbucketcloud

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
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

// grant is an authorization code, or a pair of access and refresh tokens
// (minted by the client-credentials grant when user is zero).
type grant struct {
	app, redirect, challenge, access, refresh string
	user                                      OAuthUser
	expires                                   time.Time
}

// AddOAuthApp registers an OAuth consumer for sign-in.
func (s *Server) AddOAuthApp(a OAuthApp) {
	if a.TokenLifetime <= 0 {
		a.TokenLifetime = 2 * time.Hour
	}
	s.st.Lock()
	defer s.st.Unlock()
	s.apps[a.Key] = a
}

// SetOAuthUser sets the user the authorization endpoint signs in; tokens
// issued to her are accepted by the API, and /2.0/user answers her.
func (s *Server) SetOAuthUser(u OAuthUser) {
	s.st.Lock()
	defer s.st.Unlock()
	s.user = &u
}

// tokenGrant returns the unexpired grant whose access token r carries as
// a Bearer token, or nil. The caller holds the store's lock.
func (s *Server) tokenGrant(r *http.Request) *grant {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if g := s.grants[tok]; strings.EqualFold(scheme, "bearer") && g != nil && g.access == tok && s.now().Before(g.expires) {
		return g
	}
	return nil
}

// signedIn returns the signed-in user whose token r carries, or nil.
func (s *Server) signedIn(r *http.Request) *OAuthUser {
	s.st.Lock()
	defer s.st.Unlock()
	if g := s.tokenGrant(r); g != nil && g.user.Nickname != "" {
		return &g.user
	}
	return nil
}

func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.st.Lock()
	defer s.st.Unlock()
	app, ok := s.apps[q.Get("client_id")]
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
	case s.user == nil:
		back.Set("error", "access_denied")
	default:
		code := "bbc-code-" + requestID()
		s.grants[code] = &grant{app: app.Key, redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), user: *s.user, expires: s.now().Add(10 * time.Minute)}
		back.Set("code", code)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// token is the OAuth 2 token endpoint: the client-credentials grant of a
// consumer of Options.Consumers, and the authorization_code and
// refresh_token grants of a sign-in consumer, each authenticated with
// Basic (or client_id and client_secret in the form).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	fail := func(code, desc string) {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": code, "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		fail("invalid_request", err.Error())
		return
	}
	f := r.PostForm
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	gt := f.Get("grant_type")
	s.st.Lock()
	defer s.st.Unlock()
	now := s.now()
	g := &grant{app: id, access: "fake-oauth-" + requestID(), refresh: "fake-refresh-" + requestID(), expires: now.Add(s.opts.TokenTTL)}
	scopes := "repository pullrequest"
	if app, known := s.apps[id]; known && (gt == "authorization_code" || gt == "refresh_token") {
		if subtle.ConstantTimeCompare([]byte(app.Secret), []byte(secret)) != 1 {
			fail("invalid_client", "Invalid OAuth client credentials")
			return
		}
		old := s.grants[f.Get("refresh_token")]
		if gt == "authorization_code" {
			old = s.grants[f.Get("code")]
		}
		switch {
		case gt == "refresh_token" && (old == nil || old.app != app.Key || old.refresh != f.Get("refresh_token")):
			fail("invalid_grant", "Invalid refresh_token")
			return
		case gt == "authorization_code" && (old == nil || old.app != app.Key || old.access != "" || !now.Before(old.expires) || old.redirect != f.Get("redirect_uri")):
			delete(s.grants, f.Get("code"))
			fail("invalid_grant", "The specified code is not valid")
			return
		case gt == "authorization_code" && old.challenge != "" && subtle.ConstantTimeCompare([]byte(pkce(f.Get("code_verifier"))), []byte(old.challenge)) != 1:
			delete(s.grants, f.Get("code"))
			fail("invalid_grant", "The code verifier is not valid")
			return
		}
		delete(s.grants, f.Get("code"))
		delete(s.grants, old.access)
		delete(s.grants, old.refresh)
		g = &grant{app: app.Key, access: "bbc-user-" + requestID(), refresh: "bbc-refresh-" + requestID(), user: old.user, expires: now.Add(app.TokenLifetime)}
		scopes = "account email repository pullrequest"
	} else if want, known := s.opts.Consumers[id]; !known || want != secret || id == "" {
		fail("invalid_client", "Invalid OAuth client credentials")
		return
	} else if gt != "client_credentials" {
		fail("unsupported_grant_type", "Unsupported grant type: "+gt)
		return
	} else {
		s.core.Log().Count(func(st *Stats) { st.TokenGrants++ })
	}
	s.grants[g.access], s.grants[g.refresh] = g, g
	s.writeJSON(w, r, http.StatusOK, map[string]any{"access_token": g.access, "scopes": scopes,
		"expires_in": int(g.expires.Sub(now) / time.Second), "refresh_token": g.refresh, "token_type": "bearer", "state": gt})
}

// pkce returns the S256 code challenge of verifier.
func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *Server) oauthUser(w http.ResponseWriter, r *http.Request) {
	j := s.userJSON("")
	if u := s.signedIn(r); u != nil {
		j = s.userJSON(u.Nickname)
		j["display_name"] = u.DisplayName
	}
	j["created_on"] = "2020-01-01T00:00:00+00:00"
	s.writeJSON(w, r, http.StatusOK, j)
}

func (s *Server) oauthEmails(w http.ResponseWriter, r *http.Request) {
	vals := []any{}
	if u := s.signedIn(r); u != nil && u.Email != "" {
		vals = append(vals, map[string]any{"email": u.Email, "is_primary": true, "is_confirmed": true, "type": "email",
			"links": links{"self": href(s.api.URL + "/2.0/user/emails/" + url.PathEscape(u.Email))}})
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"pagelen": 10, "values": vals, "page": 1, "size": len(vals)})
}

// userJSON is the user object of a signed-in user's nickname, or of
// Options.User for "".
func (s *Server) userJSON(nickname string) map[string]any {
	id := uuid("user")
	j := map[string]any{"display_name": s.opts.User, "type": "user", "uuid": id, "account_id": "557058:fake",
		"nickname": s.opts.User, "links": links{"self": href(s.api.URL + "/2.0/users/" + url.PathEscape(id)),
			"html": href(s.api.URL + "/" + url.PathEscape(id) + "/"), "avatar": href(s.api.URL + "/avatar/fake")}}
	if nickname != "" {
		j["display_name"], j["nickname"], j["uuid"], j["account_id"] = nickname, nickname, uuid("user:"+nickname), "557058:"+nickname
	}
	return j
}

// actorName is the nickname of who acts in r: the signed-in user of a
// user token, "" (Options.User) otherwise. The caller holds the store's
// lock.
func (s *Server) actorName(r *http.Request) string {
	if g := s.tokenGrant(r); g != nil {
		return g.user.Nickname
	}
	return ""
}

// authorJSON is the user object of a pull request's author: the
// signed-in user who opened it, or the fake's user. The caller holds the
// store's lock.
func (s *Server) authorJSON(nickname string) map[string]any {
	j := s.userJSON(nickname)
	if s.user != nil && nickname != "" && s.user.Nickname == nickname {
		j["display_name"] = s.user.DisplayName
	}
	return j
}
