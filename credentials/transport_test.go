package credentials

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// recorder is a server that records the Authorization header and body of
// every request it gets.
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	auths  []string
	bodies []string
	handle func(w http.ResponseWriter, r *http.Request) // nil: 200 "ok"
}

func newRecorder(t testing.TB, handle func(w http.ResponseWriter, r *http.Request)) *recorder {
	rec := &recorder{handle: handle}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.auths = append(rec.auths, r.Header.Get("Authorization"))
		rec.bodies = append(rec.bodies, string(body))
		rec.mu.Unlock()
		if rec.handle != nil {
			rec.handle(w, r)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) Auths() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.auths...)
}

func (rec *recorder) Bodies() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.bodies...)
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func get(t *testing.T, client *http.Client, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestTransportSchemePerProvider(t *testing.T) {
	tests := []struct {
		name   string
		config func(api string) integrations.Config
		user   Source
		want   string
	}{
		{"GitHub token: Bearer", func(api string) integrations.Config {
			return integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "ghe.example.com", APIBaseURL: api, Token: secret("ghp_pat")}}}
		}, nil, "Bearer ghp_pat"},
		{"GitLab token: Bearer", func(api string) integrations.Config {
			return integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: api, Token: secret("glpat-x")}}}
		}, nil, "Bearer glpat-x"},
		{"Bitbucket Cloud API token: Basic email:token", func(api string) integrations.Config {
			return integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{APIBaseURL: api, Username: "me@example.com", Token: secret("ATATT-api")}}}
		}, nil, basic("me@example.com", "ATATT-api")},
		{"Bitbucket Cloud access token: Bearer", func(api string) integrations.Config {
			return integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{APIBaseURL: api, Token: secret("ATCTT-access")}}}
		}, nil, "Bearer ATCTT-access"},
		{"Bitbucket Server token: Bearer", func(api string) integrations.Config {
			return integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: "bb.example.com", APIBaseURL: api, Token: secret("BBDC-x")}}}
		}, nil, "Bearer BBDC-x"},
		{"Bitbucket Server password: Basic", func(api string) integrations.Config {
			return integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: "bb.example.com", APIBaseURL: api, Username: "svc", Password: secret("pw")}}}
		}, nil, basic("svc", "pw")},
		{"user token: Bearer", func(api string) integrations.Config {
			return integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: api, Token: secret("glpat-x")}}}
		}, Static(Credential{Kind: KindUser, Token: "gloas-user"}), "Bearer gloas-user"},
		{"nothing configured: anonymous", func(api string) integrations.Config {
			return integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: api}}}
		}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newRecorder(t, nil)
			r, err := newResolver(testIntegrations(tt.config(api.URL)), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			// A template with a User must name its host: the integration's.
			var host string
			if tt.user != nil {
				u, _ := url.Parse(api.URL)
				host = r.state(u.Host).in.Host
			}
			client := &http.Client{Transport: &Transport{Resolver: r, Request: Request{Host: host, Owner: "acme", User: tt.user}}}
			get(t, client, api.URL+"/some/endpoint")
			if got := api.Auths(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("Authorization = %q; want %q", got, tt.want)
			}
		})
	}
}

// githubWithAPI is a fake GitHub whose App endpoints are fakegithub's and
// whose other endpoints are api.
func githubWithAPI(t *testing.T, api func(w http.ResponseWriter, r *http.Request)) *apptest.Server {
	gh := newFakeGitHub(t, nil)
	gh.Add(apptest.Installation{ID: 42, Login: "acme"})
	gh.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/app/") || strings.HasSuffix(r.URL.Path, "/installation") {
			return false
		}
		api(w, r)
		return true
	})
	return gh
}

