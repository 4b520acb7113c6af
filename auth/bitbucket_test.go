package auth_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

func TestBitbucketSignIn(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fb := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Tokens: []string{"portal-token"}})
	t.Cleanup(fb.Close)
	fb.AddOAuthApp(fakebitbucketcloud.OAuthApp{Key: "bb-key", Secret: "bb-secret"})
	fb.SetOAuthUser(fakebitbucketcloud.OAuthUser{Nickname: "alice", DisplayName: "Alice", Email: "alice@example.com"})
	bb, err := auth.NewBitbucket(auth.BitbucketOptions{ClientID: "bb-key", ClientSecret: integrations.NewSecret("bb-secret"), BaseURL: fb.URL(), APIBaseURL: fb.APIBaseURL()})
	if err != nil {
		t.Fatal(err)
	}
	p.h.Register("bitbucket", "development", bb)
	c, resp, body := p.signIn(t, "bitbucket")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "hello alice <alice@example.com> {") {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, body)
	}
	s := p.sessionOf(t, c)
	if s.Host != fb.Host() || !s.Identity.EmailVerified || s.Tokens.RefreshToken == "" {
		t.Fatalf("session: host %q, identity %+v", s.Host, s.Identity)
	}
	// Her token is accepted by the fake's API as her.
	cred, err := s.UserCredentials()[fb.Host()].Credential(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, fb.APIBaseURL()+"/user", nil)
	req.Header.Set("Authorization", "Bearer "+cred.Token)
	r2, err := http.DefaultClient.Do(req)
	if err != nil || r2.StatusCode != 200 {
		t.Fatalf("GET /2.0/user with her token: %v %v", r2, err)
	}
	r2.Body.Close()

	// A pull request opened with her token is hers.
	if _, err := fb.AddRepo(fakebitbucketcloud.Repo{Workspace: "acme", Slug: "service", Files: []fake.File{{Path: "README.md", Content: []byte("hi\n")}}}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadBytes(t.Context(), nil, []byte("integrations:\n  bitbucketCloud:\n    - host: "+fb.Host()+"\n      apiBaseUrl: "+fb.APIBaseURL()+"\n      token: portal-token\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := credentials.NewResolver(cfg.Registry, nil)
	client, _ := scm.NewClient(cfg.Registry, res, &scm.Options{Drivers: adapters.All(nil)})
	pr, err := client.ForUser(s.UserCredentials(), &scm.UserOptions{RequireUserForWrites: true}).OpenPullRequest(t.Context(), &scm.PullRequestSpec{
		RepoURL: "http://" + fb.Host() + "/acme/service", Branch: "alice-change", Title: "Change", Changes: []scm.Change{{Path: "docs/x.md", Content: []byte("x\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest(http.MethodGet, fb.APIBaseURL()+"/repositories/acme/service/pullrequests/"+itoa(pr.Number), nil)
	req.Header.Set("Authorization", "Bearer portal-token")
	r3, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Body.Close()
	var got struct {
		Author struct {
			Nickname string `json:"nickname"`
		} `json:"author"`
	}
	json.NewDecoder(r3.Body).Decode(&got)
	if got.Author.Nickname != "alice" {
		t.Fatalf("the pull request is authored by %q, want alice", got.Author.Nickname)
	}
}
