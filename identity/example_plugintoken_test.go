package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/identity"
)

// Verify the token a Backstage catalog backend sends to the permission
// backend on behalf of a signed-in user: a plugin token whose obo claim is
// her limited user token.
func ExamplePluginVerifier() {
	ctx := context.Background()
	// The auth backend: alice's user token, and a verifier of its keys.
	issuer, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: "https://portal.example.com/api/auth"})
	if err != nil {
		log.Fatal(err)
	}
	userToken, err := issuer.Issue(ctx, identity.IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		log.Fatal(err)
	}
	jwks, err := issuer.JWKS(ctx)
	if err != nil {
		log.Fatal(err)
	}
	users, err := identity.NewVerifier(&identity.VerifierOptions{Keys: &jwks})
	if err != nil {
		log.Fatal(err)
	}

	// The catalog plugin publishes its key at
	// <its base URL>/.backstage/auth/v1/jwks.json.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	point, _ := key.PublicKey.Bytes()
	enc := base64.RawURLEncoding
	catalogKeys := identity.JWKS{Keys: []identity.JWK{{Kty: "EC", Crv: "P-256", Kid: "catalog-1", Alg: "ES256", Use: "sig",
		X: enc.EncodeToString(point[1:33]), Y: enc.EncodeToString(point[33:])}}}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/catalog"+identity.PluginJWKSPath {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(catalogKeys)
	}))
	defer backend.Close()

	// What the catalog sends: a plugin token for the permission plugin,
	// on behalf of alice.
	obo, err := identity.LimitedToken(userToken.Token)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": "catalog", "aud": "permission",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "obo": obo})
	t.Header["typ"], t.Header["kid"] = identity.TypePlugin, "catalog-1"
	pluginToken, err := t.SignedString(key)
	if err != nil {
		log.Fatal(err)
	}

	pv, err := identity.NewPluginVerifier(&identity.PluginVerifierOptions{
		PluginID:       "permission",
		AllowedPlugins: []string{"catalog", "scaffolder"},
		BaseURL: func(_ context.Context, plugin string) (string, error) {
			return backend.URL + "/api/" + plugin, nil // Backstage's discovery
		},
		Users: users,
	})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := pv.Verify(ctx, pluginToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Principal())
	// Output:
	// plugin:catalog on behalf of user:default/alice
}
