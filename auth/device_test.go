package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// deviceWorld is a provider with the device flow, on a fake whose user
// enters codes through approve and refuse.
type deviceWorld struct {
	p               auth.DeviceProvider
	approve, refuse func(userCode string) bool
	host, page      string // the integration host, and the verification page
	clk             *testclock.Clock
}

func githubDeviceWorld(t *testing.T, enabled bool) *deviceWorld {
	t.Helper()
	clk := testclock.New(time.Now())
	fg := fakegithub.New(&fakegithub.Options{Now: clk.Now})
	t.Cleanup(fg.Close)
	fg.AddOAuthApp(fakegithub.OAuthApp{ClientID: "cli", ClientSecret: "cli-secret", Expiring: true, DeviceFlow: enabled, DevicePollInterval: time.Second})
	fg.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice", Email: "alice@example.com"})
	g, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "cli", ClientSecret: secret("cli-secret"), EnterpriseInstanceURL: fg.URL(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &deviceWorld{p: g, approve: fg.ApproveDevice, refuse: fg.RefuseDevice, host: g.Info().Host, page: fg.URL() + "/login/device", clk: clk}
}

func gitlabDeviceWorld(t *testing.T, enabled bool) *deviceWorld {
	t.Helper()
	clk := testclock.New(time.Now())
	fl := fakegitlab.New(&fakegitlab.Options{Now: clk.Now, RelativePath: "/gitlab", NoDeviceGrant: !enabled})
	t.Cleanup(fl.Close)
	fl.AddOAuthApp(fakegitlab.OAuthApp{ClientID: "cli", ClientSecret: "cli-secret", DevicePollInterval: time.Second})
	fl.SetOAuthUser(fakegitlab.OAuthUser{Username: "alice", Name: "Alice", Email: "alice@example.com"})
	g, err := auth.NewGitLab(auth.GitLabOptions{ClientID: "cli", ClientSecret: secret("cli-secret"), BaseURL: fl.URL(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &deviceWorld{p: g, approve: fl.ApproveDevice, refuse: fl.RefuseDevice, host: g.Info().Host, page: fl.URL() + "/oauth/device", clk: clk}
}

var deviceWorlds = []struct {
	name  string
	start func(t *testing.T, enabled bool) *deviceWorld
}{{"github", githubDeviceWorld}, {"gitlab", gitlabDeviceWorld}}

// A command-line tool signs alice in with the device flow: it shows the
// code, she approves it while the tool polls (one authorization_pending
// first), the tool gets her identity and tokens, and the credentials made
// from them renew themselves through the provider, reporting the rotated
// refresh token. The device code, a secret, prints nowhere.
func TestDeviceSignIn(t *testing.T) {
	for _, w := range deviceWorlds {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			d := w.start(t, true)
			dc, err := d.p.DeviceAuth(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if dc.UserCode == "" || dc.VerificationURI != d.page || dc.Interval != time.Second || time.Until(dc.Expiry) < 4*time.Minute {
				t.Fatalf("device code %+v; want a user code, page %s, interval 1s, 5 minutes or more", dc, d.page)
			}
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("device", "code", dc)
			j, _ := json.Marshal(dc)
			for _, shown := range []string{fmt.Sprint(dc), fmt.Sprintf("%+v %#v %v %s", dc, dc, *dc, dc), string(j), logged.String()} {
				if strings.Contains(shown, "dc-") || !strings.Contains(shown, dc.UserCode) {
					t.Errorf("a device code shows, or the user code does not: %s", shown)
				}
			}
			// She approves after the tool's first poll.
			approved := time.AfterFunc(1500*time.Millisecond, func() {
				if !d.approve(dc.UserCode) {
					t.Errorf("the fake did not take the user code %s", dc.UserCode)
				}
			})
			defer approved.Stop()
			start := time.Now()
			s, err := d.p.DeviceSignIn(t.Context(), dc)
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < 1900*time.Millisecond {
				t.Errorf("signed in after %v: the tool did not wait for her approval", took)
			}
			if s.Identity.Login != "alice" || s.Identity.Email != "alice@example.com" || s.Tokens.AccessToken == "" || s.Tokens.RefreshToken == "" {
				t.Fatalf("sign-in = %+v %v; want alice with tokens", s.Identity, s.Tokens)
			}
			if _, err := d.p.DeviceSignIn(t.Context(), dc); errcode.CodeOf(err) != errcode.Unauthorized {
				t.Errorf("the same device code again: %v; want Unauthorized", err)
			}

			var mu sync.Mutex
			var rotated []string
			creds := auth.UserCredentials(d.p, s, &credentials.UserOptions{Now: d.clk.Now, OnRotate: func(_ context.Context, tok *oauth2.Token) {
				mu.Lock()
				defer mu.Unlock()
				rotated = append(rotated, tok.RefreshToken)
			}})
			src := creds[d.host]
			if len(creds) != 1 || src == nil {
				t.Fatalf("credentials = %v; want one for %s", creds, d.host)
			}
			c, err := src.Credential(t.Context())
			if err != nil || c.Token != s.Tokens.AccessToken || c.Kind != credentials.KindUser {
				t.Fatalf("Credential = %v, %v; want her access token", c, err)
			}
			d.clk.Advance(s.Tokens.Expiry.Sub(d.clk.Now()) + time.Minute) // expired: renewed through the provider
			c, err = src.Credential(t.Context())
			if err != nil || c.Token == s.Tokens.AccessToken {
				t.Fatalf("Credential after expiry = %v, %v; want a renewed token", c, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(rotated) != 1 || rotated[0] == s.Tokens.RefreshToken || rotated[0] == "" {
				t.Errorf("OnRotate saw %d refresh tokens; want the one new one", len(rotated))
			}
		})
	}
}

// Every other end of a device sign-in is an error with its own code: the
// user refuses (PermissionDenied), the code expires (DeadlineExceeded),
// the app has no device flow (Unimplemented), the tool gives up
// (Canceled), a code is polled at another provider (InvalidArgument).
func TestDeviceSignInRefusals(t *testing.T) {
	for _, w := range deviceWorlds {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			d := w.start(t, true)
			dc, err := d.p.DeviceAuth(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			d.refuse(dc.UserCode)
			if _, err := d.p.DeviceSignIn(t.Context(), dc); errcode.CodeOf(err) != errcode.PermissionDenied {
				t.Errorf("refused: %v; want PermissionDenied", err)
			}

			dc, err = d.p.DeviceAuth(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			d.clk.Advance(16 * time.Minute)
			if d.approve(dc.UserCode) {
				t.Errorf("the fake took an expired user code")
			}
			if _, err := d.p.DeviceSignIn(t.Context(), dc); errcode.CodeOf(err) != errcode.DeadlineExceeded {
				t.Errorf("expired: %v; want DeadlineExceeded", err)
			}

			dc, err = d.p.DeviceAuth(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(200*time.Millisecond, cancel)
			if _, err := d.p.DeviceSignIn(ctx, dc); errcode.CodeOf(err) != errcode.Canceled {
				t.Errorf("cancelled: %v; want Canceled", err)
			}

			other := w.start(t, true)
			if _, err := other.p.DeviceSignIn(t.Context(), dc); errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("another provider's code: %v; want InvalidArgument", err)
			}
			if _, err := d.p.DeviceSignIn(t.Context(), nil); errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("no code: %v; want InvalidArgument", err)
			}

			off := w.start(t, false)
			if _, err := off.p.DeviceAuth(t.Context(), nil); errcode.CodeOf(err) != errcode.Unimplemented || strings.Contains(err.Error(), "cli-secret") {
				t.Errorf("device flow disabled: %v; want Unimplemented, without the secret", err)
			}
		})
	}
}

// A verification page that is not the provider's own https page (another
// host, plain http off loopback, user information) is never shown to the
// user: someone answering for the provider must not send her to a page
// that collects her code.
func TestDeviceAuthRefusesAForeignPage(t *testing.T) {
	for _, page := range []string{"https://evil.example/login/device", "http://github.example/login/device", "https://x@127.0.0.1/login/device", "javascript:alert(1)", "own page, a user code with an escape sequence"} {
		t.Run(page, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				code, uri := "ABCD-EFGH", page
				if strings.HasPrefix(page, "own page") {
					code, uri = "ABCD\u001b[2J-EFGH", srv.URL+"/login/device"
				}
				json.NewEncoder(w).Encode(map[string]any{"device_code": "dc-1", "user_code": code, "verification_uri": uri, "expires_in": 900, "interval": 5})
			}))
			defer srv.Close()
			g, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "cli", ClientSecret: secret("cli-secret"), EnterpriseInstanceURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if dc, err := g.DeviceAuth(t.Context(), nil); errcode.CodeOf(err) != errcode.Unavailable || dc != nil {
				t.Fatalf("DeviceAuth with page %s = %v, %v; want Unavailable", page, dc, err)
			}
		})
	}
}

