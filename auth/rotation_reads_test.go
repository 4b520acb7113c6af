package auth_test

import (
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
)

// TestReadsDoNotResealDuringRollout: during step 2 of the documented
// rotation (a rolling deploy: some replicas Secret new/Previous [old],
// others still Secret old/Previous [new]), reads of a session on either
// replica do not write it, so the record does not flip between the two
// secrets.
func TestReadsDoNotResealDuringRollout(t *testing.T) {
	store := auth.NewMemoryStore(nil)
	const newSecret = "fedcba9876543210fedcba9876543210"
	p1 := newPortal(t, auth.Options{Store: store}) // Secret old (testSecret)
	dir := &leavingDirectory{}
	if err := p1.h.Register("ldap", "development", dir); err != nil {
		t.Fatal(err)
	}
	c := passwordLogin(t, p1)
	h1 := p1.h
	h2, err := auth.New(&auth.Options{BaseURL: p1.srv.URL + "/api/auth", Secret: integrations.NewSecret(newSecret),
		PreviousSecrets: []integrations.Secret{integrations.NewSecret(testSecret)}, Store: store, Environment: "development", Now: p1.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h1b, err := auth.New(&auth.Options{BaseURL: p1.srv.URL + "/api/auth", Secret: integrations.NewSecret(testSecret),
		PreviousSecrets: []integrations.Secret{integrations.NewSecret(newSecret)}, Store: store, Environment: "development", Now: p1.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	_ = h1
	req, _ := http.NewRequest("GET", p1.srv.URL+"/", nil)
	for _, ck := range c.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	var versions []int64
	for i := range 6 {
		h := h2
		if i%2 == 1 {
			h = h1b
		}
		s, err := h.Session(req)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, s.Version)
	}
	if versions[5] != versions[1] {
		t.Fatalf("six plain reads alternating between two replicas mid-rollout wrote the record each time: versions %v", versions)
	}
}
