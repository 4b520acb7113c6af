package credentials

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// A user source that returns a token past its expiry (a static
// oauth2.TokenSource, a stored token) gets an Unauthorized error naming
// the expiry: the expired token is never handed out, and Resolve does not
// fall back to the integration's own token either.
func TestResolveNeverHandsOutAnExpiredUserToken(t *testing.T) {
	clk := newClock()
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{Token: secret("ghp_host")}}}
	r, err := newResolver(testIntegrations(cfg), nil, &ResolverOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		src  Source
	}{
		{"static credential", Static(Credential{Kind: KindUser, Token: "ghu_expired", Expiry: clk.Now().Add(-time.Second)})},
		{"expiring now", Static(Credential{Kind: KindUser, Token: "ghu_expired", Expiry: clk.Now()})},
		{"oauth2 static token source", FromOAuth2(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ghu_expired", Expiry: clk.Now().Add(-time.Hour)}))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "acme", User: tt.src})
			if c != nil || errcode.CodeOf(err) != errcode.Unauthorized || !strings.Contains(err.Error(), "expired") {
				t.Fatalf("Resolve = %v, %v; want Unauthorized saying the user's token expired", c, err)
			}
			mustNotContain(t, "error", err.Error(), "ghu_expired", "ghp_host")
		})
	}
	// Still valid, or without an expiry: handed out.
	for _, exp := range []time.Time{{}, clk.Now().Add(time.Second)} {
		c, err := r.Resolve(t.Context(), Request{Host: "github.com", User: Static(Credential{Kind: KindUser, Token: "ghu_ok", Expiry: exp})})
		if err != nil || c.Token != "ghu_ok" {
			t.Errorf("Resolve with expiry %v = %v, %v; want the user's token", exp, c, err)
		}
	}
}