// A command-line tool cannot keep a client secret: without one, GitHub
// and GitLab providers sign users in with the device flow (a public
// client, whose tokens still renew), and refuse the redirect flow and a
// Handler.
func TestDeviceSignInWithoutClientSecret(t *testing.T) {
	clk := testclock.New(time.Now())
	fg := fakegithub.New(&fakegithub.Options{Now: clk.Now})
	t.Cleanup(fg.Close)
	fg.AddOAuthApp(fakegithub.OAuthApp{ClientID: "cli", ClientSecret: "cli-secret", Expiring: true, DeviceFlow: true, DevicePollInterval: time.Second})
	fg.SetOAuthUser(fakegithub.OAuthUser{Login: "alice"})
	fl := fakegitlab.New(&fakegitlab.Options{Now: clk.Now})
	t.Cleanup(fl.Close)

	gl, err := auth.NewGitLab(auth.GitLabOptions{ClientID: "cli", BaseURL: fl.URL()})
	if err != nil {
		t.Fatal(err)
	}
	g, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "cli", EnterpriseInstanceURL: fg.URL(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []auth.RedirectProvider{g, gl} {
		if _, err := p.AuthCodeURL(t.Context(), auth.AuthRequest{State: "s", RedirectURI: "https://portal.example.com/cb", CodeChallenge: "c", Nonce: "n"}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: AuthCodeURL without a client secret = %v; want InvalidArgument", p.Info().Type, err)
		}
		if _, err := p.Exchange(t.Context(), auth.Callback{Code: "c", CodeVerifier: "v", RedirectURI: "https://portal.example.com/cb"}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: Exchange without a client secret = %v; want InvalidArgument", p.Info().Type, err)
		}
		h, err := auth.New(&auth.Options{BaseURL: "https://portal.example.com/api/auth", Secret: secret(testSecret)})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Register(p.Info().Type, "development", p); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: Register without a client secret = %v; want InvalidArgument", p.Info().Type, err)
		}
	}

	dc, err := g.DeviceAuth(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fg.ApproveDevice(dc.UserCode)
	s, err := g.DeviceSignIn(t.Context(), dc)
	if err != nil || s.Identity.Login != "alice" {
		t.Fatalf("DeviceSignIn without a client secret = %v, %v", s, err)
	}
	src := auth.UserCredentials(g, s, &credentials.UserOptions{Now: clk.Now})[g.Info().Host]
	clk.Advance(9 * time.Hour)
	if c, err := src.Credential(t.Context()); err != nil || c.Token == s.Tokens.AccessToken {
		t.Fatalf("renewal without a client secret = %v, %v; want a new token", c, err)
	}
}

// GitLab: a confidential application authenticates at both device
// endpoints (GitLab refuses it otherwise: the fake too), and a
// non-confidential one, built without a secret, signs in with its client
// id alone.
func TestGitLabDeviceSignInConfidentialAndPublic(t *testing.T) {
	fl := fakegitlab.New(nil)
	t.Cleanup(fl.Close)
	fl.AddOAuthApp(fakegitlab.OAuthApp{ClientID: "confidential", ClientSecret: "cli-secret", DevicePollInterval: time.Second})
	fl.AddOAuthApp(fakegitlab.OAuthApp{ClientID: "public", DevicePollInterval: time.Second})
	fl.SetOAuthUser(fakegitlab.OAuthUser{Username: "alice", Email: "alice@example.com"})
	for _, tc := range []struct {
		client string
		secret integrations.Secret
		want   errcode.Code
	}{
		{"confidential", secret("cli-secret"), errcode.OK},
		{"confidential", integrations.Secret{}, errcode.Unauthorized}, // a tool that does not send the secret GitLab expects
		{"public", integrations.Secret{}, errcode.OK},
	} {
		t.Run(fmt.Sprintf("%s with secret %v", tc.client, !tc.secret.IsZero()), func(t *testing.T) {
			g, err := auth.NewGitLab(auth.GitLabOptions{ClientID: tc.client, ClientSecret: tc.secret, BaseURL: fl.URL()})
			if err != nil {
				t.Fatal(err)
			}
			dc, err := g.DeviceAuth(t.Context(), nil)
			if errcode.CodeOf(err) != tc.want {
				t.Fatalf("DeviceAuth = %v; want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if dc.VerificationURIComplete != fl.URL()+"/oauth/device?user_code="+dc.UserCode {
				t.Errorf("verification_uri_complete = %q", dc.VerificationURIComplete)
			}
			fl.ApproveDevice(dc.UserCode)
			if s, err := g.DeviceSignIn(t.Context(), dc); err != nil || s.Identity.Login != "alice" {
				t.Fatalf("DeviceSignIn = %v, %v", s, err)
			}
		})
	}
}

// Polling always ends: a provider that names no expiry, or one too far
// away, is polled for 30 minutes at most; a code is polled by the client
// that asked for it only; an interval the caller changes is the one used.
func TestDeviceCodeBounds(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/login/device/code" {
			fmt.Fprintf(w, `{"device_code":"dc-1","user_code":"ABCD-EFGH","verification_uri":"http://%s/login/device","interval":1}`, r.Host)
			return
		}
		polls.Add(1)
		fmt.Fprint(w, `{"error":"authorization_pending"}`)
	}))
	defer srv.Close()
	g, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "cli", EnterpriseInstanceURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := g.DeviceAuth(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(dc.Expiry); left <= 29*time.Minute || left > 30*time.Minute {
		t.Errorf("a code without expires_in expires in %v; want 30 minutes", left)
	}
	other, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "another-app", EnterpriseInstanceURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.DeviceSignIn(t.Context(), dc); errcode.CodeOf(err) != errcode.InvalidArgument || polls.Load() != 0 {
		t.Errorf("another client's code: %v after %d polls; want InvalidArgument, no poll", err, polls.Load())
	}
	dc.Interval = 3 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
	defer cancel()
	if _, err := g.DeviceSignIn(ctx, dc); errcode.CodeOf(err) != errcode.DeadlineExceeded || polls.Load() != 0 {
		t.Errorf("with a 3 s interval, 2.5 s of polling: %v after %d polls; want none", err, polls.Load())
	}
}

