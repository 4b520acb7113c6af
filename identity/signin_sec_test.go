package identity

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// emailLocalPartMatchingUserEntityName without allowedDomains would map
// any verified e-mail whose local part is a catalog user's name to that
// user: on github.com anyone can verify alice@attacker.example and take
// user:default/alice. It is refused at construction, naming the fix;
// dangerouslyAllowAnyEmailDomain opts in.
func TestEmailLocalPartWithoutAllowedDomainsIsRefused(t *testing.T) {
	for _, cfg := range []SignInConfig{
		{Resolvers: []ResolverConfig{{Resolver: EmailLocalPartMatchingUserEntityName}}},
		{Resolvers: []ResolverConfig{{Resolver: UsernameMatchingUserEntityName}, {Resolver: EmailLocalPartMatchingUserEntityName}}},
	} {
		_, err := NewSignInResolver("github", cfg, NewSnapshotCatalog(snapshot()), nil)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "allowedDomains") || !strings.Contains(err.Error(), "dangerouslyAllowAnyEmailDomain") {
			t.Fatalf("%+v: err = %v, want InvalidArgument naming allowedDomains and the opt-in", cfg, err)
		}
	}
	// From configuration the error names the config path.
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(`
auth:
  providers:
    github:
      production:
        signIn:
          resolvers:
            - resolver: emailLocalPartMatchingUserEntityName
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ResolversFromConfig(cfg, "production", nil, NewSnapshotCatalog(snapshot()), nil); errcode.CodeOf(err) != errcode.InvalidArgument ||
		!strings.Contains(err.Error(), "auth.providers.github.production.signIn") || !strings.Contains(err.Error(), "allowedDomains") {
		t.Fatalf("err = %v", err)
	}
	// With allowedDomains the stranger is refused; with the explicit
	// opt-in she resolves as before (Backstage's behaviour).
	info := SignInInfo{Email: "alice@attacker.example", EmailVerified: true, Username: "mallory"}
	r := resolver(t, "github", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["example.com"]}]}`, nil)
	if res, err := r.Resolve(t.Context(), info); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Fatalf("a stranger with alice@attacker.example: %+v, %v", res, err)
	}
	r = resolver(t, "github", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","dangerouslyAllowAnyEmailDomain":true}]}`, nil)
	if res, err := r.Resolve(t.Context(), info); err != nil || res.Identity.EntityRef != "user:default/alice" {
		t.Fatalf("opt-in: %+v, %v", res, err)
	}
}

// selfServiceIdP is a RedirectProvider standing for a looser IdP that a
// second auth environment points at (a dev Keycloak with self-registration,
// a test tenant): whoever uses it can assert any verified e-mail.
type selfServiceIdP struct{ email string }

func (p selfServiceIdP) Info() auth.ProviderInfo {
	return auth.ProviderInfo{Type: "oidc", Issuer: "https://idp.example/" + p.email}
}
func (p selfServiceIdP) AuthCodeURL(_ context.Context, req auth.AuthRequest) (string, error) {
	return req.RedirectURI + "?code=c&state=" + url.QueryEscape(req.State), nil
}
func (p selfServiceIdP) Exchange(context.Context, auth.Callback) (*auth.SignIn, error) {
	return &auth.SignIn{Identity: auth.Identity{Subject: "x-" + p.email, Email: p.email, EmailVerified: true}}, nil
}
func (p selfServiceIdP) Refresh(context.Context, auth.Tokens) (*auth.SignIn, error) {
	return nil, errcode.New(errcode.Unimplemented, "stub", "no refresh")
}

// envWorld is a backend serving production and, with all, development,
// whose IdP lets anyone assert alice@example.com; resolvers are those of
// production only, or of both with devResolvers.
func envWorld(t *testing.T, all bool, dev *SignInResolver) (*http.Client, string, *auth.Handler) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	is, err := NewIssuer(&IssuerOptions{Issuer: srv.URL + "/api/auth"})
	if err != nil {
		t.Fatal(err)
	}
	rs := Resolvers{}
	rs.Set("oidc", "production", resolver(t, "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail"}]}`, nil))
	if dev != nil {
		rs.Set("oidc", "development", dev)
	}
	h, err := auth.New(&auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"),
		Environment: "production", ServeAllEnvironments: all, BackstageIdentity: BackstageIdentityFunc(rs, is)})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register("oidc", "production", selfServiceIdP{email: "nobody@example.com"}); err != nil {
		t.Fatal(err)
	}
	err = h.Register("oidc", "development", selfServiceIdP{email: "alice@example.com"}) // attacker-asserted
	if all != (err == nil) {
		t.Fatalf("registering an environment other than Options.Environment (ServeAllEnvironments %v): %v", all, err)
	}
	mux.Handle("/api/auth/", h)
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}, srv.URL, h
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A sign-in is resolved only by the resolvers of the environment it came
// through. By default a backend serves only its own auth.environment, as
// Backstage; serving more (ServeAllEnvironments), a sign-in through
// ?env=development is never resolved by production's resolvers.
func TestSignInIsResolvedOnlyByItsEnvironment(t *testing.T) {
	t.Run("other environments are not served by default", func(t *testing.T) {
		c, base, _ := envWorld(t, false, nil)
		if code, body := get(t, c, base+"/api/auth/oidc/start?env=development"); code != http.StatusNotFound || strings.Contains(body, "alice") {
			t.Fatalf("start ?env=development: %d %s", code, body)
		}
		if code, body := get(t, c, base+"/api/auth/oidc/refresh"); code != http.StatusUnauthorized || strings.Contains(body, "user:default/alice") {
			t.Fatalf("refresh: %d %s", code, body)
		}
	})
	t.Run("an environment without resolvers is refused", func(t *testing.T) {
		c, base, _ := envWorld(t, true, nil)
		code, body := get(t, c, base+"/api/auth/oidc/start?env=development")
		if code != http.StatusForbidden || strings.Contains(body, "user:default/alice") || !strings.Contains(body, "development") {
			t.Fatalf("a sign-in through env=development is not refused: %d %s", code, body)
		}
		if code, body := get(t, c, base+"/api/auth/oidc/refresh"); code != http.StatusUnauthorized || strings.Contains(body, "user:default/alice") {
			t.Fatalf("refresh after a refused sign-in: %d %s", code, body)
		}
	})
	t.Run("each environment uses its own resolvers", func(t *testing.T) {
		// development's resolvers know no alice by username: a sign-in
		// there is not resolved as production would resolve her.
		dev := resolver(t, "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail","allowedDomains":["dev.example.com"]}]}`, nil)
		c, base, _ := envWorld(t, true, dev)
		if code, body := get(t, c, base+"/api/auth/oidc/start?env=development"); code != http.StatusForbidden || strings.Contains(body, "user:default/alice") ||
			!strings.Contains(body, "not allowed") {
			t.Fatalf("development resolved by production's resolvers: %d %s", code, body)
		}
		// production, through its own IdP, resolves with its own (which
		// find no nobody@example.com).
		c2, base2, _ := envWorld(t, true, dev)
		if code, body := get(t, c2, base2+"/api/auth/oidc/start?env=production"); code != http.StatusForbidden || !strings.Contains(body, "unable to resolve user identity") {
			t.Fatalf("production: %d %s", code, body)
		}
	})
}
