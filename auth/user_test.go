package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// sessionOf returns the session of the browser c at portal p.
func (p *portal) sessionOf(t testing.TB, c *http.Client) *auth.Session {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/", nil)
	u, _ := url.Parse(p.srv.URL + "/")
	for _, ck := range c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	s, err := p.h.Session(req)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// scmClient is the portal's SCM client for the fake GitHub, holding only
// the portal's own token.
func scmClient(t testing.TB, fg *fakegithub.Server) *scm.Client {
	t.Helper()
	cfg, err := config.LoadBytes(context.Background(), nil, []byte("integrations:\n  github:\n    - host: "+fg.Host()+"\n      apiBaseUrl: "+fg.APIBaseURL()+"\n      token: portal-pat\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(cfg.Registry, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := scm.NewClient(cfg.Registry, res, &scm.Options{Drivers: adapters.All(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pullAuthor(t testing.TB, fg *fakegithub.Server, number int) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fg.APIBaseURL()+"/repos/acme/service/pulls/"+itoa(number), nil)
	req.Header.Set("Authorization", "Bearer portal-pat")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pr struct {
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	}
	json.NewDecoder(resp.Body).Decode(&pr)
	return pr.User.Login
}

func TestSignedInUserOpensPullRequestAsHerself(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, false, nil)
	if _, err := fg.AddRepo(fakegithub.Repo{Owner: "acme", Name: "service", Private: true, Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
		t.Fatal(err)
	}
	registerGitHub(t, p, fg)
	c, _, _ := p.signIn(t, "github")
	s := p.sessionOf(t, c)
	uc := s.UserCredentials()
	if len(uc) != 1 || uc[fg.Host()] == nil {
		t.Fatalf("UserCredentials = %v, want the fake's host only", uc)
	}
	client := scmClient(t, fg).ForUser(uc, &scm.UserOptions{RequireUserForWrites: true})
	f, err := client.ReadFile(t.Context(), fg.URL()+"/acme/service/blob/main/catalog-info.yaml", nil)
	if err != nil || string(f.Content) != "kind: Component\n" {
		t.Fatalf("ReadFile as alice: %v", err)
	}
	pr, err := client.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: fg.URL() + "/acme/service", Branch: "alice-change", Title: "Change",
		Changes: []scm.Change{{Path: "docs/index.md", Content: []byte("# hi\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := pullAuthor(t, fg, pr.Number); got != "alice" {
		t.Fatalf("the pull request is authored by %q, want alice", got)
	}
	// The provider token is for its own host only, never another's.
	other := s.UserCredentials()["github.com"]
	if other != nil {
		t.Fatal("the user's GHE token is offered to github.com")
	}
}

func TestRefreshUnderConcurrencyIsOneRequest(t *testing.T) {
	for _, replicas := range []int{1, 2} {
		t.Run(itoa(replicas)+"replicas", func(t *testing.T) {
			clk := testclock.New(time.Now())
			store := auth.NewMemoryStore(&auth.MemoryStoreOptions{Now: clk.Now})
			fg := githubWorld(t, true, clk.Now)
			var portals []*portal
			for range replicas {
				p := newPortal(t, auth.Options{Store: store, Now: clk.Now})
				p.clk = clk
				registerGitHub(t, p, fg)
				portals = append(portals, p)
			}
			c, _, body := portals[0].signIn(t, "github")
			if body[:11] != "hello alice" {
				t.Fatalf("sign-in: %q", body)
			}
			// A replica reads the session through the shared store.
			sessions := make([]*auth.Session, replicas)
			for i, p := range portals {
				sessions[i] = p.sessionOf(t, c)
			}
			old := sessions[0].Tokens.AccessToken
			clk.Advance(8*time.Hour - time.Minute) // within the refresh margin
			before := fg.Stats().Routes["POST /login/oauth/access_token"]
			const callers = 20
			got := make([]string, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := sessions[i%replicas]
					cred, err := s.UserCredentials()[fg.Host()].Credential(t.Context())
					if err != nil {
						t.Errorf("caller %d: %v", i, err)
						return
					}
					got[i] = cred.Token
				}()
			}
			wg.Wait()
			if n := fg.Stats().Routes["POST /login/oauth/access_token"] - before; n != 1 {
				t.Fatalf("%d callers on %d replicas made %d refresh requests, want 1", callers, replicas, n)
			}
			for i, tok := range got {
				if tok == "" || tok == old || tok != got[0] {
					t.Fatalf("caller %d got a different or stale token", i)
				}
			}
			// The new token works at the API, as alice; the stored session
			// has the rotated refresh token.
			req, _ := http.NewRequest(http.MethodGet, fg.APIBaseURL()+"/user", nil)
			req.Header.Set("Authorization", "Bearer "+got[0])
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET /user with the refreshed token: %v %v", resp, err)
			}
			resp.Body.Close()
			if s2 := portals[0].sessionOf(t, c); s2.Tokens.AccessToken != got[0] || s2.Tokens.RefreshToken == sessions[0].Tokens.RefreshToken {
				t.Fatal("the store does not hold the rotated tokens")
			}
		})
	}
}
