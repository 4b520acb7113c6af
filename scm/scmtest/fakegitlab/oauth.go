package fakegitlab

import (
	"cmp"
	"net/http"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/internal/oauthsrv"
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
	// DevicePollInterval is the interval the device authorization grant
	// (POST /oauth/authorize_device, GitLab 17.1 and later; see
	// Options.NoDeviceGrant) asks the application for; default 5 s. An
	// application without a ClientSecret is a non-confidential one: it
	// uses the grant without a secret; a confidential one must send its
	// secret to both endpoints, as Doorkeeper requires.
	DevicePollInterval time.Duration
}

// OAuthUser is the user the fake's authorization endpoint signs in,
// approving every request at once.
type OAuthUser struct {
	Username string
	Name     string
	Email    string
}

// oauth is the sign-in server, worded as GitLab's (Doorkeeper's). A
// request's token is a Bearer one or its PRIVATE-TOKEN.
func (s *Server) oauth() *oauthsrv.Server[OAuthUser] {
	return s.oauthSt.Get(func() oauthsrv.Config[OAuthUser] {
		const invalidGrant = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
		const badPage = "The client authentication failed or the redirect URI is invalid."
		return oauthsrv.Config[OAuthUser]{Now: s.opts.Now, Schemes: []string{"bearer"}, Header: "Private-Token",
			Write: s.writeJSON, Issued: tokenBody, Answers: map[oauthsrv.Failure]oauthsrv.Answer{
				oauthsrv.UnknownClient:      {Status: 400, Description: badPage},
				oauthsrv.BadRequest:         {Status: 400, Description: badPage},
				oauthsrv.BadChallengeMethod: {Error: "invalid_request"},
				oauthsrv.Denied:             {Error: "access_denied", Description: "The resource owner or authorization server denied the request."},
				oauthsrv.BadForm:            {Status: 400, Error: "invalid_request", Description: "The request is missing a required parameter."},
				oauthsrv.BadClient:          {Status: 401, Error: "invalid_client", Description: "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."},
				oauthsrv.BadCode:            {Status: 400, Error: "invalid_grant", Description: invalidGrant},
				oauthsrv.BadVerifier:        {Status: 400, Error: "invalid_grant", Description: invalidGrant},
				oauthsrv.BadRefresh:         {Status: 400, Error: "invalid_grant", Description: invalidGrant},
				oauthsrv.BadGrantType:       {Status: 400, Error: "unsupported_grant_type", Description: "The authorization grant type is not supported by the authorization server."},
				oauthsrv.DeviceDisabled:     {Status: 400, Error: "unauthorized_client", Description: "The client is not authorized to perform this request using this method."},
				oauthsrv.Pending:            {Status: 400, Error: "authorization_pending", Description: "The authorization request is still pending as the end user hasn't yet completed the user interaction steps."},
				oauthsrv.SlowDown:           {Status: 400, Error: "slow_down", Description: "The client is polling too frequently."},
				oauthsrv.DeviceDenied:       {Status: 400, Error: "access_denied", Description: "The resource owner or authorization server denied the request."},
				oauthsrv.DeviceExpired:      {Status: 400, Error: "expired_token", Description: "The device code has expired."},
				oauthsrv.BadDeviceCode:      {Status: 400, Error: "invalid_grant", Description: invalidGrant},
			}, VerificationPath: s.opts.RelativePath + "/oauth/device", VerificationComplete: true, DeviceNeedsSecret: true,
			DeviceLifetime: 5 * time.Minute}
	})
}

// tokenBody is GitLab's token answer.
func tokenBody(g *oauthsrv.Grant[OAuthUser], _ string) any {
	return map[string]any{"access_token": g.Access, "token_type": "Bearer", "expires_in": g.ExpiresIn(),
		"refresh_token": g.Refresh, "scope": g.Scope, "created_at": g.Issued.Unix()}
}

// AddOAuthApp registers an OAuth application.
func (s *Server) AddOAuthApp(a OAuthApp) {
	s.oauth().AddClient(oauthsrv.Client{ID: a.ClientID, Secret: a.ClientSecret, Lifetime: cmp.Or(max(a.TokenLifetime, 0), 2*time.Hour),
		AccessPrefix: "glpat-oauth-", RefreshPrefix: "glrt-", Device: !s.opts.NoDeviceGrant, DeviceInterval: a.DevicePollInterval})
}

// SetOAuthUser sets the user the authorization endpoint signs in; tokens
// issued to her are accepted by the API as her, and she authors the
// commits and merge requests made with them.
func (s *Server) SetOAuthUser(u OAuthUser) {
	s.addUser(u.Username)
	s.oauth().SetUser(u)
}

// ApproveDevice is the OAuth user (SetOAuthUser) entering userCode at /oauth/device and
// authorizing the application; it reports whether the code was waiting.
func (s *Server) ApproveDevice(userCode string) bool { return s.oauth().Approve(userCode) }

// RefuseDevice is the OAuth user entering userCode and denying it.
func (s *Server) RefuseDevice(userCode string) bool { return s.oauth().Refuse(userCode) }

func (s *Server) oauthRoutes() {
	s.route("GET /oauth/authorize", s.oauth().Authorize)
	if !s.opts.NoDeviceGrant {
		s.route("POST /oauth/authorize_device", s.oauth().DeviceAuthorize)
	}
	s.route("POST /oauth/token", s.oauth().Token)
}

// route registers an unauthenticated route with recording and faults.
func (s *Server) route(pattern string, fn http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.record(r, pattern)
		s.core.Serve(w, r, "api", "api", fn)
	})
}

// userToken returns the grant of r's access token when the fake issued
// it (known), nil when it has expired.
func (s *Server) userToken(r *http.Request) (t *oauthsrv.Grant[OAuthUser], known bool) {
	return s.oauth().Caller(r)
}

// actor is the username acting in r.
func (s *Server) actor(r *http.Request) string {
	if t, _ := s.userToken(r); t != nil {
		return t.User.Username
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
	j := s.userJSONOf(r, t.User.Username)
	j["id"], j["name"], j["email"], j["public_email"], j["confirmed_at"] = 4242, t.User.Name, t.User.Email, "", "2020-01-01T00:00:00.000Z"
	s.writeJSON(w, r, http.StatusOK, j)
}
