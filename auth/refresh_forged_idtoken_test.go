package auth_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// forgeIDToken replaces, while on is set, the ID token of the token
// endpoint's answers with one of the same claims and kid signed by a key
// the provider never published.
type forgeIDToken struct {
	rt  http.RoundTripper
	key *rsa.PrivateKey
	on  atomic.Bool
}

func (f *forgeIDToken) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := f.rt.RoundTrip(r)
	if err != nil || !f.on.Load() || !strings.HasSuffix(r.URL.Path, "/oauth/token") {
		return resp, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if json.Unmarshal(raw, &body) == nil {
		if idt, ok := body["id_token"].(string); ok {
			claims := jwt.MapClaims{}
			tok, _, err := jwt.NewParser().ParseUnverified(idt, claims)
			if err == nil {
				forged := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
				forged.Header["kid"] = tok.Header["kid"]
				if s, err := forged.SignedString(f.key); err == nil {
					body["id_token"] = s
					raw, _ = json.Marshal(body)
				}
			}
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// A refreshed ID token that fails its checks (here, signed by a key the
// provider never published) ends the session, unlike a key set that cannot
// be fetched (TestKeySetOutageDuringRefreshKeepsSession): the provider, or
// whoever answers in its name, did not vouch for the user.
func TestRefreshedIDTokenThatFailsItsChecksEndsSession(t *testing.T) {
	clk := testclock.New(time.Now())
	p := newPortal(t, auth.Options{Now: clk.Now})
	p.clk = clk
	op := startOP(t, p, "oidc", authtest.OPOptions{ProfileInIDToken: true, User: authtest.User{Subject: "u-9"}})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fx := &forgeIDToken{rt: http.DefaultTransport, key: key}
	prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: secret("portal-secret"), MetadataURL: op.Issuer,
		Scopes: []string{"offline_access"}, HTTPClient: &http.Client{Transport: fx}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("oidc", "development", prov); err != nil {
		t.Fatal(err)
	}
	c, _, body := p.signIn(t, "oidc")
	s1 := p.sessionOf(t, c)
	if s1.Tokens.RefreshToken == "" || s1.Tokens.IDToken == "" {
		t.Fatalf("no refresh or ID token (%s)", body)
	}
	fx.on.Store(true)
	clk.Advance(time.Until(s1.Tokens.Expiry))
	resp, body := do(t, c, "GET", p.srv.URL+"/api/auth/oidc/refresh", map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("refresh answered with a forged ID token: %d %s; want 401", resp.StatusCode, body)
	}
	if st := pageStatus(t, p, c); st != http.StatusUnauthorized {
		t.Errorf("the session outlived a refreshed ID token that failed its checks: page %d; want 401", st)
	}
}