func TestTransportCrossHostRedirectCarriesNoAuthorization(t *testing.T) {
	codeload := newRecorder(t, nil) // no integration owns it
	gitlab := newRecorder(t, nil)   // another integration's host
	raw := newRecorder(t, nil)      // the GitHub integration's raw host
	var ghAuths []string
	var mu sync.Mutex
	gh := githubWithAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ghAuths = append(ghAuths, r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.URL.Path {
		case "/repos/acme/widgets/tarball/main": // as GitHub does: 302 to codeload
			http.Redirect(w, r, codeload.URL+"/acme/widgets/legacy.tar.gz/refs/heads/main", http.StatusFound)
		case "/to-gitlab":
			http.Redirect(w, r, gitlab.URL+"/api/v4/projects", http.StatusFound)
		case "/to-raw":
			http.Redirect(w, r, raw.URL+"/acme/widgets/main/catalog-info.yaml", http.StatusFound)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	cfg := integrations.Config{
		GitHub: []integrations.GitHubConfig{{APIBaseURL: gh.URL, RawBaseURL: raw.URL, Token: secret("ghp_pat"), Apps: []integrations.GitHubAppConfig{app()}}},
		GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: gitlab.URL, Token: secret("glpat-x")}},
	}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &Transport{Resolver: r, Request: Request{Owner: "acme", Repo: "widgets"}}}

	resp := get(t, client, gh.URL+"/repos/acme/widgets/tarball/main")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Host != strings.TrimPrefix(codeload.URL, "http://") {
		t.Fatalf("tarball: %s from %s; want 200 from codeload", resp.Status, resp.Request.URL)
	}
	get(t, client, gh.URL+"/to-gitlab")
	get(t, client, gh.URL+"/to-raw")

	if got := codeload.Auths(); len(got) != 1 || got[0] != "" {
		t.Errorf("codeload got Authorization %q; want none", got)
	}
	if got := gitlab.Auths(); len(got) != 1 || got[0] != "" {
		t.Errorf("another integration's host, reached by a redirect, got Authorization %q; want none", got)
	}
	if got := raw.Auths(); len(got) != 1 || !strings.HasPrefix(got[0], "Bearer ghs_") {
		t.Errorf("the integration's own raw host got Authorization %q; want the app token", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range ghAuths {
		if !strings.HasPrefix(a, "Bearer ghs_") {
			t.Errorf("the API host got Authorization %q; want the installation token", a)
		}
	}
}

func TestTransportLeavesOtherRequestsAlone(t *testing.T) {
	api := newRecorder(t, nil)
	foreign := newRecorder(t, nil)
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: api.URL, Token: secret("glpat-x")}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &Transport{Resolver: r}}
	get(t, client, foreign.URL+"/x") // no integration: sent as it is, no error
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, api.URL+"/y", nil)
	req.Header.Set("Authorization", "Bearer caller-chosen")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := foreign.Auths(); len(got) != 1 || got[0] != "" {
		t.Errorf("a host with no integration got Authorization %q; want none", got)
	}
	if got := api.Auths(); len(got) != 1 || got[0] != "Bearer caller-chosen" {
		t.Errorf("a request with its own Authorization was changed to %q", got)
	}
	if req.Header.Get("Authorization") != "Bearer caller-chosen" {
		t.Errorf("the caller's request was modified")
	}
}

func TestTransportRetriesOnceAfter401(t *testing.T) {
	var mu sync.Mutex
	revoked := map[string]bool{}
	var apiAuths []string
	alwaysReject := false
	gh := githubWithAPI(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a := r.Header.Get("Authorization")
		mu.Lock()
		defer mu.Unlock()
		apiAuths = append(apiAuths, a+" "+string(body))
		if alwaysReject || revoked[a] {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message":"Bad credentials"}`))
			return
		}
		w.Write([]byte("ok"))
	})
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{APIBaseURL: gh.URL, Token: secret("ghp_pat"), Apps: []integrations.GitHubAppConfig{app()}}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := Request{Owner: "acme", Repo: "widgets", Write: true}
	client := &http.Client{Transport: &Transport{Resolver: r, Request: tmpl}}
	first, err := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	revoked["Bearer "+first.Token] = true
	mu.Unlock()

	// A POST with a replayable body: rejected, re-minted, replayed once.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, gh.URL+"/repos/acme/widgets/pulls", strings.NewReader(`{"title":"x"}`))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d; want 200 after the retry", resp.StatusCode)
	}
	mu.Lock()
	got := append([]string(nil), apiAuths...)
	mu.Unlock()
	if len(got) != 2 || !strings.HasSuffix(got[0], `{"title":"x"}`) || !strings.HasSuffix(got[1], `{"title":"x"}`) || got[0] == got[1] {
		t.Errorf("API requests = %q; want the rejected token, then a new one, both with the body", got)
	}
	if n := gh.Count("POST /app/installations/42/access_tokens"); n != 2 {
		t.Errorf("mints = %d; want 2", n)
	}

	// Still rejected: exactly one retry, then the 401.
	mu.Lock()
	alwaysReject, apiAuths = true, nil
	mu.Unlock()
	resp = get(t, client, gh.URL+"/repos/acme/widgets")
	mu.Lock()
	n := len(apiAuths)
	mu.Unlock()
	if resp.StatusCode != http.StatusUnauthorized || n != 2 {
		t.Errorf("always-401: status %d after %d requests; want 401 after 2", resp.StatusCode, n)
	}

	// A body that cannot be replayed: no retry.
	mu.Lock()
	apiAuths = nil
	mu.Unlock()
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, gh.URL+"/repos/acme/widgets/pulls", io.MultiReader(strings.NewReader("stream")))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	n = len(apiAuths)
	mu.Unlock()
	if resp.StatusCode != http.StatusUnauthorized || n != 1 {
		t.Errorf("unreplayable body: status %d after %d requests; want 401 after 1", resp.StatusCode, n)
	}
}

