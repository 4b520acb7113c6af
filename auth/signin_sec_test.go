package auth_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// With an https BaseURL, a plain-http AppURL or allowed origin on a host
// that is not loopback is refused: the popup would post the Backstage
// token to an origin any network attacker can serve. Loopback http stays
// allowed for development.
func TestHTTPSBackendRefusesPlainHTTPAppOrigin(t *testing.T) {
	for _, tc := range []struct {
		o    auth.Options
		want string
	}{
		{auth.Options{AppURL: "http://portal.example.com"}, "AppURL (app.baseUrl)"},
		{auth.Options{AllowedOrigins: []string{"http://*.example.com"}}, "auth.experimentalExtraAllowedOrigins"},
		{auth.Options{AllowedOrigins: []string{"http://portal.example.com:8080"}}, "use https://"},
		{auth.Options{AllowedOrigins: []string{"http://*"}}, "use https://"},
		{auth.Options{AllowedOrigins: []string{"http://*:3000"}}, "use https://"},
		{auth.Options{AllowedOrigins: []string{"http://127.0.0.*"}}, "use https://"}, // 127.0.0.evil is a name
		{auth.Options{AllowedOrigins: []string{"http://localhost*"}}, "use https://"},
		{auth.Options{AllowedOrigins: []string{"https://ok.example.com", "HTTP://Portal.Example.com"}}, "use https://"},
	} {
		tc.o.BaseURL = "https://portal.example.com/api/auth"
		tc.o.Secret = integrations.NewSecret(testSecret)
		_, err := auth.New(&tc.o)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(AppURL %q, AllowedOrigins %q) = %v; want InvalidArgument containing %q", tc.o.AppURL, tc.o.AllowedOrigins, err, tc.want)
		}
	}
	for _, o := range []auth.Options{
		{BaseURL: "https://portal.example.com/api/auth", AppURL: "http://localhost:3000"},
		{BaseURL: "https://portal.example.com/api/auth", AllowedOrigins: []string{"http://localhost:*", "http://*.localhost", "http://127.0.0.1:3000", "http://[::1]:3000", "https://*.example.com"}},
		{BaseURL: "http://localhost:7007/api/auth", AppURL: "http://localhost:3000", AllowedOrigins: []string{"http://*.example.com"}}, // all plain http: development
	} {
		o.Secret = integrations.NewSecret(testSecret)
		if _, err := auth.New(&o); err != nil {
			t.Errorf("New(%s, AppURL %q, AllowedOrigins %q): %v", o.BaseURL, o.AppURL, o.AllowedOrigins, err)
		}
	}
	// Through the configuration, the message names the config key.
	_, ac := loadAuth(t, []byte("auth:\n  session:\n    secret: 0123456789abcdef0123\n  experimentalExtraAllowedOrigins: ['http://*.example.com']\n"))
	if _, _, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"}); errcode.CodeOf(err) != errcode.InvalidArgument ||
		!strings.Contains(err.Error(), "auth.experimentalExtraAllowedOrigins") {
		t.Errorf("NewHandler = %v", err)
	}
}

// A Handler with Options.Environment serves only that environment, as a
// Backstage backend serves its auth.environment: registering another is
// refused, naming the option that allows it.
func TestRegisterRefusesAnEnvironmentNotServed(t *testing.T) {
	p := newPortal(t, auth.Options{Environment: "production"})
	err := p.h.Register("ldap", "development", directory{})
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "ServeAllEnvironments") {
		t.Fatalf("Register(development) = %v", err)
	}
	if err := p.h.Register("ldap", "production", directory{}); err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, noFollow(), http.MethodPost, p.srv.URL+"/api/auth/ldap/login?env=development", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("login ?env=development: %d %s", resp.StatusCode, body)
	}
	all := newPortal(t, auth.Options{Environment: "production", ServeAllEnvironments: true})
	if err := all.h.Register("ldap", "development", directory{}); err != nil {
		t.Fatalf("ServeAllEnvironments: %v", err)
	}
	// Without an Environment, every registered one is served (env then
	// required in the query).
	h, err := auth.New(&auth.Options{BaseURL: "https://portal.example.com/api/auth", Secret: integrations.NewSecret(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register("ldap", "staging", directory{}); err != nil {
		t.Fatalf("no Environment: %v", err)
	}
}

// The nits of the sign-in review: what /start accepts is bounded so that
// the state fits its cap, the 404 page clips the env it echoes, the error
// page sends no Referer, and a refused sign-in shows the hook's own
// message, not the errors it wraps.
func TestSignInAnswersAreBounded(t *testing.T) {
	w := newBadWorld(t)
	long := "/" + strings.Repeat("a", 3000)
	for _, q := range []string{
		"&flow=redirect&redirectUrl=" + url.QueryEscape(long),
		"&scope=" + url.QueryEscape(strings.Repeat("repo ", 300)),
	} {
		resp, body := do(t, noFollow(), http.MethodGet, w.url("/api/auth/github/start?env=development"+q), nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too long") {
			t.Errorf("start %.60s…: %d %.200s", q, resp.StatusCode, body)
		}
	}
	// Just under the limits, the sign-in goes through to the callback.
	c := noFollow()
	cb := authorize(t, start(t, c, w.p, "github", "&flow=redirect&redirectUrl="+url.QueryEscape("/"+strings.Repeat("a", 2000))+
		"&scope="+url.QueryEscape(strings.TrimSpace(strings.Repeat("repo ", 200)))))
	if resp, body := do(t, c, http.MethodGet, cb.String(), nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("callback of a long but allowed sign-in: %d %.300s", resp.StatusCode, body)
	}

	// An allowed origin pattern's wildcard takes any label: the whole
	// state is bounded too.
	wide := newPortal(t, auth.Options{AllowedOrigins: []string{"https://*.example.com"}})
	gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "id", ClientSecret: integrations.NewSecret("s")})
	if err != nil {
		t.Fatal(err)
	}
	if err := wide.h.Register("github", "development", gh); err != nil {
		t.Fatal(err)
	}
	org := "https://" + strings.Repeat("a", 7000) + ".example.com"
	resp, body := do(t, noFollow(), http.MethodGet, wide.srv.URL+"/api/auth/github/start?env=development&origin="+url.QueryEscape(org)+
		"&flow=redirect&redirectUrl="+url.QueryEscape("/"+strings.Repeat("b", 2000)), nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too large") {
		t.Errorf("start with a 7000-byte origin: %d %.200s", resp.StatusCode, body)
	}

	env := strings.Repeat("x", 5000)
	resp, body = do(t, noFollow(), http.MethodGet, w.url("/api/auth/github/start?env="+env), nil)
	if resp.StatusCode != http.StatusNotFound || strings.Contains(body, env[:300]) {
		t.Errorf("unknown env: %d, body %d bytes echoes the env whole", resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("error page Referrer-Policy = %q", got)
	}

	p := newPortal(t, auth.Options{BackstageIdentity: func(context.Context, *auth.Session) (*auth.BackstageIdentity, error) {
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: "catalog", Msg: "the catalog is unavailable",
			Err: errors.New("GET https://catalog.internal/api?token=s3cr3t: 503")}
	}})
	if err := p.h.Register("ldap", "development", directory{}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/api/auth/ldap/login", strings.NewReader(`{"username":"alice","password":"wonderland"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	r2, err := noFollow().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	msg := html.UnescapeString(string(b))
	if r2.StatusCode != http.StatusForbidden || !strings.Contains(msg, "Sign-in refused: the catalog is unavailable") || strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "catalog.internal") {
		t.Errorf("refused sign-in: %d %s", r2.StatusCode, msg)
	}
}
