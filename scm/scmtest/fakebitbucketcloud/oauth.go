package fakebitbucketcloud

import (
	"cmp"
	"net/http"
	"net/url"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/internal/oauthsrv"
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

// AddOAuthApp registers an OAuth consumer for sign-in.
func (s *Server) AddOAuthApp(a OAuthApp) {
	s.oauth().AddClient(oauthsrv.Client{ID: a.Key, Secret: a.Secret, Lifetime: cmp.Or(max(a.TokenLifetime, 0), 2*time.Hour),
		AccessPrefix: "bbc-user-", RefreshPrefix: "bbc-refresh-"})
}

// SetOAuthUser sets the user the authorization endpoint signs in; tokens
// issued to her are accepted by the API, and /2.0/user answers her.
func (s *Server) SetOAuthUser(u OAuthUser) {
	s.st.Lock()
	s.user = &u
	s.st.Unlock()
	s.oauth().SetUser(u)
}

func (s *Server) oauth() *oauthsrv.Server[OAuthUser] { return s.oauthSt.Get(s.oauthConfig) }

// oauthConfig words the OAuth server as Bitbucket does. Its clients are
// the sign-in consumers and those of Options.Consumers, whose
// client-credentials grant mints Bearer tokens valid for
// Options.TokenTTL.
func (s *Server) oauthConfig() oauthsrv.Config[OAuthUser] {
	var consumers []oauthsrv.Client
	for id, secret := range s.opts.Consumers {
		if id != "" {
			consumers = append(consumers, oauthsrv.Client{ID: id, Secret: secret, Lifetime: s.opts.TokenTTL,
				AccessPrefix: "fake-oauth-", RefreshPrefix: "fake-refresh-", Credentials: true})
		}
	}
	badPage := oauthsrv.Answer{Status: 400, Error: "invalid_request", Description: "Invalid client_id, redirect_uri or response_type"}
	return oauthsrv.Config[OAuthUser]{Now: s.now, Clients: consumers, CodePrefix: "bbc-code-", Schemes: []string{"bearer"}, ResponseType: true,
		Write: s.writeJSON, Issued: s.tokenAnswer, Answers: map[oauthsrv.Failure]oauthsrv.Answer{
			oauthsrv.UnknownClient:      badPage,
			oauthsrv.BadRequest:         badPage,
			oauthsrv.BadChallengeMethod: {Error: "invalid_request"},
			oauthsrv.Denied:             {Error: "access_denied"},
			oauthsrv.BadForm:            {Status: 400, Error: "invalid_request", Description: "Invalid request"},
			oauthsrv.BadClient:          {Status: 400, Error: "invalid_client", Description: "Invalid OAuth client credentials"},
			oauthsrv.BadCode:            {Status: 400, Error: "invalid_grant", Description: "The specified code is not valid"},
			oauthsrv.BadVerifier:        {Status: 400, Error: "invalid_grant", Description: "The code verifier is not valid"},
			oauthsrv.BadRefresh:         {Status: 400, Error: "invalid_grant", Description: "Invalid refresh_token"},
			oauthsrv.BadGrantType:       {Status: 400, Error: "unsupported_grant_type", Description: "Unsupported grant type"},
		}}
}

// tokenAnswer is Bitbucket's token answer, which names the grant type
// "state"; it counts the client-credentials grants.
func (s *Server) tokenAnswer(g *oauthsrv.Grant[OAuthUser], grantType string) any {
	scopes := "account email repository pullrequest"
	if g.User == (OAuthUser{}) {
		scopes = "repository pullrequest"
	}
	if grantType == "client_credentials" {
		s.core.Log().Count(func(st *Stats) { st.TokenGrants++ })
	}
	return map[string]any{"access_token": g.Access, "scopes": scopes, "expires_in": g.ExpiresIn(), "refresh_token": g.Refresh,
		"token_type": "bearer", "state": grantType}
}

// tokenGrant returns the unexpired grant whose access token r carries as
// a Bearer token, or nil.
func (s *Server) tokenGrant(r *http.Request) *oauthsrv.Grant[OAuthUser] {
	g, _ := s.oauth().Caller(r)
	return g
}

// signedIn returns the signed-in user whose token r carries, or nil.
func (s *Server) signedIn(r *http.Request) *OAuthUser {
	if g := s.tokenGrant(r); g != nil && g.User.Nickname != "" {
		return &g.User
	}
	return nil
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
// user token, "" (Options.User) otherwise.
func (s *Server) actorName(r *http.Request) string {
	if g := s.tokenGrant(r); g != nil {
		return g.User.Nickname
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
