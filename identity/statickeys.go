package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// StaticKey is a signing key that the operator manages, Backstage's
// auth.keyStore.static.keys entry: an EC key pair with its kid and
// algorithm. Give an Issuer a list of them (IssuerOptions.StaticKeys, or
// auth.keyStore.provider: static through [IssuerOptionsFromConfig]): the
// first signs every token, and every one is published in the JWKS. The
// Issuer never makes, rotates or removes a static key, so every replica
// configured with the same keys signs with the same key and serves the
// same JWKS, without a shared [KeyStore].
//
// To rotate, add the new key second and deploy (verifiers learn it), move
// it first and deploy (it signs; the old key still verifies the tokens it
// signed), and once those have expired (the token lifetime) remove the old
// key and deploy.
//
// It holds a private key: its String, Format, MarshalJSON and LogValue do
// not show it.
type StaticKey struct {
	// KeyID is the kid of the key's tokens and JWK: 1 to 128 characters
	// among letters, digits and - _ . : + / =, as Backstage's keyId.
	KeyID string
	// Algorithm is ES256 (the default, for ""), ES384 or ES512, and must
	// fit the key's curve (P-256, P-384, P-521).
	Algorithm string
	// PrivateKey signs. Required for the first key; the others may
	// leave it nil (published for verification only) when PublicKey is
	// set.
	PrivateKey *ecdsa.PrivateKey
	// PublicKey is published in the JWKS; nil means PrivateKey's public
	// half. When both are set it must be PrivateKey's public half.
	PublicKey *ecdsa.PublicKey
}

// String describes k without its private key.
func (k StaticKey) String() string {
	alg := k.Algorithm
	if alg == "" {
		alg = "ES256"
	}
	return fmt.Sprintf("static key %q (%s)", k.KeyID, alg)
}

// Format prints String under every verb, so no verb shows the private key.
func (k StaticKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// MarshalJSON writes the kid and algorithm only: encoding/json would
// otherwise write the private key's scalar.
func (k StaticKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		KeyID     string `json:"keyId"`
		Algorithm string `json:"algorithm,omitempty"`
	}{k.KeyID, k.Algorithm})
}

// LogValue shows k in log/slog output without its private key.
func (k StaticKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("keyId", k.KeyID), slog.String("algorithm", k.Algorithm))
}

// maxKeyFile caps a key file: a PEM EC key is well under a kilobyte.
const maxKeyFile = 64 << 10

// ParseStaticKey returns the StaticKey of a PEM private key, PKCS#8
// unencrypted ("-----BEGIN PRIVATE KEY-----"), and its PEM public key, SPKI
// ("-----BEGIN PUBLIC KEY-----"), as Backstage's StaticKeyStore reads them
// and as OpenSSL writes them:
//
//	openssl ecparam -name prime256v1 -genkey -out private.ec.key
//	openssl pkcs8 -topk8 -inform PEM -outform PEM -nocrypt -in private.ec.key -out private.key
//	openssl ec -inform PEM -outform PEM -pubout -in private.key -out public.key
//
// publicPEM may be nil (the private key's public half is published). The
// algorithm "" means ES256. It returns InvalidArgument saying what is
// wrong, never showing the key: not PEM, more than one PEM block, another
// PEM type (an encrypted key, a SEC 1 "EC PRIVATE KEY", a certificate),
// not an EC key, a curve that does not fit the algorithm, a public key
// that is not the private key's half, or a kid that is empty or has
// characters other than those StaticKey.KeyID allows.
func ParseStaticKey(keyID, algorithm string, privatePEM, publicPEM []byte) (StaticKey, error) {
	const op = "identity.ParseStaticKey"
	k := StaticKey{KeyID: keyID, Algorithm: algorithm}
	priv, msg := parsePrivatePEM(privatePEM)
	if msg != "" {
		return StaticKey{}, errcode.New(errcode.InvalidArgument, op, "private key: "+msg)
	}
	k.PrivateKey = priv
	if publicPEM != nil {
		pub, msg := parsePublicPEM(publicPEM)
		if msg != "" {
			return StaticKey{}, errcode.New(errcode.InvalidArgument, op, "public key: "+msg)
		}
		k.PublicKey = pub
	}
	if _, msg := checkStaticKey(k); msg != "" {
		return StaticKey{}, errcode.New(errcode.InvalidArgument, op, msg)
	}
	return k, nil
}

