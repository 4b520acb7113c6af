package credentials

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// want is what a Resolve should give: a credential's Kind, Source and
// Username, or an error's code and fragments of its message.
type want struct {
	Kind     Kind
	Source   string
	Username string
	Code     errcode.Code
	Msg      []string // fragments of the error message; not compared whole
}

func TestResolveOrder(t *testing.T) {
	gh := newFakeGitHub(t, nil)
	gh.Add(
		apptest.Installation{ID: 42, Login: "acme"},
		apptest.Installation{ID: 43, Login: "selected-co", Selection: "selected", Repos: []string{"widgets"}},
		apptest.Installation{ID: 44, Login: "suspended-co", Suspended: true},
		apptest.Installation{ID: 45, Login: "octocat", Type: "User"},
	)
	bb := newFakeOAuth(t, "consumer-key", "consumer-secret")

	github := func(c integrations.GitHubConfig) integrations.Config {
		c.APIBaseURL = gh.URL
		return integrations.Config{GitHub: []integrations.GitHubConfig{c}}
	}
	pat := secret("ghp_hostwide")
	user := Static(Credential{Kind: KindUser, Token: "ghu_signedin", Source: "user"})
	onlyOther := func(c *integrations.GitHubAppConfig) { c.AllowedInstallationOwners = []string{"other"} }
	public := func(c *integrations.GitHubAppConfig) { c.PublicAccess = true }
	otherKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(otherKey)}))
	wrongKey := func(c *integrations.GitHubAppConfig) { c.PrivateKey = secret(otherPEM) }
	second := func(c *integrations.GitHubAppConfig) { c.AppID = apptest.AppID2 }

	tests := []struct {
		name   string
		config integrations.Config
		opts   *ResolverOptions
		user   Source
		req    Request
		want   want
	}{
		// 1. The user's token.
		{name: "user token first", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()}}),
			user: user, req: Request{Host: "github.com", Owner: "acme"},
			want: want{Kind: KindUser, Source: "user"}},
		{name: "NoUser skips the user token", config: github(integrations.GitHubConfig{Token: pat}),
			user: user, req: Request{Host: "github.com", Owner: "acme", Policy: NoUser},
			want: want{Kind: KindToken, Source: "integrations.github[0].token"}},
		{name: "RequireUser without a user token", config: github(integrations.GitHubConfig{Token: pat}),
			req:  Request{Host: "github.com", Owner: "acme", Write: true, Policy: RequireUser},
			want: want{Code: errcode.Unauthorized, Msg: []string{"a user token is required (RequireUser policy)", "user token: none passed"}}},
		{name: "RequireUserForWrites, write", config: github(integrations.GitHubConfig{Token: pat}), opts: &ResolverOptions{RequireUserForWrites: true},
			req:  Request{Host: "github.com", Owner: "acme", Write: true},
			want: want{Code: errcode.Unauthorized, Msg: []string{"RequireUser"}}},
		{name: "RequireUserForWrites, read", config: github(integrations.GitHubConfig{Token: pat}), opts: &ResolverOptions{RequireUserForWrites: true},
			req:  Request{Host: "github.com", Owner: "acme"},
			want: want{Kind: KindToken, Source: "integrations.github[0].token"}},
		{name: "RequireUser|NoUser is a contradiction", config: github(integrations.GitHubConfig{Token: pat}),
			req:  Request{Host: "github.com", Policy: RequireUser | NoUser},
			want: want{Code: errcode.InvalidArgument}},

		// 2. Apps.
		{name: "app installed for the owner beats the PAT", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()}}),
			req:  Request{Host: "github.com", Owner: "acme", Repo: "widgets"},
			want: want{Kind: KindApp, Source: "integrations.github[0].apps[0] installation 42"}},
		{name: "owner case does not matter", config: github(integrations.GitHubConfig{Apps: []integrations.GitHubAppConfig{app()}}),
			req:  Request{Host: "GitHub.com", Owner: "ACME"},
			want: want{Kind: KindApp, Source: "integrations.github[0].apps[0] installation 42"}},
		{name: "user account installation", config: github(integrations.GitHubConfig{Apps: []integrations.GitHubAppConfig{app()}}),
			req:  Request{Host: "github.com", Owner: "octocat"},
			want: want{Kind: KindApp, Source: "integrations.github[0].apps[0] installation 45"}},
		{name: "apps in config order: first excluded by allowedInstallationOwners", config: github(integrations.GitHubConfig{Apps: []integrations.GitHubAppConfig{app(onlyOther), app(second)}}),
			req:  Request{Host: "github.com", Owner: "acme"},
			want: want{Kind: KindApp, Source: "integrations.github[0].apps[1] installation 100042"}}, // the second app's own installation (apptest.AppID2Offset)
		{name: "app not installed falls back to the PAT", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()}}),
			req:  Request{Host: "github.com", Owner: "nobody"},
			want: want{Kind: KindToken, Source: "integrations.github[0].token"}},
		{name: "owner not allowed falls back to the PAT", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app(onlyOther)}}),
			req:  Request{Host: "github.com", Owner: "acme"},
			want: want{Kind: KindToken, Source: "integrations.github[0].token"}},
		{name: "suspended installation is an error, not a fallback", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()}}),
			req: Request{Host: "github.com", Owner: "suspended-co"},
			want: want{Code: errcode.PermissionDenied, Msg: []string{
				"installation 44 for suspended-co is suspended", "does not fall back to other credentials after an app error"}}},
		{name: "repository outside the selection is an error", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()}}),
			req:  Request{Host: "github.com", Owner: "selected-co", Repo: "secret-plans"},
			want: want{Code: errcode.PermissionDenied, Msg: []string{"secret-plans is not one of them"}}},
		{name: "repository inside the selection", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()}}),
			req:  Request{Host: "github.com", Owner: "selected-co", Repo: "Widgets"},
			want: want{Kind: KindApp, Source: "integrations.github[0].apps[0] installation 43"}},
		{name: "a later app that works wins over an earlier app error", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app(wrongKey, second), app()}}),
			req:  Request{Host: "github.com", Owner: "acme"},
			want: want{Kind: KindApp, Source: "integrations.github[0].apps[1] installation 42"}},
		{name: "an app whose JWT GitHub rejects is an error, not a fallback", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app(wrongKey)}}),
			req:  Request{Host: "github.com", Owner: "acme"},
			want: want{Code: errcode.Unauthorized, Msg: []string{"GitHub rejected the JWT of app 4242 (integrations.github[0].apps[0])", "integrations.github[0].token: not tried"}}},
		{name: "bare host gets the app JWT", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()}}),
			req:  Request{Host: "github.com"},
			want: want{Kind: KindApp, Source: "integrations.github[0].apps[0] jwt"}},
		{name: "API host resolves to its integration", config: github(integrations.GitHubConfig{Host: "ghe.example.com", Token: pat}),
			req:  Request{URL: gh.URL + "/repos/acme/widgets", Owner: "acme"},
			want: want{Kind: KindToken, Source: "integrations.github[0].token"}},

		// 3. Scoped credentials, then the host's token.
		{name: "owner-scoped credential beats the host token", config: github(integrations.GitHubConfig{Token: pat,
			Credentials: []integrations.ScopedCredential{{Owners: []string{"other"}, Token: secret("ghp_other")}, {Owners: []string{"Acme"}, Token: secret("ghp_acme")}}}),
			req:  Request{Host: "github.com", Owner: "acme"},
			want: want{Kind: KindToken, Source: "integrations.github[0].credentials[1]"}},
		{name: "owner-scoped credential for another owner", config: github(integrations.GitHubConfig{Token: pat,
			Credentials: []integrations.ScopedCredential{{Owners: []string{"acme"}, Token: secret("ghp_acme")}}}),
			req:  Request{Host: "github.com", Owner: "initech"},
			want: want{Kind: KindToken, Source: "integrations.github[0].token"}},
		{name: "an installed app beats a scoped credential", config: github(integrations.GitHubConfig{Apps: []integrations.GitHubAppConfig{app()},
			Credentials: []integrations.ScopedCredential{{Owners: []string{"acme"}, Token: secret("ghp_acme")}}}),
			req:  Request{Host: "github.com", Owner: "acme"},
			want: want{Kind: KindApp, Source: "integrations.github[0].apps[0] installation 42"}},
		{name: "GitLab: the nearest parent group's credential", config: integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4", Token: secret("glpat-host"),
			Credentials: []integrations.ScopedCredential{{Owners: []string{"acme"}, Token: secret("glpat-acme")}, {Owners: []string{"acme/platform"}, Token: secret("glpat-platform")}}}}},
			req:  Request{Host: "gitlab.example.com", Owner: "acme/platform/team"},
			want: want{Kind: KindToken, Source: "integrations.gitlab[0].credentials[1]"}},
		{name: "GitLab: a group's credential does not cover a sibling", config: integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4", Token: secret("glpat-host"),
			Credentials: []integrations.ScopedCredential{{Owners: []string{"acme/platform"}, Token: secret("glpat-platform")}}}}},
			req:  Request{Host: "gitlab.example.com", Owner: "acme/platformer"},
			want: want{Kind: KindToken, Source: "integrations.gitlab[0].token"}},
		{name: "Bitbucket Cloud OAuth consumer is the app credential", config: integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
			ClientID: "consumer-key", ClientSecret: secret("consumer-secret"), TokenURL: bb.URL, Username: "me@example.com", Token: secret("ATATT-api")}}},
			req:  Request{Host: "bitbucket.org", Owner: "acme"},
			want: want{Kind: KindApp, Source: "integrations.bitbucketCloud[0] oauth consumer"}},
		{name: "Bitbucket Cloud API token is Basic", config: integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{Username: "me@example.com", Token: secret("ATATT-api")}}},
			req:  Request{URL: "https://api.bitbucket.org/2.0/repositories/acme/widgets", Owner: "acme"},
			want: want{Kind: KindToken, Source: "integrations.bitbucketCloud[0].token", Username: "me@example.com"}},
		{name: "Bitbucket Cloud access token is Bearer", config: integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{Token: secret("ATCTT-access")}}},
			req:  Request{Host: "bitbucket.org", Owner: "acme"},
			want: want{Kind: KindToken, Source: "integrations.bitbucketCloud[0].token"}},
		{name: "Bitbucket Cloud app password (legacy)", config: integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{Username: "me", AppPassword: secret("app-pass")}}},
			req:  Request{Host: "bitbucket.org", Owner: "acme"},
			want: want{Kind: KindToken, Source: "integrations.bitbucketCloud[0].appPassword", Username: "me"}},
		{name: "Bitbucket Server token wins over the password", config: integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: "bb.example.com", Token: secret("BBDC-token"), Username: "svc", Password: secret("pw")}}},
			req:  Request{Host: "bb.example.com", Owner: "PROJ"},
			want: want{Kind: KindToken, Source: "integrations.bitbucketServer[0].token"}},
		{name: "Bitbucket Server username and password", config: integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: "bb.example.com", Username: "svc", Password: secret("pw")}}},
			req:  Request{Host: "bb.example.com", Owner: "PROJ"},
			want: want{Kind: KindToken, Source: "integrations.bitbucketServer[0].password", Username: "svc"}},
		{name: "Bitbucket Server project keys are case-insensitive", config: integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: "bb.example.com",
			Credentials: []integrations.ScopedCredential{{Owners: []string{"proj"}, Username: "svc", Password: secret("pw")}}}}},
			req:  Request{Host: "bb.example.com", Owner: "PROJ"},
			want: want{Kind: KindToken, Source: "integrations.bitbucketServer[0].credentials[0]", Username: "svc"}},

		// 4. publicAccess.
		{name: "publicAccess app token for a read", config: github(integrations.GitHubConfig{Apps: []integrations.GitHubAppConfig{app(public)}}),
			req:  Request{Host: "github.com", Owner: "nobody", Repo: "public-repo"},
			want: want{Kind: KindApp, Source: "integrations.github[0].apps[0] installation 42 (publicAccess)"}},
		{name: "publicAccess is not for writes", config: github(integrations.GitHubConfig{Apps: []integrations.GitHubAppConfig{app(public)}}),
			req:  Request{Host: "github.com", Owner: "nobody", Write: true},
			want: want{Code: errcode.Unauthorized, Msg: []string{"is not installed for owner nobody", "anonymous: not for writes"}}},
		{name: "a failing publicAccess app is an error, not anonymous", config: github(integrations.GitHubConfig{Apps: []integrations.GitHubAppConfig{app(public, onlyOther, wrongKey)}}),
			req:  Request{Host: "github.com", Owner: "acme"},
			want: want{Code: errcode.Unauthorized, Msg: []string{"may not be used for owner acme", "GitHub rejected the JWT", "GET /app/installations"}}},
		{name: "the PAT comes before publicAccess", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app(public)}}),
			req:  Request{Host: "github.com", Owner: "nobody"},
			want: want{Kind: KindToken, Source: "integrations.github[0].token"}},

		// 5. Anonymous.
		{name: "anonymous read where nothing is configured", config: integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4"}}},
			req:  Request{Host: "gitlab.example.com", Owner: "acme"},
			want: want{Kind: KindAnonymous, Source: "anonymous (no credential for gitlab.example.com)"}},
		{name: "no anonymous writes", config: integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4"}}},
			req: Request{Host: "gitlab.example.com", Owner: "acme", Write: true},
			want: want{Code: errcode.Unauthorized, Msg: []string{
				"no usable credential for owner acme (write)", "user token: none passed", "integrations.gitlab[0].token: not configured", "anonymous: not for writes"}}},
		{name: "NoAnonymous policy", config: integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4"}}},
			req:  Request{Host: "gitlab.example.com", Owner: "acme", Policy: NoAnonymous},
			want: want{Code: errcode.Unauthorized, Msg: []string{"anonymous: not allowed (NoAnonymous policy)"}}},
		{name: "NoAnonymous option", config: integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4"}}}, opts: &ResolverOptions{NoAnonymous: true},
			req:  Request{Host: "gitlab.example.com", Owner: "acme"},
			want: want{Code: errcode.Unauthorized}},
		{name: "host with no integration is refused", config: github(integrations.GitHubConfig{Token: pat}),
			req:  Request{URL: "https://evil.example.com/acme/widgets"},
			want: want{Code: errcode.PermissionDenied, Msg: []string{"no integration is configured for host evil.example.com", "backend.reading.allow"}}},
		{name: "host with no integration, allowed for anonymous reading", config: github(integrations.GitHubConfig{Token: pat}),
			opts: &ResolverOptions{AllowAnonymous: func(u string) bool { return strings.HasPrefix(u, "https://docs.example.com/") }},
			req:  Request{URL: "https://docs.example.com/catalog-info.yaml"},
			want: want{Kind: KindAnonymous, Source: "anonymous (backend.reading.allow)"}},
		{name: "host with no integration, allowed, but a write", config: github(integrations.GitHubConfig{Token: pat}),
			opts: &ResolverOptions{AllowAnonymous: func(string) bool { return true }},
			req:  Request{URL: "https://docs.example.com/x", Write: true},
			want: want{Code: errcode.PermissionDenied, Msg: []string{"writes need an integration"}}},
		{name: "no host at all", config: github(integrations.GitHubConfig{Token: pat}),
			req:  Request{Owner: "acme"},
			want: want{Code: errcode.InvalidArgument}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tableResolver(t, tt.config, tt.opts)
			req := tt.req
			if tt.user != nil {
				req.User = tt.user
			}
			c, err := r.Resolve(t.Context(), req)
			var got want
			if err != nil {
				got.Code = errcode.CodeOf(err)
				var e *errcode.Error
				if !errors.As(err, &e) {
					t.Errorf("error %T is not an *errcode.Error", err)
				}
				for _, frag := range tt.want.Msg {
					if !strings.Contains(err.Error(), frag) {
						t.Errorf("error %q does not contain %q", err, frag)
					}
				}
				mustNotContain(t, "error", err.Error(), "ghp_", "glpat-", "ATATT", "ATCTT", "BBDC-", "consumer-secret", "ghs_", "ghu_", "PRIVATE KEY")
			} else {
				got = want{Kind: c.Kind, Source: c.Source, Username: c.Username}
				if c.Kind != KindAnonymous && c.Token == "" {
					t.Errorf("credential %v has no token", c)
				}
			}
			wantCmp := tt.want
			wantCmp.Msg = nil
			if diff := cmp.Diff(wantCmp, got); diff != "" {
				t.Errorf("Resolve(%v) (-want +got):\n%s\nerror: %v", req, diff, err)
			}
		})
	}
}

