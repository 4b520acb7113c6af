package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/errcode"
)

// The Verifier chose the parser (with or without the aud check) from the
// header's typ read case-insensitively, then checked the typ read exactly:
// a header {"typ": user, "Typ": limited-user} was parsed as a limited
// token (no aud check) while its typ said user. The typ that chooses the
// parser is now the one checked.
func TestVerifyTypChoosesTheParserExactly(t *testing.T) {
	c := newClock()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	kid := "k1"
	srv, _ := backstageJWKS(t, kid, &priv.PublicKey)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, AcceptLimited: true})
	if err != nil {
		t.Fatal(err)
	}
	now := c.Now().Unix()
	sign := func(header string, claims map[string]any) string {
		s := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + b64(claims)
		sig, err := jwt.SigningMethodES256.Sign(s, priv)
		if err != nil {
			t.Fatal(err)
		}
		return s + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	noAud := map[string]any{"sub": "user:default/a", "ent": []string{"user:default/a", "group:default/admins"}, "iat": now, "exp": now + 600}
	for _, h := range []string{
		`{"alg":"ES256","kid":"k1","typ":"` + TypeUser + `","Typ":"` + TypeLimitedUser + `"}`,
		`{"alg":"ES256","kid":"k1","typ":"` + TypeUser + `","TYP":"` + TypeLimitedUser + `"}`,
	} {
		if got, err := v.Verify(context.Background(), sign(h, noAud)); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Errorf("header %s, no aud: %+v, %v; want Unauthorized", h, got, err)
		}
	}
	// A real limited token still verifies.
	lim := sign(`{"typ":"`+TypeLimitedUser+`","alg":"ES256","kid":"k1"}`, map[string]any{"sub": "user:default/a", "iat": now, "exp": now + 600})
	if got, err := v.Verify(context.Background(), lim); err != nil || got.Type != TypeLimitedUser {
		t.Errorf("limited token: %+v, %v", got, err)
	}
}