// onePEM returns the one PEM block of b, or what is wrong with b. Text
// around the block (OpenSSL's "Key Attributes" lines, blank lines) is
// allowed, as openssl reads it; a second block is not: a file that holds
// two keys names neither.
func onePEM(b []byte) (*pem.Block, string) {
	block, rest := pem.Decode(b)
	if block == nil {
		return nil, "is not PEM (-----BEGIN ...-----)"
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, "holds more than one PEM block (" + block.Type + ", " + next.Type + "); give one key per file"
	}
	return block, ""
}

// parsePrivatePEM parses an unencrypted PKCS#8 EC private key, or says
// what is wrong; the message never quotes the input.
func parsePrivatePEM(b []byte) (*ecdsa.PrivateKey, string) {
	if len(b) > maxKeyFile {
		return nil, "is larger than 64 KiB: not a key"
	}
	if first, rest := pem.Decode(b); first != nil && first.Type == "EC PARAMETERS" && bytes.Contains(rest, []byte("-----BEGIN EC PRIVATE KEY-----")) {
		// openssl ecparam -genkey writes the parameters, then the SEC 1 key.
		return nil, "is a SEC 1 EC key as openssl ecparam writes it (EC PARAMETERS, EC PRIVATE KEY), not PKCS#8; convert it with openssl pkcs8 -topk8 -nocrypt"
	}
	block, msg := onePEM(b)
	if msg != "" {
		return nil, msg
	}
	switch {
	case block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" && strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED"):
		return nil, "is encrypted; give it unencrypted (openssl pkcs8 -topk8 -nocrypt), as Backstage reads it, and protect the file instead"
	case block.Type == "EC PRIVATE KEY":
		return nil, "is a SEC 1 \"EC PRIVATE KEY\", not PKCS#8; convert it with openssl pkcs8 -topk8 -nocrypt"
	case block.Type == "RSA PRIVATE KEY":
		return nil, "is an RSA key; scmkit signs with ES256, ES384 or ES512 (EC keys on P-256, P-384 or P-521)"
	case block.Type != "PRIVATE KEY":
		return nil, fmt.Sprintf("is a PEM %q, not a PKCS#8 \"PRIVATE KEY\"", printable(block.Type))
	case len(block.Headers) > 0:
		return nil, "has PEM headers; a PKCS#8 \"PRIVATE KEY\" has none"
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, "is not a valid PKCS#8 private key"
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, "is " + keyKind(key) + "; scmkit signs with ES256, ES384 or ES512 (EC keys on P-256, P-384 or P-521)"
	}
	return ec, ""
}

// parsePublicPEM parses an SPKI EC public key, or says what is wrong.
func parsePublicPEM(b []byte) (*ecdsa.PublicKey, string) {
	if len(b) > maxKeyFile {
		return nil, "is larger than 64 KiB: not a key"
	}
	block, msg := onePEM(b)
	if msg != "" {
		return nil, msg
	}
	switch {
	case block.Type == "CERTIFICATE":
		return nil, "is a certificate, not an SPKI \"PUBLIC KEY\"; extract it with openssl ec -pubout (from the private key)"
	case block.Type != "PUBLIC KEY":
		return nil, fmt.Sprintf("is a PEM %q, not an SPKI \"PUBLIC KEY\"", printable(block.Type))
	case len(block.Headers) > 0:
		return nil, "has PEM headers; an SPKI \"PUBLIC KEY\" has none"
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, "is not a valid SPKI public key"
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, "is " + keyKind(key) + "; scmkit signs with ES256, ES384 or ES512 (EC keys on P-256, P-384 or P-521)"
	}
	return ec, ""
}

// keyKind names a parsed key's type.
func keyKind(key any) string {
	switch key.(type) {
	case *rsa.PrivateKey, *rsa.PublicKey:
		return "an RSA key"
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "an Ed25519 key"
	}
	return "not an EC key"
}

