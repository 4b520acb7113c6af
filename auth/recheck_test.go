package auth_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// leavingDirectory is a PasswordProvider and Rechecker whose only user
// can be removed (disabled, deleted) from the directory, and which can
// be down.
type leavingDirectory struct {
	gone     atomic.Bool
	down     atomic.Bool
	rechecks atomic.Int32
}

func (*leavingDirectory) Info() auth.ProviderInfo {
	return auth.ProviderInfo{Type: "ldap", Issuer: "ldap://dir.example.com"}
}

const aliceDN = "uid=alice,ou=people,dc=example,dc=com"

func (d *leavingDirectory) Authenticate(_ context.Context, user, password string) (*auth.SignIn, error) {
	if d.down.Load() {
		return nil, errcode.New(errcode.Unavailable, "directory", "the directory cannot be reached")
	}
	if d.gone.Load() || user != "alice" || password != "wonderland" {
		return nil, errcode.New(errcode.Unauthorized, "directory", "invalid username or password")
	}
	return &auth.SignIn{Identity: auth.Identity{Subject: aliceDN, DN: aliceDN, Login: "alice", Email: "alice@example.com"}}, nil
}

func (d *leavingDirectory) Recheck(_ context.Context, id auth.Identity, _ auth.Tokens) (*auth.SignIn, error) {
	d.rechecks.Add(1)
	switch {
	case d.down.Load():
		return nil, errcode.New(errcode.Unavailable, "directory", "the directory cannot be reached")
	case d.gone.Load() || id.DN != aliceDN:
		return nil, errcode.New(errcode.Unauthorized, "directory", "the directory no longer knows this user")
	}
	return &auth.SignIn{Identity: auth.Identity{Subject: aliceDN, DN: aliceDN, Login: "alice", Email: "alice@new.example.com"}}, nil
}

// passwordLogin signs alice in with provider "ldap" and returns her
// browser.
func passwordLogin(t *testing.T, p *portal) *http.Client {
	t.Helper()
	c := noFollow()
	req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/api/auth/ldap/login", strings.NewReader(`{"username":"alice","password":"wonderland"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	return c
}

