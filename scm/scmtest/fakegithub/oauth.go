package fakegithub

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/internal/oauthsrv"
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
	// DeviceFlow enables the device flow (POST /login/device/code), as
	// the app's "Enable Device Flow" setting does; the user enters the
	// user code with [Server.ApproveDevice]. DevicePollInterval is the
	// interval it asks for; default 5 s, as GitHub's.
	DeviceFlow         bool
	DevicePollInterval time.Duration
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

// oauth is the sign-in server, worded as GitHub's: its token endpoint
// answers 200 with an error field for a bad client, code or refresh
// token, and takes a code exchange without grant_type.
func (s *Server) oauth() *oauthsrv.Server[OAuthUser] {
	return s.oauthSt.Get(func() oauthsrv.Config[OAuthUser] {
		return oauthsrv.Config[OAuthUser]{Now: s.opts.Now, Schemes: []string{"bearer", "token"}, GrantOptional: true,
			Write: s.oauthAnswer, Issued: oauthTokenBody,
			Answers: map[oauthsrv.Failure]oauthsrv.Answer{
				oauthsrv.UnknownClient:      {Status: 404, Description: "The client_id is not registered with this fake GitHub."},
				oauthsrv.BadRequest:         {Status: 400, Description: "The redirect_uri MUST match the registered callback URL for this application."},
				oauthsrv.BadChallengeMethod: {Error: "invalid_request", Description: "code_challenge_method must be S256"},
				oauthsrv.Denied:             {Error: "access_denied", Description: "The user has denied your application access."},
				oauthsrv.BadForm:            {Status: 400, Description: "bad form"},
				oauthsrv.BadClient:          {Status: 200, Error: "incorrect_client_credentials", Description: "The client_id and/or client_secret passed are incorrect."},
				oauthsrv.BadCode:            {Status: 200, Error: "bad_verification_code", Description: "The code passed is incorrect or expired."},
				oauthsrv.BadVerifier:        {Status: 200, Error: "bad_verification_code", Description: "The code_verifier does not match the code_challenge."},
				oauthsrv.BadRefresh:         {Status: 200, Error: "bad_refresh_token", Description: "The refresh token passed is incorrect or expired."},
				oauthsrv.BadGrantType:       {Status: 200, Error: "unsupported_grant_type"},
				oauthsrv.DeviceDisabled:     {Status: 400, Error: "device_flow_disabled", Description: "Device Flow must be explicitly enabled for this App"},
				oauthsrv.Pending:            {Status: 200, Error: "authorization_pending", Description: "The authorization request is still pending."},
				oauthsrv.SlowDown:           {Status: 200, Error: "slow_down", Description: "Too many requests have been made in the same timeframe."},
				oauthsrv.DeviceDenied:       {Status: 200, Error: "access_denied", Description: "The authorization request was denied."},
				oauthsrv.DeviceExpired:      {Status: 200, Error: "expired_token", Description: "The device_code has expired."},
				oauthsrv.BadDeviceCode:      {Status: 200, Error: "incorrect_device_code", Description: "The device_code provided is not valid."},
			},
			VerificationPath: "/login/device"}
	})
}

// AddOAuthApp registers an OAuth client.
func (s *Server) AddOAuthApp(a OAuthApp) {
	c := oauthsrv.Client{ID: a.ClientID, Secret: a.ClientSecret, AccessPrefix: "gho_", Device: a.DeviceFlow, DeviceInterval: a.DevicePollInterval}
	if a.Expiring {
		c.Lifetime, c.AccessPrefix, c.RefreshPrefix = cmp.Or(max(a.TokenLifetime, 0), 8*time.Hour), "ghu_", "ghr_"
	}
	s.oauth().AddClient(c)
}

// SetOAuthUser sets the user the authorization endpoint signs in. Tokens
// issued to her are accepted by every API endpoint as her: she is the
// author of the commits and pull requests created with them.
func (s *Server) SetOAuthUser(u OAuthUser) {
	s.site.Lock()
	s.ownerLocked(u.Login, User)
	s.site.Unlock()
	s.oauth().SetUser(u) // never held together with s.mu, which is taken first elsewhere
}

// DenyNextAuthorization makes the next authorization request end with
// error=errCode (e.g. "access_denied", as when the user clicks Cancel).
func (s *Server) DenyNextAuthorization(errCode string) { s.oauth().DenyNext(errCode) }

// ApproveDevice is the OAuth user (SetOAuthUser) entering userCode at /login/device and
// authorizing the app; it reports whether the code was waiting.
func (s *Server) ApproveDevice(userCode string) bool { return s.oauth().Approve(userCode) }

// RefuseDevice is the OAuth user entering userCode and cancelling.
func (s *Server) RefuseDevice(userCode string) bool { return s.oauth().Refuse(userCode) }

// oauthRoutes registers the sign-in endpoints and /user.
func (s *Server) oauthRoutes(mux *http.ServeMux) {
	s.site.Route(mux, "GET /login/oauth/authorize", s.oauth().Authorize)
	s.site.Route(mux, "POST /login/device/code", s.oauth().DeviceAuthorize)
	s.site.Route(mux, "POST /login/oauth/access_token", s.oauth().Token)
	s.site.Route(mux, "GET /user", s.oauthGetUser)
	s.site.Route(mux, "GET /user/emails", s.oauthUserEmails)
	s.site.Route(mux, "DELETE /applications/{client_id}/token", s.oauthDeleteToken)
}

