package auth_test

import (
	"encoding/json"
	"io"
	"sync/atomic"
	"time"

	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// exchangeWorld signs alice in with a real OpenID Provider and returns her
// session, the provider, and a TokenExchange for the audience "kubernetes".
func exchangeWorld(t *testing.T, mayExchange bool, subjectType string) (*auth.Session, *authtest.OP, *auth.TokenExchange) {
	t.Helper()
	p := newPortal(t, auth.Options{})
	op := startOP(t, p, "oidc", authtest.OPOptions{User: authtest.User{Subject: "alice-id", MayExchange: mayExchange}})
	registerOIDC(t, p, op)
	c, resp, body := p.signIn(t, "oidc")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	x, err := auth.NewTokenExchange(auth.TokenExchangeOptions{Issuer: op.Issuer, TokenURL: op.Issuer + "/oauth/token", ClientID: "portal",
		ClientSecret: integrations.NewSecret("portal-secret"), Audience: []string{"kubernetes"}, Scopes: []string{"openid"}, SubjectTokenType: subjectType})
	if err != nil {
		t.Fatal(err)
	}
	op.ResetRequests()
	return p.sessionOf(t, c), op, x
}

// TestTokenExchange exchanges a signed-in user's access token for a token
// of another audience at a real OpenID Provider (RFC 8693): a new token,
// which the provider knows as the same user; one token request for 20
// concurrent callers and none for a later one while it is fresh.
func TestTokenExchange(t *testing.T) {
	s, op, x := exchangeWorld(t, true, "")
	src := x.Source(s)
	var wg sync.WaitGroup
	creds := make([]*credentials.Credential, 20)
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() { creds[i], errs[i] = src.Credential(t.Context()) })
	}
	wg.Wait()
	for i := range 20 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if creds[i].Token != creds[0].Token {
			t.Fatal("concurrent callers got different tokens")
		}
	}
	cred := creds[0]
	if cred.Token == "" || cred.Token == s.Tokens.AccessToken || cred.Kind != credentials.KindUser || cred.Expiry.IsZero() ||
		!strings.Contains(cred.Source, "kubernetes") || !strings.Contains(cred.Source, "alice") {
		t.Fatalf("exchanged credential = %+v", cred)
	}
	if _, err := src.Credential(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := op.Requests()["/oauth/token"]; n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	// The provider knows the new token as alice's.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, op.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+cred.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ui struct {
		Sub string `json:"sub"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ui); err != nil || resp.StatusCode != http.StatusOK || ui.Sub != "alice-id" {
		t.Fatalf("userinfo with the exchanged token: %d %v %+v", resp.StatusCode, err, ui)
	}
	// Nothing prints a token or the secret.
	for _, v := range []string{fmt.Sprintf("%v %+v %#v %s", x, x, x, x), fmt.Sprintf("%v %+v %#v", src, src, src)} {
		if strings.Contains(v, "portal-secret") || strings.Contains(v, s.Tokens.AccessToken) || strings.Contains(v, cred.Token) {
			t.Errorf("printed a secret: %s", v)
		}
	}
}

// TestTokenExchangeRefused: a provider that refuses the exchange (this
// user may not) gives an error that names neither token nor the secret,
// and no credential.
func TestTokenExchangeRefused(t *testing.T) {
	s, op, x := exchangeWorld(t, false, "")
	cred, err := x.Source(s).Credential(t.Context())
	if err == nil || cred != nil {
		t.Fatalf("a refused exchange gave %+v, %v", cred, err)
	}
	if code := errcode.CodeOf(err); code != errcode.PermissionDenied || !strings.Contains(err.Error(), "may not exchange") {
		t.Errorf("a refusal: %v (%v), want PermissionDenied with the provider's reason", err, code)
	}
	if n := op.Requests()["/oauth/token"]; n != 1 {
		t.Errorf("%d token requests for one refusal, want 1", n)
	}
	if msg := fmt.Sprintf("%v %+v", err, err); strings.Contains(msg, s.Tokens.AccessToken) || strings.Contains(msg, "portal-secret") {
		t.Errorf("the error shows a secret: %s", msg)
	}
}

func TestNewTokenExchangeRefusesBadOptions(t *testing.T) {
	good := auth.TokenExchangeOptions{Issuer: "https://idp.example.com", TokenURL: "https://idp.example.com/token", ClientID: "portal", Audience: []string{"k8s"}}
	for name, mod := range map[string]func(*auth.TokenExchangeOptions){
		"plain http":       func(o *auth.TokenExchangeOptions) { o.TokenURL = "http://idp.example.com/token" },
		"userinfo":         func(o *auth.TokenExchangeOptions) { o.TokenURL = "https://u:p@idp.example.com/token" },
		"no client":        func(o *auth.TokenExchangeOptions) { o.ClientID = "" },
		"no audience":      func(o *auth.TokenExchangeOptions) { o.Audience = nil },
		"bad subject type": func(o *auth.TokenExchangeOptions) { o.SubjectTokenType = "refresh_token" },
		"no issuer":        func(o *auth.TokenExchangeOptions) { o.Issuer = "" },
		"bad auth method":  func(o *auth.TokenExchangeOptions) { o.AuthMethod = "private_key_jwt" },
	} {
		o := good
		mod(&o)
		if _, err := auth.NewTokenExchange(o); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := auth.NewTokenExchange(good); err != nil {
		t.Fatal(err)
	}
}

// TestTokenExchangeOfIDToken exchanges the session's ID token instead.
func TestTokenExchangeOfIDToken(t *testing.T) {
	s, _, x := exchangeWorld(t, true, auth.TokenTypeIDToken)
	cred, err := x.Source(s).Credential(t.Context())
	if err != nil || cred.Token == "" || cred.Token == s.Tokens.IDToken {
		t.Fatalf("exchanging the ID token: %+v, %v", cred, err)
	}
}

// TestTokenExchangeErrorEchoingTheToken: a token endpoint that echoes the
// subject token in its error_description does not get it into the error,
// also when the description is clipped inside the token (what is left of
// it is cut out too).
func TestTokenExchangeErrorEchoingTheToken(t *testing.T) {
	for _, tc := range []struct{ name, prefix string }{
		{"whole", "not a token we know: "},
		{"clipped", strings.Repeat("x", 250) + " "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := exchangeWorld(t, true, "")
			echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": tc.prefix + r.PostForm.Get("subject_token")})
			}))
			t.Cleanup(echo.Close)
			x, err := auth.NewTokenExchange(auth.TokenExchangeOptions{Issuer: s.Identity.Issuer, TokenURL: echo.URL + "/token", ClientID: "portal",
				ClientSecret: integrations.NewSecret("portal-secret"), Audience: []string{"kubernetes"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = x.Source(s).Credential(t.Context())
			if err == nil {
				t.Fatal("no error")
			}
			msg := fmt.Sprintf("%v %+v %#v", err, err, err)
			if strings.Contains(msg, s.Tokens.AccessToken[:16]) || !strings.Contains(msg, tc.prefix[:10]) {
				t.Errorf("error = %s", msg)
			}
		})
	}
}

// TestTokenExchangeOnlyForItsIssuer: a session of another provider (a
// second OpenID provider here; a GitHub sign-in alike) never has its token
// sent to the exchange's token endpoint.
func TestTokenExchangeOnlyForItsIssuer(t *testing.T) {
	s, op, _ := exchangeWorld(t, true, "")
	x, err := auth.NewTokenExchange(auth.TokenExchangeOptions{Issuer: "https://other-idp.example", TokenURL: op.Issuer + "/oauth/token",
		ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"), Audience: []string{"kubernetes"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Source(s).Credential(t.Context()); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Fatalf("another provider's session: %v, want PermissionDenied", err)
	}
	if n := op.Requests()["/oauth/token"]; n != 0 {
		t.Fatalf("%d token requests: the session's token was sent", n)
	}
}

// TestTokenExchangeLifetime: an answer without expires_in (RFC 8693 only
// recommends it) is kept until the issued JWT's exp, or a minute when the
// token says nothing; Invalidate drops a token the service refused.
func TestTokenExchangeLifetime(t *testing.T) {
	s, _, _ := exchangeWorld(t, true, "")
	var issued atomic.Int32
	// The exchange's clock runs 6 minutes behind: the tokens it is given
	// end (at 10 minutes or 1 minute by it) before the user's own, which
	// caps them (TestTokenExchangeCappedBySubject).
	now := time.Now().Add(-6 * time.Minute)
	jwtToken := func(n int32) string {
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": now.Add(10 * time.Minute).Unix(), "n": n}).SignedString([]byte("k"))
		return tok
	}
	for _, tc := range []struct {
		name  string
		token func(int32) string
		want  time.Time
	}{
		{"JWT", jwtToken, now.Add(10 * time.Minute)},
		{"opaque", func(n int32) string { return fmt.Sprintf("opaque-%d", n) }, now.Add(time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]string{"access_token": tc.token(issued.Add(1)), "token_type": "Bearer",
					"issued_token_type": auth.TokenTypeAccessToken})
			}))
			t.Cleanup(idp.Close)
			x, err := auth.NewTokenExchange(auth.TokenExchangeOptions{Issuer: s.Identity.Issuer, TokenURL: idp.URL + "/token", ClientID: "portal",
				ClientSecret: integrations.NewSecret("portal-secret"), Audience: []string{"kubernetes"}, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			src := x.Source(s)
			cred, err := src.Credential(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if d := cred.Expiry.Sub(tc.want); d < -time.Second || d > time.Second {
				t.Errorf("expiry %v, want %v", cred.Expiry, tc.want)
			}
			inv, ok := src.(credentials.Invalidator)
			if !ok || !inv.Invalidate(cred) {
				t.Fatal("the source does not drop a refused token")
			}
			again, err := src.Credential(t.Context())
			if err != nil || again.Token == cred.Token {
				t.Fatalf("after Invalidate: %v, same token %v", err, again != nil && again.Token == cred.Token)
			}
		})
	}
}

// TestTokenExchangeForbiddenIsPermissionDenied: a 403 access_denied (the
// client may not exchange, as Keycloak answers) is PermissionDenied:
// signing in again would change nothing.
func TestTokenExchangeForbiddenIsPermissionDenied(t *testing.T) {
	s, _, _ := exchangeWorld(t, true, "")
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"error":"access_denied","error_description":"Client not allowed to exchange"}`)
	}))
	t.Cleanup(idp.Close)
	x, err := auth.NewTokenExchange(auth.TokenExchangeOptions{Issuer: s.Identity.Issuer, TokenURL: idp.URL + "/token", ClientID: "portal",
		ClientSecret: integrations.NewSecret("portal-secret"), Audience: []string{"kubernetes"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Source(s).Credential(t.Context()); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Fatalf("a 403 access_denied: %v, want PermissionDenied", err)
	}
}
