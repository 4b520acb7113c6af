package redisstore_test

import (
	"context"
	"log"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/redisstore"
)

// Every replica of the portal gives its Issuer the key store of the shared
// Redis, so that its JWKS (served by identity.Issuer.JWKSHandler) lists
// the public keys of all replicas. With an encryption key, keys planted in
// Redis by someone without it are never served.
func ExampleStore_IssuerKeys() {
	var encryptionKey []byte // the 32 bytes of backend.cache.encryptionKey, from the deployment's secrets
	store, err := redisstore.Open("redis://redis.internal:6379/0", &redisstore.Options{EncryptionKey: encryptionKey})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	issuer, err := identity.NewIssuer(&identity.IssuerOptions{
		Issuer:   "https://portal.example.com/api/auth",
		KeyStore: store.IssuerKeys(),
	})
	if err != nil {
		log.Fatal(err)
	}
	issuer.StartRepublishing(context.Background(), 0) // writes its keys back every minute, should Redis lose them
	defer issuer.Close()
	_ = issuer // mount issuer.JWKSHandler() at /api/auth/.well-known/jwks.json
}
