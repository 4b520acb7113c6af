package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// signIn signs alice in for real: scmkit's auth handler (Backstage's
// /api/auth routes) against the fake GitHub's OAuth endpoints, driven by an
// HTTP client with a cookie jar that follows the redirects, as a browser
// would. Her session's token then acts for her in the later steps.
func signIn(ctx context.Context, w *world, out io.Writer) error {
	w.github.AddOAuthApp(fakeGitHubOAuthApp)
	w.github.SetOAuthUser(fakeGitHubAlice)

	mux := http.NewServeMux()
	portal := httptest.NewServer(mux)
	defer portal.Close() // the session outlives the server: it is in the store
	h, err := auth.New(&auth.Options{
		BaseURL:     portal.URL + "/api/auth",
		Secret:      integrations.NewSecret("quickstart-session-secret-0123456789"),
		Environment: "development",
	})
	if err != nil {
		return err
	}
	github, err := auth.NewGitHub(auth.GitHubOptions{ClientID: fakeGitHubOAuthApp.ClientID,
		ClientSecret: integrations.NewSecret(fakeGitHubOAuthApp.ClientSecret), EnterpriseInstanceURL: w.github.URL(), Scopes: []string{"repo"}})
	if err != nil {
		return err
	}
	if err := h.Register("github", "development", github); err != nil {
		return err
	}
	mux.Handle("/api/auth/", h)
	var session *auth.Session
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		s, err := h.Session(r)
		if err != nil {
			http.Error(rw, "not signed in", http.StatusUnauthorized)
			return
		}
		session = s
		fmt.Fprintf(rw, "Hello, %s", s.Identity.DisplayName)
	})

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	var hops []string
	browser.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		hops = append(hops, req.URL.Host+req.URL.Path)
		return nil
	}
	before := w.github.Stats().API
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, portal.URL+"/api/auth/github/start?flow=redirect&redirectUrl=/", nil)
	resp, err := browser.Do(req)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || session == nil {
		return fmt.Errorf("sign-in failed: %d %s", resp.StatusCode, page)
	}
	n := w.github.Stats().API - before

	tw := table(out)
	fmt.Fprintln(tw, "BROWSER\t")
	fmt.Fprintf(tw, "redirects\t%s\n", strings.Join(hops, " → "))
	fmt.Fprintf(tw, "page\t%s\n", page)
	fmt.Fprintf(tw, "cookies\t%s\n", cookieNames(jar, portal.URL))
	fmt.Fprintln(tw, "\t")
	fmt.Fprintln(tw, "SESSION\t")
	fmt.Fprintf(tw, "identity\t%s (GitHub node id %s, %s)\n", session.Identity, session.Identity.Subject, session.Identity.Email)
	fmt.Fprintf(tw, "token\tfor %s only, kept on the server, sealed in the session store\n", session.Host)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nalice signed in with GitHub: %d requests to GitHub (authorize, token, /user)\n", n)
	w.signedIn = session.UserCredentials()
	return nil
}

// userCredentials are alice's credentials for the user's steps: her
// signed-in session's, or static when the sign-in step did not run.
func (w *world) userCredentials(static credentials.Source) scm.UserCredentials {
	if w.signedIn != nil {
		return w.signedIn
	}
	return scm.UserCredentials{w.github.Host(): static}
}

var (
	fakeGitHubOAuthApp = fakegithub.OAuthApp{ClientID: "quickstart-portal", ClientSecret: "quickstart-oauth-secret"}
	fakeGitHubAlice    = fakegithub.OAuthUser{Login: "alice", Name: "Alice Liddell", Email: "alice@example.com"}
)

func cookieNames(jar http.CookieJar, u string) string {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	var names []string
	for _, c := range jar.Cookies(req.URL) {
		names = append(names, c.Name+" (opaque, signed)")
	}
	return strings.Join(names, ", ")
}
