package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// GitHubOptions configures [NewGitHub].
type GitHubOptions struct {
	// ClientID and ClientSecret are the OAuth App's or GitHub App's. A
	// program that cannot keep a secret (a command-line tool) leaves
	// ClientSecret empty and signs users in with the device flow only
	// ([GitHub.DeviceAuth]); AuthCodeURL and Exchange then refuse
	// (InvalidArgument).
	ClientID     string
	ClientSecret integrations.Secret
	// EnterpriseInstanceURL is the web URL of a GitHub Enterprise Server,
	// e.g. "https://ghe.example.com"; "" means github.com. The API is then
	// EnterpriseInstanceURL + "/api/v3".
	EnterpriseInstanceURL string
	// APIBaseURL overrides the API base URL ("https://api.github.com" or
	// EnterpriseInstanceURL + "/api/v3").
	APIBaseURL string
	// Scopes are requested on top of "read:user" (GitHub Apps ignore
	// scopes: their permissions come from the app).
	Scopes []string
	// HTTPClient sends the requests; nil means http.DefaultClient. It
	// must not attach credentials itself; redirects are never followed.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// GitHub signs users in with a GitHub OAuth App (tokens that do not
// expire, no refresh token) or a GitHub App (user-to-server tokens that
// expire after 8 hours, with a refresh token that GitHub rotates on every
// use), on github.com or GitHub Enterprise Server. A sign-in costs 3
// requests (token, /user, /user/emails), 2 when the token may not read
// e-mails (no user:email scope, or a GitHub App without the e-mail
// permission); a logout 1 ([GitHub.Revoke]).
//
// A GitHub is safe for concurrent use (a [Handler] calls it from every
// request). The zero GitHub is not usable: its calls fail with
// InvalidArgument; make one with [NewGitHub].
type GitHub struct {
	oauthBase
	api string
}

// String names the provider and its instance, never its client secret,
// e.g. "auth.GitHub(https://github.com)".
func (g *GitHub) String() string { return g.oauthBase.String() }

// NewGitHub returns a GitHub provider.
func NewGitHub(o GitHubOptions) (*GitHub, error) {
	const op = "auth.NewGitHub"
	if o.ClientID == "" {
		return nil, errcode.New(errcode.InvalidArgument, op, "clientId is required")
	}
	web, api := "https://github.com", "https://api.github.com"
	if o.EnterpriseInstanceURL != "" {
		u, err := parseBase(op, "enterpriseInstanceUrl", o.EnterpriseInstanceURL)
		if err != nil {
			return nil, err
		}
		web, api = u.String(), u.String()+"/api/v3"
	}
	if o.APIBaseURL != "" {
		u, err := parseBase(op, "apiBaseUrl", o.APIBaseURL)
		if err != nil {
			return nil, err
		}
		api = u.String()
	}
	wu, _ := parseBase(op, "url", web)
	g := &GitHub{oauthBase: newOAuthBase("auth.GitHub", o.HTTPClient, o.Now), api: api}
	g.deviceOnly = o.ClientSecret.IsZero()
	g.info = ProviderInfo{Type: "github", Host: hostOf(wu), Issuer: web}
	g.required = []string{"read:user"}
	g.cfg = oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret.Reveal(), Scopes: o.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: web + "/login/oauth/authorize", TokenURL: web + "/login/oauth/access_token", AuthStyle: oauth2.AuthStyleInParams}}
	return g, nil
}

