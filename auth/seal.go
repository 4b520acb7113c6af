package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"

	"github.com/scmkit/scmkit/internal/sealed"
)

// keys are the keys derived from the session secret, one per purpose, so
// that a value sealed for one purpose cannot be opened as another.
type keys struct {
	records cipher.AEAD // session records at rest
	state   cipher.AEAD // the state parameter and the flow cookie
	cookie  []byte      // HMAC key of the session cookie
}

// minSecretLen is the shortest auth.session.secret accepted.
const minSecretLen = 16

func deriveKeys(secret []byte) (*keys, error) {
	if len(secret) < minSecretLen {
		return nil, errors.New("auth.session.secret must be at least 16 characters (use 32 random bytes)")
	}
	aead := func(purpose string) (cipher.AEAD, error) {
		k, err := hkdf.Key(sha256.New, secret, nil, "scmkit auth v1 "+purpose, 32)
		if err != nil {
			return nil, err
		}
		b, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}
	var k keys
	var err error
	if k.records, err = aead("session records"); err != nil {
		return nil, err
	}
	if k.state, err = aead("state"); err != nil {
		return nil, err
	}
	if k.cookie, err = hkdf.Key(sha256.New, secret, nil, "scmkit auth v1 session cookie", 32); err != nil {
		return nil, err
	}
	return &k, nil
}

// seal encrypts and authenticates plain, bound to ad.
func seal(a cipher.AEAD, plain, ad []byte) []byte { return sealed.Append(nil, a, plain, ad) }

// open reverses seal; any change to the sealed bytes or ad fails.
func open(a cipher.AEAD, box, ad []byte) ([]byte, error) { return sealed.Open(a, box, ad) }

// mac returns HMAC-SHA256(key, msg).
func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
