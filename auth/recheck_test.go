package auth_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// leavingDirectory is a PasswordProvider and Rechecker whose only user
// can be removed (disabled, deleted) from the directory, and which can
// be down.
type leavingDirectory struct {
	gone     atomic.Bool
	down     atomic.Bool
	other    atomic.Bool // the re-check answers for another entry
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
	case d.other.Load():
		return &auth.SignIn{Identity: auth.Identity{Subject: "uid=mallory,ou=people,dc=example,dc=com", Login: "alice"}}, nil
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
	p.clk.Advance(30 * time.Minute)
	if st, body := refreshStatus(t, p, c, "ldap"); st != 200 || dir.rechecks.Load() != 0 {
		t.Fatalf("refresh before the re-check interval: %d %s, %d re-checks, want 200 and none", st, body, dir.rechecks.Load())
	}
	p.clk.Advance(31 * time.Minute)
	for range 3 {
		if st, body := refreshStatus(t, p, c, "ldap"); st != 200 || !strings.Contains(body, "alice@new.example.com") {
			t.Fatalf("refresh of a fine account past the interval: %d %s", st, body)
		}
	}
	if n := dir.rechecks.Load(); n != 1 {
		t.Fatalf("%d re-checks for three refreshes within one interval, want 1", n)
	}
	dir.gone.Store(true) // the account is disabled in the directory
	p.clk.Advance(6 * 24 * time.Hour)
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
// answers 200 with the session unchecked, and a refresh after the retry
// delay (RecheckInterval/12, at most 5 minutes) asks again, for
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
	p.clk.Advance(time.Hour)
	for i := range 3 {
		if st, body := refreshStatus(t, p, c, "ldap"); st != 200 {
			t.Fatalf("refresh %d while the directory is down, within the grace: %d %s", i, st, body)
		}
	}
	if n := dir.rechecks.Load(); n != 1 {
		t.Fatalf("%d re-checks for three refreshes within the retry delay, want 1", n)
	}
	p.clk.Advance(5 * time.Minute)
	if st, body := refreshStatus(t, p, c, "ldap"); st != 200 || dir.rechecks.Load() != 2 {
		t.Fatalf("refresh after the retry delay: %d %s, %d re-checks, want 200 and a second", st, body, dir.rechecks.Load())
	}
	p.clk.Advance(4 * time.Hour)
	if st, body := refreshStatus(t, p, c, "ldap"); st != http.StatusUnauthorized || !strings.Contains(body, "could not confirm") {
		t.Fatalf("refresh past the grace: %d %s", st, body)
	}
	dir.down.Store(false)
	p.clk.Advance(5 * time.Minute)
	if st, body := refreshStatus(t, p, c, "ldap"); st != 200 {
		t.Fatalf("refresh once the directory answers again: %d %s", st, body)
	}
	dir.down.Store(true)
	p.clk.Advance(4 * time.Hour) // one interval and three hours of grace since the last check
	if st, body := refreshStatus(t, p, c, "ldap"); st != 200 {
		t.Fatalf("the successful re-check did not restart the interval: %d %s", st, body)
	}
}

