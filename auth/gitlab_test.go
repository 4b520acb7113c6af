package auth_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

func TestGitLabSignInOpensMergeRequestAsHer(t *testing.T) {
	clk := testclock.New(time.Now())
	p := newPortal(t, auth.Options{Now: clk.Now})
	p.clk = clk
	fl := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"portal-pat"}, Now: clk.Now, RelativePath: "/gitlab"})
	t.Cleanup(fl.Close)
	fl.AddOAuthApp(fakegitlab.OAuthApp{ClientID: "gl-client", ClientSecret: "gl-secret"})
	fl.SetOAuthUser(fakegitlab.OAuthUser{Username: "alice", Name: "Alice", Email: "alice@example.com"})
	if _, _, err := fl.AddProject(fakegitlab.Project{Namespace: "acme", Path: "service", Files: []fakegitlab.File{{Path: "README.md", Content: []byte("hi\n")}}}); err != nil {
		t.Fatal(err)
	}
	gl, err := auth.NewGitLab(auth.GitLabOptions{ClientID: "gl-client", ClientSecret: integrations.NewSecret("gl-secret"), BaseURL: fl.URL(), Scopes: []string{"api"}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	p.h.Register("gitlab", "development", gl)
	before := fl.Stats().Total
	c, resp, body := p.signIn(t, "gitlab")
	if resp.StatusCode != 200 || body != "hello alice <alice@example.com> 4242" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
	// authorize + token + /user
	if n := fl.Stats().Total - before; n != 3 {
		t.Errorf("sign-in made %d requests to GitLab, want 3 (authorize, token, user)", n)
	}
	s := p.sessionOf(t, c)
	if s.Host != fl.Host() || s.Tokens.RefreshToken == "" {
		t.Fatalf("session host %q, refresh token present %v", s.Host, s.Tokens.RefreshToken != "")
	}
	// Two hours later the token is refreshed (GitLab rotates refresh
	// tokens) and the merge request is still hers.
	clk.Advance(2*time.Hour - time.Minute)
	cfg, err := config.LoadBytes(t.Context(), nil, []byte("integrations:\n  gitlab:\n    - host: "+fl.Host()+"\n      baseUrl: "+fl.URL()+"\n      apiBaseUrl: "+fl.APIBaseURL()+"\n      token: portal-pat\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := credentials.NewResolver(cfg.Registry, nil)
	client, _ := scm.NewClient(cfg.Registry, res, &scm.Options{Drivers: adapters.All(nil)})
	mr, err := client.ForUser(s.UserCredentials(), &scm.UserOptions{RequireUserForWrites: true}).OpenPullRequest(t.Context(), &scm.PullRequestSpec{
		RepoURL: fl.URL() + "/acme/service", Branch: "alice-change", Title: "Change", Changes: []scm.Change{{Path: "docs/x.md", Content: []byte("x\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, fl.APIBaseURL()+"/projects/acme%2Fservice/merge_requests/"+itoa(mr.Number), nil)
	req.Header.Set("Authorization", "Bearer portal-pat")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Body.Close()
	var got struct {
		Author struct {
			Username string `json:"username"`
		} `json:"author"`
	}
	json.NewDecoder(r2.Body).Decode(&got)
	if got.Author.Username != "alice" {
		t.Fatalf("the merge request is authored by %q, want alice", got.Author.Username)
	}
	if s2 := p.sessionOf(t, c); s2.Tokens.RefreshToken == s.Tokens.RefreshToken || !strings.HasPrefix(s2.Tokens.AccessToken, "glpat-oauth-") {
		t.Fatal("the session was not refreshed with a rotated refresh token")
	}
}
