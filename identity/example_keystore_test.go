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

// A key whose private half may have leaked is revoked on any replica, by
// its kid: the shared store refuses it from then on, every replica stops
// serving it, and the replica that made it signs with a new key.
func ExampleIssuer_Revoke() {
	ctx := context.Background()
	shared := identity.NewMemoryKeyStore()
	a, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: "https://portal.example.com/api/auth", KeyStore: shared})
	if err != nil {
		log.Fatal(err)
	}
	b, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: "https://portal.example.com/api/auth", KeyStore: shared})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := a.Issue(ctx, identity.IssueRequest{Subject: "user:default/alice"}); err != nil {
		log.Fatal(err)
	}
	set, err := b.JWKS(ctx)
	if err != nil {
		log.Fatal(err)
	}
	leaked := set.Keys[0].Kid // replica A's signing key

	if err := b.Revoke(ctx, leaked); err != nil {
		log.Fatal(err)
	}
	set, err = a.JWKS(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("keys listed by replica A after the revocation:", len(set.Keys))
	if _, err := a.Issue(ctx, identity.IssueRequest{Subject: "user:default/alice"}); err != nil {
		log.Fatal(err)
	}
	set, err = a.JWKS(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replica A signs with a new key:", len(set.Keys) == 1 && set.Keys[0].Kid != leaked)
	// Output:
	// keys listed by replica A after the revocation: 0
	// replica A signs with a new key: true
}