// A re-check that names another user than the session's ends the
// session rather than switching it to that user.
func TestRecheckNamingAnotherUserEndsSession(t *testing.T) {
	p := newPortal(t, auth.Options{})
	dir := &leavingDirectory{}
	if err := p.h.Register("ldap", "development", dir); err != nil {
		t.Fatal(err)
	}
	c := passwordLogin(t, p)
	dir.other.Store(true)
	p.clk.Advance(auth.DefaultRecheckInterval)
	if st, body := refreshStatus(t, p, c, "ldap"); st != http.StatusUnauthorized || !strings.Contains(body, "another user") || strings.Contains(body, "mallory") {
		t.Fatalf("refresh whose re-check names another user: %d %s", st, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("the session is still there (%d)", st)
	}
}

// With a negative RecheckGrace a due re-check that cannot be made fails
// the refresh at once; the session stays and refreshes again once the
// directory answers (after the retry delay).
func TestPasswordSessionWithoutGrace(t *testing.T) {
	p := newPortal(t, auth.Options{RecheckGrace: -1})
	dir := &leavingDirectory{}
	if err := p.h.Register("ldap", "development", dir); err != nil {
		t.Fatal(err)
	}
	c := passwordLogin(t, p)
	dir.down.Store(true)
	p.clk.Advance(auth.DefaultRecheckInterval + time.Second)
	if st, body := refreshStatus(t, p, c, "ldap"); st != http.StatusUnauthorized || !strings.Contains(body, "could not confirm") {
		t.Fatalf("refresh while the directory is down, no grace: %d %s", st, body)
	}
	dir.down.Store(false)
	p.clk.Advance(5 * time.Minute) // the retry delay
	if st, body := refreshStatus(t, p, c, "ldap"); st != 200 {
		t.Fatalf("refresh once the directory answers: %d %s", st, body)
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
	p.clk.Advance(auth.DefaultRecheckInterval)
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
// keeps it and is not asked again before its rate limit resets.
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
	p.clk.Advance(time.Hour)
	g.down.Store(true)
	if st, body := refreshStatus(t, p, c, "github"); st != 200 || g.users.Load() != signIn+1 {
		t.Fatalf("refresh while GitHub is rate-limited: %d %s, %d /user requests, want 1", st, body, g.users.Load()-signIn)
	}
	if st, body := refreshStatus(t, p, c, "github"); st != 200 || g.users.Load() != signIn+1 {
		t.Fatalf("refresh before the rate limit's reset: %d %s, %d /user requests, want none more", st, body, g.users.Load()-signIn)
	}
	g.down.Store(false)
	p.clk.Advance(time.Hour) // the rate limit's Retry-After
	if st, body := refreshStatus(t, p, c, "github"); st != 200 || !strings.Contains(body, "alice@example.com") || g.users.Load() != signIn+2 {
		t.Fatalf("refresh past the interval: %d %s, %d /user requests", st, body, g.users.Load()-signIn)
	}
	if st, _ := refreshStatus(t, p, c, "github"); st != 200 || g.users.Load() != signIn+2 {
		t.Fatalf("a second refresh re-checked again: %d /user requests", g.users.Load()-signIn)
	}
	g.revoked.Store(true)
	p.clk.Advance(time.Hour)
	if st, body := refreshStatus(t, p, c, "github"); st != http.StatusUnauthorized || !strings.Contains(body, "no longer accepts") || strings.Contains(body, "gho_") {
		t.Fatalf("refresh after the grant was revoked: %d %s", st, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Fatalf("the session of a revoked grant is still there (%d)", st)
	}
}

// Each OAuth provider's Recheck reads the profile with the session's
// token (against the fakes and a real OpenID Provider): the session's
// user passes, a token the provider does not know is Unauthorized, and
// an OIDC userinfo answer naming another subject is Unauthorized.
func TestProviderRecheck(t *testing.T) {
	type world struct {
		p        *portal
		provider string
		rc       auth.Rechecker
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) world
	}{
		{"GitHub", func(t *testing.T) world {
			p := newPortal(t, auth.Options{})
			fg := githubWorld(t, false, p.clk.Now)
			gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "gh-client", ClientSecret: secret("gh-secret"), EnterpriseInstanceURL: fg.URL(), Now: p.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			p.h.Register("github", "development", gh)
			return world{p, "github", gh}
		}},
		{"GitLab", func(t *testing.T) world {
			p := newPortal(t, auth.Options{})
			fl := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"portal-pat"}, Now: p.clk.Now})
			t.Cleanup(fl.Close)
			fl.AddOAuthApp(fakegitlab.OAuthApp{ClientID: "gl-client", ClientSecret: "gl-secret"})
			fl.SetOAuthUser(fakegitlab.OAuthUser{Username: "alice", Name: "Alice", Email: "alice@example.com"})
			gl, err := auth.NewGitLab(auth.GitLabOptions{ClientID: "gl-client", ClientSecret: secret("gl-secret"), BaseURL: fl.URL(), Now: p.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			p.h.Register("gitlab", "development", gl)
			return world{p, "gitlab", gl}
		}},
		{"OIDC", func(t *testing.T) world {
			p := newPortal(t, auth.Options{})
			op := startOP(t, p, "oidc", authtest.OPOptions{User: authtest.User{Subject: "u-7", Username: "alice", FirstName: "Alice"}})
			prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("portal-secret"), MetadataURL: op.Issuer})
			if err != nil {
				t.Fatal(err)
			}
			p.h.Register("oidc", "development", prov)
			return world{p, "oidc", prov}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.setup(t)
			c, resp, body := w.p.signIn(t, w.provider)
			if resp.StatusCode != 200 || !strings.HasPrefix(body, "hello alice") {
				t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
			}
			s := w.p.sessionOf(t, c)
			res, err := w.rc.Recheck(t.Context(), s.Identity, s.Tokens)
			if err != nil {
				t.Fatalf("re-check of a fine session: %v", err)
			}
			if res.Identity.Subject != "" && (res.Identity.Subject != s.Identity.Subject || res.Identity.Login != "alice") {
				t.Fatalf("re-check names %+v, session %+v", res.Identity, s.Identity)
			}
			bad := s.Tokens
			bad.AccessToken += "-revoked"
			if _, err := w.rc.Recheck(t.Context(), s.Identity, bad); errcode.CodeOf(err) != errcode.Unauthorized || strings.Contains(err.Error(), bad.AccessToken) {
				t.Fatalf("re-check with a token the provider does not know: %v, want Unauthorized without the token", err)
			}
			if w.provider == "oidc" {
				other := s.Identity
				other.Subject = "u-8"
				if _, err := w.rc.Recheck(t.Context(), other, s.Tokens); errcode.CodeOf(err) != errcode.Unauthorized {
					t.Fatalf("userinfo naming another subject: %v, want Unauthorized", err)
				}
			}
		})
	}
}

