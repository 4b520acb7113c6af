package auth_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// sessionFrom is Handler.Session of c's session cookie for p's URL, read
// by h.
func sessionFrom(t *testing.T, h *auth.Handler, p *portal, c *http.Client) (*auth.Session, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/", nil)
	u, _ := url.Parse(p.srv.URL + "/")
	for _, ck := range c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	return h.Session(req)
}

// A Handler without providers (one a service builds only to read the
// portal's sessions from the shared store, or one not yet given its
// providers) neither ends a session it cannot refresh nor refuses one
// that the serving replicas keep: it serves the session while its tokens
// live, gives it the same grace past their expiry as a replica with the
// provider, and leaves refreshing (or ending) it to that replica. A
// Handler that has providers, but not the session's, still ends it
// (TestSessionOfRemovedProviderEndsAtRefresh).
func TestReadOnlyHandlerKeepsSessions(t *testing.T) {
	clk := testclock.New(time.Now())
	store := auth.NewMemoryStore(nil)
	p1 := newPortal(t, auth.Options{Now: clk.Now, Store: store})
	p1.clk = clk
	fg := githubWorld(t, true, clk.Now)
	registerGitHub(t, p1, fg)
	c, _, _ := p1.signIn(t, "github")
	reader, err := auth.New(&auth.Options{BaseURL: p1.srv.URL + "/api/auth", Secret: integrations.NewSecret(testSecret), Environment: "development", Now: clk.Now, Store: store, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}

	clk.Advance(8*time.Hour - 2*time.Minute) // within the refresh margin of the GitHub App token's expiry
	s, err := sessionFrom(t, reader, p1, c)
	if err != nil {
		t.Fatalf("the reading Handler refuses a live session: %v", err)
	}
	cred, err := s.UserCredentials()[fg.Host()].Credential(t.Context())
	if err != nil || cred.Token != s.Tokens.AccessToken {
		t.Fatalf("the reading Handler's credential for a live token: %v", err)
	}
	if st := pageStatus(t, p1, c); st != http.StatusOK {
		t.Fatalf("after the reading Handler was asked for the user's credential, the portal refuses the session: %d", st)
	}

	clk.Advance(3 * time.Minute) // the token expired a minute ago: within the grace
	if _, err := sessionFrom(t, reader, p1, c); err != nil {
		t.Fatalf("the reading Handler refuses a session the portal serves within its grace: %v", err)
	}
	if _, err := s.UserCredentials()[fg.Host()].Credential(t.Context()); errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("the reading Handler's credential for an expired token: %v, want Unavailable", err)
	}
	if st, body := refreshStatus(t, p1, c, "github"); st != http.StatusOK {
		t.Fatalf("the portal's refresh after the reading Handler met the expired token: %d %s", st, body)
	}
	if _, err := sessionFrom(t, reader, p1, c); err != nil {
		t.Fatalf("the refreshed session, read by the reading Handler: %v", err)
	}
}

// The same for a session whose token does not expire (a GitHub OAuth
// App's): its re-check is due after RecheckInterval, and a Handler
// without providers neither makes it nor ends the session for want of
// it; the portal re-checks it at its next refresh.
func TestReadOnlyHandlerKeepsUncheckedSessions(t *testing.T) {
	clk := testclock.New(time.Now())
	store := auth.NewMemoryStore(nil)
	p1 := newPortal(t, auth.Options{Now: clk.Now, Store: store})
	p1.clk = clk
	fg := githubWorld(t, false, clk.Now)
	registerGitHub(t, p1, fg)
	c, _, _ := p1.signIn(t, "github")
	reader, err := auth.New(&auth.Options{BaseURL: p1.srv.URL + "/api/auth", Secret: integrations.NewSecret(testSecret), Environment: "development", Now: clk.Now, Store: store, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour) // past the 1-hour re-check interval, within its grace
	s, err := sessionFrom(t, reader, p1, c)
	if err != nil {
		t.Fatalf("the reading Handler refuses a session due for its re-check: %v", err)
	}
	if _, err := s.UserCredentials()[fg.Host()].Credential(t.Context()); err != nil {
		t.Fatalf("the reading Handler's credential for a session due for its re-check: %v", err)
	}
	if st, body := refreshStatus(t, p1, c, "github"); st != http.StatusOK {
		t.Fatalf("the portal's refresh (its re-check) after the reading Handler was asked for the credential: %d %s", st, body)
	}
}

// A read-only Handler signs nobody in: Register refuses every provider.
func TestReadOnlyHandlerRegistersNoProvider(t *testing.T) {
	h, err := auth.New(&auth.Options{BaseURL: "https://portal.example.com/api/auth", Secret: integrations.NewSecret(testSecret), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "c", ClientSecret: integrations.NewSecret("s")})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register("github", "development", gh); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("Register on a read-only Handler = %v; want InvalidArgument", err)
	}
}