func TestResolveErrorListsEveryCandidate(t *testing.T) {
	gh := newFakeGitHub(t, nil)
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{APIBaseURL: gh.URL, Apps: []integrations.GitHubAppConfig{
		app(func(c *integrations.GitHubAppConfig) { c.AllowedInstallationOwners = []string{"initech"} }),
		app(func(c *integrations.GitHubAppConfig) { c.AppID = apptest.AppID2 }),
	}}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(t.Context(), Request{Host: "github.com", Owner: "acme", Repo: "widgets", Write: true})
	const wantMsg = "credentials.Resolve github github.com: no usable credential for owner acme, repository widgets (write); tried: " +
		"user token: none passed; " +
		"app 4242 (integrations.github[0].apps[0]) may not be used for owner acme: it is not in allowedInstallationOwners; " +
		"app 4343 (integrations.github[0].apps[1]) is not installed for owner acme; install it on acme, or configure another credential for it; " +
		"integrations.github[0].token: not configured; " +
		"anonymous: not for writes (Unauthorized)"
	if err == nil || err.Error() != wantMsg {
		t.Errorf("Resolve error =\n%v\nwant\n%s", err, wantMsg)
	}
}

func TestResolveAppErrorKeepsItsCause(t *testing.T) {
	gh := newFakeGitHub(t, nil)
	gh.Add(apptest.Installation{ID: 44, Login: "suspended-co", Suspended: true})
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{APIBaseURL: gh.URL, Token: secret("ghp_x"), Apps: []integrations.GitHubAppConfig{app()}}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(t.Context(), Request{Host: "github.com", Owner: "suspended-co"})
	if !errors.Is(err, githubapp.ErrSuspended) || !errors.Is(err, errcode.ErrPermissionDenied) {
		t.Errorf("Resolve = %v; want it to match githubapp.ErrSuspended and ErrPermissionDenied", err)
	}
}