type githubUser struct {
	ID        int64  `json:"id"`
	NodeID    string `json:"node_id"`
	Login     string `json:"login"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	AvatarURL string `json:"avatar_url"`
}

type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// Exchange redeems the code and reads the user's profile.
func (g *GitHub) Exchange(ctx context.Context, cb Callback) (*SignIn, error) {
	tok, err := g.exchange(ctx, cb)
	if err != nil {
		return nil, err
	}
	return g.signIn(ctx, tok)
}

// signIn reads the profile of the user a token was issued to.
func (g *GitHub) signIn(ctx context.Context, tok *oauth2.Token) (*SignIn, error) {
	t := g.tokens(tok)
	scopes := " " + strings.ReplaceAll(t.Scope, ",", " ") + " "
	id, err := g.profile(ctx, t.AccessToken, strings.Contains(scopes, " user:email ") || strings.Contains(scopes, " user ") || t.Scope == "")
	if err != nil {
		return nil, err
	}
	return &SignIn{Identity: id, Tokens: t}, nil
}

func (g *GitHub) profile(ctx context.Context, token string, mayReadEmails bool) (Identity, error) {
	var u githubUser
	if err := g.getJSON(ctx, g.api+"/user", token, &u); err != nil {
		return Identity{}, err
	}
	if u.ID == 0 || u.Login == "" {
		return Identity{}, errcode.New(errcode.Unavailable, g.op, "GitHub's /user answer has no id or login")
	}
	// The node id is what org/githuborg (like Backstage's GitHub org
	// provider) writes in github.com/user-id, so that the
	// userIdMatchingUserEntityAnnotation resolver matches sign-ins.
	subject := u.NodeID
	if subject == "" {
		subject = strconv.FormatInt(u.ID, 10)
	}
	id := Identity{Issuer: g.info.Issuer, Subject: subject, Login: u.Login, DisplayName: u.Name, Picture: u.AvatarURL, Email: u.Email}
	if mayReadEmails {
		// /user shows the public e-mail, if any, without saying whether
		// it is verified (an address that bounces becomes unverified;
		// managed users' start unverified), and no private one:
		// /user/emails says both. It needs user:email (or a GitHub App's
		// e-mail permission); a refusal leaves what /user showed, as
		// unverified, rather than failing the sign-in.
		var emails []githubEmail
		if err := g.getJSON(ctx, g.api+"/user/emails", token, &emails); err == nil {
			id.Email, id.EmailVerified = verifiedEmail(id.Email, emails)
		} else if c := errcode.CodeOf(err); c == errcode.DeadlineExceeded || c == errcode.Canceled {
			return Identity{}, err
		}
	}
	return id, nil
}

// verifiedEmail is the e-mail of a GitHub sign-in: the public one when
// GitHub lists it as verified, else the primary verified one, else the
// public one, unverified.
func verifiedEmail(public string, emails []githubEmail) (string, bool) {
	for _, e := range emails {
		if public != "" && e.Verified && strings.EqualFold(e.Email, public) {
			return public, true
		}
	}
	for _, e := range emails {
		if e.Primary && e.Verified {
			return e.Email, true
		}
	}
	return public, false
}

// Refresh renews a GitHub App user-to-server token. GitHub rotates the
// refresh token on every use and invalidates the old one; the Handler
// makes sure only one refresh per session runs. OAuth App tokens do not
// expire and have no refresh token: Refresh returns Unimplemented.
func (g *GitHub) Refresh(ctx context.Context, t Tokens) (*SignIn, error) {
	if t.RefreshToken == "" {
		return nil, errcode.New(errcode.Unimplemented, g.op, "GitHub OAuth App tokens do not expire and cannot be refreshed")
	}
	tok, err := g.refresh(ctx, t.RefreshToken)
	if err != nil {
		return nil, err
	}
	return &SignIn{Tokens: g.tokens(tok)}, nil
}

// Revoke implements [Revoker]: at logout it deletes the session's access
// token at GitHub (DELETE /applications/{client_id}/token, the client's
// id and secret as Basic credentials; one request), so that a copy of
// an OAuth App's token, which never expires, stops working. GitHub
// answers 404 both for a token it no longer knows and for a client id
// and secret that are not those of the app that issued the token (a
// configuration changed since the sign-in, another app's credentials):
// for a token that has expired (t.Expiry passed) that is not an error;
// for one that should still be valid (an OAuth App's, or a GitHub App's
// within its 8 hours) Revoke returns an error with code NotFound, as the
// token may still be valid: it was revoked already (the user removed the
// grant, or it was the oldest of more than ten), or the client is not
// the one that issued it. The Handler logs that (Options.Logger, at Warn)
// and signs the user out all the same; a caller that only wants the
// token gone may take NotFound as done. GitHub revokes only that token:
// a GitHub App's refresh token is not documented to end with it, and
// the user's authorization of the app, and her other sessions' tokens,
// stay. A client without a secret
// (device flow only) cannot revoke and sends nothing.
func (g *GitHub) Revoke(ctx context.Context, t Tokens) error {
	if t.AccessToken == "" || g.cfg.ClientSecret == "" {
		return nil
	}
	body, _ := json.Marshal(struct {
		AccessToken string `json:"access_token"`
	}{t.AccessToken}) // a string field: cannot fail
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, g.api+"/applications/"+url.PathEscape(g.cfg.ClientID)+"/token", bytes.NewReader(body))
	if err != nil {
		return errcode.New(errcode.InvalidArgument, g.op, "bad API URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.github+json")
	req.SetBasicAuth(g.cfg.ClientID, g.cfg.ClientSecret)
	resp, err := g.client.Do(req)
	if err != nil {
		return g.transportError(ctx, "the revocation", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusNotFound:
		if !t.Expiry.IsZero() && t.Expiry.Before(g.now().Add(revokeExpirySkew)) {
			return nil // expired: nothing left to revoke
		}
		return errcode.New(errcode.NotFound, g.op, "GitHub does not know the token for client id "+clip(g.cfg.ClientID)+
			" (404): it was revoked already, or clientId and clientSecret are not those of the app that issued it (a configuration changed since the sign-in), and the token may still be valid")
	}
	return g.answerError(resp, "the revocation", errcode.Unavailable, "GitHub refused the revocation")
}

// Recheck reads the user's profile with the session's token (one request,
// GET /user): the Handler calls it for OAuth App tokens, which never
// expire, every [Options.RecheckInterval]. A token GitHub no longer
// accepts (the user revoked the grant, the app or the user was removed)
// is Unauthorized; the e-mail and whether it is verified are kept when the
// profile shows none (a private one, read at sign-in from /user/emails)
// or the same one.
func (g *GitHub) Recheck(ctx context.Context, id Identity, t Tokens) (*SignIn, error) {
	if t.AccessToken == "" {
		return nil, errcode.New(errcode.Unimplemented, g.op, "the session has no GitHub token to re-check")
	}
	nid, err := g.profile(ctx, t.AccessToken, false)
	if err != nil {
		if errcode.CodeOf(err) == errcode.Unauthorized {
			return nil, &errcode.Error{Code: errcode.Unauthorized, Op: g.op, Host: g.info.Host, Msg: "GitHub no longer accepts the session's token (the grant was revoked or the user removed)", Err: err}
		}
		return nil, err
	}
	if nid.Email == "" || strings.EqualFold(nid.Email, id.Email) {
		// /user shows no private e-mail and never says whether the
		// public one is verified: keep what the sign-in read from
		// /user/emails.
		nid.Email, nid.EmailVerified = id.Email, id.EmailVerified
	}
	return &SignIn{Identity: nid}, nil
}

// revokeExpirySkew is how far GitHub's clock may be ahead of ours: a
// token that expires within it may be gone at GitHub already, and its
// 404 is taken as expired.
const revokeExpirySkew = time.Minute

// revokesOnlyTheToken: GitHub's DELETE /applications/{client_id}/token
// deletes the one token; the user's other tokens for the app stay valid.
func (g *GitHub) revokesOnlyTheToken() {}