func TestTransportDoesNotRetryAConfiguredToken(t *testing.T) {
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: api.URL, Token: secret("glpat-x")}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := get(t, &http.Client{Transport: &Transport{Resolver: r}}, api.URL+"/x")
	if resp.StatusCode != http.StatusUnauthorized || len(api.Auths()) != 1 {
		t.Errorf("status %d after %d requests; want 401 after 1", resp.StatusCode, len(api.Auths()))
	}
}

func TestTransportRetriesAUserTokenAfterRefresh(t *testing.T) {
	f := newFakeOAuth(t, "", "")
	f.refresh["ghr_1"] = true
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer ghu_revoked" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: api.URL}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	user := UserSource(userConfig(f), &oauth2.Token{AccessToken: "ghu_revoked", RefreshToken: "ghr_1", Expiry: time.Now().Add(time.Hour)}, nil)
	resp := get(t, &http.Client{Transport: &Transport{Resolver: r, Request: Request{Host: "gitlab.example.com", User: user}}}, api.URL+"/x")
	if got := api.Auths(); resp.StatusCode != http.StatusOK || len(got) != 2 || got[1] != "Bearer ghu_user1" {
		t.Errorf("status %d, Authorization %q; want 200 after one retry with the refreshed token", resp.StatusCode, got)
	}
}

type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestTransportResolveErrorClosesTheBody(t *testing.T) {
	api := newRecorder(t, nil)
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: api.URL, Token: secret("glpat-x")}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := &closeTracker{Reader: bytes.NewReader([]byte("payload"))}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, api.URL+"/x", body)
	client := &http.Client{Transport: &Transport{Resolver: r, Request: Request{Write: true, Policy: RequireUser}}}
	_, err = client.Do(req)
	var e *errcode.Error
	if !errors.As(err, &e) || e.Code != errcode.Unauthorized {
		t.Fatalf("Do = %v; want an Unauthorized *errcode.Error", err)
	}
	if !body.closed {
		t.Errorf("request body not closed")
	}
	if len(api.Auths()) != 0 {
		t.Errorf("the request was sent")
	}
	mustNotContain(t, "error", err.Error(), "glpat-x")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransportNoCredentialOverPlainHTTP(t *testing.T) {
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4", Token: secret("glpat-x")}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		got = append(got, req.URL.Scheme+" "+req.Header.Get("Authorization"))
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
	})
	client := &http.Client{Transport: &Transport{Base: base, Resolver: r}}
	for _, u := range []string{"https://gitlab.example.com/api/v4/projects", "http://gitlab.example.com/api/v4/projects"} {
		get(t, client, u)
	}
	want := []string{"https Bearer glpat-x", "http "}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("requests = %q; want %q", got, want)
	}
}

// userCounter is a user Source that counts its calls.
type userCounter struct {
	token string
	calls atomic.Int32
}

func (c *userCounter) Credential(context.Context) (*Credential, error) {
	c.calls.Add(1)
	return &Credential{Kind: KindUser, Token: c.token, Source: "user"}, nil
}