func TestResolveUserSourceErrorIsReturned(t *testing.T) {
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{Token: secret("ghp_x")}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	failing := SourceFunc(func(context.Context) (*Credential, error) {
		return nil, errcode.New(errcode.Unauthorized, "test", "refresh token revoked")
	})
	_, err = r.Resolve(t.Context(), Request{Host: "github.com", User: failing})
	if errcode.CodeOf(err) != errcode.Unauthorized || !strings.Contains(err.Error(), "refresh token revoked") {
		t.Errorf("Resolve = %v; want the user source's Unauthorized error, not a fallback to the PAT", err)
	}
}

func TestResolveBadPrivateKey(t *testing.T) {
	// integrations.NewRegistry rejects such a key already; the resolver
	// checks again rather than fail on first use. Build the integration by
	// hand to get past the registry.
	gh := integrations.GitHubConfig{Host: "github.com", APIBaseURL: "https://api.github.com", Apps: []integrations.GitHubAppConfig{
		{AppID: 1, PrivateKey: secret("-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END RSA PRIVATE KEY-----")},
	}}
	list := []*integrations.Integration{{Kind: integrations.GitHub, Host: "github.com", APIBaseURL: gh.APIBaseURL,
		BaseURL: "https://github.com", ConfigPath: "integrations.github[0]", GitHub: &gh}}
	_, err := newResolver(list, nil, nil)
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "integrations.github[0].apps[0].privateKey") {
		t.Fatalf("newResolver = %v; want InvalidArgument naming integrations.github[0].apps[0].privateKey", err)
	}
	mustNotContain(t, "error", err.Error(), "c2VjcmV0LWtleQ")
}

