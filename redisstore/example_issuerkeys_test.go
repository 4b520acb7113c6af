package redisstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/redisstore"
)

// Every replica of the portal gives its Issuer the key store of the shared
// Redis, so that its JWKS (served by identity.Issuer.JWKSHandler) lists
// the public keys of all replicas. With an encryption key, keys planted in
// Redis by someone without it are never served.
//
// The config here says store: memory, so that the example runs without a
// Redis server: FromConfig returns nil and the Issuer keeps its keys in
// its own memory (a single replica). With backend.cache.store: redis, a
// connection and an encryptionKey (the 32 bytes from the deployment's
// secrets), the same code takes the shared branch, which go test does not
// run here (it needs Redis; the package's tests cover it with a real
// redis-server).
func ExampleStore_IssuerKeys() {
	ctx := context.Background()
	cfg, err := config.LoadBytes(ctx, nil, []byte("backend:\n  cache:\n    store: memory\n"))
	if err != nil {
		log.Fatal(err)
	}
	store, err := redisstore.FromConfig(cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	opts := &identity.IssuerOptions{Issuer: "https://portal.example.com/api/auth"}
	if store != nil { // never put a nil *Store's key store into the Issuer
		defer store.Close()
		opts.KeyStore = store.IssuerKeys()
	}
	issuer, err := identity.NewIssuer(opts)
	if err != nil {
		log.Fatal(err)
	}
	defer issuer.Close()
	if store != nil {
		issuer.StartRepublishing(ctx, 0) // writes its keys back every minute, should Redis lose them
	}
	// Mount issuer.JWKSHandler() at /api/auth/.well-known/jwks.json.
	if _, err := issuer.Issue(ctx, identity.IssueRequest{Subject: "user:default/alice"}); err != nil {
		log.Fatal(err)
	}
	jwks, err := issuer.JWKS(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("shared key store:", store != nil)
	fmt.Println("published keys:", len(jwks.Keys))
	// Output:
	// shared key store: false
	// published keys: 1
}