// The ends of a device sign-in that providers word their own way: Entra's
// authorization_declined is a refusal as access_denied is; a 5xx while
// polling ends the sign-in as Unavailable.
func TestDevicePollAnswers(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   errcode.Code
	}{
		{400, `{"error":"authorization_declined","error_description":"AADSTS70000: the user declined"}`, errcode.PermissionDenied},
		{400, `{"error":"access_denied"}`, errcode.PermissionDenied},
		{400, `{"error":"expired_token"}`, errcode.DeadlineExceeded},
		{400, `{"error":"unauthorized_client"}`, errcode.Unimplemented},
		{502, `<html>bad gateway</html>`, errcode.Unavailable},
	} {
		t.Run(tc.body, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/login/device/code" {
					fmt.Fprintf(w, `{"device_code":"dc-1","user_code":"ABCD-EFGH","verification_uri":"http://%s/login/device","expires_in":60,"interval":1}`, r.Host)
					return
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			g, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "cli", EnterpriseInstanceURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			dc, err := g.DeviceAuth(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.DeviceSignIn(t.Context(), dc); errcode.CodeOf(err) != tc.want || strings.Contains(err.Error(), "dc-1") {
				t.Errorf("DeviceSignIn = %v; want %v, without the device code", err, tc.want)
			}
		})
	}
}

