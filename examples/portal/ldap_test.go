package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
)

// TestLDAPSignIn posts the home page's LDAP form: a wrong password is
// refused, the right one signs alice in, with no token for any SCM host.
func TestLDAPSignIn(t *testing.T) {
	p := startPortal(t)
	t.Logf("directory: %s at %s", p.world.ldap.kind, p.world.ldap.url)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if code, body := get(t, c, p.URL+"/"); code != 200 || !strings.Contains(body, `id="signin-ldap"`) {
		t.Fatalf("home: %d %s", code, body)
	}
	post := func(user, pw string) (int, string) {
		form := url.Values{"username": {user}, "password": {pw}, "redirectUrl": {"/"}}
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/api/auth/ldap/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", p.URL)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("alice", "wrong"); code != http.StatusUnauthorized || strings.Contains(body, "wrong") && strings.Contains(body, "password=") {
		t.Fatalf("wrong password: %d %s", code, body)
	}
	code, body := post("alice", ldapAlicePassword)
	if code != 200 || !strings.Contains(body, "Signed in as alice") || !strings.Contains(body, `id="provider">ldap<`) || !strings.Contains(body, "no integration host") {
		t.Fatalf("after LDAP sign-in: %d %s", code, body)
	}
}

// TestLDAPSignInInBrowser fills the form in a real headless chromium.
func TestLDAPSignInInBrowser(t *testing.T) {
	p := startPortal(t) // slapd and the fakes: not part of the browser's time
	ctx := testsvc.Chromium(t, browserTimeout)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("open the portal", chromedp.Navigate(p.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#ldap-username")))
	step("sign in with LDAP",
		chromedp.SendKeys(chromedp.CSS("#ldap-username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#ldap-password"), ldapAlicePassword),
		chromedp.Click(chromedp.CSS("#ldap-submit")),
		chromedp.WaitVisible(chromedp.CSS("#greeting")))
	for sel, want := range map[string]string{"#greeting": "Signed in as alice", "#provider": "ldap", "#email": "alice@example.com"} {
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil || got != want {
			t.Fatalf("%s = %q (%v), want %q", sel, got, err, want)
		}
	}
}

// TestLDAPFallbackDirectory: without slapd, the world's in-process
// directory signs alice in the same way.
func TestLDAPFallbackDirectory(t *testing.T) {
	d, err := startFakeLDAP()
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	h, err := auth.New(&auth.Options{BaseURL: "http://127.0.0.1:1/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	deps := &deps{auth: h}
	a, err := d.addLDAP(deps, "development")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	si, err := a.(*ldapauth.Authenticator).Authenticate(t.Context(), "alice", ldapAlicePassword)
	if err != nil || si.Identity.Email != "alice@example.com" || !slices.Equal(deps.providers, []string{"ldap"}) {
		t.Fatalf("sign-in: %+v, %v, providers %v", si, err, deps.providers)
	}
	if _, err := a.(*ldapauth.Authenticator).Authenticate(t.Context(), "alice", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
}
