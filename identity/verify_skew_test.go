package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// A token made by a replica whose clock runs a little ahead of the
// verifier's has an iat a few seconds in the verifier's future: it was
// refused ("used before issued") until the clocks agreed, with the
// default Leeway of 0, though its signature and expiry are fine. An iat
// up to the issuers' assumed skew (issuerSkew, 10 s) ahead is accepted;
// further ahead is still refused, and exp gets no such slack.
func TestVerifyToleratesIssuerClockSkewOnIat(t *testing.T) {
	c := newClock()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	kid := "k1"
	srv, _ := backstageJWKS(t, kid, &priv.PublicKey)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	claims := func(iat, exp int64) map[string]any {
		return map[string]any{"iss": "x", "sub": "user:default/a", "ent": []string{"user:default/a"}, "aud": "backstage", "iat": iat, "exp": exp}
	}
	if _, err := v.Verify(context.Background(), backstageToken(t, priv, kid, claims(now+3, now+3603), nil)); err != nil {
		t.Errorf("iat 3 s ahead (an issuer's clock slightly fast): %v", err)
	}
	for name, cl := range map[string]map[string]any{
		"iat 11 s ahead":   claims(now+11, now+3611),
		"iat 10 min ahead": claims(now+600, now+4200),
		"expired 1 s ago":  claims(now-3600, now-1),
	} {
		if _, err := v.Verify(context.Background(), backstageToken(t, priv, kid, cl, nil)); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Errorf("%s: %v; want Unauthorized", name, err)
		}
	}
}

// With static keys (an in-process Issuer's) and a JWKS URL (the other
// replicas'), a token signed by a static key verifies while the JWKS URL
// is down: the first Verify fetched the JWKS before looking at the token,
// and refused every token Unavailable while the fetch failed (after
// retrying it for seconds). A token whose kid only the JWKS can have is
// still Unavailable.
func TestStaticKeyVerifiesWhileJWKSIsDown(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	tok, err := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := is.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	v, err := NewVerifier(&VerifierOptions{Keys: &set, JWKSURL: down.URL, Now: c.Now, HTTPClient: &http.Client{Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok.Token); err != nil {
		t.Fatalf("a token signed by a static key: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the JWKS was fetched %d times for a token signed by a static key", n)
	}
	other := newIssuer(t, c)
	otok, err := other.Issue(context.Background(), IssueRequest{Subject: "user:default/bob"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), otok.Token); errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("a token whose key only the JWKS can have: %v, want Unavailable", err)
	}
}

// A kid that names a static key and, in the JWKS, another key means the
// static key before and after the first fetch: a token that verified with
// it keeps verifying, and so does a fresh one.
func TestStaticKeyWinsAKidTheJWKSAlsoNames(t *testing.T) {
	c := newClock()
	is := newIssuer(t, c)
	first, err := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	static, err := is.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	other := newIssuer(t, c)
	if _, err := other.Issue(context.Background(), IssueRequest{Subject: "user:default/carol"}); err != nil {
		t.Fatal(err)
	}
	remote, err := other.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clash := JWKS{Keys: []JWK{remote.Keys[0]}}
	clash.Keys[0].Kid = static.Keys[0].Kid // the other issuer's key under the static key's kid
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(clash)
	}))
	defer srv.Close()
	v, err := NewVerifier(&VerifierOptions{Keys: &static, JWKSURL: srv.URL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), first.Token); err != nil {
		t.Fatalf("before any fetch: %v", err)
	}
	unknown, err := newIssuer(t, c).Issue(context.Background(), IssueRequest{Subject: "user:default/bob"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = v.Verify(context.Background(), unknown.Token) // an unknown kid: the JWKS is fetched
	c.Advance(time.Second)
	fresh, err := is.Issue(context.Background(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"the token verified before": first.Token, "a fresh token": fresh.Token} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s, after the fetch: %v", name, err)
		}
	}
}
