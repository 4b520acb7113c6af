package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// postRegister posts the register form as the browser c.
func postRegister(t *testing.T, p *portal, c *http.Client, origin, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/register", strings.NewReader(url.Values{"url": {u}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// signInGitHub signs login in with GitHub in a fresh browser.
func signInGitHub(t *testing.T, p *portal, login, name string) *http.Client {
	t.Helper()
	p.world.github.SetOAuthUser(fakegithub.OAuthUser{Login: login, Name: name, Email: login + "@example.com"})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if code, body := get(t, c, p.URL+"/api/auth/github/start?flow=redirect&redirectUrl=/"); code != 200 || !strings.Contains(body, "Signed in as "+login) {
		t.Fatalf("%s's sign-in: %d %s", login, code, body)
	}
	return c
}

// TestPortalPolicy: only members of group:default/platform-team (alice,
// bob; the org read from the fake GitHub) may register a component; frank
// (in no team) and carol (in web) are refused with 403, and their refused
// attempts read nothing and register nothing. Every SCM call of the
// portal is audited with the acting user and credential.
func TestPortalPolicy(t *testing.T) {
	p := startPortal(t)
	target := p.app.repo + "/blob/HEAD/catalog-info.yaml"

	cases := []struct {
		login, name string
		allowed     bool
	}{
		{"frank", "Frank", false},
		{"carol", "Carol", false},
		{"alice", "Alice Liddell", true},
		{"bob", "Bob", true},
	}
	for _, tc := range cases {
		c := signInGitHub(t, p, tc.login, tc.name)
		code, body := get(t, c, p.URL+"/register")
		if code != 200 || !strings.Contains(body, "user:default/"+tc.login) {
			t.Fatalf("%s: register page %d %s", tc.login, code, body)
		}
		before, requests := p.app.locations.list(), len(p.world.github.Requests())
		events := len(p.app.audit.recent())
		code, body = postRegister(t, p, c, p.URL, target)
		switch {
		case tc.allowed && (code != 200 || !strings.Contains(body, `class="location"`)):
			t.Errorf("%s (member): register %d %s", tc.login, code, body)
		case !tc.allowed && (code != http.StatusForbidden || !strings.Contains(body, "not allowed")):
			t.Errorf("%s (non-member): register %d %s", tc.login, code, body)
		case !tc.allowed:
			if after := p.app.locations.list(); len(after) != len(before) {
				t.Errorf("%s's refused attempt registered %v", tc.login, after)
			}
			if n := len(p.world.github.Requests()) - requests; n != 0 {
				t.Errorf("%s's refused attempt made %d requests to GitHub", tc.login, n)
			}
			if n := len(p.app.audit.recent()) - events; n != 0 {
				t.Errorf("%s's refused attempt made %d SCM calls", tc.login, n)
			}
		}
		if tc.allowed {
			ev := p.app.audit.recent()
			if len(ev) == events {
				t.Fatalf("%s's registration made no audited SCM call", tc.login)
			}
			e := ev[len(ev)-1]
			if e.Op != "scm.ReadFile" || e.User != "user:default/"+tc.login || e.Credential != credentials.KindUser ||
				!strings.Contains(e.CredentialSource, tc.login) {
				t.Errorf("%s's audit event: %v", tc.login, e)
			}
		}
		// A cross-site post is refused whoever she is.
		if code, _ := postRegister(t, p, c, "https://evil.example", target+"?x"); code != http.StatusForbidden {
			t.Errorf("%s: cross-site register answered %d", tc.login, code)
		}
	}
	if got := p.app.locations.list(); len(got) != 1 || got[0] != target {
		t.Errorf("registered locations %v; want [%s] once", got, target)
	}
}

// TestPortalRefusesUsersOutsideTheCatalog: a GitHub user who is not in the
// organisation gets no greeting (no resolver maps her to a catalog user:
// the sign-in answers NotAllowedError), and the register action refuses
// her with 403 and changes nothing. (auth still keeps the session it
// stored before the hook refused; the portal's server-side check does not
// depend on it.)
func TestPortalRefusesUsersOutsideTheCatalog(t *testing.T) {
	p := startPortal(t)
	p.world.github.SetOAuthUser(fakegithub.OAuthUser{Login: "mallory", Name: "Mallory", Email: "mallory@example.com"})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if _, body := get(t, c, p.URL+"/api/auth/github/start?flow=redirect&redirectUrl=/"); strings.Contains(body, "Signed in as") {
		t.Fatalf("mallory signed in: %s", body)
	}
	if code, body := postRegister(t, p, c, p.URL, p.app.repo+"/blob/HEAD/catalog-info.yaml"); code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Errorf("mallory's register: %d %s", code, body)
	}
	if got := p.app.locations.list(); len(got) != 0 {
		t.Errorf("locations %v", got)
	}
}

// TestPortalTwoOrgProviders (review 29, point 1): a second githubOrg
// entry, for an organisation frank created, has a team also named
// platform-team with frank in it; both entries put their entities in
// namespace default. The portal combines the providers with org.Merge:
// it starts, acme's platform-team keeps its members, and frank may not
// register components (appending the snapshots, as the portal did, made
// him a member of platform-team through the partner's team; the portal
// then refused to start, and a copy of it without its Validate call
// granted him the role).
func TestPortalTwoOrgProviders(t *testing.T) {
	seed := func(w *world) (string, error) {
		if err := w.github.AddOrgMember("frankcorp", fakegithub.OrgMember{Login: "frank", Name: "Frank"}); err != nil {
			return "", err
		}
		if err := w.github.AddTeam("frankcorp", fakegithub.Team{Slug: "platform-team", Members: []string{"frank"}}); err != nil {
			return "", err
		}
		return "      - id: partner\n        githubUrl: " + w.github.URL() + "\n        orgs: [frankcorp]\n", nil
	}
	p, err := start(t.Context(), options{addr: "127.0.0.1:0", seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if p.app.access.org.Group(org.GroupRef("", "platform-team")) == nil {
		t.Fatal("no platform-team in the merged organisation")
	}
	// The warning names the providers (Snapshot.Source), not positions.
	want := "group:default/platform-team: in githubOrg:fake-github and githubOrg:partner"
	if !slices.ContainsFunc(p.app.warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
		t.Errorf("no warning %q in %q", want, p.app.warnings)
	}
	target := p.app.repo + "/blob/HEAD/catalog-info.yaml"
	frank := signInGitHub(t, p, "frank", "Frank")
	if code, body := postRegister(t, p, frank, p.URL, target); code != http.StatusForbidden {
		t.Errorf("frank, in the partner's platform-team only: register %d %s", code, body)
	}
	alice := signInGitHub(t, p, "alice", "Alice Liddell")
	if code, body := postRegister(t, p, alice, p.URL, target); code != 200 || !strings.Contains(body, `class="location"`) {
		t.Errorf("alice, in acme's platform-team: register %d %s", code, body)
	}
}