// twoGitHubs is a resolver for two GitHub integrations, A and B, whose API
// hosts are the recorders a and b, each with its own token.
func twoGitHubs(t *testing.T) (r *Resolver, a, b *recorder) {
	t.Helper()
	a, b = newRecorder(t, nil), newRecorder(t, nil)
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{
		{Host: "gha.example.com", APIBaseURL: a.URL, Token: secret("ghp_a_token")},
		{Host: "ghb.example.com", APIBaseURL: b.URL, Token: secret("ghp_b_token")},
	}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, a, b
}

// TestTransportNoCredentialToAnotherIntegration: a Transport made for A
// sends nothing to B's host, neither the user's token for A nor B's own
// token, when a driver builds a request for B itself (as it does when it
// follows a Location by hand).
func TestTransportNoCredentialToAnotherIntegration(t *testing.T) {
	tests := []struct {
		name  string
		user  *userCounter
		wantA string
	}{
		{"with a user token", &userCounter{token: "ghu_alice_for_a"}, "Bearer ghu_alice_for_a"},
		{"without a user token", nil, "Bearer ghp_a_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, a, b := twoGitHubs(t)
			req := Request{Host: "gha.example.com", Owner: "acme", Repo: "widgets"}
			if tt.user != nil {
				req.User = tt.user
			}
			client := &http.Client{Transport: &Transport{Resolver: r, Request: req}}
			get(t, client, a.URL+"/repos/acme/widgets/tarball/main")
			get(t, client, b.URL+"/repos/acme/widgets/contents/x")
			if got := a.Auths(); len(got) != 1 || got[0] != tt.wantA {
				t.Errorf("A's API host got Authorization %q; want %q", got, tt.wantA)
			}
			if got := b.Auths(); len(got) != 1 || got[0] != "" {
				t.Errorf("B's API host, reached through A's Transport, got Authorization %q; want none", got)
			}
			if tt.user != nil {
				if n := tt.user.calls.Load(); n != 1 {
					t.Errorf("the user source was asked %d times; want 1 (for A only)", n)
				}
			}
		})
	}
}

// TestTransportKeepsATokenNotPermitted: Bitbucket Data Center answers 401
// with an AuthorisationException to a good credential without the
// permission: the user's token is not dropped and refreshed (which would
// rotate its refresh token for nothing), and the answer reaches the caller
// whole.
func TestTransportKeepsATokenNotPermitted(t *testing.T) {
	f := newFakeOAuth(t, "", "")
	f.refresh["ghr_1"] = true
	const body = `{"errors":[{"context":null,"message":"You are not permitted to access this resource","exceptionName":"com.atlassian.bitbucket.AuthorisationException"}]}`
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		if r.URL.Path == "/anonymous" {
			w.Header().Set("X-AUSERNAME", "")
		} else {
			w.Header().Set("X-AUSERNAME", "alice")
		}
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, body)
	})
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: api.URL}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	user := UserSource(userConfig(f), &oauth2.Token{AccessToken: "ghu_good", RefreshToken: "ghr_1", Expiry: time.Now().Add(time.Hour)}, nil)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, api.URL+"/x", nil)
	resp, err := (&http.Client{Transport: &Transport{Resolver: r, Request: Request{Host: "gitlab.example.com", User: user}}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(api.Auths()) != 1 || string(got) != body {
		t.Errorf("status %d after %d requests, body %q; want the 401 after 1, whole", resp.StatusCode, len(api.Auths()), got)
	}
	if cred, err := user.Credential(t.Context()); err != nil || cred.Token != "ghu_good" {
		t.Errorf("the token was dropped: %v %v", cred, err)
	}
	// The same answer naming no user: the token was taken for none (a
	// revoked one, on an instance with anonymous access): renewed.
	resp = get(t, &http.Client{Transport: &Transport{Resolver: r, Request: Request{Host: "gitlab.example.com", User: user}}}, api.URL+"/anonymous")
	if got := api.Auths(); resp.StatusCode != http.StatusUnauthorized || len(got) != 3 || got[2] == "Bearer ghu_good" {
		t.Errorf("an anonymous 401: Authorization %q; want a retry with a renewed token", got)
	}
}
