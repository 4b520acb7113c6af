package oauthsrv_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// provider is one fake's sign-in, as its provider words it.
type provider struct {
	name string
	// start starts the fake with client "app" (secret "app-secret") and
	// user alice, and returns its endpoints.
	start              func(t *testing.T) (authorize, token, user string)
	unknownClient      int    // the authorization endpoint's status for an unknown client_id
	unknownClientBody  string // and its body
	badSecret, badCode answer
	access, refresh    string // token prefixes
	userJSONName       string // the user object's field naming alice
	formUnlessJSON     bool   // token answers are form-encoded unless JSON is accepted
	extraField         string // a provider-specific field of the token answer
}

type answer struct {
	status             int
	error, description string
}

func TestFakesSignIn(t *testing.T) {
	for _, p := range []provider{{
		name: "github",
		start: func(t *testing.T) (string, string, string) {
			s := fakegithub.New(nil)
			t.Cleanup(s.Close)
			s.AddOAuthApp(fakegithub.OAuthApp{ClientID: "app", ClientSecret: "app-secret", Expiring: true})
			s.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice", Email: "alice@example.com"})
			return s.URL() + "/login/oauth/authorize", s.URL() + "/login/oauth/access_token", s.URL() + "/user"
		},
		unknownClient: 404, unknownClientBody: "The client_id is not registered with this fake GitHub.\n",
		badSecret: answer{200, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect."},
		badCode:   answer{200, "bad_verification_code", "The code passed is incorrect or expired."},
		access:    "ghu_", refresh: "ghr_", userJSONName: "login", formUnlessJSON: true, extraField: "refresh_token_expires_in",
	}, {
		name: "gitlab",
		start: func(t *testing.T) (string, string, string) {
			s := fakegitlab.New(nil)
			t.Cleanup(s.Close)
			s.AddOAuthApp(fakegitlab.OAuthApp{ClientID: "app", ClientSecret: "app-secret"})
			s.SetOAuthUser(fakegitlab.OAuthUser{Username: "alice", Name: "Alice", Email: "alice@example.com"})
			return s.URL() + "/oauth/authorize", s.URL() + "/oauth/token", s.APIBaseURL() + "/user"
		},
		unknownClient: 400, unknownClientBody: "The client authentication failed or the redirect URI is invalid.\n",
		badSecret: answer{401, "invalid_client",
			"Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."},
		badCode: answer{400, "invalid_grant",
			"The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."},
		access: "glpat-oauth-", refresh: "glrt-", userJSONName: "username", extraField: "created_at",
	}, {
		name: "bitbucket cloud",
		start: func(t *testing.T) (string, string, string) {
			s := fakebitbucketcloud.New(nil)
			t.Cleanup(s.Close)
			s.AddOAuthApp(fakebitbucketcloud.OAuthApp{Key: "app", Secret: "app-secret"})
			s.SetOAuthUser(fakebitbucketcloud.OAuthUser{Nickname: "alice", DisplayName: "Alice", Email: "alice@example.com"})
			return s.URL() + "/site/oauth2/authorize", s.TokenURL(), s.APIBaseURL() + "/user"
		},
		unknownClient: 400, unknownClientBody: `{"error":"invalid_request","error_description":"Invalid client_id, redirect_uri or response_type"}`,
		badSecret: answer{400, "invalid_client", "Invalid OAuth client credentials"},
		badCode:   answer{400, "invalid_grant", "The specified code is not valid"},
		access:    "bbc-user-", refresh: "bbc-refresh-", userJSONName: "nickname", extraField: "scopes",
	}} {
		t.Run(p.name, func(t *testing.T) {
			authorize, token, user := p.start(t)
			const callback = "http://127.0.0.1:1/cb"
			status, body := get(t, authorize+"?"+url.Values{"client_id": {"nope"}, "redirect_uri": {callback}, "response_type": {"code"}}.Encode())
			if status != p.unknownClient || strings.TrimSpace(body) != strings.TrimSpace(p.unknownClientBody) {
				t.Errorf("unknown client: %d %q; want %d %q", status, body, p.unknownClient, p.unknownClientBody)
			}
			sum := sha256.Sum256([]byte("verifier"))
			status, loc := get(t, authorize+"?"+url.Values{"client_id": {"app"}, "redirect_uri": {callback}, "response_type": {"code"}, "state": {"st"},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "scope": {"user repo"}}.Encode())
			back, _ := url.Parse(loc)
			code := back.Query().Get("code")
			if status != http.StatusFound || code == "" || back.Query().Get("state") != "st" {
				t.Fatalf("authorize: %d %q", status, loc)
			}
			exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {"verifier"},
				"client_id": {"app"}, "client_secret": {"nope"}}
			if got := post(t, token, exchange); got.answer() != p.badSecret {
				t.Errorf("bad secret: %+v; want %+v", got.answer(), p.badSecret)
			}
			exchange.Set("client_secret", "app-secret")
			tok := post(t, token, exchange)
			if tok.status != 200 || !strings.HasPrefix(tok.str("access_token"), p.access) || !strings.HasPrefix(tok.str("refresh_token"), p.refresh) ||
				tok.body["expires_in"] == nil || tok.body[p.extraField] == nil {
				t.Fatalf("code exchange: %d %v", tok.status, tok.body)
			}
			if got := post(t, token, exchange); got.answer() != p.badCode {
				t.Errorf("code used again: %+v; want %+v", got.answer(), p.badCode)
			}
			if name := userName(t, user, tok.str("access_token"), p.userJSONName); name != "alice" {
				t.Errorf("%s of the signed-in user's token: %q; want alice", p.userJSONName, name)
			}
			again := post(t, token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}, "client_id": {"app"}, "client_secret": {"app-secret"}})
			if again.status != 200 || userName(t, user, again.str("access_token"), p.userJSONName) != "alice" {
				t.Fatalf("refresh: %d %v", again.status, again.body)
			}
			if name := userName(t, user, tok.str("access_token"), p.userJSONName); name == "alice" {
				t.Errorf("the refreshed-away access token still signs alice in")
			}
			if p.formUnlessJSON {
				req, _ := http.NewRequest(http.MethodPost, token, strings.NewReader(url.Values{"grant_type": {"refresh_token"},
					"refresh_token": {again.str("refresh_token")}, "client_id": {"app"}, "client_secret": {"app-secret"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				v, err := url.ParseQuery(string(b))
				if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || v.Get("token_type") != "bearer" ||
					!strings.HasPrefix(v.Get("access_token"), p.access) || v.Get("expires_in") != "28800" {
					t.Errorf("form-encoded answer: %q %q", resp.Header.Get("Content-Type"), b)
				}
			}
		})
	}
}

// get requests u without following redirects and returns the status and
// the body, or the Location of a redirect.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusFound {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

type tokenAnswer struct {
	status int
	body   map[string]any
}

func (a tokenAnswer) str(k string) string { s, _ := a.body[k].(string); return s }

func (a tokenAnswer) answer() answer {
	return answer{a.status, a.str("error"), a.str("error_description")}
}

// post posts form to a token endpoint, accepting JSON.
func post(t *testing.T, u string, form url.Values) tokenAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := tokenAnswer{status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		t.Fatalf("token answer %d: %v", resp.StatusCode, err)
	}
	return a
}

// userName is the field of the user object the user endpoint answers to
// a Bearer token.
func userName(t *testing.T, u, token, field string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var j map[string]any
	json.NewDecoder(resp.Body).Decode(&j)
	s, _ := j[field].(string)
	return s
}
