package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

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
