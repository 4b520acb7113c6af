package identity_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/identity"
)

// Backstage's static key store: the operator's key pairs (made with
// openssl, see identity.ParseStaticKey), the first signing, all published.
// Every replica given this configuration signs with key-2 and serves the
// same JWKS, without a shared store. Here the files are read from an
// fs.FS; IssuerOptionsFromConfig reads the same paths from the operating
// system (/etc/backstage/keys/private.key, …).
func ExampleIssuerOptionsFromConfigFS() {
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(`
backend:
  baseUrl: https://portal.example.com
auth:
  keyStore:
    provider: static
    static:
      keys:
        # the new key first: it signs
        - publicKeyFile: ./key2.public.pem
          privateKeyFile: ./key2.private.pem
          keyId: key-2
        # the old key, published until its tokens expire
        - publicKeyFile: ./key1.public.pem
          privateKeyFile: ./key1.private.pem
          keyId: key-1
          algorithm: ES256
`))
	if err != nil {
		log.Fatal(err)
	}
	opts, err := identity.IssuerOptionsFromConfigFS(cfg, os.DirFS("testdata/static"), nil)
	if err != nil {
		log.Fatal(err)
	}
	is, err := identity.NewIssuer(opts)
	if err != nil {
		log.Fatal(err)
	}
	tok, err := is.Issue(context.Background(), identity.IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		log.Fatal(err)
	}
	head, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.Token, ".")[0])
	var h struct{ Alg, Kid string }
	_ = json.Unmarshal(head, &h)
	fmt.Println("signed by", h.Kid, h.Alg)

	srv := httptest.NewServer(is.JWKSHandler()) // /api/auth/.well-known/jwks.json
	defer srv.Close()
	set, _ := is.JWKS(context.Background())
	for _, k := range set.Keys {
		fmt.Println("published", k.Kid, k.Crv)
	}
	v, err := identity.NewVerifier(&identity.VerifierOptions{JWKSURL: srv.URL})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := v.Verify(context.Background(), tok.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified", claims.Subject)
	// Output:
	// signed by key-2 ES256
	// published key-2 P-256
	// published key-1 P-256
	// verified user:default/alice
}
