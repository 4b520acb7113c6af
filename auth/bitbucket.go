package auth

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// BitbucketOptions configures [NewBitbucket].
type BitbucketOptions struct {
	// ClientID and ClientSecret are the OAuth consumer's key and secret.
	ClientID     string
	ClientSecret integrations.Secret
	// BaseURL is the web base, default "https://bitbucket.org" (the
	// endpoints are BaseURL/site/oauth2/{authorize,access_token}).
	BaseURL string
	// APIBaseURL is the API base, default "https://api.bitbucket.org/2.0".
	APIBaseURL string
	// Scopes are requested on top of "account" and "email".
	Scopes []string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Bitbucket signs users in with a Bitbucket Cloud OAuth consumer. Tokens
// expire after 1-2 hours and come with a refresh token. A sign-in costs 3
// requests (token, /user, /user/emails: Bitbucket never puts the e-mail in
// the profile).
//
// A Bitbucket is safe for concurrent use (a [Handler] calls it from every
// request). The zero Bitbucket is not usable: its calls fail with
// InvalidArgument; make one with [NewBitbucket].
type Bitbucket struct {
	oauthBase
	api string
}

// String names the provider and its instance, never its client secret,
// e.g. "auth.Bitbucket(https://bitbucket.org)".
func (b *Bitbucket) String() string { return b.oauthBase.String() }

// NewBitbucket returns a Bitbucket Cloud provider.
func NewBitbucket(o BitbucketOptions) (*Bitbucket, error) {
	const op = "auth.NewBitbucket"
	if o.ClientID == "" || o.ClientSecret.IsZero() {
		return nil, errcode.New(errcode.InvalidArgument, op, "clientId and clientSecret are required")
	}
	if o.BaseURL == "" {
		o.BaseURL = "https://bitbucket.org"
	}
	if o.APIBaseURL == "" {
		o.APIBaseURL = "https://api.bitbucket.org/2.0"
	}
	web, err := parseBase(op, "baseUrl", o.BaseURL)
	if err != nil {
		return nil, err
	}
	api, err := parseBase(op, "apiBaseUrl", o.APIBaseURL)
	if err != nil {
		return nil, err
	}
	b := &Bitbucket{oauthBase: newOAuthBase("auth.Bitbucket", o.HTTPClient, o.Now), api: api.String()}
	b.info = ProviderInfo{Type: "bitbucket", Host: hostOf(web), Issuer: web.String()}
	b.required = []string{"account", "email"}
	b.cfg = oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret.Reveal(), Scopes: o.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: web.String() + "/site/oauth2/authorize", TokenURL: web.String() + "/site/oauth2/access_token", AuthStyle: oauth2.AuthStyleInHeader}}
	return b, nil
}

// Exchange redeems the code and reads the user's profile and e-mail.
func (b *Bitbucket) Exchange(ctx context.Context, cb Callback) (*SignIn, error) {
	tok, err := b.exchange(ctx, cb)
	if err != nil {
		return nil, err
	}
	t := b.tokens(tok)
	var u struct {
		UUID        string `json:"uuid"`
		AccountID   string `json:"account_id"`
		Nickname    string `json:"nickname"`
		Username    string `json:"username"`
		DisplayName string `json:"display_name"`
		Links       struct {
			Avatar struct {
				Href string `json:"href"`
			} `json:"avatar"`
		} `json:"links"`
	}
	if err := b.getJSON(ctx, b.api+"/user", t.AccessToken, &u); err != nil {
		return nil, err
	}
	if u.UUID == "" {
		return nil, errcode.New(errcode.Unavailable, b.op, "Bitbucket's /user answer has no uuid")
	}
	login := u.Username
	if login == "" {
		login = u.Nickname
	}
	id := Identity{Issuer: b.info.Issuer, Subject: u.UUID, Login: login, DisplayName: u.DisplayName, Picture: u.Links.Avatar.Href}
	var emails struct {
		Values []struct {
			Email       string `json:"email"`
			IsPrimary   bool   `json:"is_primary"`
			IsConfirmed bool   `json:"is_confirmed"`
		} `json:"values"`
	}
	if err := b.getJSON(ctx, b.api+"/user/emails", t.AccessToken, &emails); err == nil {
		for _, e := range emails.Values {
			if e.IsPrimary {
				id.Email, id.EmailVerified = e.Email, e.IsConfirmed
			}
		}
	} else if c := errcode.CodeOf(err); c == errcode.DeadlineExceeded || c == errcode.Canceled {
		return nil, err
	}
	return &SignIn{Identity: id, Tokens: t}, nil
}

// Refresh renews the token.
func (b *Bitbucket) Refresh(ctx context.Context, t Tokens) (*SignIn, error) {
	tok, err := b.refresh(ctx, t.RefreshToken)
	if err != nil {
		return nil, err
	}
	return &SignIn{Tokens: b.tokens(tok)}, nil
}
