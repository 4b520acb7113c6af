package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"math/big"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// A StaticKey built in Go with a missing coordinate or scalar is refused
// as InvalidArgument: crypto/ecdsa panicked on four of these, and
// NewIssuer with them (found by an adversarial review).
func TestStaticKeyMalformedRefused(t *testing.T) {
	good, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]StaticKey{
		"private key without its scalar":      {KeyID: "k", PrivateKey: &ecdsa.PrivateKey{PublicKey: good.PublicKey}},
		"private key without its point":       {KeyID: "k", PrivateKey: &ecdsa.PrivateKey{PublicKey: ecdsa.PublicKey{Curve: elliptic.P256()}, D: good.D}},
		"public key without its point":        {KeyID: "k2", PublicKey: &ecdsa.PublicKey{Curve: elliptic.P256()}},
		"public key without a curve":          {KeyID: "k2", PublicKey: &ecdsa.PublicKey{X: big.NewInt(1), Y: big.NewInt(2)}},
		"zero scalar":                         {KeyID: "k", PrivateKey: &ecdsa.PrivateKey{PublicKey: good.PublicKey, D: big.NewInt(0)}},
		"a public half without its point":     {KeyID: "k", PrivateKey: good, PublicKey: &ecdsa.PublicKey{Curve: elliptic.P256()}},
		"the zero private key":                {KeyID: "k", PrivateKey: &ecdsa.PrivateKey{}},
		"the zero public key, verifying only": {KeyID: "k2", PublicKey: &ecdsa.PublicKey{}},
	}
	for name, k := range cases {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: NewIssuer panicked: %v", name, r)
				}
			}()
			keys := []StaticKey{k}
			if k.PrivateKey == nil {
				keys = []StaticKey{{KeyID: "first", PrivateKey: good}, k}
			}
			_, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", StaticKeys: keys})
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("%s: %v; want InvalidArgument", name, err)
			}
		}()
	}
}
