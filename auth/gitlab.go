package auth

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// GitLabOptions configures [NewGitLab].
type GitLabOptions struct {
	// ClientID and ClientSecret are the GitLab application's. A program
	// that cannot keep a secret (a command-line tool, with a
	// non-confidential application) leaves ClientSecret empty and signs
	// users in with the device flow only ([GitLab.DeviceAuth]);
	// AuthCodeURL and Exchange then refuse (InvalidArgument).
	ClientID     string
	ClientSecret integrations.Secret
	// BaseURL is the instance (Backstage's "audience"), default
	// "https://gitlab.com"; it may have a path ("https://example.com/gitlab").
	BaseURL string
	// Scopes are requested on top of "read_user".
	Scopes []string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// GitLab signs users in with a GitLab application on gitlab.com or a
// self-managed instance. Tokens expire (2 hours by default) and their
// refresh tokens rotate. A sign-in costs 2 requests (token, /api/v4/user);
// a logout revokes the grant (one request).
//
// A GitLab is safe for concurrent use (a [Handler] calls it from every
// request). The zero GitLab is not usable: its calls fail with
// InvalidArgument; make one with [NewGitLab].
type GitLab struct {
	oauthBase
	api string
}

// String names the provider and its instance, never its client secret,
// e.g. "auth.GitLab(https://gitlab.com)".
func (g *GitLab) String() string { return g.oauthBase.String() }

// NewGitLab returns a GitLab provider.
func NewGitLab(o GitLabOptions) (*GitLab, error) {
	const op = "auth.NewGitLab"
	if o.ClientID == "" {
		return nil, errcode.New(errcode.InvalidArgument, op, "clientId is required")
	}
	if o.BaseURL == "" {
		o.BaseURL = "https://gitlab.com"
	}
	u, err := parseBase(op, "audience", o.BaseURL)
	if err != nil {
		return nil, err
	}
	base := u.String()
	g := &GitLab{oauthBase: newOAuthBase("auth.GitLab", o.HTTPClient, o.Now), api: base + "/api/v4"}
	g.deviceOnly = o.ClientSecret.IsZero()
	g.info = ProviderInfo{Type: "gitlab", Host: hostOf(u), Issuer: base}
	g.required = []string{"read_user"}
	g.cfg = oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret.Reveal(), Scopes: o.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	return g, nil
}

// Exchange redeems the code and reads the user's profile.
func (g *GitLab) Exchange(ctx context.Context, cb Callback) (*SignIn, error) {
	tok, err := g.exchange(ctx, cb)
	if err != nil {
		return nil, err
	}
	return g.signIn(ctx, tok)
}

// signIn reads the profile of the user a token was issued to.
func (g *GitLab) signIn(ctx context.Context, tok *oauth2.Token) (*SignIn, error) {
	t := g.tokens(tok)
	id, err := g.user(ctx, t.AccessToken)
	if err != nil {
		return nil, err
	}
	return &SignIn{Identity: id, Tokens: t}, nil
}

// user reads the profile of the token's user (GET /user).
func (g *GitLab) user(ctx context.Context, token string) (Identity, error) {
	var u struct {
		ID          int64  `json:"id"`
		Username    string `json:"username"`
		Name        string `json:"name"`
		Email       string `json:"email"`
		PublicEmail string `json:"public_email"`
		AvatarURL   string `json:"avatar_url"`
		ConfirmedAt string `json:"confirmed_at"`
	}
	if err := g.getJSON(ctx, g.api+"/user", token, &u); err != nil {
		return Identity{}, err
	}
	if u.ID == 0 || u.Username == "" {
		return Identity{}, errcode.New(errcode.Unavailable, g.op, "GitLab's /user answer has no id or username")
	}
	id := Identity{Issuer: g.info.Issuer, Subject: strconv.FormatInt(u.ID, 10), Login: u.Username, DisplayName: u.Name, Picture: u.AvatarURL, Email: u.Email}
	if id.Email == "" {
		id.Email = u.PublicEmail
	} else {
		// GitLab only reports the primary e-mail, which it requires to be
		// confirmed, to the user herself.
		id.EmailVerified = u.ConfirmedAt != ""
	}
	return id, nil
}

// Recheck reads the user's profile with the session's token (one request,
// GET /user): the Handler calls it for a token without expiry (GitLab
// before 15.0 could issue tokens that never expire), every
// [Options.RecheckInterval]. A token GitLab no longer accepts (revoked,
// the user blocked or deleted) is Unauthorized.
func (g *GitLab) Recheck(ctx context.Context, _ Identity, t Tokens) (*SignIn, error) {
	if t.AccessToken == "" {
		return nil, errcode.New(errcode.Unimplemented, g.op, "the session has no GitLab token to re-check")
	}
	id, err := g.user(ctx, t.AccessToken)
	if err != nil {
		if errcode.CodeOf(err) == errcode.Unauthorized {
			return nil, &errcode.Error{Code: errcode.Unauthorized, Op: g.op, Host: g.info.Host, Msg: "GitLab no longer accepts the session's token (revoked, or the user blocked)", Err: err}
		}
		return nil, err
	}
	return &SignIn{Identity: id}, nil
}

// Revoke implements [Revoker]: at logout it revokes the session's
// refresh token (which revokes its access token too) at GitLab's
// /oauth/revoke (RFC 7009; one request), so that the grant does not
// outlive the session.
func (g *GitLab) Revoke(ctx context.Context, t Tokens) error {
	return g.revokeAt(ctx, strings.TrimSuffix(g.cfg.Endpoint.TokenURL, "/token")+"/revoke", t)
}

// Refresh renews the token; GitLab rotates the refresh token.
func (g *GitLab) Refresh(ctx context.Context, t Tokens) (*SignIn, error) {
	tok, err := g.refresh(ctx, t.RefreshToken)
	if err != nil {
		return nil, err
	}
	return &SignIn{Tokens: g.tokens(tok)}, nil
}

// revokesOnlyTheToken: GitLab's /oauth/revoke revokes the one token (and
// the access token a refresh token belongs to), not the user's other
// tokens for the application.
func (g *GitLab) revokesOnlyTheToken() {}