// BenchmarkRecheck20Callers measures 20 concurrent callers of one GitHub
// OAuth App session's credential once per RecheckInterval: the token never
// expires, so the only request is the re-check's GET /user, once per
// interval across the callers.
func BenchmarkRecheck20Callers(b *testing.B) {
	p := newPortal(b, auth.Options{SessionDuration: 100 * 365 * 24 * time.Hour})
	fg := githubWorld(b, false, p.clk.Now)
	registerGitHub(b, p, fg)
	c, _, _ := p.signIn(b, "github")
	s := p.sessionOf(b, c)
	var requests int
	for b.Loop() {
		b.StopTimer()
		p.clk.Advance(auth.DefaultRecheckInterval)
		before := fg.Stats().API
		b.StartTimer()
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.UserCredentials()[fg.Host()].Credential(b.Context()); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		requests += fg.Stats().API - before
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

// An OpenID Provider without a userinfo endpoint re-checks a session by
// redeeming its refresh token (one token request, the provider checks
// the user then); a refresh token it no longer takes is Unauthorized,
// naming no token; and without a refresh token the session cannot be
// re-checked (Unimplemented, which ends it).
func TestOIDCRecheckWithoutUserinfo(t *testing.T) {
	p := newPortal(t, auth.Options{})
	op := startOP(t, p, "oidc", authtest.OPOptions{User: authtest.User{Subject: "u-7", Username: "alice"}, NoUserinfoEndpoint: true, ProfileInIDToken: true})
	prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("portal-secret"), MetadataURL: op.Issuer, Scopes: []string{"offline_access"}})
	if err != nil {
		t.Fatal(err)
	}
	p.h.Register("oidc", "development", prov)
	c, resp, body := p.signIn(t, "oidc")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "hello alice") {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
	s := p.sessionOf(t, c)
	if s.Tokens.RefreshToken == "" {
		t.Fatal("the sign-in got no refresh token; the test needs one")
	}

	op.ResetRequests()
	res, err := prov.Recheck(t.Context(), s.Identity, s.Tokens)
	if err != nil {
		t.Fatalf("re-check of a fine session by its refresh token: %v", err)
	}
	if got := op.Requests(); got["/oauth/token"] != 1 || got["/userinfo"] != 0 {
		t.Fatalf("requests of the re-check: %v, want one token request and no userinfo", got)
	}
	if res.Tokens.AccessToken == "" || res.Tokens.AccessToken == s.Tokens.AccessToken {
		t.Fatalf("the re-check's refresh brought no new access token: %+v", res.Tokens)
	}
	if res.Identity.Subject != "" && res.Identity.Subject != "u-7" {
		t.Fatalf("the re-check names %q, want the session's u-7", res.Identity.Subject)
	}

	bad := res.Tokens
	bad.RefreshToken = "not-a-refresh-token-" + s.Tokens.RefreshToken
	_, err = prov.Recheck(t.Context(), s.Identity, bad)
	if errcode.CodeOf(err) != errcode.Unauthorized || strings.Contains(err.Error(), bad.RefreshToken) || strings.Contains(err.Error(), bad.AccessToken) {
		t.Fatalf("re-check with a refresh token the provider refuses: %v, want Unauthorized naming no token", err)
	}

	none := res.Tokens
	none.RefreshToken = ""
	_, err = prov.Recheck(t.Context(), s.Identity, none)
	if errcode.CodeOf(err) != errcode.Unimplemented || strings.Contains(err.Error(), none.AccessToken) {
		t.Fatalf("re-check without userinfo or refresh token: %v, want Unimplemented", err)
	}
}