// printable is s with its bytes outside printable ASCII replaced, cut to
// 40 bytes: a PEM type as an error may show it.
func printable(s string) string {
	b := []byte(s)
	if len(b) > 40 {
		b = append(b[:40], "..."...)
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// validKeyID reports whether id is a StaticKey.KeyID.
func validKeyID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.:+/=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// checkStaticKey returns k's algorithm, or what is wrong with k (without
// its kid when the kid is what is wrong, and never its key material).
func checkStaticKey(k StaticKey) (a ecAlg, problem string) {
	// crypto/ecdsa panics on a key built in Go with a nil coordinate or
	// scalar (a zero-valued struct, a half-filled one): that is a key
	// that is not valid, not a crash.
	defer func() {
		if recover() != nil {
			a, problem = ecAlg{}, "the key is not a valid "+k.Algorithm+" key (a coordinate or the scalar is missing)"
		}
	}()
	if !validKeyID(k.KeyID) {
		if k.KeyID == "" {
			return ecAlg{}, "keyId is empty"
		}
		return ecAlg{}, "keyId must be 1 to 128 characters among letters, digits and - _ . : + / = (it goes into every token's header)"
	}
	a, ok := algorithm(k.Algorithm)
	if !ok {
		return ecAlg{}, fmt.Sprintf("algorithm %q: scmkit signs with ES256, ES384 or ES512", printable(k.Algorithm))
	}
	pub := k.PublicKey
	if k.PrivateKey != nil {
		if k.PrivateKey.Curve != a.curve {
			return ecAlg{}, fmt.Sprintf("the private key is on %s, but %s needs %s", curveName(&k.PrivateKey.PublicKey), a.name, a.crv)
		}
		// The private scalar must be the public key's: a key built in Go
		// with another public half would publish a key that verifies
		// nothing it signs.
		raw, err := k.PrivateKey.Bytes()
		if err != nil {
			return ecAlg{}, "the private key is not a valid " + a.crv + " key"
		}
		if d, err := ecdsa.ParseRawPrivateKey(a.curve, raw); err != nil || !d.PublicKey.Equal(&k.PrivateKey.PublicKey) {
			return ecAlg{}, "the private key is not a valid " + a.crv + " key (its public half does not match its scalar)"
		}
		if pub != nil && !k.PrivateKey.PublicKey.Equal(pub) {
			return ecAlg{}, "the public key is not the private key's public half"
		}
		pub = &k.PrivateKey.PublicKey
	}
	if pub == nil {
		return ecAlg{}, "no key: PrivateKey (or, for a key that only verifies, PublicKey) is required"
	}
	if pub.Curve != a.curve {
		return ecAlg{}, fmt.Sprintf("the public key is on %s, but %s needs %s", curveName(pub), a.name, a.crv)
	}
	if _, err := pub.Bytes(); err != nil {
		return ecAlg{}, "the public key is not a valid point"
	}
	return a, ""
}

// curveName names pub's curve.
func curveName(pub *ecdsa.PublicKey) string {
	if pub.Curve == nil || pub.Curve.Params() == nil {
		return "no curve"
	}
	return pub.Curve.Params().Name
}

// staticSet is the keys of an Issuer with IssuerOptions.StaticKeys: the
// first signs, all are published.
type staticSet struct {
	signer *signingKey
	set    JWKS // the public keys, in the configured order
}

// newStaticSet checks keys and returns their set; errors are
// InvalidArgument naming the index (IssuerOptions.StaticKeys[i]).
func newStaticSet(op string, keys []StaticKey) (*staticSet, ecAlg, error) {
	s := &staticSet{set: JWKS{Keys: make([]JWK, 0, len(keys))}}
	var signAlg ecAlg
	seen := map[string]int{}
	for i, k := range keys {
		fail := func(msg string) error {
			return errcode.Newf(errcode.InvalidArgument, op, "IssuerOptions.StaticKeys[%d]: %s", i, msg)
		}
		a, msg := checkStaticKey(k)
		if msg != "" {
			return nil, ecAlg{}, fail(msg)
		}
		if j, dup := seen[k.KeyID]; dup {
			return nil, ecAlg{}, fail(fmt.Sprintf("keyId %q is also StaticKeys[%d]'s: a verifier could not tell the keys apart", k.KeyID, j))
		}
		seen[k.KeyID] = i
		pub := k.PublicKey
		if k.PrivateKey != nil {
			pub = &k.PrivateKey.PublicKey
		}
		if i == 0 {
			if k.PrivateKey == nil {
				return nil, ecAlg{}, fail("the first key signs every token: its PrivateKey is required")
			}
			signAlg = a
			s.signer = &signingKey{kid: k.KeyID, priv: k.PrivateKey}
		}
		s.set.Keys = append(s.set.Keys, a.jwk(k.KeyID, pub))
	}
	if len(keys) == 0 {
		return nil, ecAlg{}, errcode.New(errcode.InvalidArgument, op, "IssuerOptions.StaticKeys is empty")
	}
	return s, signAlg, nil
}

// jwks returns a copy of the published set.
func (s *staticSet) jwks() JWKS {
	return JWKS{Keys: append([]JWK(nil), s.set.Keys...)}
}

// staticKeysFromConfig reads auth.keyStore.static.keys, with open reading
// a file named in the config (given its config key and name).
func staticKeysFromConfig(cfg Decoder, fail func(path, msg string) error, open func(key, name string) ([]byte, error)) ([]StaticKey, error) {
	const base = "auth.keyStore.static.keys"
	var entries []struct {
		PublicKeyFile  *string `json:"publicKeyFile"`
		PrivateKeyFile *string `json:"privateKeyFile"`
		KeyID          *string `json:"keyId"`
		Algorithm      *string `json:"algorithm"`
	}
	if err := cfg.Decode(base, &entries); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fail(base, "lists no key; provider static needs at least one (the first signs the tokens)")
	}
	keys := make([]StaticKey, 0, len(entries))
	seen := map[string]int{}
	for i, e := range entries {
		at := fmt.Sprintf("%s[%d]", base, i)
		for name, v := range map[string]*string{"privateKeyFile": e.PrivateKeyFile, "publicKeyFile": e.PublicKeyFile, "keyId": e.KeyID} {
			if v == nil || strings.TrimSpace(*v) == "" {
				return nil, fail(at+"."+name, "is required")
			}
		}
		k := StaticKey{KeyID: *e.KeyID}
		if e.Algorithm != nil {
			k.Algorithm = strings.TrimSpace(*e.Algorithm)
			if k.Algorithm == "" {
				return nil, fail(at+".algorithm", "is empty; leave it out for ES256")
			}
		}
		if !validKeyID(k.KeyID) {
			_, msg := checkStaticKey(k)
			return nil, fail(at+".keyId", strings.TrimPrefix(msg, "keyId "))
		}
		if _, ok := algorithm(k.Algorithm); !ok {
			return nil, fail(at+".algorithm", fmt.Sprintf("scmkit signs with ES256, ES384 or ES512, not %q", printable(k.Algorithm)))
		}
		if j, dup := seen[k.KeyID]; dup {
			return nil, fail(at+".keyId", fmt.Sprintf("%q is also %s[%d]'s: a verifier could not tell the keys apart", k.KeyID, base, j))
		}
		seen[k.KeyID] = i
		b, err := open(at+".privateKeyFile", *e.PrivateKeyFile)
		if err != nil {
			return nil, err
		}
		priv, msg := parsePrivatePEM(b)
		if msg != "" {
			return nil, fail(at+".privateKeyFile", "the file "+msg)
		}
		b, err = open(at+".publicKeyFile", *e.PublicKeyFile)
		if err != nil {
			return nil, err
		}
		pub, msg := parsePublicPEM(b)
		if msg != "" {
			return nil, fail(at+".publicKeyFile", "the file "+msg)
		}
		k.PrivateKey, k.PublicKey = priv, pub
		if _, msg := checkStaticKey(k); msg != "" {
			return nil, fail(at, msg)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// readKeyFile reads at most maxKeyFile+1 bytes of r (a larger file is
// refused by the parser).
func readKeyFile(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, maxKeyFile+1))
}

// osKeyFiles opens key files as Backstage does: operating-system paths,
// absolute or relative to the working directory.
func osKeyFiles(op string) func(key, name string) ([]byte, error) {
	return func(key, name string) ([]byte, error) {
		f, err := os.Open(filepath.FromSlash(name))
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: key, Err: err}
		}
		defer f.Close()
		b, err := readKeyFile(f)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: key, Err: err}
		}
		return b, nil
	}
}

// fsKeyFiles opens key files in fsys: names relative to it ("./x" is "x");
// a name that leaves it is refused, naming the key.
func fsKeyFiles(op string, fsys fs.FS) func(key, name string) ([]byte, error) {
	return func(key, name string) ([]byte, error) {
		n := strings.TrimPrefix(path.Clean(filepath.ToSlash(name)), "./")
		if !fs.ValidPath(n) {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "%s: %q is outside the fs.FS the key files are read from (a \"../\" or absolute path); "+
				"use IssuerOptionsFromConfig, which reads such paths as Backstage does, or name the file relative to the fs.FS", key, printable(name))
		}
		if fsys == nil {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "%s: no fs.FS to read the key files from", key)
		}
		f, err := fsys.Open(n)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: key, Err: err}
		}
		defer f.Close()
		b, err := readKeyFile(f)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: key, Err: err}
		}
		return b, nil
	}
}
