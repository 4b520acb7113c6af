package identity_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/scmkit/scmkit/identity"
)

// Tokens without ent (Backstage's auth.omitIdentityTokenOwnershipClaim):
// the auth backend serves the user's ownership refs at its user info
// endpoint, and a verifier asks it once per token.
func ExampleIssuer_UserInfoHandler() {
	ctx := context.Background()
	issuer, err := identity.NewIssuer(&identity.IssuerOptions{
		Issuer:             "https://portal.example.com/api/auth",
		OmitOwnershipClaim: true,
		// UserInfo: store.UserInfo(), // a fleet: redisstore's shared store
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/auth/.well-known/jwks.json", issuer.JWKSHandler())
	mux.Handle("GET /api/auth/v1/userinfo", issuer.UserInfoHandler())
	backend := httptest.NewServer(mux) // the auth backend
	defer backend.Close()

	tok, err := issuer.Issue(ctx, identity.IssueRequest{Subject: "user:default/alice",
		Ent: []string{"user:default/alice", "group:default/platform-team"}})
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := identity.NewVerifier(&identity.VerifierOptions{
		JWKSURL:     backend.URL + "/api/auth/.well-known/jwks.json",
		UserInfoURL: backend.URL + "/api/auth/v1/userinfo",
	})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := verifier.Verify(ctx, tok.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.User().OwnershipEntityRefs)
	// Output: [user:default/alice group:default/platform-team]
}
