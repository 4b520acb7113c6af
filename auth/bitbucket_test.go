package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

func TestBitbucketSignIn(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fb := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Tokens: []string{"portal-token"}})
	t.Cleanup(fb.Close)
	fb.AddOAuthApp(fakebitbucketcloud.OAuthApp{Key: "bb-key", Secret: "bb-secret"})
	fb.SetOAuthUser(fakebitbucketcloud.OAuthUser{Nickname: "alice", DisplayName: "Alice", Email: "alice@example.com"})
	bb, err := auth.NewBitbucket(auth.BitbucketOptions{ClientID: "bb-key", ClientSecret: integrations.NewSecret("bb-secret"), BaseURL: fb.WebURL(), APIBaseURL: fb.APIBaseURL()})
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
}
