package auth_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// failKeys answers the provider's key set with 503 while broken is set.
type failKeys struct {
	rt     http.RoundTripper
	broken atomic.Bool
}

func (f *failKeys) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.broken.Load() && strings.HasSuffix(r.URL.Path, "/keys") {
		return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Header: http.Header{}, Body: io.NopCloser(strings.NewReader("busy")), Request: r}, nil
	}
	return f.rt.RoundTrip(r)
}

// Regression (final review, session 22):
// a refresh whose new ID token cannot be verified because
// the provider's key set could not be fetched (503, a timeout: the
// provider failing, not refusing) is Unauthorized from OIDC.verify, which
// refreshRefused now takes for a refused grant: the user's session is
// deleted. The key set is fetched on a process's first verification and
// after the provider rotates keys, so a replica restarted during a key-set
// outage signs out every user whose session it refreshes.
func TestKeySetOutageDuringRefreshKeepsSession(t *testing.T) {
	clk := testclock.New(time.Now())
	p := newPortal(t, auth.Options{Now: clk.Now})
	p.clk = clk
	op := startOP(t, p, "oidc", authtest.OPOptions{ProfileInIDToken: true, User: authtest.User{Subject: "u-9"}})
	newProv := func(rt http.RoundTripper) {
		prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("portal-secret"), MetadataURL: op.Issuer,
			Scopes: []string{"offline_access"}, HTTPClient: &http.Client{Transport: rt}})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.h.Register("oidc", "development", prov); err != nil {
			t.Fatal(err)
		}
	}
	newProv(http.DefaultTransport)
	c, _, body := p.signIn(t, "oidc")
	s1 := p.sessionOf(t, c)
	if s1.Tokens.RefreshToken == "" {
		t.Fatalf("no refresh token (%s)", body)
	}
	// The process restarts (a fresh provider, no keys cached) while the
	// provider's key set endpoint fails.
	fk := &failKeys{rt: http.DefaultTransport}
	fk.broken.Store(true)
	newProv(fk)
	clk.Advance(time.Until(s1.Tokens.Expiry))
	resp, body := do(t, c, "GET", p.srv.URL+"/api/auth/oidc/refresh", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	t.Logf("refresh during the key-set outage: %d %s", resp.StatusCode, body)
	fk.broken.Store(false)
	if st := pageStatus(t, p, c); st == http.StatusUnauthorized {
		t.Errorf("a key-set outage at the provider (503) ended the user's session")
	}
}