// OpenID Connect providers (Entra ID, Okta, Google, Keycloak...) offer the
// device flow at their discovery document's device_authorization_endpoint:
// against a real OpenID Provider, the ID token is verified (no nonce in
// this flow) and the identity is the one a redirect sign-in gives, for a
// generic provider and an Entra-shaped one; a refusal is PermissionDenied.
func TestOIDCDeviceSignInWithRealOP(t *testing.T) {
	for _, microsoft := range []bool{false, true} {
		t.Run(fmt.Sprintf("microsoft=%v", microsoft), func(t *testing.T) {
			t.Parallel()
			path := ""
			if microsoft {
				path = "/tenant-1/v2.0"
			}
			op, err := authtest.StartOP(authtest.OPOptions{IssuerPath: path, ProfileInIDToken: true, RedirectURIs: []string{"https://portal.example.com/cb"},
				User: authtest.User{Subject: "u-7", Username: "alice", FirstName: "Alice", LastName: "Liddell"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { op.Close() })
			var p *auth.OIDC
			if microsoft {
				p, err = auth.NewMicrosoft(auth.MicrosoftOptions{ClientID: "portal", ClientSecret: secret("portal-secret"), TenantID: "tenant-1", AuthorityURL: op.URL})
			} else {
				p, err = auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("portal-secret"), MetadataURL: op.Issuer})
			}
			if err != nil {
				t.Fatal(err)
			}
			var _ auth.DeviceProvider = p
			dc, err := p.DeviceAuth(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(dc.VerificationURI, op.URL) || dc.UserCode == "" {
				t.Fatalf("device code %v", dc)
			}
			if !op.ApproveDevice(dc.UserCode) {
				t.Fatalf("the OP did not take the user code %s", dc.UserCode)
			}
			s, err := p.DeviceSignIn(t.Context(), dc)
			if err != nil {
				t.Fatal(err)
			}
			if s.Identity.Subject != "u-7" || s.Identity.Email != "alice@example.com" || s.Identity.Issuer != op.Issuer || s.Tokens.IDToken == "" {
				t.Fatalf("identity %+v; want u-7 <alice@example.com> at %s", s.Identity, op.Issuer)
			}

			dc, err = p.DeviceAuth(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			op.RefuseDevice(dc.UserCode)
			if _, err := p.DeviceSignIn(t.Context(), dc); errcode.CodeOf(err) != errcode.PermissionDenied {
				t.Errorf("refused: %v; want PermissionDenied", err)
			}
		})
	}
}

// A provider whose discovery document names no device endpoint does not
// offer the flow: Unimplemented, with no request beyond discovery.
func TestOIDCDeviceAuthWithoutEndpoint(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/authorize","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys"}`, srv.URL)
	}))
	defer srv.Close()
	p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", MetadataURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeviceAuth(t.Context(), nil); errcode.CodeOf(err) != errcode.Unimplemented {
		t.Errorf("DeviceAuth = %v; want Unimplemented", err)
	}
}
