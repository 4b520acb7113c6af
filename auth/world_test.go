package auth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// portal is a handler mounted at /api/auth of a test server whose root
// page greets the signed-in user.
type portal struct {
	srv *httptest.Server
	h   *auth.Handler
	clk *testclock.Clock
}

const testSecret = "0123456789abcdef0123456789abcdef"

func newPortal(t testing.TB, opts auth.Options) *portal {
	t.Helper()
	clk := testclock.New(time.Now())
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL + "/api/auth"
	if opts.Secret.IsZero() {
		opts.Secret = integrations.NewSecret(testSecret)
	}
	if opts.Environment == "" {
		opts.Environment = "development"
	}
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	h, err := auth.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/auth/", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := h.Session(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello "+s.Identity.Login+" <"+s.Identity.Email+"> "+s.Identity.Subject)
	})
	return &portal{srv: srv, h: h, clk: clk}
}

// signIn runs a redirect-flow sign-in with a fresh browser and returns it
// and the landing page.
func (p *portal) signIn(t testing.TB, provider string) (*http.Client, *http.Response, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(p.srv.URL + "/api/auth/" + provider + "/start?env=development&flow=redirect&redirectUrl=/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return c, resp, string(b)
}

// githubWorld is a fake GitHub with an OAuth App (or GitHub App) and alice.
func githubWorld(t testing.TB, expiring bool, clk func() time.Time) *fakegithub.Server {
	t.Helper()
	fg := fakegithub.New(&fakegithub.Options{Tokens: []string{"portal-pat"}, Now: clk})
	t.Cleanup(fg.Close)
	fg.AddOAuthApp(fakegithub.OAuthApp{ClientID: "gh-client", ClientSecret: "gh-secret", Expiring: expiring})
	fg.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice Liddell", Email: "alice@example.com"})
	return fg
}

func registerGitHub(t testing.TB, p *portal, fg *fakegithub.Server) {
	t.Helper()
	gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: integrations.NewSecret("gh-secret"),
		EnterpriseInstanceURL: fg.URL(), Scopes: []string{"repo"}, Now: p.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("github", "development", gh); err != nil {
		t.Fatal(err)
	}
}

func startOP(t testing.TB, p *portal, provider string, o authtest.OPOptions) *authtest.OP {
	t.Helper()
	o.RedirectURIs = []string{p.h.CallbackURL(provider)}
	op, err := authtest.StartOP(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	return op
}

func registerOIDC(t testing.TB, p *portal, op *authtest.OP) {
	t.Helper()
	prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"), MetadataURL: op.Issuer + "/.well-known/openid-configuration"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("oidc", "development", prov); err != nil {
		t.Fatal(err)
	}
}

func TestOIDCSignInWithRealOP(t *testing.T) {
	for _, tc := range []struct {
		name            string
		profileInIDTok  bool
		wantWarmToOP    int
		wantWarmUserinf int
	}{
		{"ProfileInIDToken", true, 1, 0},
		{"ProfileFromUserinfo", false, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPortal(t, auth.Options{})
			op := startOP(t, p, "oidc", authtest.OPOptions{User: authtest.User{Subject: "u-7", Username: "alice", FirstName: "Alice", LastName: "Liddell"}, ProfileInIDToken: tc.profileInIDTok})
			registerOIDC(t, p, op)
			_, resp, body := p.signIn(t, "oidc")
			if resp.StatusCode != 200 || body != "hello alice <alice@example.com> u-7" {
				t.Fatalf("first sign-in: %d %q", resp.StatusCode, body)
			}
			// Warm: discovery and keys cached; count what the callback costs.
			op.ResetRequests()
			_, resp, body = p.signIn(t, "oidc")
			if resp.StatusCode != 200 || !strings.HasPrefix(body, "hello alice") {
				t.Fatalf("second sign-in: %d %q", resp.StatusCode, body)
			}
			n := op.Requests()
			back := n["/oauth/token"] + n["/userinfo"] + n["/keys"] + n["/.well-known/openid-configuration"]
			if back != tc.wantWarmToOP || n["/userinfo"] != tc.wantWarmUserinf || n["/keys"] != 0 {
				t.Fatalf("warm callback made %d back-channel requests %v; want %d (userinfo %d, keys 0)", back, n, tc.wantWarmToOP, tc.wantWarmUserinf)
			}
		})
	}
}

func TestMicrosoftSignInWithRealOP(t *testing.T) {
	p := newPortal(t, auth.Options{})
	op := startOP(t, p, "microsoft", authtest.OPOptions{IssuerPath: "/tenant-1/v2.0", ProfileInIDToken: true,
		User: authtest.User{Subject: "oid-1", Username: "alice@contoso.example", Email: "alice@contoso.example", FirstName: "Alice"}})
	ms, err := auth.NewMicrosoft(auth.MicrosoftOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"),
		TenantID: "tenant-1", AuthorityURL: op.URL, DomainHint: "contoso.example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("microsoft", "development", ms); err != nil {
		t.Fatal(err)
	}
	_, resp, body := p.signIn(t, "microsoft")
	if resp.StatusCode != 200 || body != "hello alice@contoso.example <alice@contoso.example> oid-1" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
}

func TestGitHubSignInCostsTwoRequests(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, false, nil)
	registerGitHub(t, p, fg)
	before := fg.Stats()
	_, resp, body := p.signIn(t, "github")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "hello alice <alice@example.com> ") {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
	after := fg.Stats()
	backChannel := after.Routes["POST /login/oauth/access_token"] - before.Routes["POST /login/oauth/access_token"] +
		after.Routes["GET /user"] - before.Routes["GET /user"] + after.Routes["GET /user/emails"] - before.Routes["GET /user/emails"]
	if backChannel != 2 || after.Routes["GET /user/emails"] != 0 {
		t.Fatalf("callback made %d back-channel requests (routes %v), want 2 and no /user/emails", backChannel, after.Routes)
	}
	_ = context.Background()
}

func secret(s string) integrations.Secret { return integrations.NewSecret(s) }