// oauthDeleteToken revokes a user token (GitHub's "Delete an app token"):
// the app authenticates with its client id and secret as Basic
// credentials, the token is in a JSON body; 204, or 404 for another
// app's credentials or a token it does not know.
func (s *Server) oauthDeleteToken(w http.ResponseWriter, r *http.Request) {
	const doc = "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-token"
	var body struct {
		AccessToken string `json:"access_token"`
	}
	id, secret, basic := r.BasicAuth()
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil || body.AccessToken == "" {
		s.writeError(w, r, http.StatusUnprocessableEntity, "Invalid request.\n\n\"access_token\" wasn't supplied.", doc)
		return
	}
	if !basic || id != r.PathValue("client_id") {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	if ok, found := s.oauth().Revoke(id, secret, body.AccessToken); !ok || !found {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// oauthTokenCheck reports whether tok is a user token the fake issued
// (known) and, if so, whether it is still valid.
func (s *Server) oauthTokenCheck(tok string) (valid, known bool) {
	g, known := s.oauth().Lookup(tok)
	return g != nil, known
}

// actor is the login that acts in r: the signed-in user of a user token,
// Options.User otherwise.
func (s *Server) actor(r *http.Request) string {
	if t := s.userToken(r); t != nil {
		return t.User.Login
	}
	return s.opts.User
}

func (s *Server) userToken(r *http.Request) *oauthsrv.Grant[OAuthUser] {
	g, _ := s.oauth().Caller(r)
	return g
}

// oauthTokenBody is GitHub's token answer: an OAuth App's token alone
// with its scopes, comma-separated; a GitHub App's with its lifetime and
// a refresh token that lasts six months.
func oauthTokenBody(g *oauthsrv.Grant[OAuthUser], _ string) any {
	if g.Refresh == "" {
		return map[string]any{"access_token": g.Access, "token_type": "bearer", "scope": strings.ReplaceAll(g.Scope, " ", ",")}
	}
	return map[string]any{"access_token": g.Access, "token_type": "bearer", "scope": "", "expires_in": g.ExpiresIn(),
		"refresh_token": g.Refresh, "refresh_token_expires_in": 15811200}
}

// oauthAnswer writes a token endpoint's answer form-encoded, as GitHub
// does unless the request accepts JSON.
func (s *Server) oauthAnswer(w http.ResponseWriter, r *http.Request, status int, body any) {
	if strings.Contains(r.Header.Get("Accept"), "json") {
		s.writeJSON(w, r, status, body)
		return
	}
	v := url.Values{}
	for k, x := range body.(map[string]any) {
		v.Set(k, fmt.Sprint(x))
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, v.Encode())
}

func (s *Server) oauthGetUser(w http.ResponseWriter, r *http.Request) {
	ok, good, it := s.checkAuth(r)
	if !good || !ok {
		s.writeError(w, r, http.StatusUnauthorized, "Requires authentication", "https://docs.github.com/rest/users/users#get-the-authenticated-user")
		return
	}
	if it != nil { // an installation token acts for no user
		s.writeError(w, r, http.StatusForbidden, msgNotAccessible, "https://docs.github.com/rest/users/users#get-the-authenticated-user")
		return
	}
	login, name, email := s.opts.User, "", ""
	if t := s.userToken(r); t != nil {
		login, name = t.User.Login, t.User.Name
		if !t.User.PrivateEmail {
			email = t.User.Email
		}
	}
	s.site.Lock()
	o := s.ownerLocked(login, User)
	nodeID := s.org.userIDLocked(login) // as the GraphQL organisation answers name her
	s.site.Unlock()
	j := s.ownerJSON(r, o)
	j["node_id"] = nodeID
	j["name"], j["company"], j["blog"], j["location"], j["hireable"], j["bio"], j["twitter_username"] = nilIfEmpty(name), nil, "", nil, nil, nil, nil
	j["email"] = nilIfEmpty(email)
	j["public_repos"], j["public_gists"], j["followers"], j["following"] = len(o.Repos), 0, 0, 0
	j["created_at"], j["updated_at"] = "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"
	s.writeJSON(w, r, http.StatusOK, j)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// oauthUserEmails lists the signed-in user's address to a GitHub App's
// token, or to an OAuth App's with the user or user:email scope.
func (s *Server) oauthUserEmails(w http.ResponseWriter, r *http.Request) {
	t := s.userToken(r)
	const doc = "https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user"
	if t == nil {
		s.writeError(w, r, http.StatusUnauthorized, "Requires authentication", doc)
		return
	}
	scopes := strings.FieldsFunc(t.Scope, func(r rune) bool { return r == ' ' || r == ',' })
	if t.Refresh == "" && !slices.Contains(scopes, "user:email") && !slices.Contains(scopes, "user") {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	vis := "public"
	if t.User.PrivateEmail {
		vis = "private"
	}
	list := []any{}
	if t.User.Email != "" {
		list = append(list, map[string]any{"email": t.User.Email, "primary": true, "verified": true, "visibility": vis})
	}
	s.writeJSON(w, r, http.StatusOK, list)
}
