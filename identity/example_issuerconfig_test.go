package identity_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/identity"
)

// An Issuer configured from the keys Backstage's auth backend reads.
func ExampleIssuerOptionsFromConfig() {
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(`
backend:
  baseUrl: https://portal.example.com
auth:
  backstageTokenExpiration: 30 minutes
  identityTokenAlgorithm: ES384
`))
	if err != nil {
		log.Fatal(err)
	}
	opts, err := identity.IssuerOptionsFromConfig(cfg, nil) // base options: KeyStore, Logger, ...
	if err != nil {
		log.Fatal(err)
	}
	is, err := identity.NewIssuer(opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(opts.Issuer, opts.Algorithm, is.Lifetime())
	// Output: https://portal.example.com/api/auth ES384 30m0s
}