func refreshStatus(t *testing.T, p *portal, c *http.Client, provider string) (int, string) {
	t.Helper()
	resp, body := do(t, c, http.MethodGet, p.srv.URL+"/api/auth/"+provider+"/refresh", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	return resp.StatusCode, body
}

func pageStatus(t *testing.T, p *portal, c *http.Client) int {
	t.Helper()
	resp, _ := do(t, c, http.MethodGet, p.srv.URL+"/", nil)
	return resp.StatusCode
}

// A password (LDAP) session is checked with the directory again on the
// first refresh after RecheckInterval: while the account is fine /refresh
// answers 200 (with the attributes read again); once it is disabled, the
// refresh answers 401 and the session is gone (Handler.Session refuses
// it), long before SessionDuration ends.
func TestPasswordSessionEndsWhenDirectoryAccountIsDisabled(t *testing.T) {
	p := newPortal(t, auth.Options{})
	dir := &leavingDirectory{}
	if err := p.h.Register("ldap", "development", dir); err != nil {
		t.Fatal(err)
	}
	c := passwordLogin(t, p)
	p.clk.Add(30 * time.Minute)
	if st, body := refreshStatus(t, p, c, "ldap"); st != 200 || dir.rechecks.Load() != 0 {
		t.Fatalf("refresh before the re-check interval: %d %s, %d re-checks, want 200 and none", st, body, dir.rechecks.Load())
	}
	p.clk.Add(31 * time.Minute)
	for range 3 {
		if st, body := refreshStatus(t, p, c, "ldap"); st != 200 || !strings.Contains(body, "alice@new.example.com") {
			t.Fatalf("refresh of a fine account past the interval: %d %s", st, body)
		}
	}
	if n := dir.rechecks.Load(); n != 1 {
		t.Fatalf("%d re-checks for three refreshes within one interval, want 1", n)
	}
	dir.gone.Store(true) // the account is disabled in the directory
	p.clk.Add(6 * 24 * time.Hour)
	if st, body := refreshStatus(t, p, c, "ldap"); st != http.StatusUnauthorized || !strings.Contains(body, "no longer accepts") {
		t.Fatalf("6 days after the account was disabled, /refresh answers %d: %s", st, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("after the refused re-check Handler.Session still finds the session (%d)", st)
	}
	dir.gone.Store(false) // even back in the directory, the ended session stays ended
	if st, _ := refreshStatus(t, p, c, "ldap"); st != http.StatusUnauthorized {
		t.Fatalf("an ended session refreshes again: %d", st)
	}
}

// A directory that cannot be reached does not end sessions: the refresh
// answers 200 with the session unchecked and tries again next time, for
// RecheckGrace past the due re-check; past it the refresh fails without
// ending the session, which works again once the directory answers.
func TestPasswordSessionSurvivesDirectoryOutageForTheGrace(t *testing.T) {
	p := newPortal(t, auth.Options{RecheckInterval: time.Hour, RecheckGrace: 4 * time.Hour})
	dir := &leavingDirectory{}
	if err := p.h.Register("ldap", "development", dir); err != nil {
		t.Fatal(err)
	}
	c := passwordLogin(t, p)
	dir.down.Store(true)
	p.clk.Add(time.Hour)
	for i := range 2 {
		if st, body := refreshStatus(t, p, c, "ldap"); st != 200 {
			t.Fatalf("refresh %d while the directory is down, within the grace: %d %s", i, st, body)
		}
	}
	if n := dir.rechecks.Load(); n != 2 {
		t.Fatalf("%d re-checks for two refreshes during the outage, want 2 (each tries again)", n)
	}
	p.clk.Add(4*time.Hour + time.Second)
	if st, body := refreshStatus(t, p, c, "ldap"); st != http.StatusUnauthorized || !strings.Contains(body, "could not confirm") {
		t.Fatalf("refresh past the grace: %d %s", st, body)
	}
	dir.down.Store(false)
	if st, body := refreshStatus(t, p, c, "ldap"); st != 200 {
		t.Fatalf("refresh once the directory answers again: %d %s", st, body)
	}
	dir.down.Store(true)
	p.clk.Add(4 * time.Hour) // one interval and three hours of grace since the last check
	if st, body := refreshStatus(t, p, c, "ldap"); st != 200 {
		t.Fatalf("the successful re-check did not restart the interval: %d %s", st, body)
	}
}

// A password provider that cannot re-check (no Recheck method) cannot
// confirm its sessions: they end at the first refresh after the interval.
func TestSessionOfProviderWithoutRecheckEndsAfterInterval(t *testing.T) {
	p := newPortal(t, auth.Options{})
	if err := p.h.Register("ldap", "development", directory{}); err != nil {
		t.Fatal(err)
	}
	c := passwordLogin(t, p)
	if st, body := refreshStatus(t, p, c, "ldap"); st != 200 {
		t.Fatalf("refresh right after sign-in: %d %s", st, body)
	}
	p.clk.Add(auth.DefaultRecheckInterval)
	if st, body := refreshStatus(t, p, c, "ldap"); st != http.StatusUnauthorized || !strings.Contains(body, "cannot re-check") {
		t.Fatalf("refresh past the interval: %d %s", st, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("the session of a provider that cannot re-check is still there (%d)", st)
	}
}

// gate answers GitHub's 401 to /user once the user's grant is revoked,
// and a rate limit of an hour while "down" (a 5xx would be retried with
// real back-off, which only slows the test); it counts the /user requests.
type gate struct {
	rt      http.RoundTripper
	revoked atomic.Bool
	down    atomic.Bool
	users   atomic.Int32
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/user") {
		return g.rt.RoundTrip(r)
	}
	g.users.Add(1)
	status, body, hdr := 0, "", http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	switch {
	case g.revoked.Load():
		status, body = http.StatusUnauthorized, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`
	case g.down.Load():
		status, body = http.StatusTooManyRequests, `{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`
		hdr.Set("Retry-After", "3600")
	default:
		return g.rt.RoundTrip(r)
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// A GitHub OAuth App token never expires, so no token refresh would ever
// ask GitHub again: the first refresh after RecheckInterval reads /user
// with it (one request); a token GitHub refuses (the user revoked the
// grant) ends the session, a GitHub that cannot answer (rate-limited)
// keeps it.
func TestOAuthAppSessionEndsWhenGrantIsRevoked(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, false, p.clk.Now)
	g := &gate{rt: http.DefaultTransport}
	gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: integrations.NewSecret("gh-secret"),
		EnterpriseInstanceURL: fg.URL(), Now: p.clk.Now, HTTPClient: &http.Client{Transport: g}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("github", "development", gh); err != nil {
		t.Fatal(err)
	}
	c, resp, body := p.signIn(t, "github")
	if resp.StatusCode != 200 || !strings.Contains(body, "hello alice") {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	signIn := g.users.Load()
	if st, body := refreshStatus(t, p, c, "github"); st != 200 || g.users.Load() != signIn {
		t.Fatalf("refresh within the interval: %d %s, %d /user requests, want none", st, body, g.users.Load()-signIn)
	}
	p.clk.Add(time.Hour)
	g.down.Store(true)
	if st, body := refreshStatus(t, p, c, "github"); st != 200 || g.users.Load() != signIn+1 {
		t.Fatalf("refresh while GitHub is rate-limited: %d %s, %d /user requests, want 1", st, body, g.users.Load()-signIn)
	}
	g.down.Store(false)
	if st, body := refreshStatus(t, p, c, "github"); st != 200 || !strings.Contains(body, "alice@example.com") || g.users.Load() != signIn+2 {
		t.Fatalf("refresh past the interval: %d %s, %d /user requests", st, body, g.users.Load()-signIn)
	}
	if st, _ := refreshStatus(t, p, c, "github"); st != 200 || g.users.Load() != signIn+2 {
		t.Fatalf("a second refresh re-checked again: %d /user requests", g.users.Load()-signIn)
	}
	g.revoked.Store(true)
	p.clk.Add(time.Hour)
	if st, body := refreshStatus(t, p, c, "github"); st != http.StatusUnauthorized || !strings.Contains(body, "no longer accepts") || strings.Contains(body, "gho_") {
		t.Fatalf("refresh after the grant was revoked: %d %s", st, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("the session of a revoked grant is still there (%d)", st)
	}
}
