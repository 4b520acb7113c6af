package auth_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync/atomic"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// Rotate auth.session.secret without signing anyone out: the new
// deployment seals under the new secret and lists the old one in
// PreviousSecrets (auth.session.previousSecrets), so a session signed in
// before still opens; a previous secret that cannot be one is refused.
func ExampleOptions_previousSecrets() {
	gh := fakegithub.New(nil)
	defer gh.Close()
	gh.AddOAuthApp(fakegithub.OAuthApp{ClientID: "my-client", ClientSecret: "my-secret"})
	gh.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice"})

	var current atomic.Pointer[auth.Handler] // the deployed handler
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := current.Load()
		if r.URL.Path != "/" {
			h.ServeHTTP(w, r)
			return
		}
		if s, err := h.Session(r); err == nil {
			fmt.Fprintf(w, "Hello, %s", s.Identity.DisplayName)
		} else {
			http.Error(w, "please sign in", http.StatusUnauthorized)
		}
	}))
	defer portal.Close()
	store := auth.NewMemoryStore(nil) // shared by both deployments, as Redis would be
	deploy := func(secret string, previous ...integrations.Secret) error {
		h, err := auth.New(&auth.Options{BaseURL: portal.URL + "/api/auth", Secret: integrations.NewSecret(secret),
			PreviousSecrets: previous, Environment: "development", Store: store})
		if err != nil {
			return err
		}
		github, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "my-client", ClientSecret: integrations.NewSecret("my-secret"),
			EnterpriseInstanceURL: gh.URL()})
		if err != nil {
			return err
		}
		if err := h.Register("github", "development", github); err != nil {
			return err
		}
		current.Store(h)
		return nil
	}

	if err := deploy("the session secret used so far"); err != nil {
		log.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(portal.URL + "/api/auth/github/start?flow=redirect&redirectUrl=/")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()

	if err := deploy("the new session secret, 32 chars", integrations.NewSecret("the session secret used so far")); err != nil {
		log.Fatal(err)
	}
	resp, err = browser.Get(portal.URL + "/")
	if err != nil {
		log.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(page))

	fmt.Println(deploy("the new session secret, 32 chars", integrations.NewSecret("too short")))
	// Output:
	// Hello, Alice
	// auth.New: auth.session.previousSecrets[0] (Options.PreviousSecrets[0]) must be at least 16 characters, as auth.session.secret: list the secrets used before exactly as they were (InvalidArgument)
}
