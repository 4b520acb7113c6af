package identity_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/scmkit/scmkit/identity"
)

// Two replicas of a portal share one KeyStore (in production,
// redisstore's Store.IssuerKeys; here an in-memory one): each signs with
// its own private key, and a Verifier reading replica A's JWKS accepts
// replica B's tokens. Each replica writes its keys back every minute
// (StartRepublishing), so a store that loses them (Redis flushed) does
// not hide an idle replica's key from the replicas started since.
func ExampleKeyStore() {
	ctx := context.Background()
	shared := identity.NewMemoryKeyStore()
	replica := func() *identity.Issuer {
		is, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: "https://portal.example.com/api/auth", KeyStore: shared})
		if err != nil {
			log.Fatal(err)
		}
		is.StartRepublishing(ctx, 0) // every minute, until Close
		return is
	}
	a, b := replica(), replica()
	defer a.Close()
	defer b.Close()
	srv := httptest.NewServer(a.JWKSHandler()) // replica A's /api/auth/.well-known/jwks.json
	defer srv.Close()

	tok, err := b.Issue(ctx, identity.IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		log.Fatal(err)
	}
	v, err := identity.NewVerifier(&identity.VerifierOptions{JWKSURL: srv.URL})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := v.Verify(ctx, tok.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replica B's token, verified with replica A's JWKS:", claims.Subject)
	// Output: replica B's token, verified with replica A's JWKS: user:default/alice
}
