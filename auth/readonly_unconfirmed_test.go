package auth_test

import (
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// A read-only Handler's credentials refuse a non-expiring token of a
// session no replica confirmed for longer than RecheckInterval plus
// RecheckGrace, as its Session() does.
func TestReadOnlyCredentialHonoursUnconfirmed(t *testing.T) {
	clk := testclock.New(time.Now())
	store := auth.NewMemoryStore(nil)
	p1 := newPortal(t, auth.Options{Now: clk.Now, Store: store})
	p1.clk = clk
	fg := githubWorld(t, false, clk.Now) // OAuth App: token never expires
	registerGitHub(t, p1, fg)
	c, _, _ := p1.signIn(t, "github")
	reader, err := auth.New(&auth.Options{BaseURL: p1.srv.URL + "/api/auth", Secret: integrations.NewSecret(testSecret), Environment: "development", Now: clk.Now, Store: store, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sessionFrom(t, reader, p1, c)
	if err != nil {
		t.Fatal(err)
	}
	src := s.UserCredentials()[fg.Host()]
	clk.Advance(auth.DefaultRecheckInterval + auth.DefaultRecheckGrace + time.Hour) // unconfirmed for too long
	if _, err := sessionFrom(t, reader, p1, c); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Fatalf("reader Session: %v, want Unauthorized", err)
	}
	cred, err := src.Credential(t.Context())
	if err == nil {
		t.Fatalf("reader's credential for a session unconfirmed for 26 h: token handed out (%d chars), want Unauthorized", len(cred.Token))
	}
}
