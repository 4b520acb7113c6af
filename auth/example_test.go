package auth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing/fstest"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// Sign a user in with GitHub (here the fake GitHub of scm/scmtest, which
// approves alice at once) and greet her from her session.
func ExampleHandler() {
	gh := fakegithub.New(nil)
	defer gh.Close()
	gh.AddOAuthApp(fakegithub.OAuthApp{ClientID: "my-client", ClientSecret: "my-secret"})
	gh.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice"})

	mux := http.NewServeMux()
	portal := httptest.NewServer(mux)
	defer portal.Close()

	h, err := auth.New(&auth.Options{
		BaseURL:     portal.URL + "/api/auth", // http only on localhost; use https in production
		Secret:      integrations.NewSecret("a long random session secret"),
		Environment: "development",
	})
	if err != nil {
		log.Fatal(err)
	}
	github, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "my-client", ClientSecret: integrations.NewSecret("my-secret"),
		EnterpriseInstanceURL: gh.URL()})
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Register("github", "development", github); err != nil {
		log.Fatal(err)
	}
	mux.Handle("/api/auth/", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := h.Session(r)
		if err != nil {
			http.Error(w, "please sign in", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "Hello, %s (%s)", s.Identity.DisplayName, s.Identity)
	})

	// A browser: cookies and redirects.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(portal.URL + "/api/auth/github/start?flow=redirect&redirectUrl=/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	fmt.Println(string(page))
	// Output: Hello, Alice (github:alice)
}

// The signed-in user's provider token reaches the SCM client through
// Session.UserCredentials and scm.Client.ForUser: here the portal holds no
// GitHub credential of its own, so only the user's view of the client can
// read her private repository.
func ExampleSession_UserCredentials() {
	// With Tokens set the fake, as GitHub, hides private repositories from
	// anonymous calls.
	gh := fakegithub.New(&fakegithub.Options{Tokens: []string{"ci-token"}})
	defer gh.Close()
	gh.AddOAuthApp(fakegithub.OAuthApp{ClientID: "my-client", ClientSecret: "my-secret"})
	gh.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice"})
	if _, err := gh.AddFS(fakegithub.Repo{Owner: "alice", Name: "notes", Private: true},
		fstest.MapFS{"README.md": {Data: []byte("# Alice's notes\n")}}); err != nil {
		log.Fatal(err)
	}

	// The portal's SCM client, without a credential of its own for the host.
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{Host: gh.Host(), APIBaseURL: gh.APIBaseURL()}}})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := scm.NewClient(reg, res, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)},
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	portal := httptest.NewServer(mux)
	defer portal.Close()
	h, err := auth.New(&auth.Options{
		BaseURL:     portal.URL + "/api/auth", // http only on localhost; use https in production
		Secret:      integrations.NewSecret("a long random session secret"),
		Environment: "development",
	})
	if err != nil {
		log.Fatal(err)
	}
	github, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "my-client", ClientSecret: integrations.NewSecret("my-secret"),
		EnterpriseInstanceURL: gh.URL(), Scopes: []string{"repo"}})
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Register("github", "development", github); err != nil {
		log.Fatal(err)
	}
	mux.Handle("/api/auth/", h)
	readme := gh.URL() + "/alice/notes/blob/main/README.md"
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := h.Session(r)
		if err != nil {
			http.Error(w, "please sign in", http.StatusUnauthorized)
			return
		}
		userClient := client.ForUser(s.UserCredentials(), nil)
		f, err := userClient.ReadFile(r.Context(), readme, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Write(f.Content)
	})

	// Without the user, the portal cannot see the repository.
	_, err = client.ReadFile(context.Background(), readme, nil)
	fmt.Println("portal alone:", scm.Code(err))

	// A browser signs in, then asks the portal for the file.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(portal.URL + "/api/auth/github/start?flow=redirect&redirectUrl=/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	fmt.Print("as alice: ", string(page))
	// Output:
	// portal alone: NotFound
	// as alice: # Alice's notes
}
