package auth_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
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