func TestResolveCanceled(t *testing.T) {
	r, err := newResolver(testIntegrations(integrations.Config{GitHub: []integrations.GitHubConfig{{Token: secret("ghp_x")}}}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Resolve(ctx, Request{Host: "github.com"}); errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("Resolve with a cancelled context = %v; want Canceled", err)
	}
}

func TestNewResolverFromRegistry(t *testing.T) {
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "github.com", Token: secret("ghp_x")}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"github.com", "api.github.com", "raw.githubusercontent.com"} {
		c, err := r.Resolve(t.Context(), Request{Host: host, Owner: "acme"})
		if err != nil || c.Source != "integrations.github[0].token" {
			t.Errorf("Resolve(%s) = %v, %v; want integrations.github[0].token", host, c, err)
		}
	}
	if r.Owns("codeload.github.com") {
		t.Errorf("Owns(codeload.github.com) = true; want false")
	}
	// A nil registry knows the public hosts, with no credentials.
	r, err = NewResolver(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "acme"}); err != nil || c.Kind != KindAnonymous {
		t.Errorf("Resolve on the zero registry = %v, %v; want anonymous", c, err)
	}
}

func TestNewResolverUsesReadingAllow(t *testing.T) {
	reg, err := integrations.NewRegistry(integrations.Config{ReadingAllow: []integrations.ReadingAllow{{Host: "docs.example.com", Paths: []string{"/public"}}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Resolve(t.Context(), Request{URL: "https://docs.example.com/public/catalog-info.yaml"})
	if err != nil || c.Kind != KindAnonymous || c.Source != "anonymous (backend.reading.allow)" {
		t.Errorf("Resolve(allowed URL) = %v, %v; want anonymous (backend.reading.allow)", c, err)
	}
	for _, u := range []string{"https://docs.example.com/private/x.yaml", "https://other.example.com/public/x.yaml"} {
		if _, err := r.Resolve(t.Context(), Request{URL: u}); errcode.CodeOf(err) != errcode.PermissionDenied {
			t.Errorf("Resolve(%s) = %v; want PermissionDenied", u, err)
		}
	}
}

func TestInvalidateRoutesToTheCache(t *testing.T) {
	gh := newFakeGitHub(t, nil)
	gh.Add(apptest.Installation{ID: 42, Login: "acme"})
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{APIBaseURL: gh.URL, Token: secret("ghp_x"), Apps: []integrations.GitHubAppConfig{app()}}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Host: "github.com", Owner: "acme"}
	first, err := r.Resolve(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Invalidate(req, first) {
		t.Fatalf("Invalidate(app credential) = false; want true")
	}
	second, err := r.Resolve(t.Context(), req)
	if err != nil || second.Token == first.Token {
		t.Fatalf("Resolve after Invalidate = %v, %v; want a new token", second, err)
	}
	if r.Invalidate(req, &Credential{Kind: KindToken, Token: "ghp_x"}) {
		t.Errorf("Invalidate(configured token) = true; want false")
	}
}

// TestResolveNeverUsesOneIntegrationsCredentialForAnother: a Request whose
// URL is on another integration than its Host is refused before the user
// source is asked.
func TestResolveNeverUsesOneIntegrationsCredentialForAnother(t *testing.T) {
	r, a, b := twoGitHubs(t)
	tests := []struct {
		name      string
		url       string
		wantCode  errcode.Code
		wantToken string
	}{
		{"URL on Host's own API host", a.URL + "/repos/acme/widgets", errcode.OK, "ghu_alice"},
		{"URL on another integration", b.URL + "/repos/acme/widgets", errcode.InvalidArgument, ""},
		{"URL on no integration", "https://elsewhere.example.net/x", errcode.InvalidArgument, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := &userCounter{token: "ghu_alice"}
			c, err := r.Resolve(t.Context(), Request{Host: "gha.example.com", URL: tt.url, Owner: "acme", User: user})
			if got := errcode.CodeOf(err); got != tt.wantCode {
				t.Fatalf("Resolve = %v, %v; want code %v", c, err, tt.wantCode)
			}
			if err != nil {
				if n := user.calls.Load(); n != 0 {
					t.Errorf("the user source was asked %d times; want 0", n)
				}
				if !strings.Contains(err.Error(), "is not a host of the integration for gha.example.com") {
					t.Errorf("error %q does not say why", err)
				}
				return
			}
			if c.Token != tt.wantToken {
				t.Errorf("Resolve = %v; want the user's token", c)
			}
		})
	}
}
